<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;

/**
 * Connections and events do not leak: after a warm-up, many bounded
 * connect/echo/close cycles leave PHP's memory and the process RSS flat.
 */
final class LeakTest extends WscTestCase
{
    private const CYCLES = 200;

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
