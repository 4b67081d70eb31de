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
 * connection callback (`Callbacks::safeCall()`, see `Worker::$onException`);
 * a persistent timer keeps running.
 *
 * Inside a running Workerman worker process (Workerman's own
 * `Worker::runAll()` forked it; see `Wsc\EventLoop\Workerman`), wsc's
 * loop does not run: Workerman's does. There add() hands the timer to
 * `Workerman\Timer` (Workerman 4: `Workerman\Timer` or
 * `Workerman\Lib\Timer`), which runs it on Workerman's loop, still inside
 * wsc's try/catch and with wsc's ids: del(), delAll() and count() work on
 * it as on any other timer. (Workerman 4 refuses a delay of 0: such a
 * timer is given 1 ms there.)
 */
final class Timer
{
    // Static properties are written `Timer::$name`, not `self::$name`: PHP 8.2
    // looks `self` up again at every access (zend_fetch_class), while the
    // class name is resolved once per opcode; that is ~90 instructions less
    // per access (callgrind: 1,450 instructions, ~9%, per sequential round trip).

    /**
     * The timers by id. `workerman` is the id of the same timer in
     * `Workerman\Timer` when it was handed to Workerman's loop, else null.
     *
     * @var array<int, array{due: float, interval: float, fn: callable, args: array<mixed>,
     *                       persistent: bool, workerman: int|null}>
     */
    private static array $timers = [];

    private static int $nextId = 1;

    /** The earliest `due` of the timers run here; null: none (or not known, see $earliestKnown). */
    private static ?float $earliest = null;

    /** False when $earliest must be computed again (a timer was deleted or ran). */
    private static bool $earliestKnown = true;

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
        $id = Timer::$nextId++;
        $due = self::now() + $seconds;
        Timer::$timers[$id] = [
            'due' => $due,
            'interval' => $seconds,
            'fn' => $fn,
            'args' => $args,
            'persistent' => $persistent,
            'workerman' => null,
        ];
        $workerman = EventLoop\Workerman::isRunning() ? self::workermanTimerClass() : null;
        if ($workerman !== null) {
            Timer::$timers[$id]['workerman'] = self::addToWorkerman($workerman, $id, $seconds, $persistent);
        } elseif (Timer::$earliestKnown && (Timer::$earliest === null || $due < Timer::$earliest)) {
            Timer::$earliest = $due;
        }
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
        if (!isset(Timer::$timers[$id])) {
            return false;
        }
        $workermanId = Timer::$timers[$id]['workerman'];
        unset(Timer::$timers[$id]);
        if ($workermanId !== null) {
            self::delFromWorkerman($workermanId);
        } else {
            Timer::$earliestKnown = false;
        }
        return true;
    }

    /**
     * Cancels every timer (Workerman's `Timer::delAll`); only wsc's own
     * timers, also those handed to Workerman's loop.
     */
    public static function delAll(): void
    {
        $timers = Timer::$timers;
        Timer::$timers = [];
        Timer::$earliest = null;
        Timer::$earliestKnown = true;
        foreach ($timers as $timer) {
            if ($timer['workerman'] !== null) {
                self::delFromWorkerman($timer['workerman']);
            }
        }
    }

    /**
     * The number of pending timers.
     */
    public static function count(): int
    {
        return count(Timer::$timers);
    }

    /**
     * Milliseconds until the next timer is due (0 when one is due now), or
     * null without timers (timers handed to Workerman's loop do not count).
     *
     * @internal the Worker loop's poll timeout
     */
    public static function msUntilNext(): ?int
    {
        $next = Timer::$earliestKnown ? Timer::$earliest : self::earliest();
        if ($next === null) {
            return null;
        }
        // now(), inlined: the Worker loop calls this once per turn.
        $ms = (int) ceil(($next - hrtime(true) / 1e9) * 1000);
        return $ms <= 0 ? 0 : ($ms < 0x7fffffff ? $ms : 0x7fffffff);
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
        $next = Timer::$earliestKnown ? Timer::$earliest : self::earliest();
        if ($next === null) {
            return 0;
        }
        $now = hrtime(true) / 1e9; // now(), inlined: once per loop turn
        if ($next > $now) {
            return 0;
        }
        $due = [];
        foreach (Timer::$timers as $id => $timer) {
            if ($timer['workerman'] === null && $timer['due'] <= $now) {
                $due[$id] = $timer['due'];
            }
        }
        asort($due);
        Timer::$earliestKnown = false;
        $ran = 0;
        foreach (array_keys($due) as $id) {
            $timer = Timer::$timers[$id] ?? null;
            if ($timer === null) {
                continue; // deleted by an earlier callback
            }
            if ($timer['persistent']) {
                $next = $timer['due'] + $timer['interval'];
                Timer::$timers[$id]['due'] = $next > $now ? $next : $now + $timer['interval'];
            } else {
                unset(Timer::$timers[$id]);
            }
            $ran++;
            Callbacks::safeCall('Timer callback #' . $id, $timer['fn'], ...$timer['args']);
            Timer::$earliestKnown = false;
        }
        return $ran;
    }

    /**
     * The earliest `due` of the timers run here, computed again.
     */
    private static function earliest(): ?float
    {
        $earliest = null;
        foreach (Timer::$timers as $timer) {
            if ($timer['workerman'] === null && ($earliest === null || $timer['due'] < $earliest)) {
                $earliest = $timer['due'];
            }
        }
        Timer::$earliest = $earliest;
        Timer::$earliestKnown = true;
        return $earliest;
    }

    /**
     * Workerman's timer class, or null when none is loaded.
     */
    private static function workermanTimerClass(): ?string
    {
        foreach (['Workerman\\Timer', 'Workerman\\Lib\\Timer'] as $class) {
            if (class_exists($class) && method_exists($class, 'add')) {
                return $class;
            }
        }
        return null;
    }

    /**
     * Hands timer `$id` to Workerman's loop; its callback runs through
     * fire(), so wsc's try/catch and bookkeeping apply.
     *
     * @return int Workerman's id of the timer
     *
     * @throws \RuntimeException when Workerman refuses it
     */
    private static function addToWorkerman(string $class, int $id, float $seconds, bool $persistent): int
    {
        // Workerman 4 refuses a delay of 0 (bad time_interval).
        $workermanId = $class::add(max($seconds, 0.001), static function () use ($id): void {
            self::fire($id);
        }, [], $persistent);
        if (!is_int($workermanId)) {
            unset(Timer::$timers[$id]);
            throw new \RuntimeException("{$class}::add() refused the timer ({$seconds} s)");
        }
        return $workermanId;
    }

    /**
     * Runs a timer that Workerman's loop fired.
     */
    private static function fire(int $id): void
    {
        $timer = Timer::$timers[$id] ?? null;
        if ($timer === null) {
            return;
        }
        if (!$timer['persistent']) {
            unset(Timer::$timers[$id]);
        }
        Callbacks::safeCall('Timer callback #' . $id, $timer['fn'], ...$timer['args']);
    }

    private static function delFromWorkerman(int $workermanId): void
    {
        $class = self::workermanTimerClass();
        if ($class !== null) {
            $class::del($workermanId);
        }
    }

    private static function now(): float
    {
        return hrtime(true) / 1e9;
    }
}
