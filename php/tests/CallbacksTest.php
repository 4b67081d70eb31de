<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Http\Response;
use Wsc\Protocols\Ws;
use Wsc\Tests\Support\EchoServer;
use Wsc\Tests\Support\Recorder;
use Wsc\Worker;

/**
 * Each callback of AsyncTcpConnection, against the real echo server.
 */
final class CallbacksTest extends WscTestCase
{
    public function testOnConnectComesBeforeOnWebSocketConnect(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        self::assertSame(AsyncTcpConnection::STATUS_CONNECTING, $con->getStatus());
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        self::assertSame(['onConnect', 'onWebSocketConnect'], $rec->names());
        self::assertSame([], $rec->args('onConnect')[0]);
        self::assertSame(AsyncTcpConnection::STATUS_ESTABLISHED, $con->getStatus());
        self::assertSame('ESTABLISHED', $con->getStatus(false));
    }

    public function testOnWebSocketConnectGetsTheRawResponseHead(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $response = $rec->args('onWebSocketConnect')[0][0];
        self::assertInstanceOf(Response::class, $response);
        $head = (string) $response;
        self::assertStringStartsWith("HTTP/1.1 101 Switching Protocols\r\n", $head);
        self::assertStringEndsWith("\r\n\r\n", $head);
        self::assertMatchesRegularExpression('/^Sec-WebSocket-Accept: \S+\r$/mi', $head);
        self::assertSame(101, $response->getStatusCode());
        self::assertSame('Switching Protocols', $response->getReasonPhrase());
        self::assertSame('websocket', strtolower((string) $response->getHeader('upgrade')));
        self::assertNull($response->getHeader('Content-Length'), 'no header the server did not send');
        self::assertArrayHasKey('Upgrade', $response->getHeaders());
    }

    public function testOnMessageGetsTextMessages(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/opcode', $rec);
        $con->connect();
        $con->send('héllo');
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'onMessage');
        self::assertSame([['text:héllo']], $rec->args('onMessage'));
        self::assertSame(Ws::BINARY_TYPE_BLOB, $con->getLastMessageType());
    }

    public function testSendUsesWebsocketTypeBinary(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/opcode', $rec);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $con->connect();
        $con->send("bytes\x00");
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'onMessage');
        self::assertSame([["binary:bytes\x00"]], $rec->args('onMessage'), 'the server got a binary frame');
    }

    public function testOnMessageGetsBinaryMessages(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $con->connect();
        $payload = "\x00\xff\x01 binary \x00";
        $con->send($payload);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'onMessage');
        self::assertSame([[$payload]], $rec->args('onMessage'), 'echoed as binary, every byte kept');
        self::assertSame(Ws::BINARY_TYPE_ARRAYBUFFER, $con->getLastMessageType());
    }

    public function testOnErrorWhenTheConnectionIsRefused(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection('ws://127.0.0.1:' . EchoServer::unusedPort() . '/'));
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onError', 'onClose'], $rec->names());
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
        self::assertSame(WORKERMAN_CONNECT_FAIL, $code);
        self::assertStringContainsStringIgnoringCase('refused', $message);
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
    }

    public function testOnErrorWhenTheHandshakeIsAnswered403(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/status/403', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onError', 'onClose'], $rec->names());
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
        self::assertStringContainsString('HTTP 403 Forbidden', $message);
    }

    public function testOnErrorWhenSecWebSocketAcceptIsWrong(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/bad-accept', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onError', 'onClose'], $rec->names());
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
        self::assertStringContainsString('Sec-WebSocket-Accept', $message);
    }

    public function testOnCloseAfterClose(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $con->close();
        self::assertContains(
            $con->getStatus(),
            [AsyncTcpConnection::STATUS_CLOSING, AsyncTcpConnection::STATUS_CLOSED],
        );
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onClose'], $rec->names());
        self::assertSame(1000, $con->getCloseCode());
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
        self::assertSame(0, AsyncTcpConnection::countAlive(), 'a closed connection is released');
    }

    public function testCloseWithDataSendsItFirst(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->close('last words'),
        ]);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(
            [['last words']],
            $rec->args('onMessage'),
            'the echo of the last message arrives before the close',
        );
        self::assertSame(1000, $con->getCloseCode());
    }

    public function testOnCloseWhenTheServerCloses(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/close/4000', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onClose'], $rec->names());
        self::assertSame(4000, $con->getCloseCode());
        self::assertSame('bye', $con->getCloseReason());
    }

    public function testReConnectAfterCloseSucceeds(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onClose' => function (AsyncTcpConnection $c) use (&$rec): void {
                if ($rec->count('onClose') === 1) {
                    $c->reConnect(0.2);
                }
            },
            'onMessage' => fn (AsyncTcpConnection $c) => $c->close(),
            'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send('ping ' . $rec->count('onWebSocketConnect')),
        ]);
        $id = $con->id;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') === 2, 'two onClose');
        self::assertSame([
            'onConnect', 'onWebSocketConnect', 'onMessage', 'onClose',
            'onConnect', 'onWebSocketConnect', 'onMessage', 'onClose',
        ], $rec->names());
        self::assertSame([['ping 1'], ['ping 2']], $rec->args('onMessage'));
        self::assertSame($id, $con->id, 'the same connection object and id');
    }

    public function testReconnectLowercaseIsTheSameMethod(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/close/4000', $rec, [
            'onClose' => function (AsyncTcpConnection $c) use (&$rec): void {
                if ($rec->count('onClose') === 1) {
                    $c->reconnect(0);
                }
            },
        ]);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') === 2, 'two onClose');
        self::assertSame(2, $rec->count('onWebSocketConnect'));
    }

    public function testOnErrorProtocolFailWhenAnOpenConnectionFails(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->maxPackageSize = 16;
        $con->connect();
        $con->send(str_repeat('x', 100));
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onError', 'onClose'], $rec->names());
        self::assertSame(AsyncTcpConnection::PROTOCOL_FAIL, $rec->args('onError')[0][0]);
        self::assertSame(1009, $con->getCloseCode(), 'RFC 6455 7.4.1: message too big');
    }

    public function testOnWebSocketPongAndPingInterval(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/report-pings', $rec);
        $con->websocketPingInterval = 1;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the server reporting a ping', 3.0);
        self::assertSame('ping:', $rec->args('onMessage')[0][0]);
        self::loopUntil(fn () => $rec->count('onWebSocketPong') > 0, 'the pong', 3.0);
    }

    public function testOnWebSocketCloseGetsTheServersCloseFramePayload(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/close/4000', $rec);
        $payloads = [];
        $con->onWebSocketClose = function (AsyncTcpConnection $c, string $payload) use (&$payloads, $rec): void {
            $payloads[] = $payload;
            $rec->events[] = ['onWebSocketClose', [$payload]];
        };
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame([pack('n', 4000) . 'bye'], $payloads, 'status code (2 bytes) then the reason');
        self::assertSame(4000, unpack('n', $payloads[0])[1]);
        self::assertSame(
            ['onConnect', 'onWebSocketConnect', 'onWebSocketClose', 'onClose'],
            $rec->names(),
            'onWebSocketClose when the frame arrives, onClose when the connection is gone',
        );
    }

    public function testOnWebSocketCloseAlsoForTheAnswerToOurClose(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec, ['onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->close()]);
        $payloads = [];
        $con->onWebSocketClose = function (AsyncTcpConnection $c, string $payload) use (&$payloads): void {
            $payloads[] = $payload;
        };
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame([pack('n', 1000)], $payloads, 'the echo of our close frame (1000, no reason)');
    }

    public function testPongTimeoutClosesAConnectionWhosePeerIsGone(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/no-pong', $rec);
        $con->websocketPingInterval = 0.1;
        $con->websocketPongTimeout = 0.3;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose after the pong timeout', 3.0);
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onError', 'onClose'], $rec->names());
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::PROTOCOL_FAIL, $code);
        self::assertStringContainsString('no pong within 300 ms', $message);
        self::assertSame(1006, $con->getCloseCode());
    }

    public function testPongTimeoutLeavesAnAnsweringServerAlone(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->websocketPingInterval = 0.1;
        $con->websocketPongTimeout = 0.3;
        $con->connect();
        self::assertFalse(
            Worker::loopFor(1.0, fn () => $rec->count('onClose') > 0),
            'the connection stays open while pongs come back',
        );
        self::assertGreaterThanOrEqual(5, $rec->count('onWebSocketPong'));
        self::assertSame(0, $rec->count('onError'));
    }
}
