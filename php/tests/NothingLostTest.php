<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\EchoServer;
use Wsc\Worker;

/**
 * Nothing lost (the PHP twin of tests/nothing_lost.rs): numbered messages
 * are sent continuously while the echo server is killed (SIGKILL, by PID)
 * and restarted on the same port twice; onClose reconnects. Every number
 * is accounted for: echoed (onMessage), given back by onUndelivered,
 * refused by send() (false), or written to a socket whose server then died
 * ("written, fate unknown": TCP gives no delivery proof; only possible on
 * a connection that was open and broke).
 */
final class NothingLostTest extends WscTestCase
{
    private const COUNT = 10000;

    /** The server is killed just before these numbers are sent... */
    private const KILLS = [3000, 6500];

    /** ...and restarted this many messages later. */
    private const DOWN_FOR = 800;

    public function testEveryMessageIsEchoedGivenBackRefusedOrWrittenBeforeTheServerDied(): void
    {
        $server = EchoServer::start();
        $port = $server->port;
        try {
            $this->sendThroughTwoKills($server, $port);
        } finally {
            $server->stop();
        }
    }

    private function sendThroughTwoKills(EchoServer &$server, int $port): void
    {
        /** @var array<int, int> $acceptedIn number => epoch */
        $acceptedIn = [];
        $refused = [];
        $echoed = [];
        $undelivered = [];
        $other = [];
        $epoch = 0;
        $opened = false;
        /** @var list<array{opened: bool, code: int|null}> $ends */
        $ends = [];
        $finishing = false;
        $reconnects = 0;

        $con = new AsyncTcpConnection("ws://127.0.0.1:{$port}/");
        $con->onWebSocketConnect = function () use (&$opened): void {
            $opened = true;
        };
        $con->onMessage = function (AsyncTcpConnection $c, string $data) use (&$echoed): void {
            $echoed[] = (int) $data;
        };
        $con->onUndelivered = function (AsyncTcpConnection $c, string $data) use (&$undelivered): void {
            $undelivered[] = (int) $data;
        };
        $con->onError = function (AsyncTcpConnection $c, int $code, string $message) use (&$other): void {
            // Failed attempts while the server is down (CONNECT_FAIL) and
            // broken connections (PROTOCOL_FAIL) are expected; SEND_FAIL
            // would mean a message given back without onUndelivered.
            if ($code === AsyncTcpConnection::SEND_FAIL) {
                $other[] = "onError SEND_FAIL: {$message}";
            }
        };
        $con->onClose = function (AsyncTcpConnection $c) use (
            &$epoch,
            &$opened,
            &$ends,
            &$finishing,
            &$reconnects
        ): void {
            $ends[] = ['opened' => $opened, 'code' => $c->getCloseCode()];
            $epoch++;
            $opened = false;
            if (!$finishing) {
                $reconnects++;
                self::assertLessThan(2000, $reconnects, 'the client never gets back in');
                $c->reConnect(0.02);
            }
        };
        $con->connect();
        self::loopUntil(function () use (&$opened): bool {
            return $opened;
        }, 'the first onWebSocketConnect');

        $downUntil = null;
        $kills = 0;
        $start = hrtime(true);
        for ($i = 0; $i < self::COUNT; $i++) {
            if (in_array($i, self::KILLS, true)) {
                posix_kill($server->pid(), SIGKILL);
                $server->stop();
                $kills++;
                $downUntil = $i + self::DOWN_FOR;
            }
            if ($downUntil === $i) {
                $server = EchoServer::start("127.0.0.1:{$port}");
                $downUntil = null;
            }
            $result = $con->send(sprintf('%06d:%s', $i, str_repeat('.', 90)));
            if ($result === false) {
                $refused[] = $i;
            } else {
                $acceptedIn[$i] = $epoch;
            }
            Worker::loopOnce($i % 50 === 0 ? 4 : 0);
        }
        $sendSeconds = (hrtime(true) - $start) / 1e9;

        // The last connection (never killed) echoes everything it accepted.
        $lastDone = function () use (&$opened, &$acceptedIn, &$echoed, &$epoch): bool {
            if (!$opened) {
                return false;
            }
            $wanted = array_keys(array_filter($acceptedIn, fn (int $e): bool => $e === $epoch));
            return array_diff($wanted, $echoed) === [];
        };
        self::loopUntil($lastDone, 'the echoes of the last connection', 15.0);
        $finishing = true;
        $finalEpoch = $epoch;
        $con->close();
        self::loopUntil(function () use (&$epoch, $finalEpoch): bool {
            return $epoch > $finalEpoch;
        }, 'onClose after close()', 10.0);
        Worker::loopFor(0.2);

        // The accounts.
        $echoCount = array_count_values($echoed);
        $undeliveredCount = array_count_values($undelivered);
        $refusedSet = array_flip($refused);
        $unknown = [];
        for ($i = 0; $i < self::COUNT; $i++) {
            $e = $echoCount[$i] ?? 0;
            $u = $undeliveredCount[$i] ?? 0;
            self::assertLessThanOrEqual(1, $e, "message {$i} echoed {$e} times");
            self::assertLessThanOrEqual(1, $u, "message {$i} given back {$u} times");
            self::assertLessThanOrEqual(1, $e + $u, "message {$i} both echoed and given back");
            if (isset($refusedSet[$i])) {
                self::assertSame(0, $e + $u, "message {$i} refused by send(), yet echoed or given back");
                continue;
            }
            self::assertArrayHasKey($i, $acceptedIn);
            if ($e + $u === 0) {
                $unknown[] = $i;
            }
        }
        foreach ($unknown as $i) {
            $end = $ends[$acceptedIn[$i]];
            self::assertTrue(
                $end['opened'] && $end['code'] === 1006,
                "message {$i} (epoch {$acceptedIn[$i]}, ended " . json_encode($end) . ') was accepted, '
                . 'never echoed and never given back: it was lost silently',
            );
        }
        $sorted = $echoed;
        sort($sorted);
        self::assertSame($sorted, $echoed, 'echoes come back in the order sent');

        fwrite(STDERR, sprintf(
            "\nnothing lost (PHP): %d messages in %.2f s: %d echoed, %d given back (onUndelivered), "
            . "%d refused, %d written with fate unknown; %d kills, %d reconnects\n",
            self::COUNT,
            $sendSeconds,
            count($echoed),
            count($undelivered),
            count($refused),
            count($unknown),
            $kills,
            $reconnects,
        ));
        self::assertSame(self::COUNT, count($echoed) + count($undelivered) + count($refused) + count($unknown));
        self::assertSame([], $other, 'unexpected callbacks');
        self::assertSame(2, $kills);
        self::assertSame(1000, end($ends)['code'], 'the final close');
        self::assertGreaterThan(self::COUNT / 2, count($echoed), 'most messages went through');
    }
}
