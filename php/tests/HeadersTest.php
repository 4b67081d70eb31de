<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Tests\Support\Recorder;

/**
 * The handshake request headers arrive at the server (`/headers` sends
 * them back as JSON, names lowercased).
 */
final class HeadersTest extends WscTestCase
{
    public function testHeadersOriginAndTheSeedsHeadersArrive(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/headers?x=1', $rec);
        $con->headers = [
            'Cookie' => 'PHPSID=82u98fjhakfusuanfnahfi; token=2hf9a929jhfihaf9i',
            'OtherKey' => 'values',
            'X-Number' => 42,
        ];
        $con->websocketOrigin = 'https://example.test';
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the headers message');
        $headers = json_decode($rec->args('onMessage')[0][0], true, 4, JSON_THROW_ON_ERROR);
        self::assertSame('PHPSID=82u98fjhakfusuanfnahfi; token=2hf9a929jhfihaf9i', $headers['cookie']);
        self::assertSame('values', $headers['otherkey']);
        self::assertSame('42', $headers['x-number']);
        self::assertSame('https://example.test', $headers['origin']);
        self::assertSame('13', $headers['sec-websocket-version']);
        self::assertSame('127.0.0.1:' . self::$server?->port, $headers['host']);
        self::assertSame('/headers?x=1', $con->getRemoteURI());
    }

    public function testWebsocketClientProtocolIsSentAndItsAbsenceInTheAnswerFails(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/headers', $rec);
        $con->websocketClientProtocol = 'chat';
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        // The echo server chooses no subprotocol: RFC 6455 4.1 makes the client fail.
        self::assertSame(['onConnect', 'onError', 'onClose'], $rec->names());
        self::assertStringContainsStringIgnoringCase('subprotocol', $rec->args('onError')[0][1]);
    }
}
