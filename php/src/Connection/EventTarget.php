<?php

declare(strict_types=1);

namespace Wsc\Connection;

/**
 * What the event pump and the connection map need from a connection: an
 * id, the entry points of dispatch (and, for messages, the public
 * properties `$onMessage` and `$lastMessageType`), and the shutdown calls. The
 * connections implement it (TcpConnection), so EventPump and Connections
 * depend on this interface, not on the connection classes that call them.
 *
 * @internal not part of the Workerman API.
 */
interface EventTarget
{
    /**
     * Reports an exception thrown by onMessage (EventPump calls onMessage
     * itself, on the hot path: it sets the target's public
     * `$lastMessageType` (Ws::BINARY_TYPE_BLOB or
     * Ws::BINARY_TYPE_ARRAYBUFFER), then calls its public `$onMessage`,
     * if set, with the target and the message, and hands what that throws
     * to this method).
     */
    public function reportMessageException(\Throwable $e): void;

    /**
     * Runs the callbacks of one event of this connection.
     *
     * @param array<string, int|string|bool> $event an event of EventPump::take()
     */
    public function handleEvent(array $event): void;

    /**
     * Starts the closing handshake for shutdown (close code 1001).
     *
     * @return bool true when a closing handshake is under way (a CLOSED event follows)
     */
    public function closeForShutdown(): bool;

    /** Frees the native client now (shutdown). */
    public function freeNative(): void;
}
