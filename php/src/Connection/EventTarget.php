<?php

declare(strict_types=1);

namespace Wsc\Connection;

/**
 * What the event pump and the connection map need from a connection: an
 * id, the two entry points of dispatch, and the shutdown calls. The
 * connections implement it (TcpConnection), so EventPump and Connections
 * depend on this interface, not on the connection classes that call them.
 *
 * @internal not part of the Workerman API.
 */
interface EventTarget
{
    /**
     * Hands a whole message to onMessage.
     *
     * @param string $data   the message
     * @param bool   $binary true for a binary message, false for text
     */
    public function handleMessage(string $data, bool $binary): void;

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
