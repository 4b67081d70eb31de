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
    private function __construct(private readonly Process $process, public readonly int $port)
    {
    }

    /**
     * Starts a server and waits (at most `$seconds`) for its
     * `listening on 127.0.0.1:PORT` line.
     *
     * @throws \RuntimeException with its output when it does not start
     */
    public static function start(float $seconds = 10.0): self
    {
        $process = new Process(Process::php(__DIR__ . '/scripted-ws-server.php', ['300']));
        $process->waitForOutput("\n", $seconds);
        if (preg_match('/^listening on 127\.0\.0\.1:(\d+)$/m', $process->stdout(), $m) !== 1) {
            $process->stop();
            throw new \RuntimeException(sprintf(
                'scripted-ws-server.php did not start (stdout %s, stderr %s)',
                json_encode($process->stdout()),
                json_encode($process->stderr()),
            ));
        }
        return new self($process, (int) $m[1]);
    }

    /** A ws:// URL of this server. */
    public function url(string $path = '/'): string
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
