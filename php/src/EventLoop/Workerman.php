<?php

declare(strict_types=1);

namespace Wsc\EventLoop;

/**
 * Runs wsc's connections on the event loop of a real Workerman worker
 * process: Workerman 5's `Worker::getEventLoop()` (`onReadable($stream,
 * $callback)`) or Workerman 4's `Worker::$globalEvent`
 * (`add($stream, EventInterface::EV_READ, $callback)`), whatever driver
 * it uses (Select, Event, Ev, Swoole, Swow, Fiber/Revolt).
 *
 * Nothing to call: when a `Wsc\Connection\AsyncTcpConnection` connects in
 * a process where Workerman's worker loop exists (code in
 * `onWorkerStart` or later, after Workerman's `Worker::runAll()` forked
 * the worker), `Registry::connecting()` attaches it to that loop; the
 * context stream stays watched for the life of the process. `Wsc\Worker`
 * steps aside there: its `runAll()` only runs the onWorkerStart callbacks
 * of wsc workers and returns.
 *
 * Connections must be created in the worker process (onWorkerStart), not
 * in the master before `Worker::runAll()`: libwsc's context and its thread
 * do not survive fork(). `Wsc\Timer::add()` hands its timers to
 * `Workerman\Timer` there (see `Wsc\Timer`), since wsc's own loop does
 * not run.
 */
final class Workerman extends Adapter
{
    private function __construct(private readonly object $loop)
    {
    }

    /**
     * Workerman's worker loop in this process, or null: not loaded, or this
     * is not a running worker process (Workerman's master process, or
     * before `Worker::runAll()`).
     */
    public static function currentLoop(): ?object
    {
        $worker = 'Workerman\\Worker';
        if (!class_exists($worker, false) || !property_exists($worker, 'globalEvent')) {
            return null;
        }
        $loop = $worker::$globalEvent;
        return is_object($loop) && (method_exists($loop, 'onReadable') || method_exists($loop, 'add'))
            ? $loop
            : null;
    }

    /**
     * True when this process runs Workerman's worker loop.
     */
    public static function isRunning(): bool
    {
        return self::currentLoop() !== null;
    }

    /**
     * Makes a Workerman loop watch the context stream and dispatch wsc's
     * events. Idempotent.
     *
     * @param object|null $loop a Workerman 5 `EventInterface` (with
     *                          onReadable) or Workerman 4 one (with add);
     *                          null: the current worker loop
     *
     * @throws \LogicException when `$loop` is null and no Workerman worker loop runs
     */
    public static function attach(?object $loop = null): self
    {
        $loop ??= self::currentLoop();
        if ($loop === null) {
            throw new \LogicException(
                'no Workerman worker loop runs in this process: call this in onWorkerStart '
                . '(after Workerman\\Worker::runAll()), or pass the loop'
            );
        }
        return self::attachOnce(new self($loop));
    }

    /**
     * attach() when this process is a running Workerman worker; called by
     * `Registry::connecting()` at every connect().
     *
     * @return self|null the adapter, or null when Workerman does not run here
     */
    public static function attachIfRunning(): ?self
    {
        $loop = self::currentLoop();
        return $loop === null ? null : self::attach($loop);
    }

    public function key(): string
    {
        return self::class . '#' . spl_object_id($this->loop);
    }

    /** The Workerman loop this adapter feeds. */
    public function loop(): object
    {
        return $this->loop;
    }

    protected function releaseWhenIdle(): bool
    {
        // Workerman's loop runs until the worker stops, whatever it watches.
        return false;
    }

    protected function watch($stream, \Closure $drain): void
    {
        if (method_exists($this->loop, 'onReadable')) {
            $this->loop->onReadable($stream, $drain); // Workerman 5
        } else {
            $this->loop->add($stream, self::evRead(), $drain); // Workerman 4
        }
    }

    protected function unwatch($stream): void
    {
        if (method_exists($this->loop, 'offReadable')) {
            $this->loop->offReadable($stream);
        } else {
            $this->loop->del($stream, self::evRead());
        }
    }

    private static function evRead(): int
    {
        $name = 'Workerman\\Events\\EventInterface::EV_READ';
        return defined($name) ? (int) constant($name) : 1;
    }
}
