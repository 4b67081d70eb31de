<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * What the test servers' handles share (EchoServer, ScriptedServer,
 * DeflateWsServer, TlsWsServer): start a server process that prints
 * `listening on 127.0.0.1:PORT` on stdout once ready, keep its port, stop it
 * by its PID.
 */
trait ServerProcess
{
    private function __construct(private readonly Process $process, public readonly int $port)
    {
    }

    /**
     * Starts `$command` and waits at most `$seconds` for its
     * `listening on 127.0.0.1:PORT` line.
     *
     * @param list<string>       $command the program and its arguments
     * @param string             $name    the server, as the error names it
     * @param array<int, string> $hints   a hint for the error, by exit code
     *
     * @throws \RuntimeException with the exit code and the output when it
     *                           does not start
     */
    private static function launch(array $command, float $seconds, string $name, array $hints = []): self
    {
        $process = new Process($command);
        $process->waitForOutput("\n", $seconds);
        if (preg_match('/^listening on 127\.0\.0\.1:(\d+)$/m', $process->stdout(), $m) !== 1) {
            $code = $process->wait(1.0);
            $process->stop();
            throw new \RuntimeException(sprintf(
                '%s did not start (exit %s%s): stdout %s, stderr %s',
                $name,
                var_export($code, true),
                $code !== null && isset($hints[$code]) ? ': ' . $hints[$code] : '',
                json_encode($process->stdout()),
                json_encode($process->stderr()),
            ));
        }
        return new self($process, (int) $m[1]);
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
