<?php

declare(strict_types=1);

namespace Wsc\Tests;

use PHPUnit\Framework\TestCase;
use Wsc\EventLoop\Workerman;
use Wsc\Tests\Support\EchoServer;
use Wsc\Tests\Support\Process;

/**
 * Our AsyncTcpConnection inside a real Workerman worker process: the seed
 * example with `use Workerman\Worker; use Wsc\Connection\AsyncTcpConnection;`
 * run by Workerman's own `Worker::runAll()` (master + one forked worker),
 * against our echo server: the connection registers the context stream
 * with Workerman's loop by itself, and `Wsc\Worker::runAll()` steps aside.
 *
 * Needs a Workerman checkout, never committed here: set WORKERMAN_DIR to
 * a directory with `vendor/autoload.php` (Workerman 5 after `composer
 * install`) or `Autoloader.php` (Workerman 4). Without it the test is
 * skipped (CI cannot reach GitHub or Packagist).
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

    public function testSeedExampleRunsInsideARealWorkermanWorker(): void
    {
        $dir = getenv('WORKERMAN_DIR');
        if ($dir === false || $dir === '') {
            self::markTestSkipped('set WORKERMAN_DIR to a Workerman 4 or 5 checkout to run this test');
        }
        $autoload = is_file("{$dir}/vendor/autoload.php") ? "{$dir}/vendor/autoload.php" : "{$dir}/Autoloader.php";
        self::assertFileExists($autoload, "WORKERMAN_DIR={$dir} has neither vendor/autoload.php nor Autoloader.php");

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
        self::assertMatchesRegularExpression('/^workerman [45]\.\d+\.\d+ loop \S+$/m', $out);
        $expected = [
            'wsc onWorkerStart',
            'Wsc\\Worker::runAll returned',
            'attached: Wsc\\EventLoop\\Workerman',
            'tcp connected',
            'HTTP/1.1 101 Switching Protocols',
            'recv: hello',
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
                    // A Workerman timer on the same loop, then a close: onClose reconnects.
                    Timer::add(0.2, function () use ($connection) {
                        echo "workerman timer\n";
                        $connection->close();
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
