<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Ws;
use Wsc\Tests\Support\EchoServer;
use Wsc\Tests\Support\Recorder;
use Wsc\Tests\Support\WorkermanApiTestCase;
use Wsc\Worker;

/**
 * workerman-api.md, "Methods", each against a real server.
 */
final class WorkermanApiMethodsTest extends WorkermanApiTestCase
{
    /**
     * Row `connect()`: starts connecting without blocking; ignored while
     * connecting or connected.
     */
    public function testMethodConnectIsNonBlockingAndIgnoredWhenAlreadyConnecting(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $start = hrtime(true);
        $con->connect();
        self::assertLessThan(50e6, hrtime(true) - $start, 'connect() returns at once');
        self::assertSame([], $rec->events, 'nothing happened yet: progress comes from the loop');
        self::assertSame(AsyncTcpConnection::STATUS_CONNECTING, $con->getStatus());
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $con->connect();
        self::assertFalse(Worker::loopFor(0.3, fn () => count($rec->events) > 2), 'no second attempt');
        self::assertSame(['onConnect', 'onWebSocketConnect'], $rec->names());
        self::assertSame(AsyncTcpConnection::STATUS_ESTABLISHED, $con->getStatus());
    }

    /**
     * Row `send()`: null when queued before the handshake (flushed right
     * after it, in order), true when written, false when refused (closing,
     * closed).
     */
    public function testMethodSendReturnsNullTrueOrFalse(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::assertNull($con->send('queued 1'), 'before connect()');
        $con->connect();
        self::assertNull($con->send('queued 2'), 'while connecting');
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        self::assertTrue($con->send('written'));
        self::loopUntil(fn () => $rec->count('onMessage') >= 3, 'three echoes');
        self::assertSame([['queued 1'], ['queued 2'], ['written']], $rec->args('onMessage'), 'nothing lost, in order');
        $con->close();
        self::assertFalse($con->send('while closing'));
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertFalse($con->send('after close'));
        self::assertSame(0, $rec->count('onError'), 'as Workerman: no onError for a send on a closed connection');
    }

    /**
     * Row `close($data)`: sends `$data` first, then closes (here with the
     * closing handshake, code 1000).
     */
    public function testMethodCloseSendsTheDataFirstThenCloses(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->close('last words'),
        ]);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame([['last words']], $rec->args('onMessage'), 'the server got it and echoed it before closing');
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onMessage', 'onClose'], $rec->names());
        self::assertSame(1000, $con->getCloseCode());
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
    }

    /**
     * Row `close()` before connected: the attempt ends at once; queued
     * messages are not sent.
     */
    public function testMethodCloseBeforeConnectedDestroysAtOnce(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/silent', $rec);
        $con->send('never sent');
        $con->connect();
        self::loopUntil(fn () => $rec->count('onConnect') > 0, 'onConnect');
        $con->close();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose', 1.0);
        self::assertSame(['onConnect', 'onUndelivered', 'onClose'], $rec->names());
        self::assertSame([['never sent']], $rec->args('onUndelivered'));
        self::assertSame(1006, $con->getCloseCode(), 'no closing handshake before the opening one');
    }

    /**
     * Row `reConnect($after)` / `reconnect()`: connects again after
     * `$after` seconds with the same object, callbacks and properties.
     */
    public function testMethodReConnectAfterADelayKeepsCallbacksAndProperties(): void
    {
        $rec = new Recorder();
        $closedAt = [];
        $con = self::recorded('/headers', $rec, [
            'onClose' => function (AsyncTcpConnection $c) use (&$closedAt, $rec): void {
                $closedAt[] = microtime(true);
                if ($rec->count('onClose') === 1) {
                    $c->reConnect(0.4);
                }
            },
        ]);
        $con->headers = ['X-Kept' => 'yes'];
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the first headers report');
        $id = $con->id;
        $con->close();
        self::loopUntil(fn () => $rec->count('onMessage') > 1, 'the second headers report');
        $openedAgainAt = microtime(true);
        self::assertGreaterThanOrEqual(0.38, $openedAgainAt - $closedAt[0], 'waited $after seconds');
        self::assertSame($id, $con->id, 'the same object');
        $report = json_decode($rec->args('onMessage')[1][0], true);
        self::assertSame('yes', $report['x-kept'], 'the headers were kept');
        self::assertSame(
            ['onConnect', 'onWebSocketConnect', 'onMessage', 'onClose', 'onConnect', 'onWebSocketConnect', 'onMessage'],
            $rec->names(),
        );
    }

    /**
     * Row `reConnect()` / `reconnect()`: the same method (PHP method names
     * are case-insensitive); on an open connection it closes it first.
     */
    public function testMethodReconnectLowercaseOnAnOpenConnection(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::open($con, $rec);
        $con->reconnect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') === 2, 'the second handshake');
        self::assertSame(
            ['onConnect', 'onWebSocketConnect', 'onClose', 'onConnect', 'onWebSocketConnect'],
            $rec->names(),
        );
        self::assertTrue($con->send('still works'));
    }

    /**
     * Row `cancelReconnect()`: a pending reconnect does not happen; the
     * messages queued for it come back.
     */
    public function testMethodCancelReconnectStopsAPendingReconnect(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onClose' => function (AsyncTcpConnection $c) use ($rec): void {
                if ($rec->count('onClose') === 1) {
                    $c->reConnect(0.3);
                    $c->send('for the next connection');
                }
            },
        ]);
        self::open($con, $rec);
        $con->close();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(AsyncTcpConnection::STATUS_CONNECTING, $con->getStatus(), 'waiting to reconnect');
        $con->cancelReconnect();
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
        self::assertFalse(Worker::loopFor(0.8, fn () => $rec->count('onConnect') > 1), 'no new connection');
        self::assertSame([['for the next connection']], $rec->args('onUndelivered'));
        self::assertSame(0, AsyncTcpConnection::countAlive(), 'the registry let it go');
        $con->cancelReconnect(); // ignored when nothing is pending
    }

    /**
     * Row `destroy()`: closes at once, without flushing: what waits in the
     * send buffer is not written (here it comes back as undelivered).
     */
    public function testMethodDestroyClosesAtOnceWithoutFlushing(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/stall/2000', $rec);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        self::open($con, $rec);
        $chunk = str_repeat('d', 65536);
        for ($i = 0; $i < 1024 && $con->send($chunk) === true; $i++) {
            // until the socket is full
        }
        self::assertNull($con->send($chunk), 'queued in the send buffer');
        self::assertFalse($con->bufferIsEmpty());
        $start = microtime(true);
        $con->destroy();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose', 1.0);
        self::assertLessThan(0.5, microtime(true) - $start, 'at once, not after the stall');
        self::assertGreaterThan(0, $rec->count('onUndelivered'), 'the unwritten messages were dropped');
        self::assertSame(1006, $con->getCloseCode(), 'no closing handshake');
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
        self::assertFalse($con->send('x'));
    }

    /**
     * Row `destroy()` as Workerman code uses it: inside a callback, on a
     * connection held by no variable (only by wsc's registry); onClose
     * still comes, then the connection is released.
     */
    public function testMethodDestroyInACallbackOfAnUnreferencedConnectionStillGivesOnClose(): void
    {
        $rec = new Recorder();
        (function () use ($rec): void {
            $con = self::recorded('/', $rec, [
                'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->destroy(),
            ]);
            $con->connect();
        })();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onClose'], $rec->names());
        self::assertSame(0, AsyncTcpConnection::countAlive());
    }

    /**
     * Row `destroy()` during a reConnect($after) delay: the reconnect is
     * cancelled; no second onClose (the connection was already closed).
     */
    public function testMethodDestroyDuringAReconnectDelayCancelsIt(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::open($con, $rec);
        $con->reConnect(0.3);
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose of the open connection');
        $con->destroy();
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
        self::assertFalse(Worker::loopFor(0.6, fn () => count($rec->events) > 3), 'no reconnect, no second onClose');
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onClose'], $rec->names());
        self::assertSame(0, AsyncTcpConnection::countAlive());
    }

    /**
     * Rows `pauseRecv()` / `resumeRecv()`: while paused nothing is read
     * (the echoes wait, and the server, which cannot write them back,
     * stops reading: our send buffer fills); after resumeRecv() every
     * message arrives, in order, nothing lost.
     */
    public function testMethodPauseRecvHoldsMessagesAndResumeRecvDeliversThemAllInOrder(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $full = 0;
        $con->onBufferFull = function () use (&$full): void {
            $full++;
        };
        self::open($con, $rec);
        $con->pauseRecv();
        for ($i = 1; $i <= 5; $i++) {
            $con->send("small {$i}");
        }
        self::assertFalse(Worker::loopFor(0.3, fn () => $rec->count('onMessage') > 0), 'nothing read while paused');

        // TCP flow control: the echo server blocks on writing back, stops
        // reading, and the bytes pile up in our send buffer until it is full.
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $sent = [];
        for ($i = 0; $i < 2000 && $full === 0; $i++) {
            $payload = sprintf('%08d', $i) . str_repeat('.', 65528);
            if ($con->send($payload) === false) {
                break;
            }
            $sent[] = $payload;
            Worker::loopOnce(0);
        }
        self::assertSame(1, $full, 'the server felt the pause: our send buffer filled');
        self::assertSame(0, $rec->count('onMessage'));

        $con->resumeRecv();
        $expected = count($sent) + 5;
        self::loopUntil(fn () => $rec->count('onMessage') >= $expected, "{$expected} echoes", 20.0);
        $got = array_column($rec->args('onMessage'), 0);
        self::assertSame(['small 1', 'small 2', 'small 3', 'small 4', 'small 5'], array_slice($got, 0, 5));
        self::assertTrue(array_slice($got, 5) === $sent, 'every large message came back, in order');
    }

    /** Row `pauseRecv()`: a reconnect reads again (as Workerman's new socket does). */
    public function testMethodPauseRecvEndsWithTheConnection(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::open($con, $rec);
        $con->pauseRecv();
        $con->reconnect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') === 2, 'the second handshake');
        $con->send('read again');
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the echo');
        self::assertSame([['read again']], $rec->args('onMessage'));
    }

    /**
     * Row `getStatus($raw)`: INITIAL 0, CONNECTING 1, ESTABLISHED 2,
     * CLOSING 8, CLOSED 16, or their names.
     */
    public function testMethodGetStatusThroughEveryState(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $seen = [[$con->getStatus(), $con->getStatus(false)]];
        $con->connect();
        $seen[] = [$con->getStatus(), $con->getStatus(false)];
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $seen[] = [$con->getStatus(), $con->getStatus(false)];
        $con->close();
        $seen[] = [$con->getStatus(), $con->getStatus(false)];
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        $seen[] = [$con->getStatus(true), $con->getStatus(false)];
        self::assertSame([
            [AsyncTcpConnection::STATUS_INITIAL, 'INITIAL'],
            [AsyncTcpConnection::STATUS_CONNECTING, 'CONNECTING'],
            [AsyncTcpConnection::STATUS_ESTABLISHED, 'ESTABLISHED'],
            [AsyncTcpConnection::STATUS_CLOSING, 'CLOSING'],
            [AsyncTcpConnection::STATUS_CLOSED, 'CLOSED'],
        ], $seen);
        self::assertSame([0, 1, 2, 8, 16], array_column($seen, 0), "Workerman's numbers");
    }

    /**
     * Rows `getRemoteIp()`, `getRemotePort()`, `getRemoteAddress()`,
     * `getRemoteHost()`, `getRemoteURI()`: the host and URI as written,
     * the address of the TCP connection once there is one (resolved).
     */
    public function testMethodGetRemoteAddressFacts(): void
    {
        $port = self::$server->port;
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection("ws://localhost:{$port}/a/b?c=d"));
        self::assertSame('localhost', $con->getRemoteHost());
        self::assertSame('/a/b?c=d', $con->getRemoteURI());
        self::assertSame($port, $con->getRemotePort());
        self::assertSame("localhost:{$port}", $con->getRemoteAddress(), 'before connecting: as written');
        self::assertSame('localhost', $con->getRemoteIp(), 'before connecting: the host, as Workerman');
        self::open($con, $rec);
        self::assertSame('127.0.0.1', $con->getRemoteIp(), 'the resolved address the echo server listens on');
        self::assertTrue($con->isIpV4());
        self::assertFalse($con->isIpV6());
        self::assertSame($port, $con->getRemotePort());
        self::assertSame("127.0.0.1:{$port}", $con->getRemoteAddress());
        self::assertSame('localhost', $con->getRemoteHost(), 'the host stays as written');
        self::closeAndWait($con, $rec);
        self::assertSame("127.0.0.1:{$port}", $con->getRemoteAddress(), 'kept after the close');
    }

    /**
     * Rows `getLocalIp()`, `getLocalPort()`: our end of the TCP connection,
     * the same the server sees as its peer.
     */
    public function testMethodGetLocalIpAndPortAreWhatTheServerSees(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/peer', $rec);
        self::assertSame('', $con->getLocalIp(), 'no connection yet');
        self::assertSame(0, $con->getLocalPort());
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, "the server's view of us");
        $peer = $rec->args('onMessage')[0][0];
        self::assertSame($peer, $con->getLocalIp() . ':' . $con->getLocalPort());
        self::assertSame($peer, $con->getLocalAddress());
        self::assertSame('127.0.0.1', $con->getLocalIp());
        self::closeAndWait($con, $rec);
    }

    /**
     * Rows `bufferIsEmpty()`, `getSendBufferQueueSize()`: the bytes
     * accepted by send() and not yet written.
     */
    public function testMethodBufferIsEmptyAndGetSendBufferQueueSize(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/stall/500', $rec);
        self::assertTrue($con->bufferIsEmpty());
        self::assertSame(0, $con->getSendBufferQueueSize());
        $con->send('abc');
        $con->send('defgh');
        self::assertSame(8, $con->getSendBufferQueueSize(), 'queued before the handshake: the payloads');
        self::assertFalse($con->bufferIsEmpty());
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        self::open($con, $rec);
        self::assertTrue($con->bufferIsEmpty(), 'written right after the handshake');
        $chunk = str_repeat('b', 65536);
        for ($i = 0; $i < 1024 && $con->send($chunk) === true; $i++) {
            // until the socket is full
        }
        $queued = $con->getSendBufferQueueSize();
        self::assertGreaterThan(0, $queued);
        self::assertLessThanOrEqual(65536 + 14, $queued, 'at most the last frame waits');
        self::assertFalse($con->bufferIsEmpty());
        self::loopUntil(fn () => $con->bufferIsEmpty(), 'the drain after the stall', 3.0);
        self::assertSame(0, $con->getSendBufferQueueSize());
        $con->destroy(); // the stalling server discards everything, close frames too
    }

    /** A connection refused by the port: every fact stays usable. */
    public function testMethodAddressFactsAfterARefusedConnection(): void
    {
        $port = EchoServer::unusedPort();
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection("ws://127.0.0.1:{$port}/"));
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame('127.0.0.1', $con->getRemoteIp());
        self::assertSame($port, $con->getRemotePort());
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
        self::assertTrue($con->bufferIsEmpty());
    }
}
