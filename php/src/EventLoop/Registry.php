<?php

declare(strict_types=1);

namespace Wsc\EventLoop;

use Wsc\Ffi\Context;

/**
 * The adapters attached to other event loops, and the hooks that keep
 * them watching the context stream.
 *
 * `AsyncTcpConnection::connect()` and `reConnect()` call connecting():
 * inside a running Workerman worker process that attaches the
 * connections to Workerman's loop on its own (see `Workerman`), and every
 * attached adapter watches the current context stream again (an adapter
 * stops watching while no connection is alive).
 */
final class Registry
{
    /** @var array<string, Adapter> by Adapter::key() */
    private static array $adapters = [];

    /**
     * A connection starts connecting: attach to Workerman's loop when this
     * process is a running Workerman worker, and make every attached
     * loop watch the context stream.
     */
    public static function connecting(): void
    {
        self::listen();
        Workerman::attachIfRunning();
        foreach (self::$adapters as $adapter) {
            $adapter->ensureWatching();
        }
    }

    /**
     * The adapter attached under `$adapter->key()`, or `$adapter` itself
     * after attaching it; it then watches the context stream.
     *
     * @template T of Adapter
     *
     * @param T $adapter
     *
     * @return T
     */
    public static function add(Adapter $adapter): Adapter
    {
        self::listen();
        $adapter = self::$adapters[$adapter->key()] ??= $adapter;
        $adapter->ensureWatching();
        return $adapter;
    }

    /**
     * Forgets an adapter (Adapter::detach() calls it).
     */
    public static function remove(Adapter $adapter): void
    {
        if ((self::$adapters[$adapter->key()] ?? null) === $adapter) {
            unset(self::$adapters[$adapter->key()]);
        }
    }

    /**
     * The attached adapters.
     *
     * @return list<Adapter>
     */
    public static function adapters(): array
    {
        return array_values(self::$adapters);
    }

    /**
     * The context is being freed (`Ffi\Context::free()`, before it
     * closes the context stream): every loop stops watching that stream.
     * The adapters stay attached and watch the next context's stream at
     * the next connect().
     *
     * @internal run by Ffi\Context::free(), as a listener registered by listen()
     */
    public static function contextFreed(): void
    {
        foreach (self::$adapters as $adapter) {
            $adapter->release();
        }
    }

    /**
     * Has contextFreed() run when the context is freed (Context::onFree()).
     */
    private static function listen(): void
    {
        Context::onFree(self::class, static function (): void {
            self::contextFreed();
        });
    }
}
