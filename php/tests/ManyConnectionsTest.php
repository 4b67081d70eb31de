<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Ws;

/**
 * Scale (issue 6), at a size CI can afford: 2,000 connections in this one
 * process, on the one context of the PHP package, opened at once; each
 * echoes one message of its own and every reply is checked. The full
 * target (10,000, RSS per connection, the time to open them, idle CPU) is
 * measured by `make bench` (scenario idle10000), not asserted here: speed
 * lives in bench/.
 */
final class ManyConnectionsTest extends WscTestCase
{
    private const CONNECTIONS = 2000;

    /** fds besides the connections: PHPUnit, the context, pipes. */
    private const FD_MARGIN = 200;

    public function testTwoThousandConnectionsOnOneContextEachEchoTheirOwnMessage(): void
    {
        $this->requireOpenFiles(self::CONNECTIONS + self::FD_MARGIN);
        $n = self::CONNECTIONS;
        $opened = 0;
        $got = [];
        $problems = [];
        $cons = [];
        $expected = static fn (int $i): string => str_pad("connection {$i}", 32, '.');
        for ($i = 0; $i < $n; $i++) {
            $con = new AsyncTcpConnection(self::url());
            $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
            $con->onWebSocketConnect = static function (AsyncTcpConnection $c) use (&$opened, $expected, $i): void {
                $opened++;
                $c->send($expected($i));
            };
            $con->onMessage = static function (AsyncTcpConnection $c, string $data) use (&$got, &$problems, $i): void {
                if (isset($got[$i])) {
                    $problems[] = "connection {$i}: a second message " . json_encode($data);
                }
                $got[$i] = $data;
            };
            $con->onError = static function (AsyncTcpConnection $c, int $code, string $msg) use (&$problems, $i): void {
                $problems[] = "connection {$i}: onError {$code} {$msg}";
            };
            $con->onClose = static function () use (&$problems, $i): void {
                $problems[] = "connection {$i}: onClose before the echo";
            };
            $cons[$i] = $con;
            $con->connect();
        }
        $done = static function () use (&$got, &$problems, $n): bool {
            return count($got) === $n || $problems !== [];
        };
        $inTime = \Wsc\Worker::loopFor(60.0, $done);
        self::assertSame([], $problems);
        self::assertTrue($inTime, sprintf('within 60 s: %d of %d open, %d echoed', $opened, $n, count($got)));
        self::assertSame($n, $opened);
        for ($i = 0; $i < $n; $i++) {
            self::assertSame($expected($i), $got[$i] ?? null, "the echo of connection {$i}");
        }
        foreach ($cons as $con) {
            self::assertSame(AsyncTcpConnection::STATUS_ESTABLISHED, $con->getStatus());
            $con->onClose = null;
        }
    }

    /**
     * Skips with the reason when the hard open-files limit cannot give
     * this process (and the echo server, which raises its own soft limit
     * the same way) `$fds` descriptors; libwsc raises the soft limit to
     * the hard one by itself.
     */
    private function requireOpenFiles(int $fds): void
    {
        $limits = posix_getrlimit();
        $hard = $limits['hard openfiles'] ?? null;
        if ($hard !== null && $hard !== 'unlimited' && (int) $hard < $fds) {
            self::markTestSkipped(sprintf(
                'the open-files hard limit is %d; %d connections need about %d fds in this process '
                . 'and as many in the echo server: raise it (ulimit -Hn, as root)',
                (int) $hard,
                self::CONNECTIONS,
                $fds,
            ));
        }
    }
}
