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
    use ServerProcess;

    /** Debian's Python, which has python3-websockets (scripts/install-deps.sh). */
    public const PYTHON = '/usr/bin/python3';

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
        return self::launch(
            $command,
            $seconds,
            'tls_ws_server.py',
            [3 => 'python3-websockets is missing, run scripts/install-deps.sh test'],
        );
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
}
