<?php

declare(strict_types=1);

namespace Wsc\Connection;

/**
 * The process's connections by id (`wsc_client_id`, the `client_id` of
 * their events): a plain map that calls nothing on them.
 *
 * - alive: the connections that must stay alive whatever the user holds
 *   (connecting, open, closing or waiting to reconnect), so that a
 *   connection kept only in a local variable, as in Workerman's examples,
 *   keeps working; Workerman's `TcpConnection::$connections` plays that
 *   part there.
 * - known: every connection object still referenced somewhere (weakly),
 *   so that the events of one the alive map let go (e.g. the undelivered
 *   messages after cancelReconnect()) still reach it while the user holds
 *   it.
 *
 * The event pump reads both maps directly in its hot loop (get() inlined).
 *
 * It knows the connections as EventTarget only.
 *
 * @internal used by the connections and EventPump; not part of the Workerman API.
 */
final class Connections
{
    /**
     * @internal read by EventPump's hot loop; written only by this class
     *
     * @var array<int, EventTarget> kept alive, by id
     */
    public static array $alive = [];

    /**
     * @internal read by EventPump's hot loop; written only by this class
     *
     * @var array<int, \WeakReference<EventTarget>> every live object, by id
     */
    public static array $known = [];

    /** Records a new connection object under its id (weakly). */
    public static function add(int $id, EventTarget $connection): void
    {
        Connections::$known[$id] = \WeakReference::create($connection);
    }

    /** Forgets the id altogether (the object is destroyed, or got a new id after fork()). */
    public static function remove(int $id): void
    {
        unset(Connections::$alive[$id], Connections::$known[$id]);
    }

    /** Keeps the connection alive until release(). */
    public static function keep(int $id, EventTarget $connection): void
    {
        Connections::$alive[$id] = $connection;
    }

    /** Lets go of a connection kept by keep(); it stays known while referenced. */
    public static function release(int $id): void
    {
        unset(Connections::$alive[$id]);
    }

    /** The connection with this id, kept alive or still referenced; null when none. */
    public static function get(int $id): ?EventTarget
    {
        return Connections::$alive[$id] ?? (Connections::$known[$id] ?? null)?->get();
    }

    /** The number of connections kept alive. */
    public static function countAlive(): int
    {
        return count(Connections::$alive);
    }

    /**
     * Empties the alive map and returns what it held (for shutdown).
     *
     * @return array<int, EventTarget>
     */
    public static function releaseAll(): array
    {
        $alive = Connections::$alive;
        Connections::$alive = [];
        return $alive;
    }
}
