<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\DevPackages;
use Wsc\Tests\Support\Process;
use Wsc\Tests\Support\Recorder;

/**
 * Workerman 5's own WebSocket server as the peer (a server this project
 * did not write; Support/workerman-ws-server.php, 127.0.0.1, stopped by
 * its PID): the `socket` context option `bindto` is the address the
 * server's `getRemoteIp()`/`getRemotePort()` report, and a server that
 * closes each connection right after the handshake makes the reconnect
 * delay grow. Skipped, saying why, when Workerman 5 is not installed
 * (scripts/php-dev-deps.sh installs it from composer.json's require-dev).
 */
final class WorkermanPeerTest extends WscTestCase
{
    private static ?Process $workerman = null;

    private static ?string $tmp = null;

    private static int $port = 0;

    public static function setUpBeforeClass(): void
    {
        // No echo server: Workerman is the peer.
        $vendor = DevPackages::mainVendor();
        if (!str_starts_with((string) DevPackages::version($vendor, 'workerman/workerman'), '5.')) {
            return;
        }
        self::$tmp = sys_get_temp_dir() . '/wsc-workerman-peer-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir(self::$tmp, 0700);
        $process = new Process(Process::php(__DIR__ . '/Support/workerman-ws-server.php', [
            'start', "{$vendor}/autoload.php", self::$tmp,
        ]));
        self::$workerman = $process;
        $deadline = microtime(true) + 20.0;
        while (preg_match('/^listening on 127\.0\.0\.1:(\d+)$/m', $process->stdout(), $m) !== 1) {
            if (microtime(true) >= $deadline || !$process->isRunning()) {
                throw new \RuntimeException(sprintf(
                    'Workerman did not start: stdout %s, stderr %s',
                    json_encode($process->stdout()),
                    json_encode($process->stderr()),
                ));
            }
            $process->waitForOutput("\n", 0.1, substr_count($process->stdout(), "\n") + 1);
        }
        self::$port = (int) $m[1];
    }

    public static function tearDownAfterClass(): void
    {
        if (self::$workerman !== null) {
            // SIGINT: Workerman's master stops its worker, then exits.
            self::$workerman->signal(SIGINT);
            self::$workerman->wait(10.0);
            self::$workerman->stop();
            self::$workerman = null;
        }
        if (self::$tmp !== null) {
            array_map('unlink', glob(self::$tmp . '/*') ?: []);
            @rmdir(self::$tmp);
            self::$tmp = null;
        }
    }

    protected function setUp(): void
    {
        if (self::$workerman === null) {
            self::markTestSkipped(DevPackages::whyMissing('Workerman 5 (workerman/workerman 5.x)'));
        }
    }

    private static function workermanUrl(string $path): string
    {
        return 'ws://127.0.0.1:' . self::$port . $path;
    }

    /**
     * What Workerman's `$connection->getRemoteIp():getRemotePort()` reports
     * for a client with these context options.
     *
     * @param array<string, mixed> $context
     */
    private static function addressSeen(array $context): string
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::workermanUrl('/peer'), $context));
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') > 0 || $rec->count('onClose') > 0, 'the address');
        $con->close();
        self::assertSame(1, $rec->count('onMessage'), json_encode($rec->args('onError')) ?: '');
        return $rec->args('onMessage')[0][0];
    }

    public function testBindtoIsTheAddressWorkermanSees(): void
    {
        // Port 0: the kernel picks the port, Workerman sees the address.
        $seen = self::addressSeen(['socket' => ['bindto' => '127.0.0.7:0']]);
        self::assertMatchesRegularExpression('/^127\.0\.0\.7:[1-9]\d*$/', $seen);

        // A fixed port (free a moment ago): Workerman sees both. Another
        // process may take it in between, so a few ports are tried.
        for ($try = 0; $try < 3; $try++) {
            $probe = stream_socket_server('tcp://127.0.0.7:0');
            self::assertNotFalse($probe);
            $wanted = (string) stream_socket_get_name($probe, false);
            fclose($probe);
            $rec = new Recorder();
            $con = $rec->attach(new AsyncTcpConnection(
                self::workermanUrl('/peer'),
                ['socket' => ['bindto' => $wanted]],
            ));
            $con->connect();
            self::loopUntil(fn () => $rec->count('onMessage') > 0 || $rec->count('onClose') > 0, 'the address');
            $con->close();
            if ($rec->count('onMessage') === 1) {
                self::assertSame($wanted, $rec->args('onMessage')[0][0]);
                return;
            }
        }
        self::fail('no fixed local port could be bound: ' . json_encode($rec->args('onError')));
    }

    /**
     * Workerman closes each connection right after the handshake: every
     * attempt opens, and the delays keep doubling (the connections did
     * not stay open reconnectResetAfter).
     */
    public function testWorkermanClosingRightAfterTheHandshakeGrowsTheDelay(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::workermanUrl('/drop')));
        $con->reconnectDelay = 0.1;
        $con->reconnectMaxDelay = 0.8;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onReconnect') >= 4, 'four decisions', 15.0);
        $con->close();
        self::assertGreaterThanOrEqual(4, $rec->count('onWebSocketConnect'), 'each attempt opened');
        $decisions = array_slice($rec->args('onReconnect'), 0, 4);
        foreach ([0.1, 0.2, 0.4, 0.8] as $i => $base) {
            [$delay, $reason, $attempt] = $decisions[$i];
            self::assertSame(['backoff', $i + 1], [$reason, $attempt], json_encode($decisions) ?: '');
            self::assertGreaterThanOrEqual($base / 2, $delay, "attempt {$attempt}");
            self::assertLessThanOrEqual($base, $delay, "attempt {$attempt}");
        }
    }
}
