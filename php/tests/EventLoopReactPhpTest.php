<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\EventLoop\ReactPhp;
use Wsc\Tests\Support\DevPackages;
use Wsc\Tests\Support\Recorder;

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
}
