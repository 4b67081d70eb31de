<?php

declare(strict_types=1);

namespace Wsc\EventLoop;

/**
 * The event loops wsc's connections are attached to, seen from a
 * connection: `AsyncTcpConnection::connect()` and `reConnect()` call
 * connecting(), which, inside a running Workerman worker process,
 * attaches the connections to Workerman's loop on its own (see
 * `Workerman`), and makes every attached adapter watch the current
 * context stream again (an adapter stops watching while no connection is
 * alive).
 *
 * The attached adapters are kept by `Adapter` (each `attach()` adds its
 * adapter there, `Adapter::detach()` removes it); add(), remove() and
 * adapters() here forward to it. Calls go one way: this class -> `Workerman` and the other
 * adapters -> `Adapter`; no adapter calls this class.
 */
final class Registry
{
    /**
     * A connection starts connecting: attach to Workerman's loop when this
     * process is a running Workerman worker, and make every attached
     * loop watch the context stream.
     */
    public static function connecting(): void
    {
        Workerman::attachIfRunning();
        Adapter::watchAll();
    }

    /**
     * Attaches an adapter: the adapter attached under `$adapter->key()`, or
     * `$adapter` itself after attaching it; it then watches the context
     * stream (`Adapter::attachOnce()`, what the adapters' attach() do).
     *
     * @template T of Adapter
     *
     * @param T $adapter
     *
     * @return T
     */
    public static function add(Adapter $adapter): Adapter
    {
        return Adapter::attachOnce($adapter);
    }

    /**
     * Detaches an adapter: it stops watching and is forgotten
     * (`$adapter->detach()`); nothing when it is not attached.
     */
    public static function remove(Adapter $adapter): void
    {
        if (in_array($adapter, Adapter::attached(), true)) {
            $adapter->detach();
        }
    }

    /**
     * The attached adapters, in the order they were attached.
     *
     * @return list<Adapter>
     */
    public static function adapters(): array
    {
        return Adapter::attached();
    }
}
