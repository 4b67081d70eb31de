<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\EventLoop\Revolt;
use Wsc\Tests\Support\DevPackages;
use Wsc\Tests\Support\Recorder;

/**
 * Wsc\EventLoop\Revolt on the real Revolt loop (its StreamSelectDriver),
 * against the echo server: connect, echo, close, and EventLoop::run()
 * returns by itself once no connection is alive.
 *
 * revolt/event-loop comes from composer.json's require-dev (scripts/php-dev-deps.sh,
 * run by `make test`); without it the class is skipped, saying why.
 */
final class EventLoopRevoltTest extends WscTestCase
{
    public static function setUpBeforeClass(): void
    {
        $version = DevPackages::version(DevPackages::mainVendor(), 'revolt/event-loop');
        if ($version === null || !class_exists('Revolt\\EventLoop\\Driver\\StreamSelectDriver')) {
            self::markTestSkipped(DevPackages::whyMissing('revolt/event-loop (composer.json require-dev)'));
        }
        parent::setUpBeforeClass();
    }

    public function testConnectEchoCloseOnRevoltAndRunReturns(): void
    {
        $driver = new \Revolt\EventLoop\Driver\StreamSelectDriver();
        \Revolt\EventLoop::setDriver($driver);
        $adapter = Revolt::attach();
        try {
            self::assertSame($adapter, Revolt::attach($driver), 'one adapter per driver');
            $safety = \Revolt\EventLoop::delay(10.0, static function () use ($driver): void {
                $driver->stop();
            });
            \Revolt\EventLoop::unreference($safety);
            $rec = new Recorder();
            $con = self::recorded('/', $rec, [
                'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send('via revolt'),
                'onMessage' => fn (AsyncTcpConnection $c) => $c->close(),
            ]);
            $con->connect();
            $start = microtime(true);
            \Revolt\EventLoop::run(); // returns when no referenced callback is left
            self::assertLessThan(5.0, microtime(true) - $start, 'run() ended by the safety timer');
            self::assertSame(['onConnect', 'onWebSocketConnect', 'onMessage', 'onClose'], $rec->names());
            self::assertSame([['via revolt']], $rec->args('onMessage'));
            self::assertFalse($adapter->isWatching(), 'released once no connection is alive');

            // A reconnect from a Revolt timer: reConnect() makes the loop watch again.
            $rec2 = new Recorder();
            $con2 = self::recorded('/', $rec2, [
                'onWebSocketConnect' => fn (AsyncTcpConnection $c) => $c->send('again'),
                'onMessage' => fn (AsyncTcpConnection $c) => $c->close(),
            ]);
            \Revolt\EventLoop::delay(0.05, static function () use ($con2): void {
                $con2->reConnect(0.1);
            });
            \Revolt\EventLoop::run();
            self::assertSame(['onConnect', 'onWebSocketConnect', 'onMessage', 'onClose'], $rec2->names());
            \Revolt\EventLoop::cancel($safety);
        } finally {
            $adapter->detach();
        }
    }
}
