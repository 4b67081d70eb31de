<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * The scripted WebSocket server of the tests (scripted-ws-server.php:
 * pings, fragments, masks, the request head...), started on a free port
 * of 127.0.0.1 and stopped by its PID.
 */
final class ScriptedServer
{
    use ServerProcess;

    /**
     * Starts a server and waits (at most `$seconds`) for its
     * `listening on 127.0.0.1:PORT` line.
     *
     * @throws \RuntimeException with its output when it does not start
     */
    public static function start(float $seconds = 10.0): self
    {
        return self::launch(
            Process::php(__DIR__ . '/scripted-ws-server.php', ['300']),
            $seconds,
            'scripted-ws-server.php',
        );
    }

    /** A ws:// URL of this server. */
    public function url(string $path = '/'): string
    {
        return "ws://127.0.0.1:{$this->port}{$path}";
    }
}
