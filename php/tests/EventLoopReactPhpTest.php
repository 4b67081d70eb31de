<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\EventLoop\ReactPhp;
use Wsc\EventLoop\Registry;
use Wsc\Tests\Support\DevPackages;
use Wsc\Tests\Support\Recorder;
use Wsc\Worker;

/**
 * Wsc\EventLoop\ReactPhp on a real ReactPHP loop (react/event-loop's
 * StreamSelectLoop), against the echo server: connect, echo, close, and
 * the loop ends by itself once no connection is alive.
 *
 * react/event-loop comes from composer.json's require-dev (scripts/php-dev-deps.sh,
 * run by `make test`); without it the class is skipped, saying why.
 */
final class EventLoopReactPhpTest extends WscTestCase
{
    public static function setUpBeforeClass(): void
    {
        $version = DevPackages::version(DevPackages::mainVendor(), 'react/event-loop');
        if ($version === null || !class_exists('React\\EventLoop\\StreamSelectLoop')) {
            self::markTestSkipped(DevPackages::whyMissing('react/event-loop (composer.json require-dev)'));
        }
        parent::setUpBeforeClass();
    }

    public function testConnectEchoCloseOnAReactPhpLoopThatThenEnds(): void
    {
        $loop = new \React\EventLoop\StreamSelectLoop();
        $adapter = ReactPhp::attach($loop);
        try {
            self::assertSame($adapter, ReactPhp::attach($loop), 'one adapter per loop');
            self::assertTrue($adapter->isWatching());
            $safety = $loop->addTimer(10.0, static function () use ($loop): void {
                $loop->stop();
            });
            $rec = new Recorder();
            $con = self::recorded('/', $rec, [
                'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send('via react'),
                'onMessage' => fn (AsyncTcpConnection $c) => $c->close(),
                'onClose' => fn () => $loop->cancelTimer($safety),
            ]);
            $con->connect();
            $start = microtime(true);
            $loop->run(); // returns when nothing is left to watch
            self::assertLessThan(5.0, microtime(true) - $start, 'the loop ended by the safety timer');
            self::assertSame(['onConnect', 'onWebSocketConnect', 'onMessage', 'onClose'], $rec->names());
            self::assertSame([['via react']], $rec->args('onMessage'));
            self::assertFalse($adapter->isWatching(), 'released once no connection is alive');

            // The next connect() makes the loop watch again.
            $safety = $loop->addTimer(10.0, static function () use ($loop): void {
                $loop->stop();
            });
            $rec2 = new Recorder();
            $con2 = self::recorded('/', $rec2, [
                'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->close(),
                'onClose' => fn () => $loop->cancelTimer($safety),
            ]);
            $con2->connect();
            self::assertTrue($adapter->isWatching(), 'connect() made the loop watch again');
            $start = microtime(true);
            $loop->run();
            self::assertLessThan(5.0, microtime(true) - $start, 'the loop ended by the safety timer');
            self::assertSame(['onConnect', 'onWebSocketConnect', 'onClose'], $rec2->names());
        } finally {
            $adapter->detach();
        }
    }

    public function testDetachStopsWatchingAndForgetsTheAdapter(): void
    {
        $loop = new \React\EventLoop\StreamSelectLoop();
        $adapter = ReactPhp::attach($loop);
        self::assertContains($adapter, Registry::adapters());
        $adapter->detach();
        self::assertFalse($adapter->isWatching());
        self::assertNotContains($adapter, Registry::adapters());

        // A connect() after detach() leaves the detached adapter alone.
        $con = self::recorded('/', new Recorder());
        $con->connect();
        self::assertFalse($adapter->isWatching(), 'connect() does not watch with a detached adapter');
        $con->destroy();

        // attach() again makes a new adapter; Registry::remove() detaches it too.
        $again = ReactPhp::attach($loop);
        self::assertNotSame($adapter, $again);
        self::assertTrue($again->isWatching());
        Registry::remove($again);
        self::assertFalse($again->isWatching());
        self::assertNotContains($again, Registry::adapters());
    }

    public function testAnExceptionInACallbackOnAReactPhpLoopGoesToWorkerOnException(): void
    {
        $reported = [];
        Worker::$onException = function (\Throwable $e, string $callback) use (&$reported): void {
            $reported[] = [$e->getMessage(), $callback];
        };
        $loop = new \React\EventLoop\StreamSelectLoop();
        $adapter = ReactPhp::attach($loop);
        try {
            $safety = $loop->addTimer(10.0, static function () use ($loop): void {
                $loop->stop();
            });
            $con = self::recorded('/', new Recorder(), [
                'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send('boom'),
                'onMessage' => function (AsyncTcpConnection $c): void {
                    $c->close();
                    throw new \RuntimeException('thrown in onMessage');
                },
                'onClose' => fn () => $loop->cancelTimer($safety),
            ]);
            $con->connect();
            $loop->run();
            self::assertCount(1, $reported);
            self::assertSame('thrown in onMessage', $reported[0][0]);
            self::assertStringContainsString("onMessage of connection #{$con->id}", $reported[0][1]);
        } finally {
            $adapter->detach();
        }
    }
}
