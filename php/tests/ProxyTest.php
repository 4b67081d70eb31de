<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\EchoServer;
use Wsc\Tests\Support\ProxyServer;
use Wsc\Tests\Support\Recorder;
use Wsc\Tests\Support\TlsPki;
use Wsc\Tests\Support\TlsWsServer;

/**
 * Workerman's proxy properties (`proxyHttp` + `proxyAuthorization`,
 * `proxySocks5` + `proxySocks5Username`/`proxySocks5Password`) against real
 * proxy servers on 127.0.0.1: Debian's tinyproxy (HTTP CONNECT) and
 * microsocks (SOCKS5), each started by this class with its own
 * configuration and stopped by its PID. The proxies' logs show that the
 * traffic went through them.
 */
final class ProxyTest extends WscTestCase
{
    /** @var array<string, ProxyServer> by role */
    private static array $proxies = [];

    public static function setUpBeforeClass(): void
    {
        parent::setUpBeforeClass();
        $starts = [
            'http' => fn () => ProxyServer::tinyproxy(),
            'http-auth' => fn () => ProxyServer::tinyproxy('user', 'pass'),
            // CONNECT only to port 443: the tunnel to the echo server is refused.
            'http-443-only' => fn () => ProxyServer::tinyproxy(null, null, [443]),
            'socks5' => fn () => ProxyServer::microsocks(),
            'socks5-auth' => fn () => ProxyServer::microsocks('user', 'secret'),
        ];
        try {
            foreach ($starts as $role => $start) {
                self::$proxies[$role] = $start();
            }
        } catch (\Throwable $e) {
            self::tearDownAfterClass();
            throw $e;
        }
    }

    public static function tearDownAfterClass(): void
    {
        foreach (self::$proxies as $proxy) {
            $proxy->stop();
        }
        self::$proxies = [];
        parent::tearDownAfterClass();
    }

    // --- HTTP CONNECT (tinyproxy) --------------------------------------------

    public function testProxyHttpCarriesAWsEcho(): void
    {
        $con = $this->viaHttp('http');
        $this->expectEcho($con, 'through tinyproxy');
        self::assertTrue(
            self::proxy('http')->waitForLog('CONNECT 127.0.0.1:' . self::$server->port),
            'tinyproxy logged the CONNECT to the echo server: ' . self::proxy('http')->log(),
        );
        self::assertSame(
            self::proxy('http')->address(),
            $con->getRemoteAddress(),
            'as in Workerman, the remote address is the proxy the TCP connection goes to',
        );
    }

    public function testProxyHttpAcceptsAnHttpSchemePrefix(): void
    {
        $con = $this->viaHttp('http');
        $con->proxyHttp = 'http://' . self::proxy('http')->address();
        $this->expectEcho($con, 'prefixed');
    }

    public function testProxyAuthorizationAsUserColonPasswordIsSentAsBasic(): void
    {
        $con = $this->viaHttp('http-auth');
        $con->proxyAuthorization = 'user:pass';
        $this->expectEcho($con, 'with credentials');
    }

    public function testProxyAuthorizationAsAWholeHeaderValueIsSentAsGiven(): void
    {
        $con = $this->viaHttp('http-auth');
        $con->proxyAuthorization = 'Basic ' . base64_encode('user:pass');
        $this->expectEcho($con, 'with a Basic header');
    }

    public function testProxyHttpWithoutCredentialsFailsWithThe407OfTheProxy(): void
    {
        $rec = new Recorder();
        $con = $rec->attach($this->viaHttp('http-auth'));
        $message = $this->expectConnectFail($rec, $con);
        self::assertStringContainsString('407', $message);
        self::assertStringContainsString('Proxy Authentication Required', $message);
    }

    public function testProxyHttpWithWrongCredentialsFailsWithTheProxysAnswer(): void
    {
        $rec = new Recorder();
        $con = $rec->attach($this->viaHttp('http-auth'));
        $con->proxyAuthorization = 'user:wrong';
        $message = $this->expectConnectFail($rec, $con);
        // tinyproxy 1.11 answers wrong credentials with 401 (missing ones with 407).
        self::assertMatchesRegularExpression('/HTTP 40[17] /', $message);
        self::assertStringContainsString('proxy', $message);
    }

    public function testProxyHttpRefusingTheTunnelGivesItsStatus(): void
    {
        $rec = new Recorder();
        $con = $rec->attach($this->viaHttp('http-443-only'));
        $message = $this->expectConnectFail($rec, $con);
        self::assertStringContainsString('refused the tunnel', $message);
        self::assertStringContainsString('403', $message);
    }

    public function testProxyHttpPortRefusedIsAConnectFail(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::url('/')));
        $port = EchoServer::unusedPort();
        $con->proxyHttp = "127.0.0.1:{$port}";
        $message = $this->expectConnectFail($rec, $con);
        self::assertStringContainsString('refused', $message);
        self::assertStringContainsString("proxyHttp = '127.0.0.1:{$port}'", $message, 'names the proxy');
    }

    // --- SOCKS5 (microsocks) -------------------------------------------------

    public function testProxySocks5CarriesAWsEcho(): void
    {
        $con = $this->viaSocks5('socks5');
        $this->expectEcho($con, 'through microsocks');
        self::assertTrue(
            self::proxy('socks5')->waitForLog('connected to 127.0.0.1:' . self::$server->port),
            'microsocks logged the connection to the echo server: ' . self::proxy('socks5')->log(),
        );
        self::assertSame(self::proxy('socks5')->address(), $con->getRemoteAddress());
    }

    public function testProxySocks5WithUsernameAndPassword(): void
    {
        $con = $this->viaSocks5('socks5-auth');
        $con->proxySocks5Username = 'user';
        $con->proxySocks5Password = 'secret';
        $this->expectEcho($con, 'authenticated');
    }

    public function testProxySocks5WithAWrongPasswordFailsWithTheAuthenticationReason(): void
    {
        $rec = new Recorder();
        $con = $rec->attach($this->viaSocks5('socks5-auth'));
        $con->proxySocks5Username = 'user';
        $con->proxySocks5Password = 'wrong';
        $message = $this->expectConnectFail($rec, $con);
        self::assertStringContainsString('SOCKS5 authentication failed', $message);
    }

    public function testProxySocks5WithoutCredentialsWhenRequiredFails(): void
    {
        $rec = new Recorder();
        $con = $rec->attach($this->viaSocks5('socks5-auth'));
        $message = $this->expectConnectFail($rec, $con);
        self::assertStringContainsString('requires authentication', $message);
    }

    public function testProxySocks5PortRefusedIsAConnectFail(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::url('/')));
        $port = EchoServer::unusedPort();
        $con->proxySocks5 = "127.0.0.1:{$port}";
        $message = $this->expectConnectFail($rec, $con);
        self::assertStringContainsString('refused', $message);
        self::assertStringContainsString("proxySocks5 = '127.0.0.1:{$port}'", $message);
    }

    // --- wss:// through the proxies -------------------------------------------

    public function testWssThroughBothProxies(): void
    {
        if (!is_file(dirname(__DIR__, 2) . '/tests/servers/tls_ws_server.py')) {
            self::markTestSkipped('tests/servers/tls_ws_server.py (the TLS test server) is not in this tree');
        }
        $pki = TlsPki::make();
        $server = TlsWsServer::start($pki, 'server.pem', 'server.key');
        try {
            $url = "wss://127.0.0.1:{$server->port}/";
            $context = ['ssl' => ['cafile' => $pki->path('ca.pem')]];
            $http = new AsyncTcpConnection($url, $context);
            $http->proxyHttp = self::proxy('http')->address();
            $this->expectEcho($http, 'TLS inside the HTTP tunnel');
            self::assertTrue(self::proxy('http')->waitForLog("CONNECT 127.0.0.1:{$server->port}"));

            $socks = new AsyncTcpConnection($url, $context);
            $socks->proxySocks5 = self::proxy('socks5-auth')->address();
            $socks->proxySocks5Username = 'user';
            $socks->proxySocks5Password = 'secret';
            $this->expectEcho($socks, 'TLS inside the SOCKS5 tunnel');
            self::assertTrue(self::proxy('socks5-auth')->waitForLog("connected to 127.0.0.1:{$server->port}"));
        } finally {
            \Wsc\Connection\EventPump::closeAllForShutdown(0.5);
            $server->stop();
            $pki->remove();
        }
    }

    // --- reconnect and misuse ------------------------------------------------

    public function testReConnectGoesThroughTheProxyAgain(): void
    {
        $rec = new Recorder();
        $opened = 0;
        $con = $rec->attach($this->viaSocks5('socks5'), [
            'onWebSocketConnect' => function (AsyncTcpConnection $c) use (&$opened): void {
                if (++$opened === 1) {
                    $c->reConnect();
                }
            },
        ]);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') === 2, 'the second handshake');
        self::assertSame(self::proxy('socks5')->address(), $con->getRemoteAddress());
    }

    public function testBothProxiesAtOnceAreRefused(): void
    {
        $con = $this->viaHttp('http');
        $con->proxySocks5 = self::proxy('socks5')->address();
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('set only one of them');
        $con->connect();
    }

    /**
     * @return array<string, array{0: string, 1: string, 2: string}>
     */
    public static function badProxySettings(): array
    {
        return [
            'no port' => ['proxyHttp', '127.0.0.1', "proxyHttp '127.0.0.1' is not 'host:port'"],
            'credentials in the address' => [
                'proxySocks5',
                'u:p@127.0.0.1:1080',
                'proxySocks5Username and proxySocks5Password',
            ],
            'another scheme' => ['proxyHttp', 'socks5://127.0.0.1:1080', 'is not'],
            'CRLF in the authorization' => ['proxyAuthorization', "Basic x\r\nX-Evil: 1", 'CR, LF or NUL'],
            'authorization in neither form' => ['proxyAuthorization', 'justatoken', "'user:password'"],
        ];
    }

    /**
     * @dataProvider badProxySettings
     */
    public function testMalformedProxySettingsAreRefusedAtConnect(
        string $property,
        string $value,
        string $message,
    ): void {
        $con = new AsyncTcpConnection(self::url('/'));
        if ($property === 'proxyAuthorization') {
            $con->proxyHttp = '127.0.0.1:3128';
        }
        $con->{$property} = $value;
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage($message);
        $con->connect();
    }

    private static function proxy(string $role): ProxyServer
    {
        self::assertArrayHasKey($role, self::$proxies, "no {$role} proxy running");
        return self::$proxies[$role];
    }

    private function viaHttp(string $role): AsyncTcpConnection
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->proxyHttp = self::proxy($role)->address();
        return $con;
    }

    private function viaSocks5(string $role): AsyncTcpConnection
    {
        $con = new AsyncTcpConnection(self::url('/'));
        $con->proxySocks5 = self::proxy($role)->address();
        return $con;
    }

    /**
     * Connects, sends `$text` once open and expects its echo, then closes
     * cleanly.
     */
    private function expectEcho(AsyncTcpConnection $con, string $text): void
    {
        $rec = new Recorder();
        $rec->attach($con, ['onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send($text)]);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') > 0 || $rec->count('onClose') > 0, "the echo of '{$text}'");
        self::assertSame([[$text]], $rec->args('onMessage'), 'events: ' . json_encode($rec->events));
        self::assertSame(['onConnect', 'onWebSocketConnect', 'onMessage'], $rec->names());
        $con->close();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(1000, $con->getCloseCode());
    }

    /**
     * Connects and expects onError(CONNECT_FAIL) then onClose, nothing else.
     *
     * @return string the message of onError
     */
    private function expectConnectFail(Recorder $rec, AsyncTcpConnection $con): string
    {
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onError', 'onClose'], $rec->names(), 'events: ' . json_encode($rec->events));
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
        self::assertSame(WORKERMAN_CONNECT_FAIL, $code);
        return $message;
    }
}
