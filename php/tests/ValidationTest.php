<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Ffi\Abi;
use Wsc\Ffi\Result;
use Wsc\Worker;

/**
 * Bad input is refused at once with an exception that says what is wrong.
 */
final class ValidationTest extends WscTestCase
{
    /**
     * @return array<string, array{0: string, 1: string}>
     */
    public static function badAddresses(): array
    {
        return [
            'no host' => ['ws://', 'invalid remote address'],
            'not a URL' => ['not a url', 'invalid remote address'],
            'http scheme' => ['http://127.0.0.1:1234/', "unsupported scheme 'http'"],
            'tcp scheme' => ['tcp://127.0.0.1:1234', "unsupported scheme 'tcp'"],
            'fragment' => ['ws://127.0.0.1:1234/#frag', 'fragment'],
            'NUL byte' => ["ws://127.0.0.1:1234/\0x", 'invalid remote address'],
        ];
    }

    /**
     * @dataProvider badAddresses
     */
    public function testABadAddressThrowsAtConstruction(string $address, string $message): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage($message);
        new AsyncTcpConnection($address);
    }

    public function testGoodAddressesGiveTheirParts(): void
    {
        $con = new AsyncTcpConnection('ws://127.0.0.1:8080/chat?room=1');
        self::assertSame('127.0.0.1', $con->getRemoteHost());
        self::assertSame(8080, $con->getRemotePort());
        self::assertSame('127.0.0.1:8080', $con->getRemoteAddress());
        self::assertSame('127.0.0.1', $con->getRemoteIp());
        self::assertSame('/chat?room=1', $con->getRemoteURI());
        self::assertSame(AsyncTcpConnection::STATUS_INITIAL, $con->getStatus());
        self::assertSame('INITIAL', $con->getStatus(false));

        $tls = new AsyncTcpConnection('wss://example.test');
        self::assertSame('ssl', $tls->transport);
        self::assertSame(443, $tls->getRemotePort());
        self::assertSame('/', $tls->getRemoteURI());

        $ssl = new AsyncTcpConnection('ws://example.test');
        self::assertSame(80, $ssl->getRemotePort());
        $ssl->transport = 'ssl';
        self::assertSame(443, $ssl->getRemotePort());
        self::assertNotSame($con->id, $tls->id, 'ids are unique');
    }

    /**
     * @return array<string, array{0: array<mixed>, 1: string}>
     */
    public static function badHeaders(): array
    {
        return [
            'CRLF in a value' => [['X-Evil' => "a\r\nHost: evil"], "header 'X-Evil' refused"],
            'LF in a value' => [['X-Evil' => "a\nb"], "header 'X-Evil' refused"],
            'CR in a name' => [["X-Ev\ril" => 'a'], 'header "X-Ev\\ril" refused'],
            'empty name' => [['' => 'a'], 'header "" refused'],
            'space in a name' => [['Bad Name' => 'a'], "header 'Bad Name' refused"],
            'reserved by the handshake' => [['Sec-WebSocket-Key' => 'x'], "header 'Sec-WebSocket-Key' refused"],
            'array value' => [['X-List' => ['a', 'b']], "header 'X-List'"],
        ];
    }

    /**
     * @dataProvider badHeaders
     *
     * @param array<mixed> $headers
     */
    public function testABadHeaderThrowsAtConnectNamingIt(array $headers, string $message): void
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->headers = $headers;
        try {
            $con->connect();
            self::fail('connect() accepted the header');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString($message, $e->getMessage());
        }
        self::assertSame(AsyncTcpConnection::STATUS_INITIAL, $con->getStatus(), 'nothing was started');
    }

    /**
     * @return array<string, array{0: string, 1: string}>
     */
    public static function headersLibwscRefuses(): array
    {
        return [
            'CRLF in a value' => ['X-Evil', "a\r\nHost: evil"],
            'a control character in a value' => ['X-Bell', "a\x07b"],
            'space in a name' => ['Bad Name', 'a'],
            'set by the handshake' => ['Upgrade', 'h2c'],
        ];
    }

    /**
     * Header rules live in libwsc only: PHP passes the header on and maps
     * libwsc's refusal, with its reason, to the exception.
     *
     * @dataProvider headersLibwscRefuses
     */
    public function testAHeaderIsRefusedByLibwscWithItsReason(string $name, string $value): void
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->headers = [$name => $value];
        try {
            $con->connect();
            self::fail('connect() accepted the header');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString("header '{$name}' refused: ", $e->getMessage());
            self::assertStringContainsString(Result::text(Abi::RESULT_INVALID_HEADER), $e->getMessage());
        }
    }

    public function testANulByteInAHeaderIsRefusedNotCut(): void
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->headers = ['X-Nul' => "a\0b"];
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage("header 'X-Nul' refused: its name or value contains NUL");
        $con->connect();
    }

    public function testABadOriginIsRefusedLikeAHeader(): void
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->websocketOrigin = "http://a\r\nX: y";
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage("header 'Origin' refused");
        $con->connect();
    }

    public function testABadWebsocketTypeIsRefused(): void
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->websocketType = 'text';
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('websocketType must be');
        $con->send('x');
    }

    public function testABadTransportIsRefused(): void
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->transport = 'udp';
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage("transport must be 'tcp' or 'ssl'");
        $con->connect();
    }

    public function testAnUnreadableCafileIsRefusedAtConnectNamingIt(): void
    {
        $con = new AsyncTcpConnection(self::url('/'), ['ssl' => ['cafile' => '/nonexistent/ca.pem']]);
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ssl.cafile');
        $con->connect();
    }

    public function testTlsOptionsOfTheSocketContextAreAccepted(): void
    {
        $con = new AsyncTcpConnection(self::url('/'), ['ssl' => [
            'verify_peer' => false,
            'verify_peer_name' => false,
            'allow_self_signed' => true,
            'peer_name' => 'example.test',
        ]]);
        $con->connect(); // plain ws://: the TLS settings are stored, not used
        self::assertSame(AsyncTcpConnection::STATUS_CONNECTING, $con->getStatus());
    }

    public function testAWorkerWithAListenAddressIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('wsc runs WebSocket clients only');
        new Worker('ws://0.0.0.0:8080');
    }
}
