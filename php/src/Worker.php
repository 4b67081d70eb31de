<?php

declare(strict_types=1);

namespace Wsc;

use Wsc\Connection\EventPump;
use Wsc\Exception\NativeException;

/**
 * Workerman's `Worker`, for clients only: `new Worker()` plus
 * `$worker->onWorkerStart = function () {...}` and `Worker::runAll()` run
 * the event loop of libwsc in the foreground of the current process, on
 * PHP's own thread, until `Worker::stopAll()`, SIGINT (Ctrl+C) or SIGTERM.
 *
 * Differences from Workerman, on purpose: wsc runs WebSocket clients
 * only, so a listen address is refused; there is no master process, no
 * forking (`$count` above 1 runs one process) and no daemon mode (`-d`):
 * use a service manager (systemd, supervisord) to run it in the background.
 *
 * `Worker::$onException` (declared by `Callbacks`: the same property)
 * receives the exceptions of every user callback; `safeCall()` and
 * `reportException()` come from there too. Do not declare `$onException`
 * in this class: that would make it a second property, which the
 * connections and timers do not read.
 */
class Worker extends Callbacks
{
    /**
     * Emitted once when runAll() starts, before the loop: `function (Worker $worker)`.
     * Create the connections here.
     *
     * @var callable|null
     */
    public $onWorkerStart = null;

    /**
     * Emitted once when the loop stops (stopAll(), SIGINT, SIGTERM), before
     * the connections are closed and freed: `function (Worker $worker)`.
     *
     * @var callable|null
     */
    public $onWorkerStop = null;

    /** The worker's name, for messages (Workerman's `$name`). */
    public string $name = 'none';

    /**
     * Workerman's process count; accepted for compatibility, but wsc always
     * runs one process (a value above 1 is reported on STDERR once).
     */
    public int $count = 1;

    /**
     * How often, in milliseconds, the loop wakes up at the latest while
     * signal handlers are installed, so that a signal arriving just before
     * the native wait starts is still handled promptly. Native waits are
     * otherwise interrupted by signals at once.
     */
    public static int $signalCheckIntervalMs = 1000;

    /** The longest drain of ready events before timers and signals get a turn. */
    private const DRAIN_LIMIT = 1024;

    /** How long stopping waits for closing handshakes, in seconds. */
    private const STOP_GRACE_SECONDS = 1.0;

    // Static properties are written `Worker::$name`, not `self::$name`: PHP 8.2
    // looks `self` up again at every access (zend_fetch_class), while the
    // class name is resolved once per opcode; that is ~90 instructions less
    // per access (callgrind: 1,450 instructions, ~9%, per sequential round trip).

    /** @var list<Worker> */
    private static array $workers = [];

    private static bool $running = false;

    private static bool $stopRequested = false;

    private static int $stopCode = 0;

    /** Whether pcntl_signal_dispatch() exists (null: not looked up yet). */
    private static ?bool $signalDispatch = null;

    /**
     * @param string|null          $socketName   must be null or empty: wsc listens on nothing
     * @param array<string, mixed> $contextOption ignored (Workerman's listen context)
     *
     * @throws \InvalidArgumentException when a listen address is given
     */
    public function __construct(?string $socketName = null, array $contextOption = [])
    {
        if ($socketName !== null && $socketName !== '') {
            throw new \InvalidArgumentException(
                "Worker('{$socketName}'): wsc runs WebSocket clients only and cannot listen; "
                . 'use new Worker() and create AsyncTcpConnection clients in onWorkerStart'
            );
        }
        Worker::$workers[] = $this;
    }

    /**
     * Runs every worker's onWorkerStart, then the event loop, in the
     * foreground, until stopAll(), SIGINT or SIGTERM (with ext-pcntl); then
     * runs onWorkerStop, closes the open connections (close code 1001,
     * waiting at most 1 s for the closing handshakes, without calling
     * their callbacks) and frees them, deletes the timers, and returns.
     *
     * Inside a running Workerman worker process (Workerman's own
     * `Worker::runAll()` forked it), Workerman's loop already drives the
     * connections (see `Wsc\EventLoop\Workerman`): runAll() then only
     * runs the onWorkerStart callbacks and returns at once.
     *
     * The command line is Workerman's: no command or `start` runs; `-d`
     * (daemon) is refused, and other commands (`stop`, `restart`,
     * `reload`, `status`, `connections`) are not supported: both print a
     * message on STDERR and exit with code 64.
     *
     * Each loop turn waits in `wsc_context_poll_events` until the next event
     * or the next Timer (no timer: until an event), takes that event and
     * every other one already queued in the same call, dispatches them,
     * runs the due timers and the pending signal handlers.
     *
     * @param list<string>|null $argv the command line; null: `$_SERVER['argv']`
     *
     * @throws \LogicException when the loop is already running
     */
    public static function runAll(?array $argv = null): void
    {
        if (Worker::$running) {
            throw new \LogicException('Worker::runAll() is already running');
        }
        if (EventLoop\Workerman::isRunning()) {
            // Inside a Workerman worker process its loop drives libwsc (see
            // EventLoop\Workerman): run the start callbacks and step aside.
            foreach (Worker::$workers as $worker) {
                if ($worker->onWorkerStart !== null) {
                    self::safeCall("onWorkerStart of worker '{$worker->name}'", $worker->onWorkerStart, $worker);
                }
            }
            return;
        }
        self::checkCommandLine($argv ?? ($_SERVER['argv'] ?? []));
        foreach (Worker::$workers as $worker) {
            if ($worker->count > 1) {
                self::stderr("wsc: worker '{$worker->name}': count = {$worker->count} ignored, wsc runs one process\n");
            }
        }
        Worker::$running = true;
        Worker::$stopRequested = false;
        Worker::$stopCode = 0;
        $signals = self::installSignalHandlers();
        try {
            foreach (Worker::$workers as $worker) {
                if ($worker->onWorkerStart !== null) {
                    self::safeCall("onWorkerStart of worker '{$worker->name}'", $worker->onWorkerStart, $worker);
                }
            }
            while (!Worker::$stopRequested) {
                $timeout = Timer::msUntilNext() ?? -1;
                if ($signals && ($timeout < 0 || $timeout > Worker::$signalCheckIntervalMs)) {
                    $timeout = Worker::$signalCheckIntervalMs;
                }
                self::loopOnce($timeout);
            }
            foreach (Worker::$workers as $worker) {
                if ($worker->onWorkerStop !== null) {
                    self::safeCall("onWorkerStop of worker '{$worker->name}'", $worker->onWorkerStop, $worker);
                }
            }
            EventPump::closeAllForShutdown(self::STOP_GRACE_SECONDS);
            Timer::delAll();
        } finally {
            if ($signals) {
                pcntl_signal(SIGINT, SIG_DFL);
                pcntl_signal(SIGTERM, SIG_DFL);
            }
            Worker::$running = false;
        }
        if (Worker::$stopCode !== 0) {
            exit(Worker::$stopCode);
        }
    }

    /**
     * Asks the loop of runAll() to stop after the current callback (safe to
     * call from any callback or signal handler). Outside runAll() it does
     * nothing.
     *
     * @param int   $code the exit code of the process after runAll(); 0 (the
     *                    default) lets runAll() return normally
     * @param mixed $log  a message written to STDERR when not empty (Workerman's `$log`)
     */
    public static function stopAll(int $code = 0, mixed $log = ''): void
    {
        if ($log !== '' && $log !== null) {
            $text = is_scalar($log) || $log instanceof \Stringable ? (string) $log : print_r($log, true);
            self::stderr("wsc: {$text}\n");
        }
        if (Worker::$running) {
            Worker::$stopRequested = true;
            Worker::$stopCode = $code;
        }
    }

    /**
     * True while runAll() runs.
     */
    public static function isRunning(): bool
    {
        return Worker::$running;
    }

    /**
     * One loop turn without runAll() (a wsc addition, for scripts and tests
     * that drive the loop themselves): waits up to `$timeoutMs` for an
     * event, dispatches it and every other event that was ready with it
     * (one `wsc_context_poll_events` call, at most 1024 events; events
     * left over by an earlier turn that stopped early go first, without
     * waiting), runs the due timers and the pending signal handlers.
     *
     * @param int $timeoutMs milliseconds to wait for the first event; 0: do
     *                       not wait; negative: until an event arrives
     *
     * @return int the number of events dispatched
     *
     * @throws NativeException when polling fails (e.g. the context was freed)
     */
    public static function loopOnce(int $timeoutMs): int
    {
        $count = EventPump::dispatch($timeoutMs, self::DRAIN_LIMIT, Worker::$stopRequested);
        Timer::runDue();
        if (Worker::$signalDispatch ??= function_exists('pcntl_signal_dispatch')) {
            pcntl_signal_dispatch();
        }
        return $count;
    }

    /**
     * Dispatches every event that is ready now, without waiting (a wsc
     * addition, for other event loops): takes them with one
     * `wsc_context_poll_events` call with timeout 0, at most `$limit`
     * events, and hands each to its connection's callbacks. Call it when the
     * context stream (`Wsc\Ffi\Context::stream()`) turns readable;
     * the adapters of `Wsc\EventLoop` do. When it stops at `$limit`, the
     * stream stays readable, so a level-triggered loop calls it again.
     * Does not run `Wsc\Timer` timers or signal handlers (loopOnce() does).
     * Without a context (no connection yet, or freed) it returns 0.
     *
     * @param int $limit the most events to dispatch in one call
     *
     * @return int the number of events dispatched
     *
     * @throws NativeException when polling fails
     */
    public static function pollPending(int $limit = self::DRAIN_LIMIT): int
    {
        return EventPump::dispatchReady($limit);
    }

    /**
     * Runs loop turns until `$until()` returns true or `$seconds` passed (a
     * wsc addition, for scripts and tests).
     *
     * @param float         $seconds the deadline, in seconds from now
     * @param callable|null $until   checked after every turn; null: run until the deadline
     *
     * @return bool true when `$until` returned true, false at the deadline
     */
    public static function loopFor(float $seconds, ?callable $until = null): bool
    {
        $deadline = hrtime(true) + (int) ($seconds * 1e9);
        while (true) {
            if ($until !== null && $until()) {
                return true;
            }
            $leftNs = $deadline - hrtime(true);
            if ($leftNs <= 0) {
                return false;
            }
            $left = (int) ceil($leftNs / 1e6);
            $next = Timer::msUntilNext();
            self::loopOnce($next === null ? $left : min($left, $next));
        }
    }

    /**
     * Takes the next event (left from the last poll, or polled from the
     * shared context), without dispatching it.
     *
     * @internal
     *
     * @return array<string, int|string|bool>|null the event (keys type, client, data,
     *         messageType, error, closeCode, clean), copied and freed; null when
     *         the timeout passed or a signal interrupted the wait
     *
     * @throws NativeException
     */
    public static function pollEvent(int $timeoutMs): ?array
    {
        return EventPump::take($timeoutMs);
    }

    /**
     * @param list<string> $argv
     */
    private static function checkCommandLine(array $argv): void
    {
        $args = array_slice(array_values($argv), 1);
        if (in_array('-d', $args, true)) {
            self::stderr(
                "wsc: daemon mode (-d) is not supported: wsc runs in the foreground; "
                . "use a service manager (systemd, supervisord) to run it in the background\n"
            );
            exit(64);
        }
        $command = $args[0] ?? 'start';
        if ($command !== 'start') {
            self::stderr(
                "wsc: the command '{$command}' is not supported: wsc runs in the foreground with "
                . "`php {$_SERVER['PHP_SELF']} start` (or no command); stop it with Ctrl+C or SIGTERM (kill PID)\n"
            );
            exit(64);
        }
    }

    private static function installSignalHandlers(): bool
    {
        if (!function_exists('pcntl_signal')) {
            return false;
        }
        $handler = static function (): void {
            self::stopAll();
        };
        pcntl_signal(SIGINT, $handler);
        pcntl_signal(SIGTERM, $handler);
        return true;
    }
}
