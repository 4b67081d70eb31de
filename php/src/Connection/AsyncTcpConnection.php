<?php

declare(strict_types=1);

namespace Wsc\Connection;

use FFI;
use FFI\CData;
use Wsc\EventLoop\Registry;
use Wsc\Exception\NativeException;
use Wsc\Ffi\Abi;
use Wsc\Ffi\Client;
use Wsc\Ffi\Library;
use Wsc\Ffi\Result;
use Wsc\Protocols\Http\Response;
use Wsc\Protocols\Ws;
use Wsc\Worker;

/**
 * Workerman's `AsyncTcpConnection` for `ws://` and `wss://` addresses: one
 * WebSocket client connection (RFC 6455), reconnectable, whose framing,
 * handshake, pings and TLS are done by libwsc. Set the properties and
 * callbacks, then call connect(); the callbacks run on PHP's thread from
 * the loop of `Worker::runAll()` (or `Worker::loopOnce()`), each inside
 * try/catch (see `Worker::$onException`).
 *
 * Differences from Workerman, on purpose (RFC 6455): frames are masked
 * with a random key; close() performs the closing handshake (close frame
 * 1000); text messages must be valid UTF-8 both ways; `send()` before the
 * handshake keeps the order of the calls; header values with CR or LF are
 * refused with an exception instead of being dropped; pongs are always
 * sent by libwsc, also when onWebSocketPing is set; the closing handshake
 * completes by itself, also when onWebSocketClose is set.
 *
 * Proxies (`proxyHttp`, `proxySocks5`) work for `ws://` and `wss://`; the
 * tunnel is built by libwsc before TLS and the WebSocket handshake.
 *
 * The `ssl` socket context options a PHP client reads mean what they mean
 * in PHP: verify_peer, verify_peer_name, allow_self_signed, peer_name,
 * cafile, capath, local_cert, local_pk, passphrase, peer_fingerprint,
 * ciphers, security_level, SNI_enabled, crypto_method and
 * disable_compression (TLS compression is never used). PHP's server-only
 * options are ignored, as a PHP client does. Any other `ssl` option
 * (verify_depth, capture_peer_cert, ...) makes connect() throw, naming it.
 *
 * Not supported: `socket.bindto` (refused by connect() with an
 * exception), `send($data, true)` (raw bytes: libwsc owns the socket) and
 * getRecvBufferQueueSize().
 *
 * Lifetime: while a connection is connecting, open, closing or waiting to
 * reconnect, an internal registry holds it, so a connection kept only in
 * a local variable (as in Workerman's examples) keeps working. After
 * onClose, unless connect() or reConnect() was called, the registry lets
 * it go, and the native client is freed with the last reference.
 *
 * Like Workerman's connections, it accepts properties of the user's own
 * (`$connection->userId = 42`).
 *
 * @property int $bytesRead    Bytes received over all connections of this object, the
 *                             handshakes included (after TLS decryption), read live from
 *                             libwsc (`wsc_client_bytes`) at each access; assigning a value
 *                             (e.g. 0) makes the count go on from it.
 * @property int $bytesWritten Bytes written to the socket, counted like $bytesRead (before
 *                             TLS encryption); bytes still in the send buffer are not counted.
 */
#[\AllowDynamicProperties]
class AsyncTcpConnection
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

    private const STATUS_NAMES = [
        self::STATUS_INITIAL => 'INITIAL',
        self::STATUS_CONNECTING => 'CONNECTING',
        self::STATUS_ESTABLISHED => 'ESTABLISHED',
        self::STATUS_CLOSING => 'CLOSING',
        self::STATUS_CLOSED => 'CLOSED',
    ];

    // Static properties are written `AsyncTcpConnection::$name`, not `self::$name`, on
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

    /** The process whose context the native client belongs to. */
    private int $clientPid;

    /**
     * Extra HTTP headers of the opening handshake, name => value (e.g.
     * `['Cookie' => 'a=b']`). Applied by connect() and reConnect(). A
     * header libwsc refuses (a name that is empty or not an HTTP token, a
     * value with CR, LF, NUL or another control character, or a header the
     * handshake sets itself: Upgrade, Connection,
     * Sec-WebSocket-Key/-Version/-Extensions) makes connect() throw
     * \InvalidArgumentException naming it, with libwsc's reason. `Host` may be set: it replaces
     * the URL's host:port in the request (TCP still goes to the URL's
     * host). Removing a header after a connect does not remove it from
     * later handshakes.
     *
     * @var array<string, string|int|float|\Stringable>
     */
    public array $headers = [];

    /**
     * Send a ping frame (opcode 0x9) every this many seconds while open
     * (fractions allowed, millisecond resolution); 0 turns it off. Applied
     * by connect() and reConnect().
     */
    public int|float $websocketPingInterval = 0;

    /**
     * The type of the messages send() makes: Ws::BINARY_TYPE_BLOB (text,
     * the default; the data must be valid UTF-8) or
     * Ws::BINARY_TYPE_ARRAYBUFFER (binary).
     */
    public string $websocketType = Ws::BINARY_TYPE_BLOB;

    /** The `Origin` request header of the handshake; null: none. */
    public ?string $websocketOrigin = null;

    /**
     * The `Sec-WebSocket-Protocol` request header (subprotocols offered,
     * comma-separated); null: none. A server choosing another one fails
     * the handshake.
     */
    public ?string $websocketClientProtocol = null;

    /**
     * 'tcp' or 'ssl' (TLS, also with a `ws://` address; Workerman's way to
     * reach a wss server; the port defaults to 443 then). A `wss://`
     * address sets 'ssl'. The certificate is verified against the system's
     * roots (or `ssl.cafile`) and the host name (or `ssl.peer_name`) unless
     * the socket context sets `verify_peer` or `verify_peer_name` to false
     * (UNSAFE). Applied by connect() and reConnect().
     */
    public string $transport = 'tcp';

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
     * Connect through this SOCKS5 proxy (RFC 1928), 'host:port' (an IPv6
     * host in brackets; a `socks5://` prefix is accepted); '' (the
     * default): no proxy. The proxy resolves the server's host name. Works
     * for `ws://` and `wss://` (TLS runs inside the tunnel). Applied by
     * connect() and reConnect(); setting both proxySocks5 and proxyHttp
     * makes connect() throw.
     */
    public string $proxySocks5 = '';

    /**
     * The SOCKS5 user name (RFC 1929 user/password authentication, up to
     * 255 bytes); '' (the default) offers no authentication.
     */
    public string $proxySocks5Username = '';

    /** The SOCKS5 password, used with $proxySocks5Username. */
    public string $proxySocks5Password = '';

    /**
     * Connect through this HTTP proxy with `CONNECT host:port` (RFC 9110
     * section 9.3.6), 'host:port' (an IPv6 host in brackets; an `http://`
     * prefix is accepted); '' (the default): no proxy. Works for `ws://`
     * and `wss://` (TLS runs inside the tunnel). Applied by connect() and
     * reConnect().
     */
    public string $proxyHttp = '';

    /**
     * The HTTP proxy's credentials, in one of two forms:
     * - a whole `Proxy-Authorization` header value, recognised by its
     *   scheme and a space: `Basic dXNlcjpwYXNz`, `Bearer t0k3n`... sent as
     *   given;
     * - `user:password` (no space before the first colon): sent as
     *   `Basic base64(user:password)` (RFC 7617).
     * '' (the default): none. A value with CR or LF, or in neither form,
     * makes connect() throw \InvalidArgumentException.
     */
    public string $proxyAuthorization = '';

    /**
     * Emitted when TCP (and TLS) is established, before the WebSocket
     * handshake: `function (AsyncTcpConnection $connection)`.
     *
     * @var callable|null
     */
    public $onConnect = null;

    /**
     * Emitted when the opening handshake succeeded:
     * `function (AsyncTcpConnection $connection, Response $response)`;
     * `$response` prints as the raw response head (Workerman 4's string:
     * `echo $response` works; code with `declare(strict_types=1)` that
     * passes it to a string function needs `(string) $response`) and has
     * Workerman 5's getStatusCode()/getHeader()/getHeaders().
     *
     * @var callable|null
     */
    public $onWebSocketConnect = null;

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

    /**
     * Emitted when a ping arrived: `function (AsyncTcpConnection $connection, string $payload)`.
     * libwsc has already answered it with a pong carrying the same payload
     * (Workerman leaves the pong to this callback when it is set; wsc
     * always sends it, as RFC 6455 section 5.5.2 requires).
     *
     * @var callable|null
     */
    public $onWebSocketPing = null;

    /**
     * Emitted when a pong arrived: `function (AsyncTcpConnection $connection, string $payload)`.
     *
     * @var callable|null
     */
    public $onWebSocketPong = null;

    /**
     * Emitted when the server's close frame arrived (RFC 6455 5.5.1):
     * `function (AsyncTcpConnection $connection, string $payload)`, the
     * frame's payload as Workerman gives it: the status code as 2 bytes
     * big-endian then the reason ('' when the frame had no code;
     * `unpack('n', $payload)[1]` reads the code). Unlike Workerman, the
     * closing handshake completes by itself whether or not this is set
     * (RFC 6455 requires the answer); onClose follows.
     *
     * @var callable|null
     */
    public $onWebSocketClose = null;

    /**
     * A wsc addition: after each ping (see websocketPingInterval), the
     * seconds to wait for a pong before the server is taken as gone; then
     * onError(PROTOCOL_FAIL, "timeout: no pong within ...") and onClose
     * (close code 1006). 0 turns the check off. Workerman has no such
     * check: a dead peer behind a silent network is never noticed there.
     */
    public int|float $websocketPongTimeout = 10;

    /**
     * A wsc addition: permessage-deflate compression (RFC 7692), off by
     * default as in Workerman (a compressing connection keeps up to
     * ~300 KiB of compressor state). Read at connect():
     *
     * - `false`: no compression offered;
     * - `true`: offer permessage-deflate with the defaults (context
     *   takeover both ways, window bits left to the server, zlib level 6);
     * - an array of parameters, each optional:
     *   `'client_no_context_takeover' => bool` (this client does not keep
     *   its context between messages: no compressor kept while idle),
     *   `'server_no_context_takeover' => bool` (ask the server the same: no
     *   decompressor kept while idle; both true = the low-memory mode),
     *   `'client_max_window_bits' => int` 9..15 (this client's window is
     *   at most 2^N bytes), `'server_max_window_bits' => int` 9..15 (ask
     *   the server for at most 2^N bytes), `'level' => int` 0..9 (zlib's
     *   level; 0, as when not given, is the default, 6).
     *
     * When the server accepts, messages go compressed both ways (send()
     * and onMessage are unchanged; maxPackageSize applies to the inflated
     * size); when it declines, the connection works uncompressed. The
     * server's answer in force: getWebSocketExtensions(). A bad value makes
     * connect() throw \InvalidArgumentException.
     *
     * @var bool|array<string, bool|int>
     */
    public bool|array $websocketCompression = false;

    /**
     * A wsc addition, emitted for a message that send() queued (returned
     * null) and that will not be delivered because the connection attempt
     * ended first: `function (AsyncTcpConnection $connection, string $data)`.
     * When null, onError(SEND_FAIL) reports it instead.
     *
     * @var callable|null
     */
    public $onUndelivered = null;

    /** libwsc, cached for send() by init(); null until the first construction. */
    private static ?FFI $ffi = null;

    /** `wsc_send_status`, the out parameter of every send(), and its address. */
    private static ?CData $sendStatus = null;

    private static ?CData $sendStatusAddress = null;

    /**
     * True while the ABI has no `SEND_STATUS_QUEUED_BUFFER_FULL` (a libwsc
     * from before it): send() then asks for the queued bytes
     * (getSendBufferQueueSize()) to decide onBufferFull. Goes once the
     * library that reports it is merged.
     */
    private static bool $statusWithoutFull = false;

    private Client $client;

    /** onBufferFull was called and onBufferDrain has not followed yet. */
    private bool $bufferFullReported = false;

    /** @var array{0: int, 1: int} the limits last given to libwsc: [maxPackageSize, maxSendBufferSize] */
    private array $appliedLimits = [0, 0];

    /** @var array{bytesRead: int, bytesWritten: int} subtracted from libwsc's counts (assignments) */
    private array $bytesOffset = ['bytesRead' => 0, 'bytesWritten' => 0];

    /** @var array{bytesRead: int, bytesWritten: int} the last counts read, kept after the client is freed */
    private array $bytesLast = ['bytesRead' => 0, 'bytesWritten' => 0];

    /** The proxy of the current attempt, for error messages ('' for none). */
    private string $proxyInUse = '';

    /** @var array{scheme: string, host: string, port?: int, path?: string, query?: string} */
    private array $url;

    private bool $openedInAttempt = false;

    private ?string $lastMessageType = null;

    private ?int $closeCode = null;

    private string $closeReason = '';

    /**
     * @param string               $remoteAddress `ws://host[:port][/path][?query]` or `wss://...`
     *                                            (port 80, or 443 for wss/ssl, by default)
     * @param array<string, mixed> $socketContext PHP stream context options; wsc reads
     *                                            `ssl`: verify_peer, verify_peer_name
     *                                            (false: UNSAFE), allow_self_signed
     *                                            (true: accepts a self-signed server
     *                                            certificate, the name still checked),
     *                                            peer_name, cafile, capath,
     *                                            local_cert, local_pk, passphrase,
     *                                            peer_fingerprint, ciphers,
     *                                            security_level, SNI_enabled,
     *                                            crypto_method, disable_compression
     *                                            (files are read by connect(), which
     *                                            throws \InvalidArgumentException for a
     *                                            bad or unsupported option);
     *                                            `socket.bindto` other than
     *                                            '0:0' makes connect() throw (not
     *                                            supported)
     *
     * @throws \InvalidArgumentException when the address does not parse, has another scheme
     *                                   (tcp://, http://...), no host, or a fragment
     * @throws \Wsc\Exception\LibraryException when libwsc cannot be loaded
     */
    public function __construct(private readonly string $remoteAddress, private readonly array $socketContext = [])
    {
        self::defineWorkerman4Constants();
        $url = str_contains($remoteAddress, "\0") ? false : parse_url($remoteAddress);
        if ($url === false || !isset($url['scheme'], $url['host'])) {
            throw new \InvalidArgumentException(
                "invalid remote address '{$remoteAddress}': expected ws://host[:port][/path][?query] or wss://..."
            );
        }
        $scheme = strtolower($url['scheme']);
        if ($scheme !== 'ws' && $scheme !== 'wss') {
            throw new \InvalidArgumentException(
                "unsupported scheme '{$url['scheme']}' in '{$remoteAddress}': wsc is a WebSocket client, "
                . 'use ws:// or wss:// (or ws:// with $connection->transport = \'ssl\')'
            );
        }
        $url['scheme'] = $scheme;
        $this->url = $url;
        $this->createClient();
        if ($scheme === 'wss') {
            $this->transport = 'ssl';
        }
        $this->maxSendBufferSize = AsyncTcpConnection::$defaultMaxSendBufferSize;
        $this->maxPackageSize = AsyncTcpConnection::$defaultMaxPackageSize;
        Connections::add($this);
        if (AsyncTcpConnection::$ffi === null) {
            self::init();
        }
    }

    /**
     * Creates the native client on the process's context and takes its id.
     *
     * @throws \InvalidArgumentException when libwsc refuses the address
     * @throws NativeException           when libwsc cannot create the client
     */
    private function createClient(): void
    {
        $this->client = new Client($this->remoteAddress);
        $this->id = $this->client->id;
        $this->clientPid = getmypid();
    }

    /**
     * In a fork() child, a connection created before the fork belongs to
     * the parent's context: give it a native client on the child's own
     * context (a new id; the options are applied again by connect()).
     */
    private function adoptAfterFork(): void
    {
        if ($this->clientPid === getmypid()) {
            return;
        }
        Connections::remove($this->id);
        $this->client->free();
        $this->appliedLimits = [-1, -1];
        $this->createClient();
        Connections::add($this);
    }

    /**
     * Forgets the connection in the table of live objects; the native
     * client is freed by its handle.
     */
    public function __destruct()
    {
        if (isset($this->id)) {
            Connections::remove($this->id);
        }
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
     * Starts connecting, without blocking: DNS, TCP, TLS, the opening
     * handshake; progress arrives as onConnect, onWebSocketConnect, or
     * onError(CONNECT_FAIL) then onClose. Applies the properties first
     * (headers, websocketOrigin, websocketClientProtocol,
     * websocketPingInterval, transport and the `ssl` options,
     * maxPackageSize, maxSendBufferSize, proxySocks5 or proxyHttp). Ignored
     * while connecting or open; cancels a pending reConnect() delay and
     * connects now.
     *
     * @throws \InvalidArgumentException for a bad header (named in the message),
     *                                   a negative ping interval, a bad transport,
     *                                   a refused `ssl` option (named), a malformed
     *                                   proxy setting or `socket.bindto`
     * @throws \LogicException           when the connection was freed (Worker stopped)
     */
    public function connect(): void
    {
        $this->adoptAfterFork();
        $this->applyOptions();
        Connections::keep($this);
        // Inside a Workerman worker, or with a ReactPHP/Revolt loop attached:
        // make that loop watch the context (again).
        Registry::connecting();
        $this->client->connect();
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
        $result = AsyncTcpConnection::$ffi->wsc_client_send(
            $client,
            $type,
            $data,
            $len,
            AsyncTcpConnection::$sendStatusAddress,
        );
        if ($result === Abi::RESULT_OK) {
            $status = AsyncTcpConnection::$sendStatus->cdata;
            if ($status === Abi::SEND_STATUS_WRITTEN) {
                return true;
            }
            // Workerman calls onBufferFull from inside the send() that
            // filled the buffer: libwsc says so in the send's status, and
            // its BUFFER_FULL event, which comes later, is then ignored
            // (handleEvent).
            if (AsyncTcpConnection::$statusWithoutFull) {
                if (!$this->bufferFullReported && $this->getSendBufferQueueSize() >= $this->appliedLimits[1]) {
                    $this->bufferFullReported = true;
                    $this->emit('onBufferFull');
                }
            } elseif ($status === Abi::SEND_STATUS_QUEUED_BUFFER_FULL && !$this->bufferFullReported) {
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
     * Connects again after `$after` seconds with the same object, URL,
     * callbacks and properties (re-applied now). An open connection is
     * closed first, at once (onClose is called). Messages sent meanwhile
     * are queued for the new connection. A second call replaces the
     * pending delay. Workerman 5's reconnect() is the same method (PHP
     * method names are case-insensitive).
     *
     * @param int|float $after the delay in seconds (millisecond resolution); 0: now
     *
     * @throws \InvalidArgumentException like connect()
     * @throws \LogicException           when the connection was freed (Worker stopped)
     */
    public function reConnect(int|float $after = 0): void
    {
        $ms = (int) round(max(0, $after) * 1000);
        $ms = min($ms, 0xffffffff);
        $this->adoptAfterFork();
        $this->applyOptions();
        Connections::keep($this);
        // Inside a Workerman worker, or with a ReactPHP/Revolt loop attached:
        // make that loop watch the context (again).
        Registry::connecting();
        $this->client->reconnect($ms);
    }

    /**
     * Cancels a pending reConnect($after) (Workerman's cancelReconnect());
     * the connection stays closed. Messages queued for that attempt come
     * back through onUndelivered (or onError SEND_FAIL). Ignored when no
     * reconnect is pending.
     */
    public function cancelReconnect(): void
    {
        if ($this->client->isFreed()) {
            return;
        }
        $this->client->cancelReconnect();
        $this->releaseIfIdle();
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
     * The request URI of the handshake: the path ('/' when none) and the
     * query of the address, e.g. '/chat?room=1'.
     */
    public function getRemoteURI(): string
    {
        $uri = ($this->url['path'] ?? '') === '' ? '/' : $this->url['path'];
        if (isset($this->url['query'])) {
            $uri .= '?' . $this->url['query'];
        }
        return $uri;
    }

    /**
     * The host of the address, as written (an IPv6 address in brackets).
     */
    public function getRemoteHost(): string
    {
        return $this->url['host'];
    }

    /**
     * The server's port: of the current or last TCP connection (the proxy's
     * when one is used, as in Workerman); before any, the port of the
     * address, by default 443 for `wss://` or transport 'ssl', else 80.
     */
    public function getRemotePort(): int
    {
        $address = $this->client->address(false);
        if ($address !== null) {
            return $address[1];
        }
        if (isset($this->url['port'])) {
            return $this->url['port'];
        }
        return $this->url['scheme'] === 'wss' || strtolower($this->transport) === 'ssl' ? 443 : 80;
    }

    /**
     * "ip:port" of the server ("[ip6]:port" for IPv6) of the current or
     * last TCP connection (the proxy's when one is used, as in Workerman);
     * before any, "host:port" of the address.
     */
    public function getRemoteAddress(): string
    {
        $address = $this->client->address(false);
        if ($address !== null) {
            return self::joinAddress($address[0], $address[1]);
        }
        return $this->getRemoteHost() . ':' . $this->getRemotePort();
    }

    /**
     * The server's IP address (IPv6 without brackets) of the current or last
     * TCP connection (the proxy's when one is used, as in Workerman); before
     * any, the host of the address (as Workerman, which may be a name).
     */
    public function getRemoteIp(): string
    {
        $address = $this->client->address(false);
        return $address !== null ? $address[0] : trim($this->url['host'], '[]');
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
     * True when getRemoteIp() is an IPv4 address.
     */
    public function isIpV4(): bool
    {
        return filter_var($this->getRemoteIp(), FILTER_VALIDATE_IP, FILTER_FLAG_IPV4) !== false;
    }

    /**
     * True when getRemoteIp() is an IPv6 address.
     */
    public function isIpV6(): bool
    {
        return filter_var($this->getRemoteIp(), FILTER_VALIDATE_IP, FILTER_FLAG_IPV6) !== false;
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
     * A wsc addition: the WebSocket extensions in force on the last
     * connection that opened, as the server answered them
     * (`Sec-WebSocket-Extensions`, RFC 6455 section 9.1), e.g.
     * `permessage-deflate; server_no_context_takeover`; '' when it opened
     * without compression (see websocketCompression), before the first
     * open, and once freed.
     */
    public function getWebSocketExtensions(): string
    {
        return $this->client->extensions();
    }

    /**
     * A wsc addition: whether the last TLS handshake resumed an earlier
     * session (RFC 8446 section 2.2) instead of a full handshake. libwsc
     * keeps the sessions of connections with the same `ssl` options to the
     * same host, port and peer name (on the same context, i.e. in this
     * process), so a reConnect() after a network blip skips the
     * certificate exchange when the server agrees. False before the first
     * TLS handshake, for `ws://` without transport 'ssl', and once freed.
     */
    public function isTlsSessionResumed(): bool
    {
        return $this->client->tlsSessionResumed();
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
     * A wsc addition: the close status code of the last close (RFC 6455
     * section 7.4): the server's (e.g. 1000, 4000), 1005 when its close frame had
     * none, 1006 when the connection ended without a closing handshake
     * (failed attempt, broken connection); null before the first onClose.
     */
    public function getCloseCode(): ?int
    {
        return $this->closeCode;
    }

    /**
     * A wsc addition: the close reason of the last close (or the error text
     * when the code is 1006); '' before the first onClose.
     */
    public function getCloseReason(): string
    {
        return $this->closeReason;
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
     * Defines Workerman 4's global onError constants WORKERMAN_CONNECT_FAIL
     * (1) and WORKERMAN_SEND_FAIL (2) unless they exist, at the first
     * construction rather than at autoload: inside a Workerman 4 process
     * Workerman declares them itself (unconditionally) when its Worker
     * class loads, which comes first there, so the two never clash.
     * Workerman 5 code uses the class constants, which this class has.
     */
    private static function defineWorkerman4Constants(): void
    {
        if (!defined('WORKERMAN_CONNECT_FAIL')) {
            define('WORKERMAN_CONNECT_FAIL', self::CONNECT_FAIL);
        }
        if (!defined('WORKERMAN_SEND_FAIL')) {
            define('WORKERMAN_SEND_FAIL', self::SEND_FAIL);
        }
    }

    /**
     * Caches libwsc and the C buffers of send().
     */
    private static function init(): void
    {
        $ffi = Library::get()->ffi;
        AsyncTcpConnection::$sendStatus = $ffi->new('wsc_send_status');
        AsyncTcpConnection::$sendStatusAddress = FFI::addr(AsyncTcpConnection::$sendStatus);
        AsyncTcpConnection::$statusWithoutFull = !defined(Abi::class . '::SEND_STATUS_QUEUED_BUFFER_FULL');
        AsyncTcpConnection::$ffi = $ffi;
    }

    /**
     * Reports an exception thrown by one of this connection's callbacks
     * (the report names it: "onMessage of connection #3 (ws://...)").
     */
    private function reportCallbackException(\Throwable $e, string $callback): void
    {
        Worker::reportException($e, "{$callback} of connection #{$this->id} ({$this->remoteAddress})");
    }

    /**
     * Hands a message to onMessage (the hot path of EventPump::dispatch()).
     *
     * @internal called by EventPump
     *
     * @param string $data   the whole message
     * @param bool   $binary true for a binary message, false for text
     */
    public function handleMessage(string $data, bool $binary): void
    {
        $this->lastMessageType = $binary ? Ws::BINARY_TYPE_ARRAYBUFFER : Ws::BINARY_TYPE_BLOB;
        $fn = $this->onMessage;
        if ($fn !== null) {
            try {
                $fn($this, $data);
            } catch (\Throwable $e) {
                $this->reportCallbackException($e, 'onMessage');
            }
        }
    }

    /**
     * Runs the callbacks of one event of this connection.
     *
     * @internal called by EventPump
     *
     * @param array<string, int|string|bool> $event an event of EventPump::take()
     */
    public function handleEvent(array $event): void
    {
        $type = $event['type'];
        switch ($type) {
            case Abi::EVENT_TYPE_CONNECTED:
                $this->emit('onConnect');
                break;
            case Abi::EVENT_TYPE_OPEN:
                $this->openedInAttempt = true;
                $this->emit('onWebSocketConnect', new Response($event['data']));
                break;
            case Abi::EVENT_TYPE_TEXT:
                $this->lastMessageType = Ws::BINARY_TYPE_BLOB;
                $this->emit('onMessage', $event['data']);
                break;
            case Abi::EVENT_TYPE_BINARY:
                $this->lastMessageType = Ws::BINARY_TYPE_ARRAYBUFFER;
                $this->emit('onMessage', $event['data']);
                break;
            case Abi::EVENT_TYPE_PING:
                $this->emit('onWebSocketPing', $event['data']);
                break;
            case Abi::EVENT_TYPE_PONG:
                $this->emit('onWebSocketPong', $event['data']);
                break;
            case Abi::EVENT_TYPE_CLOSE_FRAME:
                $code = (int) $event['closeCode'];
                $this->emit('onWebSocketClose', $code === 1005 ? '' : pack('n', $code) . $event['data']);
                break;
            case Abi::EVENT_TYPE_BUFFER_FULL:
                if (!$this->bufferFullReported) {
                    $this->bufferFullReported = true;
                    $this->emit('onBufferFull');
                }
                break;
            case Abi::EVENT_TYPE_BUFFER_DRAIN:
                $this->bufferFullReported = false;
                $this->emit('onBufferDrain');
                break;
            case Abi::EVENT_TYPE_ERROR:
                $code = $this->openedInAttempt ? self::PROTOCOL_FAIL : self::CONNECT_FAIL;
                $message = $event['data'] !== '' ? $event['data'] : Result::text($event['error']);
                $toProxy = [Abi::RESULT_CONNECT, Abi::RESULT_DNS, Abi::RESULT_TIMEOUT];
                if (
                    $code === self::CONNECT_FAIL && $this->proxyInUse !== ''
                    && in_array($event['error'], $toProxy, true)
                ) {
                    $message .= " (connecting to the proxy {$this->proxyInUse})";
                }
                $this->emit('onError', $code, $message);
                break;
            case Abi::EVENT_TYPE_UNDELIVERED:
                if ($this->onUndelivered !== null) {
                    $this->emit('onUndelivered', $event['data']);
                } else {
                    $this->emit('onError', self::SEND_FAIL, sprintf(
                        'a message of %d bytes was not delivered: the connection ended before it was written',
                        strlen($event['data']),
                    ));
                }
                break;
            case Abi::EVENT_TYPE_CLOSED:
                $this->openedInAttempt = false;
                $this->bufferFullReported = false;
                $this->closeCode = $event['closeCode'];
                $this->closeReason = $event['data'];
                $this->emit('onClose');
                $status = $this->getStatus();
                if ($status !== self::STATUS_CONNECTING && $status !== self::STATUS_ESTABLISHED) {
                    Connections::release($this->id);
                }
                break;
        }
    }

    /**
     * Calls one callback property, if set, inside try/catch.
     */
    private function emit(string $callback, mixed ...$args): void
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
     * Gives libwsc the current properties before a connect (NativeOptions).
     *
     * @throws \InvalidArgumentException naming the property or option that is refused
     */
    private function applyOptions(): void
    {
        $client = $this->client->pointer();
        $headers = $this->headers;
        if ($this->websocketOrigin !== null) {
            $headers['Origin'] = $this->websocketOrigin;
        }
        if ($this->websocketClientProtocol !== null) {
            $headers['Sec-WebSocket-Protocol'] = $this->websocketClientProtocol;
        }
        NativeOptions::headers($client, $headers);
        NativeOptions::timers($client, $this->websocketPingInterval, $this->websocketPongTimeout);
        NativeOptions::compression($client, $this->websocketCompression);
        NativeOptions::socket($this->socketContext);
        NativeOptions::tls($client, $this->transport, $this->socketContext);
        $this->proxyInUse = NativeOptions::proxy(
            $client,
            $this->proxySocks5,
            $this->proxySocks5Username,
            $this->proxySocks5Password,
            $this->proxyHttp,
            $this->proxyAuthorization,
        );
        $this->appliedLimits = [0, 0];
        $this->applyLimits();
    }

    /**
     * Gives libwsc maxPackageSize and maxSendBufferSize when they changed
     * since the last time (libwsc applies them at once).
     *
     * @throws \InvalidArgumentException when one is below 1
     */
    private function applyLimits(): void
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
    private function releaseIfIdle(): void
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
    private static function joinAddress(string $ip, int $port): string
    {
        return (str_contains($ip, ':') ? "[{$ip}]" : $ip) . ':' . $port;
    }
}
