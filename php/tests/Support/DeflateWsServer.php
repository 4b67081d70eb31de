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
    /** Debian's Python, which has python3-websockets (scripts/install-deps.sh). */
    public const PYTHON = '/usr/bin/python3';

    private function __construct(private readonly Process $process, public readonly int $port)
    {
    }

    /**
     * Starts the server; waits at most `$seconds` for its
     * `listening on 127.0.0.1:PORT` line.
     *
     * @throws \RuntimeException with the reason when it does not start
     *                           (e.g. python3-websockets missing)
     */
    public static function start(float $seconds = 20.0): self
    {
        $process = new Process([
            self::PYTHON,
            dirname(__DIR__, 3) . '/tests/servers/deflate_ws_server.py',
            '--lifetime',
            '300',
        ]);
        $process->waitForOutput("\n", $seconds);
        if (preg_match('/^listening on 127\.0\.0\.1:(\d+)$/m', $process->stdout(), $m) !== 1) {
            $code = $process->wait(1.0);
            $process->stop();
            throw new \RuntimeException(sprintf(
                'deflate_ws_server.py did not start (exit %s%s): stdout %s, stderr %s',
                var_export($code, true),
                $code === 3 ? ': python3-websockets is missing, run scripts/install-deps.sh test' : '',
                json_encode($process->stdout()),
                json_encode($process->stderr()),
            ));
        }
        return new self($process, (int) $m[1]);
    }

    /** `ws://127.0.0.1:PORT{$path}`. */
    public function url(string $path = '/echo'): string
    {
        return "ws://127.0.0.1:{$this->port}{$path}";
    }

    /**
     * Stops the server by its PID (SIGTERM, then SIGKILL after 5 s).
     */
    public function stop(): void
    {
        if ($this->process->isRunning()) {
            $this->process->signal(SIGTERM);
            $this->process->wait(5.0);
        }
        $this->process->stop();
    }
}
