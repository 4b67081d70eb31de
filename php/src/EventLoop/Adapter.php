<?php

declare(strict_types=1);

namespace Wsc\EventLoop;

use Wsc\Connection\Connections;
use Wsc\Ffi\Context;
use Wsc\Worker;

/**
 * The common part of the adapters that let another event loop drive
 * libwsc: the loop watches the context stream (`Ffi\Context::stream()`,
 * readable whenever events are waiting) and, when it turns readable, the
 * adapter drains the events (`Worker::pollPending()`), which runs the
 * connections' callbacks on the loop's thread.
 *
 * An adapter is attached once per loop (`ReactPhp::attach()`,
 * `Revolt::attach()`, `Workerman::attach()`); `Registry` keeps it. When
 * `releaseWhenIdle()` says so, the adapter stops watching once no
 * connection is alive (so that a loop that ends when it has nothing left
 * to watch can end) and watches again when a connection connects.
 */
abstract class Adapter
{
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
     * Dispatches the events that are ready (`Worker::pollPending()`); the
     * loop calls it when the context stream is readable.
     *
     * @return int the number of events dispatched
     */
    final public function drain(): int
    {
        $count = Worker::pollPending();
        if ($this->releaseWhenIdle() && Connections::countAlive() === 0) {
            $this->release();
        }
        return $count;
    }

    /**
     * Makes the loop watch the current context stream (creating the
     * context when there is none); nothing when it already does. Called
     * by attach() and, through `Registry::connecting()`, by connect().
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
        Registry::remove($this);
    }
}
