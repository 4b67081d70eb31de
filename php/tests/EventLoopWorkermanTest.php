<?php

declare(strict_types=1);

namespace Wsc\Tests;

use PHPUnit\Framework\TestCase;
use Wsc\EventLoop\Workerman;
use Wsc\Tests\Support\DevPackages;
use Wsc\Tests\Support\EchoServer;
use Wsc\Tests\Support\Process;

/**
 * Our AsyncTcpConnection inside a real Workerman worker process: the seed
 * example with `use Workerman\Worker; use Wsc\Connection\AsyncTcpConnection;`
 * run by Workerman's own `Worker::runAll()` (master + one forked worker),
 * against our echo server: the connection registers the context stream
 * with Workerman's loop by itself, `Wsc\Worker::runAll()` steps aside, a
 * `Wsc\Timer` and a `Workerman\Timer` both fire on Workerman's loop, and
 * `reConnect()` from onClose connects again.
 *
 * Run on both majors: Workerman 5 from composer.json's require-dev, and
 * Workerman 4 from tests/workerman4/ (installed by scripts/php-dev-deps.sh).
 * A major that is not installed is skipped with the installer's reason.
 * WORKERMAN_EVENT_LOOP names a driver class (e.g. `Workerman\Events\Fiber`).
 */
final class EventLoopWorkermanTest extends TestCase
{
    public function testNothingIsAttachedOutsideWorkerman(): void
    {
        if (class_exists('Workerman\\Worker', false)) {
            self::markTestSkipped('a Workerman\\Worker class is loaded in this process');
        }
        self::assertNull(Workerman::currentLoop());
        self::assertFalse(Workerman::isRunning());
        self::assertNull(Workerman::attachIfRunning());
    }

    /**
     * @return array<string, array{int, ?string}> major => [major, vendor dir]
     */
    public static function workermanMajors(): array
    {
        return [
            'Workerman 4' => [4, DevPackages::workerman4Vendor()],
            'Workerman 5' => [5, DevPackages::mainVendor()],
        ];
    }

    /**
     * @dataProvider workermanMajors
     */
    public function testSeedExampleRunsInsideARealWorkermanWorker(int $major, ?string $vendor): void
    {
        $version = DevPackages::version($vendor, 'workerman/workerman');
        if ($version === null || !str_starts_with($version, "{$major}.")) {
            self::markTestSkipped(DevPackages::whyMissing("workerman/workerman {$major}.x"
                . ($vendor === null ? '' : " (in {$vendor})")));
        }
        $autoload = "{$vendor}/autoload.php";

        $tmp = sys_get_temp_dir() . '/wsc-workerman-' . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir($tmp);
        $script = "{$tmp}/seed_in_workerman.php";
        file_put_contents($script, self::SCRIPT);
        $server = EchoServer::start();
        $process = new Process(Process::php($script, [
            'start',
            $autoload,
            dirname(__DIR__) . '/autoload.php',
            $server->url('/'),
            $tmp,
            (string) getenv('WORKERMAN_EVENT_LOOP'),
        ]));
        try {
            $done = $process->waitForOutput("done\n", 20.0);
            $code = $process->wait(10.0);
            $out = $process->stdout();
            $context = "stdout:\n{$out}\nstderr:\n" . $process->stderr();
            self::assertTrue($done, "the worker did not finish in 20 s\n{$context}");
            self::assertSame(0, $code, "Workerman's master exit code\n{$context}");
        } finally {
            $process->stop();
            $server->stop();
            array_map('unlink', glob("{$tmp}/*") ?: []);
            rmdir($tmp);
        }
        self::assertMatchesRegularExpression('/^workerman ' . preg_quote($version, '/') . ' loop \\S+$/m', $out);
        $expected = [
            'wsc onWorkerStart',
            'Wsc\\Worker::runAll returned',
            'attached: Wsc\\EventLoop\\Workerman',
            'tcp connected',
            'HTTP/1.1 101 Switching Protocols',
            'recv: hello',
            'wsc timer',
            'workerman timer',
            'connection closed and try to reconnect',
            'tcp connected',
            'HTTP/1.1 101 Switching Protocols',
            'recv: hello',
            'done',
        ];
        $lines = array_values(array_filter(
            array_map('rtrim', explode("\n", $out)),
            static fn (string $l): bool => in_array($l, $expected, true) || str_starts_with($l, 'attached: '),
        ));
        self::assertSame($expected, $lines, $out);
        self::assertDoesNotMatchRegularExpression('/warning|error|fatal|deprecated/i', $process->stderr());
    }

    /** The seed example inside Workerman; argv: start AUTOLOAD WSC_AUTOLOAD URL TMP [LOOP]. */
    private const SCRIPT = <<<'PHP'
        <?php
        // Workerman's ws:// client example run by Workerman itself, with only
        // AsyncTcpConnection (and Ws) taken from wsc.
        [, , $workermanAutoload, $wscAutoload, $url, $tmp] = $argv;
        $loopClass = $argv[6] ?? '';
        $argv = $_SERVER['argv'] = [$argv[0], 'start'];
        require $workermanAutoload;
        require $wscAutoload;

        use Workerman\Worker;
        use Workerman\Timer;
        use Wsc\Connection\AsyncTcpConnection;
        use Wsc\Protocols\Ws;

        Worker::$pidFile = "$tmp/workerman.pid";
        Worker::$logFile = "$tmp/workerman.log";
        $worker = new Worker();
        if ($loopClass !== '') {
            $worker->eventLoop = $loopClass;
        }
        $worker->onWorkerStart = function () use ($url) {
            $version = defined(Worker::class . '::VERSION') ? Worker::VERSION : '?';
            echo "workerman $version loop " . get_class(Worker::$globalEvent) . "\n";

            // Wsc\Worker steps aside inside Workerman: runs its start callbacks, returns.
            $wsc = new Wsc\Worker();
            $wsc->onWorkerStart = function () { echo "wsc onWorkerStart\n"; };
            Wsc\Worker::runAll();
            echo "Wsc\\Worker::runAll returned\n";

            $messages = 0;
            $ws_connection = new AsyncTcpConnection($url);
            $ws_connection->websocketPingInterval = 55;
            $ws_connection->headers = ['Cookie' => 'PHPSID=82u98fjhakfusuanfnahfi; token=2hf9a929jhfihaf9i'];
            $ws_connection->websocketType = Ws::BINARY_TYPE_BLOB;
            $ws_connection->onConnect = function ($connection) {
                echo "tcp connected\n";
            };
            $ws_connection->onWebSocketConnect = function (AsyncTcpConnection $con, $response) {
                echo $response;
                $con->send('hello');
            };
            $ws_connection->onMessage = function ($connection, $data) use (&$messages) {
                echo "recv: $data\n";
                if (++$messages === 1) {
                    // A wsc timer (handed to Workerman's loop), then a Workerman timer
                    // on the same loop, then a close: onClose reconnects.
                    Wsc\Timer::add(0.1, function () use ($connection) {
                        echo "wsc timer\n";
                        Timer::add(0.1, function () use ($connection) {
                            echo "workerman timer\n";
                            $connection->close();
                        }, [], false);
                    }, [], false);
                } else {
                    echo "done\n";
                    $connection->onClose = null;
                    $connection->close();
                    posix_kill(posix_getppid(), SIGINT); // stop the master, which stops us
                }
            };
            $ws_connection->onError = function ($connection, $code, $msg) {
                echo "error: $msg\n";
            };
            $ws_connection->onClose = function ($connection) {
                echo "connection closed and try to reconnect\n";
                $connection->reConnect(1);
            };
            $ws_connection->connect();
            foreach (Wsc\EventLoop\Registry::adapters() as $adapter) {
                echo 'attached: ' . get_class($adapter) . "\n";
            }
        };
        Worker::runAll();
        PHP;
}
