<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\Recorder;

/**
 * The socket options Workerman users set, against the echo server over
 * loopback: PHP's `socket` context options `bindto` (the server sees the
 * chosen address and port; its `/peer-address` path sends the client's
 * address as it sees it) and `tcp_nodelay`, TCP keepalive (tcpKeepAlive,
 * on by default with Workerman's 55 s, read back from the kernel's
 * /proc/net/tcp timer of the socket) and connectTo (TCP elsewhere, the
 * URL's host kept in `Host`), with Happy Eyeballs past a black-holed
 * first address.
 */
final class SocketOptionsTest extends WscTestCase
{
    /** Opens `$con` and returns the first message (the /peer-address text). */
    private static function firstMessage(AsyncTcpConnection $con, Recorder $rec): string
    {
        $con->connect();
        self::loopUntil(
            fn () => $rec->count('onMessage') > 0 || $rec->count('onClose') > 0,
            'the first message',
            10.0,
        );
        self::assertSame(1, $rec->count('onMessage'), 'events: ' . json_encode($rec->events));
        return $rec->args('onMessage')[0][0];
    }

    /**
     * The keepalive timer of the connection's IPv4 socket (found by its
     * local and remote address), from /proc/net/tcp: [timer kind, seconds
     * left] (kind 2: keepalive; 0: none).
     *
     * @return array{0: int, 1: float}
     */
    private static function timerOf(AsyncTcpConnection $con): array
    {
        $hex = static fn (string $ip, int $port): string
            => strtoupper(bin2hex(strrev((string) inet_pton($ip)))) . ':' . sprintf('%04X', $port);
        $local = $hex($con->getLocalIp(), $con->getLocalPort());
        // Both ends: on a shared machine another process's socket may have
        // the same local address (one ephemeral port serves several peers).
        $remote = $hex($con->getRemoteIp(), $con->getRemotePort());
        foreach (file('/proc/net/tcp') ?: [] as $line) {
            $f = preg_split('/\s+/', trim($line));
            if (($f[1] ?? '') === $local && ($f[2] ?? '') === $remote && ($f[3] ?? '') === '01') {
                [$kind, $when] = explode(':', $f[5]);
                // tm->when is in clock ticks (USER_HZ, 100 per second).
                return [hexdec($kind), hexdec($when) / 100];
            }
        }
        self::fail("no established socket {$local} -> {$remote} in /proc/net/tcp");
    }

    public function testBindtoWithPort0IsTheAddressTheServerSees(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(
            self::url('/peer-address'),
            ['socket' => ['bindto' => '127.0.0.6:0', 'tcp_nodelay' => true]],
        ));
        $seen = self::firstMessage($con, $rec);
        self::assertSame('127.0.0.6', $con->getLocalIp());
        self::assertNotSame(0, $con->getLocalPort());
        self::assertSame($con->getLocalAddress(), $seen, 'the server saw another address');
    }

    public function testBindtoWithAFixedPortIsTheAddressTheServerSees(): void
    {
        $probe = stream_socket_server('tcp://127.0.0.6:0');
        self::assertNotFalse($probe);
        $wanted = (string) stream_socket_get_name($probe, false);
        fclose($probe);
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(
            self::url('/peer-address'),
            ['socket' => ['bindto' => $wanted, 'tcp_nodelay' => false]],
        ));
        self::assertSame($wanted, self::firstMessage($con, $rec));
    }

    public function testBindtoAnyAddressAndPortAsPhpWritesIt(): void
    {
        foreach (['0:0', '0.0.0.0:0'] as $any) {
            $rec = new Recorder();
            $con = $rec->attach(new AsyncTcpConnection(self::url('/peer-address'), ['socket' => ['bindto' => $any]]));
            $seen = self::firstMessage($con, $rec);
            self::assertSame($con->getLocalAddress(), $seen, $any);
            $con->close();
            self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        }
    }

    public function testBindtoIpv6InBracketsCannotReachAnIpv4Server(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::url('/'), ['socket' => ['bindto' => '[::1]:0']]));
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        [$code, $message] = $rec->args('onError')[0] ?? [null, ''];
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
        self::assertStringContainsString('IPv6, the family of the local address [::1]:0', (string) $message);
    }

    public function testBadOrUnknownSocketOptionsAreRefusedByName(): void
    {
        $cases = [
            [['bindto' => 'nonsense'], 'socket.bindto was refused'],
            [['bindto' => 42], 'socket.bindto must be a string'],
            [['backlog' => 10], 'socket.backlog is not supported'],
            [['so_reuseport' => true], 'socket.so_reuseport is not supported'],
        ];
        foreach ($cases as [$socket, $expected]) {
            $con = new AsyncTcpConnection(self::url('/'), ['socket' => $socket]);
            try {
                $con->connect();
                self::fail('accepted: ' . json_encode($socket));
            } catch (\InvalidArgumentException $e) {
                self::assertStringContainsString($expected, $e->getMessage());
            }
        }
    }

    public function testTcpKeepAliveIsOnByDefaultWithWorkermansInterval(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::url('/peer-address')));
        self::assertSame(55, $con->tcpKeepAlive);
        self::firstMessage($con, $rec);
        [$kind, $left] = self::timerOf($con);
        self::assertSame(2, $kind, 'no keepalive timer on the socket');
        self::assertGreaterThan(40, $left);
        self::assertLessThanOrEqual(55, $left);
    }

    public function testTcpKeepAliveIsSettableAndCanBeTurnedOff(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::url('/peer-address')));
        $con->tcpKeepAlive = ['idle' => 20, 'interval' => 5, 'count' => 3];
        self::firstMessage($con, $rec);
        [$kind, $left] = self::timerOf($con);
        self::assertSame(2, $kind);
        self::assertGreaterThan(10, $left);
        self::assertLessThanOrEqual(20, $left);

        $rec2 = new Recorder();
        $off = $rec2->attach(new AsyncTcpConnection(self::url('/peer-address')));
        $off->tcpKeepAlive = 0;
        self::firstMessage($off, $rec2);
        self::assertSame(0, self::timerOf($off)[0], 'a timer while off');

        $bad = new AsyncTcpConnection(self::url('/'));
        $bad->tcpKeepAlive = 40000;
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('tcpKeepAlive refused');
        $bad->connect();
    }

    public function testConnectToKeepsTheUrlsHostInTheRequest(): void
    {
        $port = (int) parse_url(self::url('/'), PHP_URL_PORT);
        $rec = new Recorder();
        // .invalid never resolves (RFC 6761): only connectTo reaches the server.
        $con = $rec->attach(new AsyncTcpConnection("ws://wsc-php-test.invalid:{$port}/headers"));
        $con->connectTo = "127.0.0.1:{$port}";
        $headers = json_decode(self::firstMessage($con, $rec), true);
        self::assertSame("wsc-php-test.invalid:{$port}", $headers['host'] ?? null);
        self::assertSame("127.0.0.1:{$port}", $con->getRemoteAddress());

        $bad = new AsyncTcpConnection(self::url('/'));
        $bad->connectTo = 'a.example,b.example';
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('connectTo');
        $bad->connect();
    }

    /**
     * A black-holed first address (a listener on 127.0.0.2 with backlog 0
     * whose queue is full: the kernel drops further SYNs) costs one
     * attempt delay (250 ms), not the connect timeout.
     */
    public function testHappyEyeballsPassesABlackHoledFirstAddress(): void
    {
        $hole = stream_socket_server(
            'tcp://127.0.0.2:0',
            $errno,
            $errstr,
            STREAM_SERVER_BIND | STREAM_SERVER_LISTEN,
            stream_context_create(['socket' => ['backlog' => 0]]),
        );
        self::assertNotFalse($hole, $errstr);
        $holeAddress = (string) stream_socket_get_name($hole, false);
        $queued = [];
        $full = false;
        for ($i = 0; $i < 8 && !$full; $i++) {
            $s = @stream_socket_client("tcp://{$holeAddress}", $errno, $errstr, 0.3);
            if ($s === false) {
                $full = true;
            } else {
                $queued[] = $s;
            }
        }
        self::assertTrue($full, "the backlog of {$holeAddress} never filled");
        $port = (int) parse_url(self::url('/'), PHP_URL_PORT);
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::url('/')));
        $con->connectTo = "{$holeAddress},127.0.0.1:{$port}";
        $t = microtime(true);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0 || $rec->count('onClose') > 0, 'open', 15.0);
        $took = microtime(true) - $t;
        self::assertSame(1, $rec->count('onWebSocketConnect'), 'events: ' . json_encode($rec->events));
        self::assertSame("127.0.0.1:{$port}", $con->getRemoteAddress());
        // 250 ms attempt delay; 5 s is a margin for a busy machine, half
        // the 10 s connect timeout.
        self::assertGreaterThanOrEqual(0.24, $took);
        self::assertLessThan(5.0, $took);
        fclose($hole);
    }
}
