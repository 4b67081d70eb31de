<?php

declare(strict_types=1);

namespace Wsc\Connection;

use FFI;
use FFI\CData;
use Wsc\Exception\NativeException;
use Wsc\Ffi\Abi;
use Wsc\Ffi\Client;
use Wsc\Ffi\Library;
use Wsc\Ffi\Result;
use Wsc\Protocols\Ws;
use Wsc\Callbacks;

/**
 * The part of a wsc connection that Workerman's `TcpConnection` defines:
 * the onError codes and STATUS_* states, the limits, the message
 * callbacks (onMessage, onError, onClose, onBufferFull, onBufferDrain),
 * send(), close(), destroy(), pauseRecv()/resumeRecv(), the local address
 * and the send buffer, on one native client (`Ffi\Client`). As in
 * Workerman, `AsyncTcpConnection` extends it with the address to connect
 * to, connect() and reConnect(), and the WebSocket settings; use that
 * class.
 *
 * @property int $bytesRead    Bytes received over all connections of this object, the
 *                             handshakes included (after TLS decryption), read live from
 *                             libwsc (`wsc_client_bytes`) at each access; assigning a value
 *                             (e.g. 0) makes the count go on from it.
 * @property int $bytesWritten Bytes written to the socket, counted like $bytesRead (before
 *                             TLS encryption); bytes still in the send buffer are not counted.
 */
#[\AllowDynamicProperties]
abstract class TcpConnection implements EventTarget
{
    /** onError code: the connection attempt failed (Workerman's value). */
    public const CONNECT_FAIL = 1;

    /** onError code: a message was not sent (Workerman's value). */
    public const SEND_FAIL = 2;

    /**
     * onError code, a wsc addition: an open connection failed (protocol
     * violation by the server, an incoming message over maxPackageSize,
     * a timeout, or the connection broke). onClose follows.
     */
    public const PROTOCOL_FAIL = 3;

    /** getStatus(): created, connect() not called yet. */
    public const STATUS_INITIAL = 0;

    /** getStatus(): resolving, connecting, in the handshake, or waiting to reconnect. */
    public const STATUS_CONNECTING = 1;

    /** getStatus(): open, messages flow both ways. */
    public const STATUS_ESTABLISHED = 2;

    /** getStatus(): the closing handshake is under way. */
    public const STATUS_CLOSING = 8;

    /** getStatus(): closed. */
    public const STATUS_CLOSED = 16;

    /**
     * Workerman's TCP keepalive time in seconds (idle before the first
     * probe, and between probes; one probe): the default of
     * AsyncTcpConnection::$tcpKeepAlive. A subclass may override it, as in
     * Workerman.
     */
    public const TCP_KEEPALIVE_INTERVAL = 55;

    private const STATUS_NAMES = [
        self::STATUS_INITIAL => 'INITIAL',
        self::STATUS_CONNECTING => 'CONNECTING',
        self::STATUS_ESTABLISHED => 'ESTABLISHED',
        self::STATUS_CLOSING => 'CLOSING',
        self::STATUS_CLOSED => 'CLOSED',
    ];

    // Static properties are written `TcpConnection::$name`, not `self::$name`, on
    // the hot path send() (see EventPump).

    /** Default of $maxSendBufferSize for new connections, in bytes (1 MiB). */
    public static int $defaultMaxSendBufferSize = 1048576;

    /** Default of $maxPackageSize for new connections, in bytes (10 MiB). */
    public static int $defaultMaxPackageSize = 10485760;

    /**
     * The connection's id, unique in the process and never reused (libwsc's
     * `wsc_client_id`, also the `client_id` of its events). Read-only by
     * contract; a connection created before fork() gets a new id in the
     * child when it connects there.
     */
    public int $id;

    /**
     * The type of the messages send() makes: Ws::BINARY_TYPE_BLOB (text,
     * the default; the data must be valid UTF-8) or
     * Ws::BINARY_TYPE_ARRAYBUFFER (binary).
     */
    public string $websocketType = Ws::BINARY_TYPE_BLOB;

    /**
     * The send buffer limit, in bytes (default 1 MiB,
     * `$defaultMaxSendBufferSize`): the send() that makes the bytes
     * waiting to be written reach it calls onBufferFull; while they are
     * at or above it, send() refuses messages (returns false and calls
     * onError SEND_FAIL, as Workerman does), also before the handshake.
     * Takes effect at the next send(), connect() or reConnect().
     */
    public int $maxSendBufferSize;

    /**
     * The largest incoming message accepted, in bytes (fragments joined);
     * a larger one closes the connection with 1009 (onError PROTOCOL_FAIL,
     * then onClose). Applied by connect() and reConnect().
     */
    public int $maxPackageSize;

    /**
     * Emitted when a whole message arrived (fragments joined), text or
     * binary: `function (AsyncTcpConnection $connection, string $data)`;
     * getLastMessageType() tells which.
     *
     * @var callable|null
     */
    public $onMessage = null;

    /**
     * Emitted on a failure: `function (AsyncTcpConnection $connection, int $code, string $msg)`;
     * `$code` is CONNECT_FAIL (the attempt failed before the handshake
     * completed: refused, DNS, TLS, a non-101 answer such as
     * "HTTP 403 Forbidden", timeout), SEND_FAIL (a message was refused or
     * will not be delivered) or PROTOCOL_FAIL (an open connection failed).
     * After CONNECT_FAIL and PROTOCOL_FAIL, onClose follows.
     *
     * @var callable|null
     */
    public $onError = null;

    /**
     * Emitted when the connection is gone, whatever the reason, also after
     * a failed attempt: `function (AsyncTcpConnection $connection)`;
     * getCloseCode()/getCloseReason() tell how. Calling reConnect() here
     * connects again.
     *
     * @var callable|null
     */
    public $onClose = null;

    /**
     * Emitted when the send buffer reached $maxSendBufferSize:
     * `function (AsyncTcpConnection $connection)`; from now on send()
     * refuses messages (false, onError SEND_FAIL) until onBufferDrain.
     * Called from inside the send() that filled it, as in Workerman (or
     * from the loop, when libwsc noticed it first). Once per filling.
     *
     * @var callable|null
     */
    public $onBufferFull = null;

    /**
     * Emitted when everything queued has been written to the socket again,
     * after a send() that had to queue (returned null) on an open
     * connection or after onBufferFull: `function (AsyncTcpConnection $connection)`.
     *
     * @var callable|null
     */
    public $onBufferDrain = null;

    /** libwsc, cached for send() by init(); null until the first construction. */
    private static ?FFI $ffi = null;

    /** `wsc_send_status`, the out parameter of every send(), and its address. */
    private static ?CData $sendStatus = null;

    private static ?CData $sendStatusAddress = null;

    /** The compression of the message send() is sending (a wsc_compress; see sendWithCompression()). */
    private int $compressChoice = 0;

    protected Client $client;

    /** onBufferFull was called and onBufferDrain has not followed yet. */
    protected bool $bufferFullReported = false;

    /** @var array{0: int, 1: int} the limits last given to libwsc: [maxPackageSize, maxSendBufferSize] */
    protected array $appliedLimits = [0, 0];

    /** @var array{bytesRead: int, bytesWritten: int} subtracted from libwsc's counts (assignments) */
    private array $bytesOffset = ['bytesRead' => 0, 'bytesWritten' => 0];

    /** @var array{bytesRead: int, bytesWritten: int} the last counts read, kept after the client is freed */
    private array $bytesLast = ['bytesRead' => 0, 'bytesWritten' => 0];

    /**
     * The type of the last message given to onMessage (getLastMessageType()).
     *
     * @internal public only so that EventPump::dispatch() sets it without a
     *           method call per message; read it with getLastMessageType()
     */
    public ?string $lastMessageType = null;

    /**
     * The address this connection was made with, for messages.
     */
    protected readonly string $remoteAddress;

    /**
     * @param string $remoteAddress the address, as given to AsyncTcpConnection
     */
    protected function __construct(string $remoteAddress)
    {
        $this->remoteAddress = $remoteAddress;
    }

    /**
     * Reads $bytesRead and $bytesWritten (live from libwsc); any other
     * undefined property gives PHP's usual warning and null.
     */
    public function __get(string $name): mixed
    {
        if ($name === 'bytesRead' || $name === 'bytesWritten') {
            return $this->byteCount($name);
        }
        trigger_error('Undefined property: ' . self::class . '::$' . $name, E_USER_WARNING);
        return null;
    }

    /**
     * Assigning $bytesRead or $bytesWritten makes the count go on from
     * that value; any other name becomes a property of the user's own.
     */
    public function __set(string $name, mixed $value): void
    {
        if ($name === 'bytesRead' || $name === 'bytesWritten') {
            if (!is_int($value)) {
                throw new \TypeError("{$name} must be an int, got " . get_debug_type($value));
            }
            $this->bytesOffset[$name] += $this->byteCount($name) - $value;
            $this->bytesLast[$name] = $value;
            return;
        }
        $this->{$name} = $value;
    }

    /**
     * True for $bytesRead and $bytesWritten, false for other undefined names.
     */
    public function __isset(string $name): bool
    {
        return $name === 'bytesRead' || $name === 'bytesWritten';
    }

    /**
     * Sends one message of type $websocketType. When it had to queue and
     * the send buffer reached $maxSendBufferSize, onBufferFull is called
     * before send() returns (as in Workerman); onBufferDrain follows once
     * everything queued is written.
     *
     * @param string $data the payload, in bytes (text must be valid UTF-8)
     * @param bool   $raw  Workerman writes raw bytes to the socket when true; wsc
     *                     owns the socket, so true is refused
     *
     * @return bool|null true: written to the socket; null: queued (before the
     *                   handshake completed, written right after it in the
     *                   order of the calls, or the socket is full); false:
     *                   refused: closing or closed, the send buffer is full
     *                   (onError SEND_FAIL), or text that is not UTF-8
     *                   (onError SEND_FAIL)
     *
     * @throws \InvalidArgumentException when $raw is true or $websocketType is not a Ws::BINARY_TYPE_*
     */
    public function send(string $data, bool $raw = false): ?bool
    {
        if ($raw) {
            throw new \InvalidArgumentException(
                'send($data, true): raw sends are not supported, libwsc owns the socket and frames every message'
            );
        }
        $websocketType = $this->websocketType;
        if ($websocketType === Ws::BINARY_TYPE_ARRAYBUFFER) {
            $type = Abi::MESSAGE_TYPE_BINARY;
        } elseif ($websocketType === Ws::BINARY_TYPE_BLOB) {
            $type = Abi::MESSAGE_TYPE_TEXT;
        } else {
            $type = $this->messageType(); // throws
        }
        $client = $this->client->handle->pointer;
        if ($client === null) {
            return false;
        }
        if ($this->maxPackageSize !== $this->appliedLimits[0] || $this->maxSendBufferSize !== $this->appliedLimits[1]) {
            $this->applyLimits();
        }
        $len = strlen($data);
        // The string's own bytes, no copy: wsc.ffi.h declares `data` as `const char *`.
        $result = $this->compressChoice === 0 ? TcpConnection::$ffi->wsc_client_send(
            $client,
            $type,
            $data,
            $len,
            TcpConnection::$sendStatusAddress,
        ) : TcpConnection::$ffi->wsc_client_send_with(
            $client,
            $type,
            $data,
            $len,
            $this->compressChoice,
            TcpConnection::$sendStatusAddress,
        );
        if ($result === Abi::RESULT_OK) {
            $status = TcpConnection::$sendStatus->cdata;
            // Corked (sent while a batch of events is dispatched): written
            // with the batch's other sends when it ends, as Workerman's
            // send() writes at once: true, no onBufferDrain.
            if ($status === Abi::SEND_STATUS_WRITTEN || $status === Abi::SEND_STATUS_CORKED) {
                return true;
            }
            // Workerman calls onBufferFull from inside the send() that
            // filled the buffer: libwsc says so in the send's status, and
            // its BUFFER_FULL event, which comes later, is then ignored
            // (handleEvent).
            if ($status === Abi::SEND_STATUS_QUEUED_BUFFER_FULL && !$this->bufferFullReported) {
                $this->bufferFullReported = true;
                $this->emit('onBufferFull');
            }
            return null;
        }
        switch ($result) {
            case Abi::RESULT_NOT_CONNECTED:
            case Abi::RESULT_CONTEXT_CLOSED:
                return false;
            case Abi::RESULT_BUFFER_FULL:
                $this->emit('onError', self::SEND_FAIL, "send buffer full and drop package ({$len} bytes; "
                    . "maxSendBufferSize is {$this->maxSendBufferSize} bytes)");
                return false;
            case Abi::RESULT_INVALID_UTF8:
                $this->emit('onError', self::SEND_FAIL, "message of {$len} bytes not sent: it is not valid UTF-8, "
                    . 'which a text message (websocketType = Ws::BINARY_TYPE_BLOB) must be; '
                    . 'set $connection->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER to send binary data');
                return false;
            default:
                Result::check($result, 'wsc_client_send');
                return false;
        }
    }

    /**
     * A wsc addition: send() with this message's permessage-deflate
     * compression chosen (RFC 7692 section 6: each message is compressed or
     * not): true compresses it whatever its size, false sends it
     * uncompressed (data already compressed, or a message that must not
     * share a compression context with secrets, RFC 7692 section 10).
     * send() decides by websocketCompressionThreshold. Without
     * permessage-deflate in force every message goes uncompressed.
     * Results and callbacks as send().
     *
     * @throws \InvalidArgumentException as send()
     */
    public function sendWithCompression(string $data, bool $compress): ?bool
    {
        $this->compressChoice = $compress ? Abi::COMPRESS_ALWAYS : Abi::COMPRESS_NEVER;
        try {
            return $this->send($data);
        } finally {
            $this->compressChoice = Abi::COMPRESS_AUTO;
        }
    }

    /**
     * Closes the connection: sends `$data` first when given, then starts
     * the closing handshake (close frame 1000, RFC 6455 section 7.1.2); onClose
     * follows when it completed (at most 5 s). Messages already accepted
     * by send() are written before the close frame. Before the handshake
     * completed it ends the attempt at once (messages queued by send()
     * come back through onUndelivered or onError SEND_FAIL). Cancels a
     * pending reConnect(). Ignored when already closing or closed.
     *
     * @param mixed $data a last message to send first (null: none)
     * @param bool  $raw  Workerman's raw flag; true is refused, as by send()
     *
     * @throws \InvalidArgumentException when $raw is true
     */
    public function close(mixed $data = null, bool $raw = false): void
    {
        if ($this->client->isFreed()) {
            return;
        }
        if ($data !== null) {
            $this->send((string) $data, $raw);
        }
        $this->client->close(1000);
    }

    /**
     * Closes the connection at once, without the closing handshake and
     * without writing what is still in the send buffer (Workerman's
     * destroy()); onClose follows from the loop (close code 1006). Each
     * message not written comes back through onUndelivered (or onError
     * SEND_FAIL when onUndelivered is not set): Workerman drops them
     * silently. During a reConnect($after) delay it cancels the reconnect
     * (the connection is already closed: no second onClose). Ignored
     * before connect() and when closed.
     */
    public function destroy(): void
    {
        if ($this->client->isFreed()) {
            return;
        }
        $status = $this->getStatus();
        if ($status === self::STATUS_INITIAL || $status === self::STATUS_CLOSED) {
            return;
        }
        if ($status === self::STATUS_CONNECTING) {
            // Waiting for a reConnect($after): the connection is already
            // gone (its onClose came), only the timer is left, and no
            // CLOSED event will come to release it from the registry.
            $this->client->cancelReconnect();
            if ($this->getStatus() === self::STATUS_CLOSED) {
                Connections::release($this->id);
                return;
            }
        }
        // An attempt or an open connection: onClose follows from the loop,
        // and the registry keeps the connection until then.
        $this->client->abort();
    }

    /**
     * Stops reading from the socket (Workerman's pauseRecv()): no onMessage
     * (nor ping, pong or close frame callbacks) until resumeRecv(); what the
     * server sends waits in the kernel's buffers, and once they are full
     * the server feels it through TCP flow control. Sending goes on. Lasts
     * until resumeRecv() or the end of the current connection (a reconnect
     * reads again).
     */
    public function pauseRecv(): void
    {
        $this->client->pauseRecv();
    }

    /**
     * Reads again after pauseRecv() (Workerman's resumeRecv()): the messages
     * that waited arrive at once, in order, none lost.
     */
    public function resumeRecv(): void
    {
        $this->client->resumeRecv();
    }

    /**
     * The connection state.
     *
     * @param bool $raw true: one of the STATUS_* numbers; false: its name
     *                  ('INITIAL', 'CONNECTING', 'ESTABLISHED', 'CLOSING', 'CLOSED')
     */
    public function getStatus(bool $raw = true): int|string
    {
        $status = $this->client->status();
        return $raw ? $status : (self::STATUS_NAMES[$status] ?? 'UNKNOWN');
    }

    /**
     * Our IP address of the current or last TCP connection (IPv6 without
     * brackets); '' before any.
     */
    public function getLocalIp(): string
    {
        return $this->client->address(true)[0] ?? '';
    }

    /**
     * Our port of the current or last TCP connection; 0 before any.
     */
    public function getLocalPort(): int
    {
        return $this->client->address(true)[1] ?? 0;
    }

    /**
     * "ip:port" of our end of the current or last TCP connection; '' before any.
     */
    public function getLocalAddress(): string
    {
        $address = $this->client->address(true);
        return $address === null ? '' : self::joinAddress($address[0], $address[1]);
    }

    /**
     * The bytes accepted by send() and not yet written to the socket (queued
     * before the handshake, or waiting for the socket); 0 once freed.
     */
    public function getSendBufferQueueSize(): int
    {
        return $this->client->queuedBytes();
    }

    /**
     * True when nothing accepted by send() waits to be written.
     */
    public function bufferIsEmpty(): bool
    {
        return $this->getSendBufferQueueSize() === 0;
    }

    /**
     * A wsc addition: the type of the last message given to onMessage,
     * Ws::BINARY_TYPE_BLOB (text) or Ws::BINARY_TYPE_ARRAYBUFFER (binary);
     * null before the first message. Workerman cannot tell them apart.
     */
    public function getLastMessageType(): ?string
    {
        return $this->lastMessageType;
    }

    /**
     * The number of connections kept alive (connecting, open, closing or
     * waiting to reconnect).
     */
    public static function countAlive(): int
    {
        return Connections::countAlive();
    }

    /**
     * Starts the closing handshake for Worker shutdown, close code 1001
     * "going away", when the connection is open or closing; no callback
     * runs for what follows.
     *
     * @internal called by EventPump::closeAllForShutdown()
     *
     * @return bool true when a closing handshake is under way (a CLOSED event follows)
     */
    public function closeForShutdown(): bool
    {
        if ($this->client->isFreed()) {
            return false;
        }
        $status = $this->getStatus();
        if ($status !== self::STATUS_ESTABLISHED && $status !== self::STATUS_CLOSING) {
            return false;
        }
        try {
            $this->client->close(1001, 'going away');
        } catch (NativeException) {
            return false; // gone meanwhile (e.g. the context was freed): nothing to wait for
        }
        return true;
    }

    /**
     * Frees the native client now (Worker shutdown); later calls on the
     * connection see it closed.
     *
     * @internal called by EventPump::closeAllForShutdown()
     */
    public function freeNative(): void
    {
        $this->client->free();
    }

    /**
     * Caches libwsc and the C buffers of send().
     */
    protected static function init(): void
    {
        if (TcpConnection::$ffi !== null) {
            return;
        }
        $ffi = Library::get()->ffi;
        TcpConnection::$sendStatus = $ffi->new('wsc_send_status');
        TcpConnection::$sendStatusAddress = FFI::addr(TcpConnection::$sendStatus);
        TcpConnection::$ffi = $ffi;
    }

    /**
     * Reports an exception thrown by one of this connection's callbacks
     * (the report names it: "onMessage of connection #3 (ws://...)").
     */
    protected function reportCallbackException(\Throwable $e, string $callback): void
    {
        Callbacks::reportException($e, "{$callback} of connection #{$this->id} ({$this->remoteAddress})");
    }

    /**
     * Reports an exception thrown by onMessage, which EventPump::dispatch()
     * calls itself (the hot path).
     *
     * @internal called by EventPump
     */
    public function reportMessageException(\Throwable $e): void
    {
        $this->reportCallbackException($e, 'onMessage');
    }

    /**
     * Calls one callback property, if set, inside try/catch.
     */
    protected function emit(string $callback, mixed ...$args): void
    {
        $fn = $this->{$callback};
        if ($fn !== null) {
            try {
                $fn($this, ...$args);
            } catch (\Throwable $e) {
                // The name is built only here, not for every call.
                $this->reportCallbackException($e, $callback);
            }
        }
    }

    private function messageType(): int
    {
        return match ($this->websocketType) {
            Ws::BINARY_TYPE_BLOB => Abi::MESSAGE_TYPE_TEXT,
            Ws::BINARY_TYPE_ARRAYBUFFER => Abi::MESSAGE_TYPE_BINARY,
            default => throw new \InvalidArgumentException(
                'websocketType must be Ws::BINARY_TYPE_BLOB ("\x81", text) or '
                . 'Ws::BINARY_TYPE_ARRAYBUFFER ("\x82", binary), got '
                . json_encode(bin2hex($this->websocketType))
            ),
        };
    }

    /**
     * Gives libwsc maxPackageSize and maxSendBufferSize when they changed
     * since the last time (libwsc applies them at once).
     *
     * @throws \InvalidArgumentException when one is below 1
     */
    protected function applyLimits(): void
    {
        $limits = [$this->maxPackageSize, $this->maxSendBufferSize];
        if ($limits !== $this->appliedLimits) {
            NativeOptions::limits($this->client->pointer(), $limits[0], $limits[1]);
            $this->appliedLimits = $limits;
        }
    }

    /**
     * Lets the registry go of a connection that is closed (or never
     * connected) and has nothing pending; its remaining events still reach
     * it while the user holds it.
     */
    protected function releaseIfIdle(): void
    {
        $status = $this->getStatus();
        if ($status === self::STATUS_CLOSED || $status === self::STATUS_INITIAL) {
            Connections::release($this->id);
        }
    }

    /**
     * libwsc's count of bytes read or written, minus what assignments took off.
     *
     * @param 'bytesRead'|'bytesWritten' $name
     */
    private function byteCount(string $name): int
    {
        $counts = $this->client->byteCounts();
        if ($counts !== null) {
            $this->bytesLast = [
                'bytesRead' => $counts[0] - $this->bytesOffset['bytesRead'],
                'bytesWritten' => $counts[1] - $this->bytesOffset['bytesWritten'],
            ];
        }
        return $this->bytesLast[$name];
    }

    /**
     * "ip:port", with brackets around an IPv6 address.
     */
    protected static function joinAddress(string $ip, int $port): string
    {
        return (str_contains($ip, ':') ? "[{$ip}]" : $ip) . ':' . $port;
    }
}
