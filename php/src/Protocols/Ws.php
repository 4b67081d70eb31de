<?php

declare(strict_types=1);

namespace Wsc\Protocols;

/**
 * The frame types of Workerman's `Workerman\Protocols\Ws`, for
 * `AsyncTcpConnection::$websocketType` (the type of the messages that
 * `send()` makes) and `AsyncTcpConnection::getLastMessageType()`.
 *
 * The values are Workerman's: the first byte of an unfragmented frame
 * (FIN bit and opcode, RFC 6455 section 5.2). The framing itself is done by
 * libwsc, not in PHP.
 */
final class Ws
{
    /** Text messages (opcode 0x1): the payload must be valid UTF-8. */
    public const BINARY_TYPE_BLOB = "\x81";

    /** Binary messages (opcode 0x2): any bytes. */
    public const BINARY_TYPE_ARRAYBUFFER = "\x82";
}
