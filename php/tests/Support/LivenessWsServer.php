<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * The liveness WebSocket server of the tests
 * (tests/servers/liveness_ws_server.py: Debian's python3-websockets, run
 * with /usr/bin/python3) on a free port of 127.0.0.1, stopped by its PID.
 * `/feed?count=N&interval_ms=M&pong=0|1` sends N texts `tick K` then goes
 * quiet (pings still answered unless pong=0); `/heard` answers each
 * message with `heard text PAYLOAD` or `heard binary HEX`.
 */
final class LivenessWsServer
{
    use ServerProcess;

    /**
     * Starts the server; waits at most `$seconds` for its
     * `listening on 127.0.0.1:PORT` line.
     *
     * @throws \RuntimeException with the reason when it does not start
     *                           (e.g. python3-websockets missing)
     */
    public static function start(float $seconds = 20.0): self
    {
        return self::launch(
            [
                DeflateWsServer::PYTHON,
                dirname(__DIR__, 3) . '/tests/servers/liveness_ws_server.py',
                '--lifetime',
                '300',
            ],
            $seconds,
            'liveness_ws_server.py',
            [3 => 'python3-websockets is missing, run scripts/install-deps.sh test'],
        );
    }

    /** `ws://127.0.0.1:PORT{$path}`. */
    public function url(string $path): string
    {
        return "ws://127.0.0.1:{$this->port}{$path}";
    }
}
