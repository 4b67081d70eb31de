<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\EventLoop\StreamSelect;
use Wsc\Library;
use Wsc\Protocols\Ws;
use Wsc\Tests\Support\Recorder;
use Wsc\Timer;
use Wsc\Worker;

/**
 * The context fd as a PHP stream, driven by PHP's own stream_select()
 * loop: the only waits are stream_select() calls; libwsc is only ever
 * polled with timeout 0 (Worker::pollPending()) after the stream turned
 * readable. Against the real echo server.
 */
final class EventLoopStreamSelectTest extends WscTestCase
{
    public function testContextStreamIsADupThatCanBeClosedWithoutClosingTheContextFd(): void
    {
        $lib = Library::get();
        $fd = $lib->contextFd();
        self::assertSame('anon_inode:[eventpoll]', @readlink("/proc/self/fd/{$fd}"), 'the context fd is the epoll fd');
        $first = $lib->contextStream();
        self::assertSame($first, $lib->contextStream(), 'the same stream until it is closed');
        fclose($first);

        $before = self::openFds();
        $stream = $lib->contextStream();
        self::assertIsResource($stream);
        $new = array_values(array_diff_key(self::openFds(), $before));
        self::assertCount(1, $new, 'php://fd/N opens one new descriptor (a dup)');
        self::assertNotSame($fd, $new[0][0]);
        self::assertSame('anon_inode:[eventpoll]', $new[0][1], 'the copy refers to the same epoll instance');
        self::assertSame('php://fd/' . $fd, stream_get_meta_data($stream)['uri']);

        fclose($stream);
        self::assertArrayNotHasKey($new[0][0], self::openFds(), 'fclose() closed the copy');
        self::assertSame('anon_inode:[eventpoll]', @readlink("/proc/self/fd/{$fd}"), 'the context fd stays open');
        self::assertSame($fd, $lib->contextFd());

        // The context still works, through a fresh stream.
        $rec = new Recorder();
        $con = self::recorded('/', $rec, ['onWebSocketConnect' => fn ($c) => $c->send('after fclose')]);
        $con->connect();
        self::selectUntil(fn () => $rec->count('onMessage') > 0, 'the echo');
        self::assertSame([['after fclose']], $rec->args('onMessage'));
    }

    public function testStreamSelectLoopConnectsEchoesAndCloses(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onWebSocketConnect' => function (AsyncTcpConnection $c): void {
                $c->send('one');
            },
            'onMessage' => function (AsyncTcpConnection $c, string $data): void {
                if ($data === 'one') {
                    $c->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
                    $c->send("two\x00\xff");
                } else {
                    $c->close();
                }
            },
        ]);
        $con->connect();
        self::assertSame(AsyncTcpConnection::STATUS_CONNECTING, $con->getStatus());
        $stats = self::selectUntil(fn () => $rec->count('onClose') > 0, 'onClose');

        self::assertSame(
            ['onConnect', 'onWebSocketConnect', 'onMessage', 'onMessage', 'onClose'],
            $rec->names(),
        );
        self::assertSame([['one'], ["two\x00\xff"]], $rec->args('onMessage'));
        self::assertSame(1000, $con->getCloseCode());
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
        self::assertGreaterThanOrEqual(1, $stats['wakes']);
        self::assertLessThanOrEqual(30, $stats['empty'], 'wakes without an event (the stream spins)');
    }

    public function testATimerInTheSameLoop(): void
    {
        // A loop of stream_select() with a timer of its own (the select
        // timeout): the timer sends, the echo comes back through the stream.
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        $stream = Library::get()->contextStream();
        $due = hrtime(true) + 300_000_000;
        $fired = 0;
        $deadline = microtime(true) + 10;
        while ($rec->count('onMessage') < 3 && microtime(true) < $deadline) {
            $wait = max(0, intdiv($due - hrtime(true), 1000));
            $read = [$stream];
            $write = $except = [];
            $n = stream_select($read, $write, $except, intdiv($wait, 1_000_000), $wait % 1_000_000);
            if ($n > 0) {
                Worker::pollPending();
            }
            if (hrtime(true) >= $due) {
                $fired++;
                $con->send("tick {$fired}");
                $due = hrtime(true) + 100_000_000;
            }
        }
        self::assertSame([['tick 1'], ['tick 2'], ['tick 3']], $rec->args('onMessage'));
        self::assertSame(3, $fired);
    }

    public function testSelectHelperServesWscTimersAndTheCallersStreams(): void
    {
        $pair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
        self::assertIsArray($pair);
        [$mine, $peer] = $pair;
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onWebSocketConnect' => function () use ($peer): void {
                Timer::add(0.1, static function () use ($peer): void {
                    fwrite($peer, 'x');
                }, [], false);
            },
        ]);
        $con->connect();
        $stream = StreamSelect::stream();
        $ready = [];
        $deadline = microtime(true) + 10;
        while ($ready === [] && microtime(true) < $deadline) {
            $read = ['mine' => $mine];
            $write = $except = null;
            $n = StreamSelect::select($read, $write, $except, 1.0);
            self::assertNotFalse($n);
            self::assertNotContains($stream, $read, 'the context stream is never handed back');
            self::assertSame(count($read), $n);
            $ready = $read;
        }
        self::assertSame(['mine' => $mine], $ready, 'the caller\'s stream, under its key');
        self::assertSame(['onConnect', 'onWebSocketConnect'], $rec->names(), 'wsc\'s events ran inside select()');
        self::assertSame('x', fread($mine, 1));
        fclose($mine);
        fclose($peer);
    }

    public function testReconnectDelayAndPingsRunWhilePhpOnlyWaitsInStreamSelect(): void
    {
        // Nothing polls libwsc with a timeout: its timers (ping interval,
        // reconnect delay) run on its fallback thread, which makes the
        // stream readable when they produced events.
        $times = [];
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onWebSocketConnect' => function () use (&$times): void {
                $times[] = ['open', hrtime(true)];
            },
            'onClose' => function () use (&$times): void {
                $times[] = ['close', hrtime(true)];
            },
        ]);
        $con->websocketPingInterval = 0.2;
        $con->connect();
        $stats = self::selectUntil(fn () => $rec->count('onWebSocketPong') >= 2, 'two pongs');
        self::assertSame(1, $rec->count('onWebSocketConnect'));

        $times[] = ['reConnect', hrtime(true)];
        $con->reConnect(0.5);
        self::selectUntil(fn () => $rec->count('onWebSocketConnect') >= 2, 'the reconnect', 10.0);
        $pongsBefore = $rec->count('onWebSocketPong');
        $stats2 = self::selectUntil(fn () => $rec->count('onWebSocketPong') >= $pongsBefore + 2, 'pongs after it');

        self::assertSame(['open', 'reConnect', 'close', 'open'], array_column($times, 0));
        $delay = ($times[3][1] - $times[1][1]) / 1e9;
        self::assertGreaterThanOrEqual(0.45, $delay, 'the reconnect waited its delay');
        self::assertLessThan(3.0, $delay, 'the reconnect delay ran without a caller polling');
        self::assertSame(1006, $con->getCloseCode(), 'reConnect() closes an open connection at once');
        self::assertSame(0, $rec->count('onError'));
        self::assertLessThanOrEqual(
            60,
            $stats['empty'] + $stats2['empty'],
            'wakes without an event (the stream spins)',
        );
    }

    public function testAnIdleStreamStaysQuiet(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        self::selectUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $stream = Library::get()->contextStream();
        $wakes = 0;
        $start = microtime(true);
        while (microtime(true) - $start < 0.5) {
            $read = [$stream];
            $write = $except = [];
            if (stream_select($read, $write, $except, 0, 100_000) > 0) {
                $wakes++;
                self::assertSame(0, Worker::pollPending(), 'no event on an idle connection');
            }
        }
        self::assertLessThanOrEqual(2, $wakes, 'the idle stream turned readable again and again');
    }

    public function testPollPendingStopsAtItsLimitAndTheStreamStaysReadable(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        self::selectUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $stream = Library::get()->contextStream();
        // Outside any drain (inside one, the echoes could be dispatched by
        // the same drain): send, and let the echoes arrive.
        for ($i = 1; $i <= 5; $i++) {
            $con->send("m{$i}");
        }
        usleep(200_000);
        $read = [$stream];
        $write = $except = [];
        self::assertSame(1, stream_select($read, $write, $except, 2), 'readable with echoes waiting');
        self::assertSame(1, Worker::pollPending(1));
        self::assertSame([['m1']], $rec->args('onMessage'));
        $read = [$stream];
        self::assertSame(1, stream_select($read, $write, $except, 0), 'still readable after a partial drain');
        self::selectUntil(fn () => $rec->count('onMessage') >= 5, 'the other echoes');
        self::assertSame([['m1'], ['m2'], ['m3'], ['m4'], ['m5']], $rec->args('onMessage'));
    }

    /**
     * A loop of stream_select() on the context stream alone until
     * `$condition()`; the only calls into libwsc are Worker::pollPending()
     * after the stream turned readable.
     *
     * @return array{wakes: int, empty: int} readable turns, and those that found no event
     */
    private static function selectUntil(callable $condition, string $what, float $seconds = 5.0): array
    {
        $stream = Library::get()->contextStream();
        $deadline = microtime(true) + $seconds;
        $wakes = 0;
        $empty = 0;
        while (!$condition()) {
            $left = $deadline - microtime(true);
            self::assertGreaterThan(0, $left, "timed out after {$seconds} s waiting for {$what}");
            $us = (int) (min($left, 1.0) * 1e6);
            $read = [$stream];
            $write = $except = [];
            if (stream_select($read, $write, $except, intdiv($us, 1_000_000), $us % 1_000_000) > 0) {
                $wakes++;
                if (Worker::pollPending() === 0) {
                    $empty++;
                }
            }
        }
        return ['wakes' => $wakes, 'empty' => $empty];
    }

    /**
     * This process's open descriptors.
     *
     * @return array<int, array{0: int, 1: string}> fd => [fd, target]
     */
    private static function openFds(): array
    {
        $fds = [];
        foreach ((array) scandir('/proc/self/fd') as $name) {
            if (ctype_digit((string) $name)) {
                $target = @readlink("/proc/self/fd/{$name}");
                if ($target !== false) {
                    $fds[(int) $name] = [(int) $name, $target];
                }
            }
        }
        return $fds;
    }
}
