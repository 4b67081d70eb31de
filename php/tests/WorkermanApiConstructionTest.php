<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\Recorder;
use Wsc\Tests\Support\TlsPki;
use Wsc\Tests\Support\TlsWsServer;
use Wsc\Tests\Support\WorkermanApiTestCase;

/**
 * workerman-api.md, "Construction": `new AsyncTcpConnection($remoteAddress,
 * $socketContext)`, against real servers.
 */
final class WorkermanApiConstructionTest extends WorkermanApiTestCase
{
    /** Row: the path and query form the request URI, sent in the request line. */
    public function testConstructionPathAndQueryFormTheRequestUri(): void
    {
        $rec = new Recorder();
        $con = self::scripted('/request?room=1&x=%20y', $rec);
        self::assertSame('/request?room=1&x=%20y', $con->getRemoteURI());
        self::open($con, $rec);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the request head');
        self::assertStringStartsWith("GET /request?room=1&x=%20y HTTP/1.1\r\n", $rec->args('onMessage')[0][0]);
        self::closeAndWait($con, $rec);
    }

    /** Row: no path means `/`. */
    public function testConstructionNoPathMeansSlash(): void
    {
        $rec = new Recorder();
        $url = self::scriptedUrl('');
        $con = $rec->attach(new AsyncTcpConnection($url));
        self::assertSame('/', $con->getRemoteURI());
        self::open($con, $rec);
        self::closeAndWait($con, $rec);
        self::assertSame(1000, $con->getCloseCode(), 'the server answered GET / like any path');
    }

    /** Row: no port: 80, or 443 when transport is 'ssl' (or the scheme is wss). */
    public function testConstructionDefaultPortIs80Or443(): void
    {
        $plain = new AsyncTcpConnection('ws://example.test/chat');
        self::assertSame(80, $plain->getRemotePort());
        self::assertSame('example.test:80', $plain->getRemoteAddress());
        $plain->transport = 'ssl';
        self::assertSame(443, $plain->getRemotePort(), "transport 'ssl' makes the default 443");
        $wss = new AsyncTcpConnection('wss://example.test/chat');
        self::assertSame(443, $wss->getRemotePort());
        self::assertSame('ssl', $wss->transport);
    }

    /**
     * Row: wss as Workerman writes it (`ws://host:port` + transport 'ssl')
     * and as `wss://`, both against a real TLS WebSocket server.
     */
    public function testConstructionWsWithTransportSslAndWssBothSpeakTls(): void
    {
        if (!is_file(dirname(__DIR__, 2) . '/tests/servers/tls_ws_server.py')) {
            self::markTestSkipped('tests/servers/tls_ws_server.py (the TLS test server) is not in this tree');
        }
        $pki = TlsPki::make();
        $server = TlsWsServer::start($pki, 'server.pem', 'server.key');
        try {
            $context = ['ssl' => ['cafile' => $pki->path('ca.pem')]];
            foreach ([$server->ws('/'), $server->wss('/')] as $url) {
                $rec = new Recorder();
                $con = $rec->attach(new AsyncTcpConnection($url, $context), [
                    'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send('over TLS'),
                ]);
                if (str_starts_with($url, 'ws://')) {
                    $con->transport = 'ssl';
                }
                $con->connect();
                self::loopUntil(fn () => $rec->count('onMessage') > 0 || $rec->count('onClose') > 0, "echo via {$url}");
                self::assertSame([['over TLS']], $rec->args('onMessage'), json_encode($rec->events));
                self::closeAndWait($con, $rec);
            }
        } finally {
            \Wsc\Connection\EventPump::closeAllForShutdown(0.5);
            $server->stop();
            $pki->remove();
        }
    }

    /**
     * Row: `$socketContext` ssl options. A wrong `cafile` makes the
     * certificate check fail where a right one passes (the full matrix is
     * TlsTest); here, the options reach libwsc and a bad file is refused.
     */
    public function testConstructionSocketContextSslOptionsAreApplied(): void
    {
        $con = new AsyncTcpConnection('wss://127.0.0.1:9/', ['ssl' => ['cafile' => '/nonexistent/ca.pem']]);
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ssl.cafile');
        $con->connect();
    }

    /**
     * Row: `['socket' => ['bindto' => 'ip:port']]` binds the local
     * address the server sees ('0:0': any); `tcp_nodelay` is accepted;
     * any other `socket` option is refused by name, never ignored
     * (SocketOptionsTest has the details).
     */
    public function testConstructionSocketBindtoIsApplied(): void
    {
        $rec = new Recorder();
        $any = $rec->attach(new AsyncTcpConnection(self::url('/'), ['socket' => ['bindto' => '0:0']]));
        self::open($any, $rec);
        self::closeAndWait($any, $rec);

        $rec = new Recorder();
        $bound = $rec->attach(new AsyncTcpConnection(
            self::url('/peer-address'),
            ['socket' => ['bindto' => '127.0.0.7:0', 'tcp_nodelay' => true]],
        ));
        self::open($bound, $rec);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the peer address');
        self::assertSame($bound->getLocalAddress(), $rec->args('onMessage')[0][0]);
        self::assertSame('127.0.0.7', $bound->getLocalIp());
        self::closeAndWait($bound, $rec);

        $con = new AsyncTcpConnection(self::url('/'), ['socket' => ['ipv6_v6only' => true]]);
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('socket.ipv6_v6only');
        $con->connect();
    }

    /** Row: an address that cannot be parsed throws at construction. */
    public function testConstructionAnUnparsableAddressThrows(): void
    {
        foreach (['ws://', 'not an address', 'ws://host:99999999/'] as $address) {
            try {
                new AsyncTcpConnection($address);
                self::fail("'{$address}' was accepted");
            } catch (\InvalidArgumentException $e) {
                self::assertStringContainsString('invalid remote address', $e->getMessage());
            }
        }
    }

    /** Row: each connection has an integer `$id`, unique in the process. */
    public function testConstructionEachConnectionHasAUniqueIntegerId(): void
    {
        $ids = [];
        for ($i = 0; $i < 50; $i++) {
            $ids[] = (new AsyncTcpConnection(self::url('/')))->id;
        }
        self::assertContainsOnly('int', $ids);
        self::assertCount(50, array_unique($ids), 'never reused, even after the objects are freed');
    }
}
