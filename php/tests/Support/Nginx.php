<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * Debian's nginx on plain HTTP at 127.0.0.1 with a test's own `location`
 * blocks (tests/servers/nginx-plain.conf.in, shared with the Rust tests'
 * tests/common/nginx.rs): its configuration, pid file and logs in a fresh
 * temporary folder removed by stop(); run in the foreground, stopped by
 * its PID (SIGQUIT, then SIGKILL after 10 s). The access log's lines are
 * `$msec $status $request_uri`.
 */
final class Nginx
{
    /** Where Debian's package puts nginx. */
    public const BINARY = '/usr/sbin/nginx';

    private function __construct(
        private readonly Process $process,
        public readonly int $port,
        private readonly string $dir,
    ) {
    }

    /**
     * Why nginx cannot be used here (for a skip message), or null when it
     * can.
     */
    public static function missing(): ?string
    {
        return is_file(self::BINARY)
            ? null
            : self::BINARY . ' is not installed (apt-get install nginx-light, or scripts/install-deps.sh test)';
    }

    /**
     * Starts nginx with `$locations` (nginx `location` blocks, verbatim)
     * on a free port of 127.0.0.1; returns once the port accepts
     * connections.
     *
     * @throws \RuntimeException with nginx's error log when it does not
     *                           start within 20 s (5 tries of a free port)
     */
    public static function start(string $locations): self
    {
        $dir = sys_get_temp_dir() . '/wsc-php-nginx-' . getmypid() . '-' . bin2hex(random_bytes(4));
        if (!mkdir("{$dir}/tmp", 0700, true)) {
            throw new \RuntimeException("cannot create {$dir}");
        }
        $template = (string) file_get_contents(dirname(__DIR__, 3) . '/tests/servers/nginx-plain.conf.in');
        $last = '';
        for ($try = 0; $try < 5; $try++) {
            $port = self::freePort();
            // As root, the workers would otherwise run as nobody.
            $user = function_exists('posix_geteuid') && posix_geteuid() === 0 ? 'user root;' : '';
            file_put_contents("{$dir}/nginx.conf", strtr($template, [
                '@USER@' => $user,
                '@DIR@' => $dir,
                '@PORT@' => (string) $port,
                '@LOCATIONS@' => $locations,
            ]));
            $process = new Process([
                self::BINARY, '-e', "{$dir}/error.log", '-p', $dir, '-c', "{$dir}/nginx.conf",
            ]);
            $deadline = microtime(true) + 20.0;
            while (microtime(true) < $deadline && $process->isRunning()) {
                $probe = @stream_socket_client("tcp://127.0.0.1:{$port}", $errno, $errstr, 1.0);
                if ($probe !== false) {
                    fclose($probe);
                    return new self($process, $port, $dir);
                }
                usleep(20_000);
            }
            $how = $process->isRunning()
                ? 'did not listen within 20 s'
                : 'exited (' . var_export($process->wait(1.0), true) . ')';
            $last = sprintf(
                'nginx %s: %s %s',
                $how,
                $process->stderr(),
                (string) @file_get_contents("{$dir}/error.log"),
            );
            self::stopProcess($process);
        }
        self::removeDir($dir);
        throw new \RuntimeException("nginx did not start: {$last}");
    }

    /** `ws://127.0.0.1:PORT{$path}`. */
    public function ws(string $path): string
    {
        return "ws://127.0.0.1:{$this->port}{$path}";
    }

    /**
     * The times (seconds since the epoch, millisecond resolution) nginx
     * logged a request for `$uri`, waiting at most `$seconds` for at least
     * `$count` of them (nginx writes a refusal's line once it is sent).
     *
     * @return list<float>
     */
    public function requestTimes(string $uri, int $count, float $seconds = 10.0): array
    {
        $deadline = microtime(true) + $seconds;
        while (true) {
            $times = [];
            foreach (file("{$this->dir}/access.log", FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) ?: [] as $line) {
                $fields = explode(' ', $line);
                if (($fields[2] ?? null) === $uri) {
                    $times[] = (float) $fields[0];
                }
            }
            if (count($times) >= $count || microtime(true) >= $deadline) {
                return $times;
            }
            usleep(20_000);
        }
    }

    /** nginx's error log so far. */
    public function errorLog(): string
    {
        return (string) @file_get_contents("{$this->dir}/error.log");
    }

    /** Stops nginx by its PID and removes its folder. */
    public function stop(): void
    {
        self::stopProcess($this->process);
        self::removeDir($this->dir);
    }

    /** SIGQUIT (the master stops its workers), then SIGKILL after 10 s. */
    private static function stopProcess(Process $process): void
    {
        if ($process->isRunning()) {
            $process->signal(SIGQUIT);
            $process->wait(10.0);
        }
        $process->stop();
    }

    /** A port of 127.0.0.1 free a moment ago. */
    private static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if ($server === false) {
            throw new \RuntimeException("no free port on 127.0.0.1: {$errstr}");
        }
        $name = (string) stream_socket_get_name($server, false);
        fclose($server);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    private static function removeDir(string $dir): void
    {
        $items = new \RecursiveIteratorIterator(
            new \RecursiveDirectoryIterator($dir, \FilesystemIterator::SKIP_DOTS),
            \RecursiveIteratorIterator::CHILD_FIRST,
        );
        foreach ($items as $item) {
            $item->isDir() ? @rmdir($item->getPathname()) : @unlink($item->getPathname());
        }
        @rmdir($dir);
    }
}
