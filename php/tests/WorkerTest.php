<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\Process;
use Wsc\Timer;
use Wsc\Worker;

/**
 * Worker::runAll() in the foreground and its clean stops: stopAll(),
 * SIGTERM, SIGINT; the command line.
 */
final class WorkerTest extends WscTestCase
{
    private ?Process $process = null;

    protected function tearDown(): void
    {
        $this->process?->stop();
        $this->process = null;
        parent::tearDown();
    }

    public function testStopAllStopsCleanly(): void
    {
        $p = $this->start('stopAll');
        self::assertSame(0, $p->wait(10.0), 'exit code; stderr: ' . $p->stderr());
        self::assertSame(
            "worker started: fixture\nopen\nrecv: hello\nstopping\n"
            . "worker stopped: alive=1\nafter runAll: alive=0 timers=0\n",
            $p->stdout(),
        );
        self::assertSame('', $p->stderr());
    }

    /**
     * @return array<string, array{0: int}>
     */
    public static function signals(): array
    {
        return ['SIGTERM' => [SIGTERM], 'SIGINT' => [SIGINT]];
    }

    /**
     * @dataProvider signals
     */
    public function testASignalStopsCleanly(int $signal): void
    {
        $p = $this->start('signal');
        self::assertTrue($p->waitForOutput("ready\n", 10.0), 'the worker did not get ready: ' . $p->stderr());
        $p->signal($signal);
        self::assertSame(0, $p->wait(10.0), 'exit code; stderr: ' . $p->stderr());
        self::assertStringEndsWith("ready\nworker stopped: alive=1\nafter runAll: alive=0 timers=0\n", $p->stdout());
        self::assertStringNotContainsString('onClose', $p->stdout(), 'no callback after onWorkerStop');
    }

    public function testDaemonModeIsRefused(): void
    {
        $p = $this->start('signal', ['start', '-d']);
        self::assertSame(64, $p->wait(10.0));
        self::assertStringContainsString('daemon mode (-d) is not supported', $p->stderr());
        self::assertStringNotContainsString('worker started', $p->stdout());
    }

    public function testOtherCommandsAreNotSupported(): void
    {
        $p = $this->start('signal', ['stop']);
        self::assertSame(64, $p->wait(10.0));
        self::assertStringContainsString("the command 'stop' is not supported", $p->stderr());
    }

    public function testStopAllInProcessReturnsFromRunAll(): void
    {
        $worker = new Worker();
        $events = [];
        $worker->onWorkerStart = function () use (&$events): void {
            $events[] = 'start';
            $con = new AsyncTcpConnection(self::url('/'));
            $con->onWebSocketConnect = function () use (&$events): void {
                $events[] = 'open';
                Worker::stopAll();
            };
            $con->connect();
            Timer::add(5.0, function (): void {
                Worker::stopAll(); // a safety net: the test fails below instead of hanging
            }, [], false);
        };
        $worker->onWorkerStop = function () use (&$events): void {
            $events[] = 'stop';
        };
        Worker::runAll(['phpunit', 'start']);
        self::assertSame(['start', 'open', 'stop'], $events);
        self::assertFalse(Worker::isRunning());
        self::assertSame(0, AsyncTcpConnection::countAlive());
        self::assertSame(0, Timer::count());
        $worker->onWorkerStart = null;
        $worker->onWorkerStop = null;
    }

    /**
     * @param list<string> $command
     */
    private function start(string $mode, array $command = ['start']): Process
    {
        $this->process = new Process(Process::php(
            __DIR__ . '/fixtures/worker.php',
            array_merge([self::url('/'), $mode], $command),
        ));
        return $this->process;
    }
}
