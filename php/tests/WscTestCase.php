<?php

declare(strict_types=1);

namespace Wsc\Tests;

use PHPUnit\Framework\TestCase;
use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\EchoServer;
use Wsc\Tests\Support\Recorder;
use Wsc\Timer;
use Wsc\Worker;

/**
 * Base of the tests that talk to an echo server: one server per test
 * class on 127.0.0.1 (a free port), stopped by PID after the class; the
 * test drives the loop itself with a deadline.
 */
abstract class WscTestCase extends TestCase
{
    protected static ?EchoServer $server = null;

    public static function setUpBeforeClass(): void
    {
        self::$server = EchoServer::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$server?->stop();
        self::$server = null;
    }

    protected function tearDown(): void
    {
        \Wsc\Connection\EventPump::closeAllForShutdown(0.5);
        Timer::delAll();
        Worker::$onException = null;
    }

    /**
     * A ws:// URL of the class's echo server.
     */
    protected static function url(string $path = '/'): string
    {
        self::assertNotNull(self::$server, 'the echo server is not running');
        return self::$server->url($path);
    }

    /**
     * Runs the loop until `$condition()` is true; fails after `$seconds`.
     */
    protected static function loopUntil(callable $condition, string $what, float $seconds = 5.0): void
    {
        self::assertTrue(Worker::loopFor($seconds, $condition), "timed out after {$seconds} s waiting for {$what}");
    }

    /**
     * A connection to the echo server with every callback recorded.
     *
     * @param array<string, callable> $then extra behaviour per callback name
     */
    protected static function recorded(string $path, Recorder $recorder, array $then = []): AsyncTcpConnection
    {
        return $recorder->attach(new AsyncTcpConnection(self::url($path)), $then);
    }
}
