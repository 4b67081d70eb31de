<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Ws;
use Wsc\Tests\Support\Recorder;
use Wsc\Tests\Support\WorkermanApiTestCase;

/**
 * workerman-api.md, "Known defects we do not copy": each one, shown
 * against a real server to behave as RFC 6455 asks.
 */
final class WorkermanApiDefectsTest extends WorkermanApiTestCase
{
    /** Defect: fixed masking key 00 00 00 00. Ours: a new random key per frame (RFC 6455 5.3). */
    public function testDefectFramesAreMaskedWithANewRandomKeyEachTime(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/masks', $rec);
        self::open($con, $rec);
        for ($i = 0; $i < 8; $i++) {
            $con->send("frame {$i}");
        }
        self::loopUntil(fn () => $rec->count('onMessage') >= 8, 'the eight masks the server saw');
        $masks = array_column($rec->args('onMessage'), 0);
        self::assertNotContains('mask:none', $masks, 'every client frame is masked');
        self::assertNotContains('mask:00000000', $masks);
        self::assertCount(8, array_unique($masks), 'a different key for each frame');
        self::closeAndWait($con, $rec);
    }

    /**
     * Defect: close() drops TCP without a close frame. Ours: the closing
     * handshake with status 1000 (the server's answer echoes the code).
     */
    public function testDefectCloseSendsACloseFrameWithAStatusCode(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/', $rec);
        $payloads = [];
        $con->onWebSocketClose = function (AsyncTcpConnection $c, string $payload) use (&$payloads): void {
            $payloads[] = $payload;
        };
        self::open($con, $rec);
        self::closeAndWait($con, $rec);
        self::assertSame([pack('n', 1000)], $payloads, 'the server got our 1000 and sent it back');
        self::assertSame(1000, $con->getCloseCode());
    }

    /** Defect: no UTF-8 validation of text messages. Ours: invalid UTF-8 fails the connection with 1007 (8.1). */
    public function testDefectIncomingTextThatIsNotUtf8FailsWith1007(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/bad-utf8', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(0, $rec->count('onMessage'), 'the bad text is not delivered');
        self::assertSame(AsyncTcpConnection::PROTOCOL_FAIL, $rec->args('onError')[0][0]);
        self::assertSame(1007, $con->getCloseCode());
    }

    /** Defect: outgoing text is not checked either. Ours: send() refuses it (false, SEND_FAIL). */
    public function testDefectOutgoingTextThatIsNotUtf8IsRefused(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::open($con, $rec);
        self::assertFalse($con->send("\xc3\x28"));
        self::assertSame(AsyncTcpConnection::SEND_FAIL, $rec->args('onError')[0][0]);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        self::assertTrue($con->send("\xc3\x28"), 'as binary it is fine');
    }

    /** Defect: the receiver cannot tell text from binary. Ours: getLastMessageType(). */
    public function testDefectTheReceiverTellsTextFromBinary(): void
    {
        $rec = new Recorder();
        $types = [];
        $con = self::recorded('/', $rec, [
            'onMessage' => function (AsyncTcpConnection $c) use (&$types): void {
                $types[] = $c->getLastMessageType();
            },
        ]);
        self::open($con, $rec);
        $con->send('text');
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $con->send('bytes');
        self::loopUntil(fn () => $rec->count('onMessage') >= 2, 'two echoes');
        self::assertSame([Ws::BINARY_TYPE_BLOB, Ws::BINARY_TYPE_ARRAYBUFFER], $types);
    }

    /** Defect: no pong timeout. Ours: a peer that stops answering pings is detected. */
    public function testDefectADeadPeerIsDetectedByThePongTimeout(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/no-pong', $rec);
        $con->websocketPingInterval = 0.1;
        $con->websocketPongTimeout = 0.3;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose', 3.0);
        self::assertStringContainsString('no pong', $rec->args('onError')[0][1]);
        self::assertSame(1006, $con->getCloseCode());
    }

    /** Defect: header values with CR/LF are dropped silently. Ours: refused with a clear error. */
    public function testDefectHeaderValuesWithCrLfAreRefused(): void
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->headers = ['X-Evil' => "a\r\nInjected: 1"];
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage("header 'X-Evil' refused");
        $con->connect();
    }

    /**
     * Defect: data queued before the handshake is written after
     * onWebSocketConnect returns, so a message sent inside it overtakes.
     * Ours: the order of the send() calls.
     */
    public function testDefectSendOrderIsKeptAcrossOnWebSocketConnect(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send('third'),
        ]);
        $con->send('first');
        $con->send('second');
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') >= 3, 'three echoes');
        self::assertSame([['first'], ['second'], ['third']], $rec->args('onMessage'));
    }

    /**
     * Defect: v5 prints a re-rendered response with headers never sent.
     * Ours: the raw head as received.
     */
    public function testDefectTheResponsePrintsTheRawHeadOnly(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/', $rec);
        self::open($con, $rec);
        $head = (string) $rec->args('onWebSocketConnect')[0][0];
        self::assertStringNotContainsString('Content-Type', $head);
        self::assertStringNotContainsString('Content-Length', $head);
        self::assertStringNotContainsString('Server: workerman', $head);
        self::assertStringEndsWith("X-Scripted: yes\r\n\r\n", $head);
        self::closeAndWait($con, $rec);
    }

    /** Defect (v5.2): a frame in the same TCP read as the 101 can be lost. Ours: delivered. */
    public function testDefectAFrameInTheSameReadAsThe101IsDelivered(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/early', $rec);
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the early frame');
        self::assertSame([['early']], $rec->args('onMessage'));
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onMessage'], $rec->names());
        self::closeAndWait($con, $rec);
    }

    /**
     * Defect (v4): a 65535-byte payload length is mis-encoded. Ours: the
     * lengths around each boundary of the length encoding round-trip.
     */
    public function testDefectPayloadLengthsAroundEveryEncodingBoundaryRoundTrip(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        self::open($con, $rec);
        $lengths = [0, 125, 126, 127, 65535, 65536, 65537];
        $payloads = [];
        foreach ($lengths as $length) {
            $payloads[] = $length === 0 ? '' : random_bytes($length);
            $con->send(end($payloads));
        }
        self::loopUntil(fn () => $rec->count('onMessage') >= count($lengths), 'every echo');
        self::assertTrue(array_column($rec->args('onMessage'), 0) === $payloads, 'each came back identical');
    }
}
