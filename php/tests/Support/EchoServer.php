<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * The project's echo server (`wsc-echo-server`, examples/echo_server.rs),
 * started for a test class on 127.0.0.1 and stopped by its PID.
 */
final class EchoServer
{
    use ServerProcess;

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
        return self::launch([self::binary(), '--addr', $address], $seconds, "wsc-echo-server --addr {$address}");
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
