<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * A real proxy server on 127.0.0.1 for the proxy tests, started with its
 * own configuration in a temporary directory and stopped by its PID:
 * Debian's `tinyproxy` (HTTP CONNECT) or `microsocks` (SOCKS5), both in
 * the `test` set of scripts/install-deps.sh.
 */
final class ProxyServer
{
    private function __construct(
        private readonly Process $process,
        /** The proxy's port on 127.0.0.1. */
        public readonly int $port,
        private readonly string $dir,
        /** What it is, for messages: "tinyproxy" or "microsocks". */
        public readonly string $name,
    ) {
    }

    /**
     * tinyproxy (HTTP CONNECT proxy) on a free port, allowing 127.0.0.1
     * only; with no `ConnectPort` line, CONNECT is allowed to every port.
     *
     * @param string|null  $user         with $password: `BasicAuth user password` (407 without it)
     * @param list<int>    $connectPorts `ConnectPort` lines: CONNECT only to these ports (403 else)
     *
     * @throws \RuntimeException when tinyproxy is missing or does not start
     */
    public static function tinyproxy(?string $user = null, ?string $password = null, array $connectPorts = []): self
    {
        $configure = function (int $port, string $dir) use ($user, $password, $connectPorts): array {
            $config = [
                "Port {$port}",
                'Listen 127.0.0.1',
                'Timeout 30',
                'MaxClients 50',
                'LogLevel Info',
                'Allow 127.0.0.1',
                'DisableViaHeader Yes',
            ];
            if ($user !== null) {
                $config[] = "BasicAuth {$user} {$password}";
            }
            foreach ($connectPorts as $allowed) {
                $config[] = "ConnectPort {$allowed}";
            }
            file_put_contents("{$dir}/tinyproxy.conf", implode("\n", $config) . "\n");
            return [self::binary('tinyproxy'), '-d', '-c', "{$dir}/tinyproxy.conf"];
        };
        return self::startWithRetries('tinyproxy', $configure);
    }

    /**
     * microsocks (SOCKS5 proxy) on a free port of 127.0.0.1; with $user and
     * $password it requires RFC 1929 user/password authentication.
     *
     * @throws \RuntimeException when microsocks is missing or does not start
     */
    public static function microsocks(?string $user = null, ?string $password = null): self
    {
        return self::startWithRetries('microsocks', function (int $port) use ($user, $password): array {
            $command = [self::binary('microsocks'), '-i', '127.0.0.1', '-p', (string) $port];
            if ($user !== null) {
                array_push($command, '-u', $user, '-P', (string) $password);
            }
            return $command;
        });
    }

    /** "127.0.0.1:PORT", the form of proxyHttp and proxySocks5. */
    public function address(): string
    {
        return "127.0.0.1:{$this->port}";
    }

    /** What the proxy logged so far (stdout and stderr). */
    public function log(): string
    {
        return $this->process->stdout() . $this->process->stderr();
    }

    /**
     * Collects the proxy's log until it contains `$needle` or `$seconds` passed.
     *
     * @return bool whether it came
     */
    public function waitForLog(string $needle, float $seconds = 2.0): bool
    {
        $deadline = microtime(true) + $seconds;
        while (!str_contains($this->log(), $needle)) {
            if (microtime(true) >= $deadline) {
                return false;
            }
            $this->process->waitForOutput("\0", 0.05);
        }
        return true;
    }

    /**
     * Stops the proxy by its PID (SIGTERM, then SIGKILL after 5 s) and
     * removes its directory.
     */
    public function stop(): void
    {
        if ($this->process->isRunning()) {
            $this->process->signal(SIGTERM);
            $this->process->wait(5.0);
        }
        $this->process->stop();
        self::removeDir($this->dir);
    }

    /**
     * @param callable(int, string): list<string> $command the command line for a port and a directory
     */
    private static function startWithRetries(string $name, callable $command): self
    {
        $dir = sprintf('%s/wsc-proxy-%s-%d-%s', sys_get_temp_dir(), $name, getmypid(), bin2hex(random_bytes(4)));
        mkdir($dir, 0700);
        $why = '';
        // The free port is released before the proxy binds it: retry when
        // something else took it meanwhile.
        for ($attempt = 0; $attempt < 3; $attempt++) {
            $port = EchoServer::unusedPort();
            $process = new Process($command($port, $dir));
            if (self::waitUntilListening($process, $port, 10.0)) {
                return new self($process, $port, $dir, $name);
            }
            $process->stop();
            $why = sprintf('exit %s, output %s', var_export($process->wait(0), true), json_encode(
                $process->stdout() . $process->stderr()
            ));
        }
        self::removeDir($dir);
        throw new \RuntimeException("{$name} did not start on 127.0.0.1 ({$why})");
    }

    private static function waitUntilListening(Process $process, int $port, float $seconds): bool
    {
        $deadline = microtime(true) + $seconds;
        while (microtime(true) < $deadline) {
            if (!$process->isRunning()) {
                return false;
            }
            $socket = @stream_socket_client("tcp://127.0.0.1:{$port}", $errno, $errstr, 0.2);
            if ($socket !== false) {
                fclose($socket);
                return true;
            }
            $process->waitForOutput("\0", 0.05);
        }
        return false;
    }

    /**
     * @throws \RuntimeException saying how to install it
     */
    private static function binary(string $name): string
    {
        foreach (["/usr/bin/{$name}", "/usr/sbin/{$name}", "/usr/local/bin/{$name}"] as $path) {
            if (is_executable($path)) {
                return $path;
            }
        }
        throw new \RuntimeException(
            "{$name} is not installed: run scripts/install-deps.sh test (or apt-get install {$name})"
        );
    }

    private static function removeDir(string $dir): void
    {
        foreach (glob("{$dir}/*") ?: [] as $file) {
            unlink($file);
        }
        if (is_dir($dir)) {
            rmdir($dir);
        }
    }
}
