<?php

declare(strict_types=1);

namespace Wsc;

/**
 * Workerman's `Timer`: runs callbacks after a delay, once or repeatedly,
 * on the loop of `Worker::runAll()` (or `Worker::loopOnce()`), on PHP's
 * own thread. Times are in seconds (floats allowed, millisecond
 * resolution) on a monotonic clock.
 *
 * An exception thrown by a timer callback is reported like one of a
 * connection callback (see `Worker::$onException`); a persistent timer
 * keeps running.
 */
final class Timer
{
    /** @var array<int, array{due: float, interval: float, fn: callable, args: array<mixed>, persistent: bool}> */
    private static array $timers = [];

    private static int $nextId = 1;

    /**
     * Runs `$fn(...$args)` after `$seconds`, and then every `$seconds` when
     * `$persistent` (Workerman's `Timer::add`).
     *
     * @param float        $seconds    the delay and interval in seconds, >= 0
     *                                 (0 runs it on the next loop turn; a
     *                                 persistent timer needs more than 0)
     * @param callable     $fn         the callback
     * @param array<mixed> $args       its arguments (string keys are named arguments)
     * @param bool         $persistent true: repeat every `$seconds`; false: run once
     *
     * @return int the timer id, > 0, for del()
     *
     * @throws \InvalidArgumentException for a negative or non-finite delay,
     *                                   or a persistent timer of 0 seconds
     */
    public static function add(float $seconds, callable $fn, array $args = [], bool $persistent = true): int
    {
        if (!is_finite($seconds) || $seconds < 0) {
            throw new \InvalidArgumentException(
                "Timer::add(): the interval must be a finite number of seconds >= 0, got {$seconds}"
            );
        }
        if ($persistent && $seconds == 0.0) {
            throw new \InvalidArgumentException('Timer::add(): a persistent timer needs an interval above 0 seconds');
        }
        $id = self::$nextId++;
        self::$timers[$id] = [
            'due' => self::now() + $seconds,
            'interval' => $seconds,
            'fn' => $fn,
            'args' => $args,
            'persistent' => $persistent,
        ];
        return $id;
    }

    /**
     * Cancels a timer (Workerman's `Timer::del`).
     *
     * @return bool true when the timer existed (a one-shot timer that already
     *              ran no longer exists)
     */
    public static function del(int $id): bool
    {
        if (!isset(self::$timers[$id])) {
            return false;
        }
        unset(self::$timers[$id]);
        return true;
    }

    /**
     * Cancels every timer (Workerman's `Timer::delAll`).
     */
    public static function delAll(): void
    {
        self::$timers = [];
    }

    /**
     * The number of pending timers.
     */
    public static function count(): int
    {
        return count(self::$timers);
    }

    /**
     * Milliseconds until the next timer is due (0 when one is due now), or
     * null without timers.
     *
     * @internal the Worker loop's poll timeout
     */
    public static function msUntilNext(): ?int
    {
        if (self::$timers === []) {
            return null;
        }
        $next = min(array_column(self::$timers, 'due'));
        $ms = (int) ceil(($next - self::now()) * 1000);
        return max(0, min($ms, 0x7fffffff));
    }

    /**
     * Runs the timers that are due, each inside a try/catch.
     *
     * @internal called by the Worker loop
     *
     * @return int how many callbacks ran
     */
    public static function runDue(): int
    {
        $now = self::now();
        $due = [];
        foreach (self::$timers as $id => $timer) {
            if ($timer['due'] <= $now) {
                $due[$id] = $timer['due'];
            }
        }
        asort($due);
        $ran = 0;
        foreach (array_keys($due) as $id) {
            $timer = self::$timers[$id] ?? null;
            if ($timer === null) {
                continue; // deleted by an earlier callback
            }
            if ($timer['persistent']) {
                $next = $timer['due'] + $timer['interval'];
                self::$timers[$id]['due'] = $next > $now ? $next : $now + $timer['interval'];
            } else {
                unset(self::$timers[$id]);
            }
            $ran++;
            Worker::safeCall('Timer callback #' . $id, $timer['fn'], ...$timer['args']);
        }
        return $ran;
    }

    private static function now(): float
    {
        return hrtime(true) / 1e9;
    }
}
