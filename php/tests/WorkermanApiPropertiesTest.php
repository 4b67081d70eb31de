<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Ws;
use Wsc\Tests\Support\Recorder;
use Wsc\Tests\Support\WorkermanApiTestCase;
use Wsc\Worker;

/**
 * workerman-api.md, "Public properties", each against a real server. The
 * proxy rows (proxySocks5*, proxyHttp, proxyAuthorization) are ProxyTest,
 * against real proxies.
 */
final class WorkermanApiPropertiesTest extends WorkermanApiTestCase
{
    /** Row `headers`: extra request headers of the handshake; default []. */
    public function testPropertyHeadersAreSentWithTheHandshake(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/headers', $rec);
        self::assertSame([], $con->headers);
        $con->headers = ['X-Token' => 'abc', 'Cookie' => 'a=b; c=d', 'X-Number' => 42];
        $headers = $this->firstMessageAsJson($con, $rec);
        self::assertSame('abc', $headers['x-token']);
        self::assertSame('a=b; c=d', $headers['cookie']);
        self::assertSame('42', $headers['x-number']);
    }

    /** Row `websocketPingInterval`: a ping every N seconds; 0 (default) = off. */
    public function testPropertyWebsocketPingIntervalSendsPings(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/report-pings', $rec);
        self::assertSame(0, $con->websocketPingInterval);
        self::open($con, $rec);
        self::assertFalse(Worker::loopFor(0.6, fn () => $rec->count('onMessage') > 0), 'no ping when 0');
        self::closeAndWait($con, $rec);

        $rec = new Recorder();
        $con = self::recorded('/report-pings', $rec);
        $con->websocketPingInterval = 0.2;
        $start = microtime(true);
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onMessage') >= 3, 'three pings reported by the server');
        self::assertSame([['ping:'], ['ping:'], ['ping:']], array_slice($rec->args('onMessage'), 0, 3));
        self::assertGreaterThanOrEqual(0.55, microtime(true) - $start, 'one every 0.2 s, not faster');
    }

    /** Row `websocketType`: BLOB ("\x81", text, default) or ARRAYBUFFER ("\x82", binary). */
    public function testPropertyWebsocketTypeChoosesTextOrBinaryFrames(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/opcode', $rec);
        self::assertSame(Ws::BINARY_TYPE_BLOB, $con->websocketType);
        self::assertSame("\x81", Ws::BINARY_TYPE_BLOB);
        self::assertSame("\x82", Ws::BINARY_TYPE_ARRAYBUFFER);
        self::open($con, $rec);
        $con->send('a');
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $con->send('b');
        self::loopUntil(fn () => $rec->count('onMessage') >= 2, 'two answers');
        self::assertSame([['text:a'], ['binary:b']], $rec->args('onMessage'), 'the server saw opcodes 0x1 then 0x2');
    }

    /** Row `websocketOrigin`: the Origin request header; none by default. */
    public function testPropertyWebsocketOriginIsTheOriginHeader(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/headers', $rec);
        self::assertNull($con->websocketOrigin);
        self::assertArrayNotHasKey('origin', $this->firstMessageAsJson($con, $rec));
        self::closeAndWait($con, $rec);

        $rec = new Recorder();
        $con = self::recorded('/headers', $rec);
        $con->websocketOrigin = 'https://app.example';
        self::assertSame('https://app.example', $this->firstMessageAsJson($con, $rec)['origin']);
    }

    /**
     * Row `websocketClientProtocol`: the Sec-WebSocket-Protocol request
     * header; the server's choice is in the response.
     */
    public function testPropertyWebsocketClientProtocolIsOffered(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/request', $rec);
        self::assertNull($con->websocketClientProtocol);
        $con->websocketClientProtocol = 'chat, superchat';
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the request head');
        $requestHead = $rec->args('onMessage')[0][0];
        self::assertStringContainsString("\r\nSec-WebSocket-Protocol: chat, superchat\r\n", $requestHead);
        self::assertSame('chat', $rec->args('onWebSocketConnect')[0][0]->getHeader('Sec-WebSocket-Protocol'));
        self::closeAndWait($con, $rec);
    }

    /**
     * Row `transport`: 'tcp' (default) or 'ssl'. With 'ssl' the client
     * speaks TLS: against the plain echo server the TLS handshake fails
     * (the TLS servers are in WorkermanApiConstructionTest and TlsTest).
     */
    public function testPropertyTransportSslSpeaksTls(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::assertSame('tcp', $con->transport);
        $con->transport = 'ssl';
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onError', 'onClose'], $rec->names());
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
        self::assertStringContainsString('TLS', $message);
    }

    /**
     * Row `maxSendBufferSize` (default 1 MiB): the buffer fills against a
     * server that reads nothing for 700 ms; onBufferFull, then send() is
     * refused with false and onError(SEND_FAIL); onBufferDrain; sends are
     * accepted again; and every byte accepted was written (nothing lost).
     */
    public function testPropertyMaxSendBufferSizeRefusesSendsWhenFull(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/stall/700', $rec);
        $con->onBufferFull = function () use ($rec): void {
            $rec->events[] = ['onBufferFull', []];
        };
        $con->onBufferDrain = function () use ($rec): void {
            $rec->events[] = ['onBufferDrain', []];
        };
        self::assertSame(1048576, $con->maxSendBufferSize);
        self::assertSame(AsyncTcpConnection::$defaultMaxSendBufferSize, $con->maxSendBufferSize);
        $con->maxSendBufferSize = 256 * 1024;
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        self::open($con, $rec);
        $written = $con->bytesWritten;

        $chunk = str_repeat('x', 65536);
        $frame = 2 + 8 + 4 + 65536; // header, 64-bit length, mask key, payload
        $accepted = 0;
        $results = [];
        while ($rec->count('onBufferFull') === 0 && $accepted < 4096) {
            $results[] = $con->send($chunk);
            $accepted++;
        }
        self::assertSame(1, $rec->count('onBufferFull'), 'onBufferFull from inside the send() that filled it');
        self::assertNull(end($results), 'the filling send() was queued');
        self::assertGreaterThanOrEqual(256 * 1024, $con->getSendBufferQueueSize());
        self::assertFalse($con->bufferIsEmpty());

        self::assertFalse($con->send($chunk), 'refused while full');
        self::assertSame([AsyncTcpConnection::SEND_FAIL], array_column($rec->args('onError'), 0));
        self::assertSame(WORKERMAN_SEND_FAIL, $rec->args('onError')[0][0]);
        self::assertStringContainsString('send buffer full', $rec->args('onError')[0][1]);
        self::assertSame(0, $rec->count('onBufferDrain'));

        self::loopUntil(fn () => $rec->count('onBufferDrain') > 0, 'onBufferDrain once the server reads', 5.0);
        self::assertSame(0, $con->getSendBufferQueueSize());
        self::assertTrue($con->bufferIsEmpty());
        self::assertSame(
            $accepted * $frame,
            $con->bytesWritten - $written,
            'every accepted message was written whole: nothing lost',
        );
        self::assertTrue($con->send('again'), 'accepted again after the drain');
        self::assertSame(1, $rec->count('onError'));
        self::assertSame(1, $rec->count('onBufferFull'));
    }

    /** Row `maxSendBufferSize`: a change takes effect at the next send(), as in Workerman. */
    public function testPropertyMaxSendBufferSizeChangeTakesEffectAtTheNextSend(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->maxSendBufferSize = 100;
        self::assertNull($con->send(str_repeat('a', 100)), 'queued before connect()');
        self::assertFalse($con->send('b'), 'the 100 queued bytes reach the limit');
        $con->maxSendBufferSize = 1000;
        self::assertNull($con->send('c'), 'accepted once the limit is raised');
        self::assertSame(101, $con->getSendBufferQueueSize());
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') >= 2, 'both echoes');
        self::assertSame([[str_repeat('a', 100)], ['c']], $rec->args('onMessage'));
    }

    /**
     * Row `maxPackageSize` (default 10 MiB): a larger incoming message
     * closes the connection with 1009; one of exactly the limit passes.
     */
    public function testPropertyMaxPackageSizeLimitsIncomingMessages(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::assertSame(10485760, $con->maxPackageSize);
        self::assertSame(AsyncTcpConnection::$defaultMaxPackageSize, $con->maxPackageSize);
        $con->maxPackageSize = 1000;
        self::open($con, $rec);
        $con->send(str_repeat('k', 1000));
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the echo of 1000 bytes');
        $con->send(str_repeat('k', 1001));
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(1, $rec->count('onMessage'));
        self::assertSame(AsyncTcpConnection::PROTOCOL_FAIL, $rec->args('onError')[0][0]);
        self::assertSame(1009, $con->getCloseCode(), 'RFC 6455 7.4.1: message too big');
    }

    /**
     * Rows `bytesRead`, `bytesWritten` (default 0): the bytes on the wire,
     * handshake included, read live; checked to the byte against what the
     * server received and sent.
     */
    public function testPropertyBytesReadAndBytesWrittenCountTheWire(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/request', $rec);
        self::assertSame(0, $con->bytesRead);
        self::assertSame(0, $con->bytesWritten);
        self::assertTrue(isset($con->bytesRead));
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the request head');
        $requestHead = $rec->args('onMessage')[0][0];
        $responseHead = (string) $rec->args('onWebSocketConnect')[0][0];
        self::assertSame(strlen($requestHead), $con->bytesWritten, 'the request head, as the server received it');
        $serverFrame = 2 + (strlen($requestHead) > 125 ? 2 : 0) + strlen($requestHead);
        self::assertSame(strlen($responseHead) + $serverFrame, $con->bytesRead);

        $read = $con->bytesRead;
        $written = $con->bytesWritten;
        $con->send('hello');
        self::loopUntil(fn () => $rec->count('onMessage') > 1, 'the echo');
        self::assertSame($written + 2 + 4 + 5, $con->bytesWritten, 'header, mask key, payload');
        self::assertSame($read + 2 + 5, $con->bytesRead, 'header, payload (the server does not mask)');

        $con->bytesRead = 0;
        $con->bytesWritten = 0;
        $con->send('hi');
        self::loopUntil(fn () => $rec->count('onMessage') > 2, 'the second echo');
        self::assertSame(8, $con->bytesWritten, 'assigning 0 restarts the count');
        self::assertSame(4, $con->bytesRead);
        self::closeAndWait($con, $rec);
    }

    /**
     * Connects and returns the first message (the echo server's /headers
     * JSON) decoded.
     *
     * @return array<string, string>
     */
    private function firstMessageAsJson(AsyncTcpConnection $con, Recorder $rec): array
    {
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the first message');
        $decoded = json_decode($rec->args('onMessage')[0][0], true, 8, JSON_THROW_ON_ERROR);
        self::assertIsArray($decoded);
        return $decoded;
    }
}
