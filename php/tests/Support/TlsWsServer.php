<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * The TLS WebSocket echo server of the tests (tests/servers/tls_ws_server.py:
 * Python's ssl and Debian's python3-websockets, run with /usr/bin/python3)
 * on a free port of 127.0.0.1, stopped by its PID. Path `/info` first
 * sends a JSON report of the TLS session (sni, client_cert, tls_version).
 */
final class TlsWsServer
{
    /** Debian's Python, which has python3-websockets (scripts/install-deps.sh). */
    public const PYTHON = '/usr/bin/python3';

    private function __construct(private readonly Process $process, public readonly int $port)
    {
    }

    /**
     * Serves `$cert`/`$key` (files of `$pki`); with `$clientCa`, the server
     * requires a client certificate signed by it. Waits at most `$seconds`
     * for its `listening on 127.0.0.1:PORT` line.
     *
     * @throws \RuntimeException with the reason when it does not start
     *                           (e.g. python3-websockets missing)
     */
    public static function start(
        TlsPki $pki,
        string $cert,
        string $key,
        ?string $clientCa = null,
        float $seconds = 20.0,
    ): self {
        $command = [
            self::PYTHON,
            dirname(__DIR__, 3) . '/tests/servers/tls_ws_server.py',
            '--cert',
            $pki->path($cert),
            '--key',
            $pki->path($key),
            '--lifetime',
            '300',
        ];
        if ($clientCa !== null) {
            array_push($command, '--client-ca', $pki->path($clientCa));
        }
        $process = new Process($command);
        $process->waitForOutput("\n", $seconds);
        if (preg_match('/^listening on 127\.0\.0\.1:(\d+)$/m', $process->stdout(), $m) !== 1) {
            $code = $process->wait(1.0);
            $process->stop();
            throw new \RuntimeException(sprintf(
                'tls_ws_server.py did not start (exit %s%s): stdout %s, stderr %s',
                var_export($code, true),
                $code === 3 ? ': python3-websockets is missing, run scripts/install-deps.sh test' : '',
                json_encode($process->stdout()),
                json_encode($process->stderr()),
            ));
        }
        return new self($process, (int) $m[1]);
    }

    /** `wss://localhost:PORT{$path}`. */
    public function wss(string $path = '/'): string
    {
        return "wss://localhost:{$this->port}{$path}";
    }

    /** `ws://localhost:PORT{$path}` (for `transport = 'ssl'`). */
    public function ws(string $path = '/'): string
    {
        return "ws://localhost:{$this->port}{$path}";
    }

    /** What the server logged (failed TLS handshakes...). */
    public function stderr(): string
    {
        return $this->process->stderr();
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
