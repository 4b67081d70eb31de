<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Ws;
use Wsc\Tests\Support\Recorder;

/**
 * send(): its return values (true written, null queued, false refused) and
 * delivery.
 */
final class SendTest extends WscTestCase
{
    public function testSendBeforeTheHandshakeIsQueuedAndDeliveredInOrder(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        self::assertNull($con->send('before connect'), 'queued before connect()');
        $con->connect();
        self::assertNull($con->send('while connecting'), 'queued while connecting');
        self::loopUntil(fn () => $rec->count('onMessage') >= 2, 'two echoes');
        self::assertSame([['before connect'], ['while connecting']], $rec->args('onMessage'));
    }

    /**
     * libwsc hands a batch over with payloads up to 4096 bytes copied
     * inline and bigger ones read where they are: echoes on both sides of
     * that limit, queued before the handshake so that they come back in
     * few batches, each arrive whole and in order.
     */
    public function testMessagesOnBothSidesOfTheBatchInlineLimitComeBackWholeAndInOrder(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $payloads = [];
        foreach ([1, 4095, 4096, 4097, 70000, 0, 4096, 100000, 3] as $length) {
            $payloads[] = $length === 0 ? '' : random_bytes($length);
            self::assertNull($con->send(end($payloads)), 'queued before the handshake');
        }
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') >= count($payloads), 'every echo');
        self::assertTrue(array_column($rec->args('onMessage'), 0) === $payloads, 'each came back identical');
    }

    public function testSendOnAnOpenConnectionIsWritten(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        self::assertTrue($con->send('now'));
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the echo');
        self::assertSame([['now']], $rec->args('onMessage'));
    }

    public function testSendInsideOnWebSocketConnectKeepsTheOrder(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send('second'),
        ]);
        $con->send('first');
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') >= 2, 'two echoes');
        self::assertSame([['first'], ['second']], $rec->args('onMessage'));
    }

    public function testSendAfterCloseReturnsFalse(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $con->close();
        self::assertFalse($con->send('while closing'));
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertFalse($con->send('after close'));
        self::assertSame(0, $rec->count('onMessage'));
        self::assertSame(0, $rec->count('onError'), 'Workerman reports no error for a send on a closed connection');
    }

    public function testTextThatIsNotUtf8IsRefusedWithSendFail(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        self::assertFalse($con->send("\xff\xfe not UTF-8"));
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onError'], $rec->names());
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::SEND_FAIL, $code);
        self::assertSame(WORKERMAN_SEND_FAIL, $code);
        self::assertStringContainsString('BINARY_TYPE_ARRAYBUFFER', $message);
        self::assertSame(AsyncTcpConnection::STATUS_ESTABLISHED, $con->getStatus(), 'the connection stays open');
    }

    public function testAFullSendBufferRefusesWithSendFail(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $con->maxSendBufferSize = 1024;
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $con->connect(); // applies the limit
        $results = [];
        for ($i = 0; $i < 3; $i++) {
            $results[] = $con->send(str_repeat('x', 1000));
        }
        self::assertSame([null, null, false], $results, 'queued before the handshake until 1024 bytes wait');
        self::assertSame(AsyncTcpConnection::SEND_FAIL, $rec->args('onError')[0][0]);
        self::assertStringContainsString('send buffer full', $rec->args('onError')[0][1]);
    }

    public function testQueuedMessagesOfAFailedAttemptComeBackAsUndelivered(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/status/403', $rec);
        $con->send('lost');
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame([['lost']], $rec->args('onUndelivered'));
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $rec->args('onError')[0][0]);
    }

    public function testUndeliveredWithoutItsCallbackIsASendFail(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/status/403', $rec);
        $con->onUndelivered = null;
        $con->send('lost');
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        $codes = array_column($rec->args('onError'), 0);
        self::assertContains(AsyncTcpConnection::SEND_FAIL, $codes);
        self::assertContains(AsyncTcpConnection::CONNECT_FAIL, $codes);
    }

    public function testRawSendIsRefused(): void
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('raw sends are not supported');
        $con->send('x', true);
    }
}
