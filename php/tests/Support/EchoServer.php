<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * The project's echo server (`wsc-echo-server`, examples/echo_server.rs),
 * started for a test class on 127.0.0.1 and stopped by its PID.
 */
final class EchoServer
{
    private function __construct(private readonly Process $process, public readonly int $port)
    {
    }

    /**
     * The server binary: `WSC_ECHO_SERVER`, else the build outputs.
     *
     * @throws \RuntimeException saying how to build it
     */
    public static function binary(): string
    {
        $env = getenv('WSC_ECHO_SERVER');
        if ($env !== false && $env !== '') {
            return $env;
        }
        $root = dirname(__DIR__, 3);
        foreach (['release', 'debug'] as $profile) {
            $path = "{$root}/target/{$profile}/wsc-echo-server";
            if (is_file($path)) {
                return $path;
            }
        }
        throw new \RuntimeException(
            "wsc-echo-server not found in {$root}/target/{release,debug}: run `cargo build --release` "
            . 'in the repository root, or set WSC_ECHO_SERVER'
        );
    }

    /**
     * Starts a server and waits (at most `$seconds`) for its
     * `listening on 127.0.0.1:PORT` line.
     *
     * @param string $address '127.0.0.1:0' picks a free port
     */
    public static function start(string $address = '127.0.0.1:0', float $seconds = 10.0): self
    {
        $process = new Process([self::binary(), '--addr', $address]);
        $process->waitForOutput("\n", $seconds);
        if (preg_match('/^listening on 127\.0\.0\.1:(\d+)$/m', $process->stdout(), $m) !== 1) {
            $process->stop();
            throw new \RuntimeException(sprintf(
                'wsc-echo-server --addr %s did not start (stdout %s, stderr %s)',
                $address,
                json_encode($process->stdout()),
                json_encode($process->stderr()),
            ));
        }
        return new self($process, (int) $m[1]);
    }

    /** The server's PID. */
    public function pid(): int
    {
        return $this->process->pid;
    }

    /**
     * A ws:// URL of this server.
     */
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

    /**
     * A loopback port on which nobody listens (bound, then released).
     */
    public static function unusedPort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if ($socket === false) {
            throw new \RuntimeException("cannot bind 127.0.0.1:0: {$errstr}");
        }
        $name = (string) stream_socket_get_name($socket, false);
        fclose($socket);
        return (int) substr($name, strrpos($name, ':') + 1);
    }
}
