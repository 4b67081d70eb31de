<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * A child process for the tests, started without a shell (so its PID is
 * the program's own), with its output collected without blocking and
 * every wait bounded.
 */
final class Process
{
    /** The child's process id. */
    public readonly int $pid;

    /** @var resource */
    private $process;

    /** @var array<int, resource> */
    private array $pipes;

    private string $stdout = '';

    private string $stderr = '';

    private ?int $exitCode = null;

    /**
     * @param list<string>               $command the program and its arguments
     * @param array<string, string>|null $env     the environment; null: inherited
     */
    public function __construct(array $command, ?array $env = null)
    {
        $spec = [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']];
        $process = proc_open($command, $spec, $pipes, null, $env);
        if ($process === false) {
            throw new \RuntimeException('cannot start ' . implode(' ', $command));
        }
        $this->process = $process;
        $this->pipes = $pipes;
        fclose($pipes[0]);
        unset($this->pipes[0]);
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        $this->pid = (int) proc_get_status($process)['pid'];
    }

    /**
     * A PHP CLI command line for a script, with the current php binary.
     *
     * @param list<string> $args
     * @return list<string>
     */
    public static function php(string $script, array $args = []): array
    {
        return array_merge([PHP_BINARY, '-d', 'display_errors=stderr', $script], $args);
    }

    /**
     * Collects output until stdout contains `$needle` `$times` times or
     * `$seconds` passed.
     *
     * @return bool whether it arrived
     */
    public function waitForOutput(string $needle, float $seconds, int $times = 1): bool
    {
        $deadline = microtime(true) + $seconds;
        while (substr_count($this->stdout, $needle) < $times) {
            $left = $deadline - microtime(true);
            if ($left <= 0 || !$this->pump(min($left, 0.1)) && !$this->isRunning()) {
                $this->pump(0);
                return substr_count($this->stdout, $needle) >= $times;
            }
        }
        return true;
    }

    /**
     * Sends a signal to the child, by its PID.
     */
    public function signal(int $signal): void
    {
        if (function_exists('posix_kill')) {
            posix_kill($this->pid, $signal);
        } else {
            proc_terminate($this->process, $signal);
        }
    }

    /**
     * Waits at most `$seconds` for the child to exit.
     *
     * @return int|null its exit code (128 + the signal number when a signal
     *                  killed it), null when it still runs
     */
    public function wait(float $seconds): ?int
    {
        $deadline = microtime(true) + $seconds;
        while ($this->isRunning()) {
            if (microtime(true) >= $deadline) {
                return null;
            }
            $this->pump(0.05);
        }
        $this->pump(0);
        return $this->exitCode;
    }

    /**
     * Kills the child (SIGKILL, by PID) if it still runs, and releases it.
     */
    public function stop(): void
    {
        if ($this->isRunning()) {
            $this->signal(SIGKILL);
            $this->wait(5.0);
        }
        foreach ($this->pipes as $pipe) {
            fclose($pipe);
        }
        $this->pipes = [];
        proc_close($this->process);
    }

    /** Everything the child wrote to stdout so far. */
    public function stdout(): string
    {
        return $this->stdout;
    }

    /** Everything the child wrote to stderr so far. */
    public function stderr(): string
    {
        return $this->stderr;
    }

    /** True while the child runs. */
    public function isRunning(): bool
    {
        if ($this->exitCode !== null) {
            return false;
        }
        $status = proc_get_status($this->process);
        if ($status['running']) {
            return true;
        }
        $this->exitCode = $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
        return false;
    }

    /**
     * Reads what is available, waiting at most `$seconds` for something.
     *
     * @return bool whether anything was read
     */
    private function pump(float $seconds): bool
    {
        $read = array_values($this->pipes);
        if ($read === []) {
            return false;
        }
        $write = $except = null;
        $micro = (int) ($seconds * 1e6);
        if (@stream_select($read, $write, $except, intdiv($micro, 1000000), $micro % 1000000) < 1) {
            return false;
        }
        $any = false;
        foreach ($read as $pipe) {
            $data = fread($pipe, 65536);
            if ($data === false || $data === '') {
                continue;
            }
            $any = true;
            if ($pipe === $this->pipes[1]) {
                $this->stdout .= $data;
            } else {
                $this->stderr .= $data;
            }
        }
        return $any;
    }
}
