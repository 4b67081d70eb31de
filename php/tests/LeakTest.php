<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;

/**
 * Connections and events do not leak: after a warm-up, many bounded
 * connect/echo/close cycles leave PHP's memory and the process RSS flat;
 * so do 10,000 cycles and 1,000,000 echoed messages (about 30 s; with
 * WSC_LONG=1, ten times as many).
 */
final class LeakTest extends WscTestCase
{
    private const CYCLES = 200;

    /** Connect/send/close cycles of the long test (x10 with WSC_LONG=1). */
    private const MANY_CYCLES = 10000;

    /** Echoed messages of the long test (x10 with WSC_LONG=1). */
    private const MANY_MESSAGES = 1000000;

    /** Largest RSS growth after the warm-up of the long tests, in bytes. */
    private const RSS_SLACK = 2 * 1024 * 1024;

    /** Largest growth of memory_get_usage() after the warm-up, in bytes. */
    private const PHP_SLACK = 64 * 1024;

    public function testConnectEchoCloseCyclesDoNotLeak(): void
    {
        $this->cycles(20);
        gc_collect_cycles();
        $phpBefore = memory_get_usage();
        $rssBefore = self::rss();
        $this->cycles(self::CYCLES);
        gc_collect_cycles();
        $phpGrowth = memory_get_usage() - $phpBefore;
        $rssGrowth = self::rss() - $rssBefore;
        self::assertSame(0, AsyncTcpConnection::countAlive(), 'closed connections stay in the registry');
        self::assertLessThan(
            64 * 1024,
            $phpGrowth,
            "PHP memory grew by {$phpGrowth} bytes over " . self::CYCLES . ' cycles: a reference to closed '
            . 'connections or events is kept (registry, callbacks, Response objects)',
        );
        self::assertLessThan(
            8 * 1024 * 1024,
            $rssGrowth,
            "RSS grew by {$rssGrowth} bytes over " . self::CYCLES . ' cycles: native clients or events are not '
            . 'freed (wsc_client_free in NativeHandle::__destruct, wsc_event_free in Worker::pollEvent)',
        );
    }

    public function testTenThousandConnectSendCloseCyclesStayFlat(): void
    {
        $cycles = self::MANY_CYCLES * self::factor();
        $this->cycles(intdiv($cycles, 10));
        gc_collect_cycles();
        $phpBefore = memory_get_usage();
        $rssBefore = self::rss();
        $start = hrtime(true);
        $this->cycles($cycles);
        gc_collect_cycles();
        $this->assertFlat(
            "{$cycles} connect/send/close cycles",
            $phpBefore,
            $rssBefore,
            $start,
            'a reference to closed connections or events is kept (registry, callbacks)',
            'native clients or events are not freed (wsc_client_free in NativeHandle::__destruct, '
            . 'wsc_event_free), or libwsc keeps state of freed clients',
        );
        self::assertSame(0, AsyncTcpConnection::countAlive(), 'closed connections stay in the registry');
    }

    public function testAMillionMessagesStayFlat(): void
    {
        $total = self::MANY_MESSAGES * self::factor();
        $window = 256;
        $sent = 0;
        $received = 0;
        $target = 0;
        $con = new AsyncTcpConnection(self::url('/'));
        $con->onWebSocketConnect = function (AsyncTcpConnection $c) use (&$sent, $window): void {
            for ($i = 0; $i < $window; $i++) {
                $c->send('0123456789abcdef0123456789abcdef0123456789abcdef01234567');
                $sent++;
            }
        };
        // Each echo sends the next message until the current target.
        $con->onMessage = function (AsyncTcpConnection $c) use (&$sent, &$received, &$target): void {
            $received++;
            if ($sent < $target) {
                $c->send('0123456789abcdef0123456789abcdef0123456789abcdef01234567');
                $sent++;
            }
        };
        $run = function (int $count) use ($con, &$sent, &$received, &$target, $window): void {
            $target += $count;
            // Refill the window (the previous run let it drain).
            $open = $con->getStatus() === AsyncTcpConnection::STATUS_ESTABLISHED;
            while ($open && $sent < $target && $sent - $received < $window) {
                $con->send('0123456789abcdef0123456789abcdef0123456789abcdef01234567');
                $sent++;
            }
            self::loopUntil(function () use (&$received, &$target): bool {
                return $received >= $target;
            }, "{$target} echoes", 600.0);
        };
        $target = $window;
        $con->connect();
        self::loopUntil(function () use (&$received, $window): bool {
            return $received >= $window;
        }, 'the first echoes');
        $run(intdiv($total, 10));
        gc_collect_cycles();
        $phpBefore = memory_get_usage();
        $rssBefore = self::rss();
        $start = hrtime(true);
        $run($total);
        gc_collect_cycles();
        $this->assertFlat(
            "{$total} messages",
            $phpBefore,
            $rssBefore,
            $start,
            'message strings or event arrays are kept after onMessage (a buffer, a log, a closure)',
            'libwsc keeps delivered messages or events (unwritten list, event queue, wsc_event_free)',
        );
        self::assertSame($sent, $received, 'every message came back');
        $con->close();
    }

    public function testAConnectionKeptInALocalVariableLivesUntilOnClose(): void
    {
        $closed = false;
        $con = new AsyncTcpConnection(self::url('/close/4000'));
        $con->onClose = function () use (&$closed): void {
            $closed = true;
        };
        $con->connect();
        $weak = \WeakReference::create($con);
        unset($con);
        self::assertNotNull($weak->get(), 'the registry keeps a connecting connection alive');
        self::loopUntil(function () use (&$closed): bool {
            return $closed;
        }, 'onClose');
        self::assertNull($weak->get(), 'after onClose without reConnect() the connection is released');
    }

    private function cycles(int $count): void
    {
        for ($i = 0; $i < $count; $i++) {
            $done = false;
            $con = new AsyncTcpConnection(self::url('/'));
            $con->onWebSocketConnect = fn (AsyncTcpConnection $c) => $c->send(str_repeat('x', 1000));
            $con->onMessage = fn (AsyncTcpConnection $c) => $c->close();
            $con->onClose = function () use (&$done): void {
                $done = true;
            };
            $con->connect();
            unset($con); // only the registry keeps it now
            self::loopUntil(function () use (&$done): bool {
                return $done;
            }, "cycle {$i}");
        }
    }

    /** 10 with WSC_LONG=1 (the long variant), else 1. */
    private static function factor(): int
    {
        return getenv('WSC_LONG') === '1' ? 10 : 1;
    }

    /**
     * Asserts that PHP's memory and the RSS grew by at most their slack
     * since the readings given, and prints the figures to STDERR.
     */
    private function assertFlat(
        string $what,
        int $phpBefore,
        int $rssBefore,
        int $startNs,
        string $phpCause,
        string $rssCause,
    ): void {
        $phpAfter = memory_get_usage();
        $rssAfter = self::rss();
        fwrite(STDERR, sprintf(
            "\n%s in %.1f s: memory_get_usage %d -> %d bytes (%+d), RSS %d -> %d KiB (%+d KiB)\n",
            $what,
            (hrtime(true) - $startNs) / 1e9,
            $phpBefore,
            $phpAfter,
            $phpAfter - $phpBefore,
            intdiv($rssBefore, 1024),
            intdiv($rssAfter, 1024),
            intdiv($rssAfter - $rssBefore, 1024),
        ));
        self::assertLessThan(
            self::PHP_SLACK,
            $phpAfter - $phpBefore,
            sprintf(
                'PHP memory grew by %d bytes over %s after the warm-up: %s',
                $phpAfter - $phpBefore,
                $what,
                $phpCause,
            ),
        );
        self::assertLessThan(
            self::RSS_SLACK,
            $rssAfter - $rssBefore,
            sprintf(
                'RSS grew by %d KiB over %s after the warm-up: %s',
                intdiv($rssAfter - $rssBefore, 1024),
                $what,
                $rssCause,
            ),
        );
    }

    /** The resident set size of this process, in bytes. */
    private static function rss(): int
    {
        $statm = @file_get_contents('/proc/self/statm');
        if ($statm === false) {
            self::markTestSkipped('no /proc/self/statm');
        }
        return (int) explode(' ', $statm)[1] * 4096;
    }
}
