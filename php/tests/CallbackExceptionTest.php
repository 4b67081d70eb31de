<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\Process;
use Wsc\Tests\Support\Recorder;
use Wsc\Timer;
use Wsc\Worker;

/**
 * An exception thrown by a user callback is reported and the loop goes on.
 */
final class CallbackExceptionTest extends WscTestCase
{
    public function testAnExceptionInOnMessageDoesNotStopTheLoop(): void
    {
        $reported = [];
        Worker::$onException = function (\Throwable $e, string $callback) use (&$reported): void {
            $reported[] = [$e->getMessage(), $callback];
        };
        $rec = new Recorder();
        $con = self::recorded('/', $rec, [
            'onMessage' => function (AsyncTcpConnection $c, string $data): void {
                if ($data === 'first') {
                    throw new \RuntimeException('boom in onMessage');
                }
            },
        ]);
        $other = new Recorder();
        $second = self::recorded('/', $other);
        $con->connect();
        $second->connect();
        $con->send('first');
        $con->send('second');
        $second->send('other connection');
        self::loopUntil(fn () => $rec->count('onMessage') === 2 && $other->count('onMessage') === 1, 'all echoes');
        self::assertSame([['first'], ['second']], $rec->args('onMessage'));
        self::assertCount(1, $reported);
        self::assertSame('boom in onMessage', $reported[0][0]);
        self::assertStringContainsString("onMessage of connection #{$con->id}", $reported[0][1]);
    }

    public function testAnExceptionInATimerIsReportedAndThePersistentTimerGoesOn(): void
    {
        $reported = [];
        Worker::$onException = function (\Throwable $e, string $callback) use (&$reported): void {
            $reported[] = $callback;
        };
        $runs = 0;
        Timer::add(0.01, function () use (&$runs): void {
            $runs++;
            throw new \LogicException('timer failed');
        });
        self::loopUntil(function () use (&$runs): bool {
            return $runs >= 3;
        }, 'three runs');
        self::assertCount($runs, $reported);
        self::assertStringStartsWith('Timer callback #', $reported[0]);
    }

    public function testTheDefaultReportGoesToStderrWithTheCallbackName(): void
    {
        $process = new Process(Process::php(__DIR__ . '/fixtures/callback_exception.php', [self::url('/')]));
        try {
            $code = $process->wait(10.0);
            self::assertSame(0, $code, 'exit code; stderr: ' . $process->stderr());
            self::assertStringContainsString('recv: after the exception', $process->stdout());
            self::assertMatchesRegularExpression(
                '/uncaught RuntimeException in onWebSocketConnect of connection #\d+ .*: thrown on purpose/',
                $process->stderr(),
            );
        } finally {
            $process->stop();
        }
    }
}
