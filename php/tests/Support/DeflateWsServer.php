<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * The permessage-deflate WebSocket server of the tests
 * (tests/servers/deflate_ws_server.py: Debian's python3-websockets with its
 * own permessage-deflate, run with /usr/bin/python3) on a free port of
 * 127.0.0.1, stopped by its PID. Path `/echo` echoes and answers the text
 * "stats" with a JSON report of what it received (wire_in, rsv1_in,
 * frames_in, extensions); `/bomb`, `/rsv1-ping`, `/bad-utf8`, `/bad-data`
 * send bad compressed data; the query configures the server's side of the
 * negotiation (see the script).
 */
final class DeflateWsServer
{
    use ServerProcess;

    /** Debian's Python, which has python3-websockets (scripts/install-deps.sh). */
    public const PYTHON = '/usr/bin/python3';

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
            [self::PYTHON, dirname(__DIR__, 3) . '/tests/servers/deflate_ws_server.py', '--lifetime', '300'],
            $seconds,
            'deflate_ws_server.py',
            [3 => 'python3-websockets is missing, run scripts/install-deps.sh test'],
        );
    }

    /** `ws://127.0.0.1:PORT{$path}`. */
    public function url(string $path = '/echo'): string
    {
        return "ws://127.0.0.1:{$this->port}{$path}";
    }
}
