<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\WscTestCase;

/**
 * Base of the WorkermanApi*Test classes, which show each row of
 * workerman-api.md against real servers: the echo server of WscTestCase
 * (wsc-echo-server) and the scripted server (scripted-ws-server.php) for
 * what the echo server cannot do (send pings and fragments, report the
 * request and the frames as they arrived).
 */
abstract class WorkermanApiTestCase extends WscTestCase
{
    protected static ?ScriptedServer $scripted = null;

    public static function setUpBeforeClass(): void
    {
        parent::setUpBeforeClass();
        try {
            self::$scripted = ScriptedServer::start();
        } catch (\Throwable $e) {
            parent::tearDownAfterClass();
            throw $e;
        }
    }

    public static function tearDownAfterClass(): void
    {
        self::$scripted?->stop();
        self::$scripted = null;
        parent::tearDownAfterClass();
    }

    /**
     * A ws:// URL of the scripted server.
     */
    protected static function scriptedUrl(string $path): string
    {
        self::assertNotNull(self::$scripted, 'the scripted server is not running');
        return self::$scripted->url($path);
    }

    /**
     * A recorded connection to the scripted server.
     *
     * @param array<string, callable> $then extra behaviour per callback name
     */
    protected static function scripted(string $path, Recorder $recorder, array $then = []): AsyncTcpConnection
    {
        return $recorder->attach(new AsyncTcpConnection(self::scriptedUrl($path)), $then);
    }

    /**
     * Connects and runs the loop until onWebSocketConnect.
     */
    protected static function open(AsyncTcpConnection $connection, Recorder $recorder): void
    {
        $connection->connect();
        self::loopUntil(
            fn () => $recorder->count('onWebSocketConnect') > 0 || $recorder->count('onClose') > 0,
            'onWebSocketConnect',
        );
        self::assertSame(1, $recorder->count('onWebSocketConnect'), 'events: ' . json_encode($recorder->events));
    }

    /**
     * Closes and runs the loop until onClose (the scripted server serves
     * one connection at a time: each test closes its connections).
     */
    protected static function closeAndWait(AsyncTcpConnection $connection, Recorder $recorder): void
    {
        $closes = $recorder->count('onClose');
        $connection->close();
        self::loopUntil(fn () => $recorder->count('onClose') > $closes, 'onClose');
    }
}
