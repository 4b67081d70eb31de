<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Http\Response;
use Wsc\Protocols\Ws;
use Wsc\Tests\Support\EchoServer;
use Wsc\Tests\Support\Recorder;
use Wsc\Tests\Support\WorkermanApiTestCase;
use Wsc\Timer;
use Wsc\Worker;

/**
 * workerman-api.md, "Callbacks", each against a real server.
 */
final class WorkermanApiCallbacksTest extends WorkermanApiTestCase
{
    /**
     * Row `onConnect`: TCP is established, before the WebSocket handshake
     * (a server that accepts TCP and never answers gets onConnect only).
     */
    public function testCallbackOnConnectComesWithTcpBeforeTheHandshake(): void
    {
        $rec = new Recorder();
        $silent = self::recorded('/silent', $rec);
        $silent->connect();
        self::loopUntil(fn () => $rec->count('onConnect') > 0, 'onConnect');
        self::assertFalse(Worker::loopFor(0.3, fn () => count($rec->events) > 1), 'nothing else: no handshake answer');
        self::assertSame(['onConnect'], $rec->names());
        self::assertSame(AsyncTcpConnection::STATUS_CONNECTING, $silent->getStatus(), 'the handshake is under way');
        $silent->destroy();

        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::open($con, $rec);
        self::assertSame(['onConnect', 'onWebSocketConnect'], $rec->names());
        self::assertSame([], $rec->args('onConnect')[0], 'only the connection is passed');
    }

    /**
     * Row `onWebSocketConnect`, Workerman 4: the response is the raw head
     * as a string (`echo $response`, string functions in coercive mode).
     */
    public function testCallbackOnWebSocketConnectResponseWorksAsAWorkerman4String(): void
    {
        $rec = new Recorder();
        $v4 = require __DIR__ . '/fixtures/workerman4_response_usage.php';
        $printed = null;
        $used = null;
        $con = self::scripted('/', $rec, [
            'onWebSocketConnect' => function (AsyncTcpConnection $c, $response) use (&$printed, &$used, $v4): void {
                ob_start();
                echo $response;
                $printed = ob_get_clean();
                $used = $v4($c, $response);
            },
        ]);
        self::open($con, $rec);
        self::assertIsString($printed);
        self::assertMatchesRegularExpression(
            '~^HTTP/1\.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            . 'Sec-WebSocket-Accept: [A-Za-z0-9+/=]{28}\r\nX-Scripted: yes\r\n\r\n$~',
            $printed,
            'echo prints the head exactly as the server sent it',
        );
        self::assertSame(strlen($printed), $used['strlen']);
        self::assertSame('HTTP/1.1 101 Switching Protocols', $used['status line']);
        self::assertTrue($used['has upgrade']);
        self::assertSame('head: ' . $printed, $used['concatenated']);
        self::assertFalse($used['is_string'], 'the one difference: it is an object with a string form');
        self::closeAndWait($con, $rec);
    }

    /**
     * Row `onWebSocketConnect`, Workerman 5: the response object with
     * getStatusCode(), getHeader(), getHeaders(); only what the server sent.
     */
    public function testCallbackOnWebSocketConnectResponseWorksAsAWorkerman5Object(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/', $rec);
        self::open($con, $rec);
        $response = $rec->args('onWebSocketConnect')[0][0];
        self::assertInstanceOf(Response::class, $response);
        self::assertSame(101, $response->getStatusCode());
        self::assertSame('Switching Protocols', $response->getReasonPhrase());
        self::assertSame('1.1', $response->getProtocolVersion());
        self::assertSame('websocket', $response->getHeader('Upgrade'));
        self::assertSame('websocket', $response->getHeader('upgrade'), 'names are case-insensitive');
        self::assertNull($response->getHeader('Content-Type'), 'never a header the server did not send');
        self::assertSame('', $response->rawBody());
        $headers = $response->getHeaders();
        self::assertSame(['Upgrade', 'Connection', 'Sec-WebSocket-Accept', 'X-Scripted'], array_keys($headers));
        self::assertSame('yes', $headers['X-Scripted']);
        self::closeAndWait($con, $rec);
    }

    /** Row `onWebSocketConnect`: only after 101 and a valid Sec-WebSocket-Accept. */
    public function testCallbackOnWebSocketConnectNeedsA101AndAValidAccept(): void
    {
        foreach (['/bad-accept' => 'Sec-WebSocket-Accept', '/status/403' => '403'] as $path => $reason) {
            $rec = new Recorder();
            $con = self::recorded($path, $rec);
            $con->connect();
            self::loopUntil(fn () => $rec->count('onClose') > 0, "onClose for {$path}");
            self::assertSame(0, $rec->count('onWebSocketConnect'), $path);
            self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $rec->args('onError')[0][0]);
            self::assertStringContainsString($reason, $rec->args('onError')[0][1]);
        }
    }

    /** Row `onMessage`: a whole message, fragments joined. */
    public function testCallbackOnMessageGetsWholeMessagesWithFragmentsJoined(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/fragments', $rec);
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the fragmented message');
        self::assertSame([['one two three']], $rec->args('onMessage'), 'three frames, one onMessage');
        $big = random_bytes(300000);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $con->send($big);
        self::loopUntil(fn () => $rec->count('onMessage') > 1, 'the echo of 300000 bytes');
        self::assertSame($big, $rec->args('onMessage')[1][0], 'a large message arrives whole, however TCP split it');
        self::closeAndWait($con, $rec);
    }

    /**
     * Row `onError`: CONNECT_FAIL (1) for a failed connect, SEND_FAIL (2)
     * for a refused send; Workerman 5's class constants and Workerman 4's
     * global constants.
     */
    public function testCallbackOnErrorCodesAndConstants(): void
    {
        self::assertSame(1, AsyncTcpConnection::CONNECT_FAIL);
        self::assertSame(2, AsyncTcpConnection::SEND_FAIL);
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, WORKERMAN_CONNECT_FAIL);
        self::assertSame(AsyncTcpConnection::SEND_FAIL, WORKERMAN_SEND_FAIL);

        $rec = new Recorder();
        $port = EchoServer::unusedPort();
        $con = $rec->attach(new AsyncTcpConnection("ws://127.0.0.1:{$port}/"));
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(WORKERMAN_CONNECT_FAIL, $code);
        self::assertStringContainsString("127.0.0.1:{$port}", $message);
        self::assertStringContainsString('refused', $message);

        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->maxSendBufferSize = 10;
        $con->send('0123456789');
        self::assertFalse($con->send('x'));
        self::assertSame([[WORKERMAN_SEND_FAIL, $rec->args('onError')[0][1]]], $rec->args('onError'));
    }

    /**
     * Row `onClose`: whatever the reason, also after a failed connect
     * (onError first, then onClose), after our close and the server's.
     */
    public function testCallbackOnCloseComesWhateverTheReason(): void
    {
        $refused = 'ws://127.0.0.1:' . EchoServer::unusedPort() . '/';
        $cases = [
            'refused connect' => [$refused, null, ['onError', 'onClose']],
            'refused handshake' => ['/status/500', null, ['onConnect', 'onError', 'onClose']],
            'server closes' => ['/close/1001', null, ['onConnect', 'onWebSocketConnect', 'onClose']],
            'we close' => ['/', 'close', ['onConnect', 'onWebSocketConnect', 'onClose']],
            'destroyed' => ['/', 'destroy', ['onConnect', 'onWebSocketConnect', 'onClose']],
        ];
        foreach ($cases as $name => [$path, $method, $names]) {
            $rec = new Recorder();
            $con = $rec->attach(
                new AsyncTcpConnection(str_starts_with($path, 'ws:') ? $path : self::url($path)),
                $method === null ? [] : ['onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->{$method}()],
            );
            $con->connect();
            self::loopUntil(fn () => $rec->count('onClose') > 0, "onClose ({$name})");
            self::assertSame($names, $rec->names(), $name);
            self::assertSame([], $rec->args('onClose')[0], 'only the connection is passed');
        }
    }

    /**
     * Rows `onBufferFull` and `onBufferDrain`: the buffer reaches
     * maxSendBufferSize, then is written out again.
     */
    public function testCallbackOnBufferFullThenOnBufferDrain(): void
    {
        $rec = $this->bufferRecorder();
        $con = self::recorded('/stall/700', $rec);
        $this->recordBuffer($con, $rec);
        $con->maxSendBufferSize = 128 * 1024;
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        self::open($con, $rec);
        $chunk = str_repeat('z', 32768);
        $n = 0;
        while ($con->send($chunk) !== false && ++$n < 8192) {
            // until refused
        }
        self::loopUntil(fn () => $rec->count('onBufferDrain') > 0, 'onBufferDrain');
        self::assertSame(
            ['onConnect', 'onWebSocketConnect', 'onBufferFull', 'onError', 'onBufferDrain'],
            $rec->names(),
        );
        $con->destroy(); // the stalling server discards everything, close frames too
    }

    /**
     * Row `onBufferDrain`: also after a send() that had to queue without
     * filling the buffer (Workerman calls it whenever its buffer empties).
     */
    public function testCallbackOnBufferDrainAfterAQueuedSend(): void
    {
        $rec = $this->bufferRecorder();
        $con = self::recorded('/stall/300', $rec);
        $this->recordBuffer($con, $rec);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        self::open($con, $rec);
        $chunk = str_repeat('q', 65536);
        $result = true;
        for ($i = 0; $i < 4096 && $result === true; $i++) {
            $result = $con->send($chunk);
        }
        self::assertNull($result, 'a send had to queue (the socket is full)');
        self::loopUntil(fn () => $rec->count('onBufferDrain') > 0, 'onBufferDrain');
        self::assertSame(0, $rec->count('onBufferFull'), 'the 1 MiB limit was not reached');
        self::assertTrue($con->bufferIsEmpty());
        $con->destroy(); // the stalling server discards everything, close frames too
    }

    /**
     * Row `onBufferFull`/`onBufferDrain` before the handshake: Workerman
     * calls onBufferFull when queued data reaches the limit before the
     * connection is up, and onBufferDrain once it is written after it.
     */
    public function testCallbackOnBufferDrainAfterABufferFilledBeforeTheHandshake(): void
    {
        $rec = $this->bufferRecorder();
        $con = self::recorded('/stall/500', $rec);
        $this->recordBuffer($con, $rec);
        $con->maxSendBufferSize = 16 * 1024 * 1024;
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $chunk = str_repeat('p', 65536);
        $queued = 0;
        while ($con->send($chunk) === null && ++$queued < 1024) {
            // until refused: 16 MiB, more than the socket buffers take
        }
        self::assertSame(['onBufferFull', 'onError'], $rec->names(), 'onBufferFull from the send() that filled it');
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $afterOpen = $con->getSendBufferQueueSize();
        $tick = Timer::add(0.02, static function (): void {
            // wakes the loop up to check the buffer: no event may tell
        });
        self::loopUntil(fn () => $con->bufferIsEmpty(), 'everything written once the server reads', 10.0);
        Timer::del($tick);
        self::assertGreaterThan(0, $afterOpen, 'more than the socket took at once waited after the handshake');
        self::assertTrue(
            Worker::loopFor(1.0, fn () => $rec->count('onBufferDrain') > 0),
            'onBufferDrain once the buffer filled before the handshake is written out '
            . '(libwsc reports no BUFFER_DRAIN after flushing the messages queued before the handshake)',
        );
        $con->destroy(); // the stalling server discards everything, close frames too
    }

    /**
     * Row `onWebSocketClose`: a close frame arrived; the payload is the
     * code (2 bytes, big-endian) and the reason. The connection closes
     * whether or not the callback is set (RFC 6455 requires the answer).
     */
    public function testCallbackOnWebSocketCloseGetsTheCloseFramePayload(): void
    {
        foreach ([true, false] as $withCallback) {
            $rec = new Recorder();
            $con = self::recorded('/close/4321', $rec);
            if ($withCallback) {
                $con->onWebSocketClose = function (AsyncTcpConnection $c, string $payload) use ($rec): void {
                    $rec->events[] = ['onWebSocketClose', [$payload]];
                };
            }
            $con->connect();
            self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
            if ($withCallback) {
                self::assertSame([[pack('n', 4321) . 'bye']], $rec->args('onWebSocketClose'));
                self::assertSame(['onConnect', 'onWebSocketConnect', 'onWebSocketClose', 'onClose'], $rec->names());
            }
            self::assertSame(4321, $con->getCloseCode());
            self::assertSame('bye', $con->getCloseReason());
        }
    }

    /**
     * Row `onWebSocketPing`: a ping arrived, with its payload; the pong
     * goes back with the same payload (the server reports it), with or
     * without the callback.
     */
    public function testCallbackOnWebSocketPingGetsThePayloadAndThePongIsSent(): void
    {
        foreach (['with' => true, 'without' => false] as $withCallback) {
            $rec = new Recorder();
            $con = self::scripted('/ping/hello%20there', $rec);
            if (!$withCallback) {
                $con->onWebSocketPing = null;
            }
            self::open($con, $rec);
            self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the server reporting our pong');
            self::assertSame([['pong:hello there']], $rec->args('onMessage'));
            self::assertSame($withCallback ? [['hello there']] : [], $rec->args('onWebSocketPing'));
            self::closeAndWait($con, $rec);
        }
    }

    /** Row `onWebSocketPong`: a pong arrived, with its payload. */
    public function testCallbackOnWebSocketPongGetsThePayload(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/pong/unsolicited', $rec);
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onWebSocketPong') > 0, 'the pong');
        self::assertSame([['unsolicited']], $rec->args('onWebSocketPong'));
        self::closeAndWait($con, $rec);

        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->websocketPingInterval = 0.1;
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onWebSocketPong') >= 2, 'the pongs to our pings');
        self::assertSame([[''], ['']], array_slice($rec->args('onWebSocketPong'), 0, 2), 'our pings are empty');
    }

    /**
     * Section note: an exception in a callback is reported (to
     * Worker::$onException) and does not stop the other connections.
     */
    public function testCallbackExceptionIsReportedAndOtherConnectionsGoOn(): void
    {
        $reported = [];
        Worker::$onException = function (\Throwable $e, string $where) use (&$reported): void {
            $reported[] = [$e->getMessage(), $where];
        };
        $bad = new Recorder();
        $badCon = self::recorded('/', $bad, [
            'onMessage' => function (): void {
                throw new \RuntimeException('user bug');
            },
        ]);
        $good = new Recorder();
        $goodCon = self::recorded('/', $good);
        $badCon->send('boom');
        $badCon->send('boom again');
        $goodCon->send('fine');
        $badCon->connect();
        $goodCon->connect();
        self::loopUntil(fn () => $good->count('onMessage') > 0 && $bad->count('onMessage') > 1, 'all echoes');
        self::assertSame([['fine']], $good->args('onMessage'));
        self::assertCount(2, $reported, 'each exception reported, the connection went on');
        self::assertSame('user bug', $reported[0][0]);
        self::assertStringContainsString("onMessage of connection #{$badCon->id}", $reported[0][1]);
        self::assertSame(AsyncTcpConnection::STATUS_ESTABLISHED, $badCon->getStatus());
    }

    private function bufferRecorder(): Recorder
    {
        return new Recorder();
    }

    private function recordBuffer(AsyncTcpConnection $con, Recorder $rec): void
    {
        foreach (['onBufferFull', 'onBufferDrain'] as $name) {
            $con->{$name} = function () use ($rec, $name): void {
                $rec->events[] = [$name, []];
            };
        }
    }
}
