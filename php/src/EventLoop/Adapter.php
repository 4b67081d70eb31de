<?php

declare(strict_types=1);

namespace Wsc\EventLoop;

use Wsc\Connection\Connections;
use Wsc\Connection\EventPump;
use Wsc\Ffi\Context;

/**
 * The common part of the adapters that let another event loop drive
 * libwsc: the loop watches the context stream (`Ffi\Context::stream()`,
 * readable whenever events are waiting) and, when it turns readable, the
 * adapter drains the events (`EventPump::dispatchReady()`, what
 * `Worker::pollPending()` does), which runs the connections' callbacks on
 * the loop's thread.
 *
 * An adapter is attached once per loop (`ReactPhp::attach()`,
 * `Revolt::attach()`, `Workerman::attach()`, each through attachOnce());
 * this class keeps the attached ones (`Registry::adapters()` lists them)
 * until detach(). When `releaseWhenIdle()` says so, the adapter stops
 * watching once no connection is alive (so that a loop that ends when it
 * has nothing left to watch can end) and watches again when a connection
 * connects (`Registry::connecting()` calls watchAll()).
 *
 * Calls go one way: `Registry` -> the adapters -> this class ->
 * `Connection\EventPump`, `Connection\Connections`, `Ffi\Context`; nothing
 * here calls back up.
 */
abstract class Adapter
{
    /**
     * The attached adapters, by key(); a static property of this class,
     * shared by every subclass (none declares it again).
     *
     * @var array<string, Adapter>
     */
    private static array $attached = [];

    /** @var resource|null the stream being watched, null when not watching */
    private $watched = null;

    /**
     * Asks the loop to call `$drain()` whenever `$stream` is readable.
     *
     * @param resource $stream the context stream
     * @param \Closure(): void $drain
     */
    abstract protected function watch($stream, \Closure $drain): void;

    /**
     * Undoes watch().
     *
     * @param resource $stream the stream given to watch()
     */
    abstract protected function unwatch($stream): void;

    /** A key naming the loop, unique per adapter class and loop object. */
    abstract public function key(): string;

    /**
     * Whether to stop watching while no connection is alive (so that the
     * loop can end); the loop watches again at the next connect().
     */
    protected function releaseWhenIdle(): bool
    {
        return true;
    }

    /**
     * True while the loop watches the context stream.
     */
    final public function isWatching(): bool
    {
        return $this->watched !== null;
    }

    /**
     * The attached adapters, in the order they were attached.
     *
     * @return list<Adapter>
     */
    final public static function attached(): array
    {
        return array_values(Adapter::$attached);
    }

    /**
     * Makes every attached adapter watch the current context stream (see
     * ensureWatching()); `Registry::connecting()` calls it at every connect().
     */
    final public static function watchAll(): void
    {
        foreach (Adapter::$attached as $adapter) {
            $adapter->ensureWatching();
        }
    }

    /**
     * The adapter attached under `$adapter->key()`, or `$adapter` itself
     * after attaching it; it then watches the context stream. The attach()
     * methods of the subclasses call it, which makes them idempotent per
     * loop (`Registry::add()` is the same).
     *
     * @template T of Adapter
     *
     * @param T $adapter
     *
     * @return T
     */
    final public static function attachOnce(Adapter $adapter): Adapter
    {
        // When the context is freed (before it closes the context stream),
        // every loop stops watching that stream; the adapters stay attached
        // and watch the next context's stream at the next connect().
        Context::onFree(Adapter::class, static function (): void {
            foreach (Adapter::$attached as $attached) {
                $attached->release();
            }
        });
        $adapter = Adapter::$attached[$adapter->key()] ??= $adapter;
        $adapter->ensureWatching();
        return $adapter;
    }

    /**
     * Dispatches the events that are ready (`EventPump::dispatchReady()`,
     * as `Worker::pollPending()`); the loop calls it when the context
     * stream is readable.
     *
     * @return int the number of events dispatched
     *
     * @throws \Wsc\Exception\NativeException when polling fails
     */
    final public function drain(): int
    {
        $count = EventPump::dispatchReady();
        if ($this->releaseWhenIdle() && Connections::countAlive() === 0) {
            $this->release();
        }
        return $count;
    }

    /**
     * Makes the loop watch the current context stream (creating the
     * context when there is none); nothing when it already does. Called
     * by attach() and, through watchAll(), by connect().
     */
    final public function ensureWatching(): void
    {
        $stream = Context::stream();
        if ($this->watched === $stream) {
            return;
        }
        $this->release();
        $this->watch($stream, function (): void {
            $this->drain();
        });
        $this->watched = $stream;
    }

    /**
     * Stops watching (the adapter stays attached: the next connect()
     * watches again).
     */
    final public function release(): void
    {
        $stream = $this->watched;
        $this->watched = null;
        if ($stream !== null && is_resource($stream)) {
            $this->unwatch($stream);
        }
    }

    /**
     * Stops watching and forgets this adapter: later connections are not
     * watched by this loop any more.
     */
    final public function detach(): void
    {
        $this->release();
        if ((Adapter::$attached[$this->key()] ?? null) === $this) {
            unset(Adapter::$attached[$this->key()]);
        }
    }
}
