<?php

declare(strict_types=1);

namespace Wsc\Connection;

use Wsc\EventLoop\Registry;
use Wsc\Exception\NativeException;
use Wsc\Ffi\Abi;
use Wsc\Ffi\Client;
use Wsc\Ffi\Result;
use Wsc\Protocols\Http\Response;
use Wsc\Protocols\Ws;

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
 * The `socket` context options of a PHP client: `bindto` (the local
 * address, 'ip:port', port 0 for any) and `tcp_nodelay`; any other
 * `socket` option makes connect() throw, naming it. TCP keepalive
 * (tcpKeepAlive) and TCP_NODELAY are on by default, with Workerman's
 * values; connectTo sends TCP elsewhere while the URL's host stays in
 * `Host` and the TLS checks; the addresses of a host are raced (Happy
 * Eyeballs, RFC 8305).
 *
 * Not supported: `send($data, true)` (raw bytes: libwsc owns the socket)
 * and getRecvBufferQueueSize().
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
 * As in Workerman, the members that Workerman's `TcpConnection` defines
 * (send(), close(), destroy(), the limits, onMessage, onError, onClose,
 * onBufferFull, onBufferDrain, $bytesRead/$bytesWritten...) come from
 * TcpConnection, which this class extends.
 */
#[\AllowDynamicProperties]
class AsyncTcpConnection extends TcpConnection
{
    /** onReconnect's `$reason` for each `wsc_reconnect_reason`. */
    private const RECONNECT_REASONS = [
        Abi::RECONNECT_REASON_BACKOFF => 'backoff',
        Abi::RECONNECT_REASON_RETRY_AFTER => 'retry-after',
        Abi::RECONNECT_REASON_FATAL => 'fatal',
        Abi::RECONNECT_REASON_ATTEMPTS_EXHAUSTED => 'attempts-exhausted',
    ];

    /** The process whose context the native client belongs to. */
    private int $clientPid;

    /**
     * Extra HTTP headers of the opening handshake, name => value (e.g.
     * `['Cookie' => 'a=b']`). Applied by connect() and reConnect(). A
     * header libwsc refuses (a name that is empty or not an HTTP token, a
     * value with CR, LF, NUL or another control character, or a header the
     * handshake sets itself: Upgrade, Connection,
     * Sec-WebSocket-Key/-Version/-Extensions) makes connect() throw
     * \InvalidArgumentException naming it, with libwsc's reason. `Host`
     * may be set: it replaces the URL's host:port in the request (TCP
     * still goes to the URL's host). Removing a header after a connect
     * does not remove it from later handshakes.
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
     * (close code 1006). Any frame received after the ping (a message, a
     * ping, a pong) counts as the sign of life. 0 turns the check off.
     * Workerman has no such check: a dead peer behind a silent network is
     * never noticed there.
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

    /**
     * A wsc addition (Workerman sets its keepalive with no way to change
     * it): TCP keepalive on the connection's socket, read at connect().
     * An int: seconds of silence before the kernel's first probe and
     * between probes, one unanswered probe resets the connection (then
     * onError(PROTOCOL_FAIL) and onClose, code 1006); 0 turns it off. Or
     * `['idle' => s, 'interval' => s, 'count' => n]` (1..32767 s, 1..127
     * probes). Default: static::TCP_KEEPALIVE_INTERVAL (55), Workerman 5's
     * values, which it sets on its `tcp` transport only; wsc sets them for
     * `ssl` too. A bad value makes connect() throw
     * \InvalidArgumentException.
     *
     * @var int|array{idle: int, interval: int, count: int}
     */
    public int|array $tcpKeepAlive = self::TCP_KEEPALIVE_INTERVAL;

    /**
     * A wsc addition, as curl's `--connect-to`: TCP goes to this address
     * instead of the URL's host and port, while the URL's host stays in
     * the `Host` header, in SNI and in the certificate name check (a
     * server of a cluster, a host name that does not resolve from here).
     * 'host[:port]' (a name, resolved at each connect, or an IP; IPv6 as
     * '[ip]:port'), or several 'ip[:port]' separated by commas, raced as a
     * resolver's answer is (Happy Eyeballs); no port: the URL's. With a
     * proxy, the proxy is asked to tunnel to the first entry. '' (the
     * default): the URL's host. Read at connect(); a malformed value makes
     * connect() throw \InvalidArgumentException.
     */
    public string $connectTo = '';

    /**
     * A wsc addition: reconnect by itself after a connection ends or an
     * attempt fails (not after close() or destroy()): the first delay in
     * seconds (fractions allowed, millisecond resolution), doubled for
     * each attempt in a row up to reconnectMaxDelay, less a random part
     * of up to half (jitter). 0 (the default) turns it off: Workerman's
     * behaviour, where onClose calls reConnect(). onClose still comes for
     * each end; onReconnect says what follows. A reConnect() call (also
     * from onClose) replaces the pending automatic delay, as it replaces
     * its own. Applied by connect() and reConnect().
     */
    public int|float $reconnectDelay = 0;

    /**
     * A wsc addition: the longest automatic reconnect delay, in seconds
     * (not below reconnectDelay, else connect() throws). Default 30.
     */
    public int|float $reconnectMaxDelay = 30;

    /**
     * A wsc addition: the automatic reconnect delay (and the count of
     * reconnectMaxAttempts) starts over only after a connection stayed
     * open this many seconds, so that a server that accepts then drops at
     * once is not hammered. 0: after every open. Default 10.
     */
    public int|float $reconnectResetAfter = 10;

    /**
     * A wsc addition: the most automatic reconnect attempts in a row (the
     * first connect not counted; the count starts over after a connection
     * that stayed open reconnectResetAfter seconds, and at connect()).
     * When used up, onReconnect gets reason 'attempts-exhausted' and the
     * connection stays closed. 0 (the default): no limit.
     */
    public int $reconnectMaxAttempts = 0;

    /**
     * A wsc addition: the longest `Retry-After` honoured, in seconds. A
     * handshake refused with 429 or 503 and a `Retry-After` (seconds or an
     * HTTP date, RFC 9110 section 10.2.3) makes the next automatic attempt
     * wait at least that long, at most this, even beyond
     * reconnectMaxDelay (onReconnect reason 'retry-after'). 0: the header
     * is ignored. Default 600.
     */
    public int|float $reconnectRetryAfterMax = 600;

    /**
     * A wsc addition: which refused handshakes the automatic reconnect
     * retries, HTTP status => true (retried) or false (fatal: no
     * reconnect, onReconnect reason 'fatal'). Statuses not listed keep the
     * default: 400, 401, 403 and 404 fatal, every other one retried. E.g.
     * `[403 => true, 502 => false]`. A key outside 100..599 (or 101), or a
     * value that is not a bool, makes connect() throw.
     *
     * @var array<int, bool>
     */
    public array $reconnectStatuses = [];

    /**
     * A wsc addition: whether the automatic reconnect retries after a TLS
     * certificate failure (the chain does not verify, the name does not
     * match, a pinned fingerprint differs). Default false: fatal. Bad
     * settings (a refused URL or header, unusable TLS files) are always
     * fatal.
     */
    public bool $reconnectOnTlsVerifyFailure = false;

    /**
     * A wsc addition, emitted with each decision of the automatic
     * reconnect (reconnectDelay > 0), after onError and before onClose of
     * the end it follows:
     * `function (AsyncTcpConnection $connection, ?float $delay, string $reason, int $attempt, string $message)`:
     * `$delay` the seconds until the next attempt, null when not
     * reconnecting; `$reason` 'backoff', 'retry-after' (the server's
     * Retry-After set the delay), 'fatal' (not retried: see
     * reconnectStatuses, reconnectOnTlsVerifyFailure) or
     * 'attempts-exhausted' (reconnectMaxAttempts used up); `$attempt` the
     * number in a row of the attempt that follows (when not reconnecting:
     * of the attempts made); `$message` the decision in words, e.g.
     * "reconnecting in 2000 ms (attempt 1): the server asked to retry
     * after 2 s (HTTP 429 Retry-After)".
     *
     * @var callable|null
     */
    public $onReconnect = null;

    /** The last refused handshake's response, until an attempt opens. */
    private ?Response $handshakeResponse = null;

    /**
     * A wsc addition: an application-level heartbeat, for servers that
     * require a message of their own besides ping frames (exchanges that
     * drop clients not sending e.g. `ping` or `{"op":"ping"}` every N
     * seconds). While the connection is open, websocketHeartbeatData is
     * sent as a websocketHeartbeatType message every this many seconds
     * (fractions allowed, millisecond resolution), the first one an
     * interval after onWebSocketConnect; 0 (the default) turns it off. It
     * replaces Workerman's `Timer::add($n, fn () => $con->send('ping'))`,
     * and keeps going while the user's code is busy (libwsc's fallback
     * thread sends it). Applied by connect() and reConnect(). A heartbeat
     * is an ordinary message for the server and for getMetrics(); one that
     * finds the send buffer full is skipped.
     */
    public int|float $websocketHeartbeatInterval = 0;

    /** A wsc addition: the heartbeat's payload (see websocketHeartbeatInterval); '' by default. */
    public string $websocketHeartbeatData = '';

    /**
     * A wsc addition: the heartbeat's message type, Ws::BINARY_TYPE_BLOB
     * (text, the default; websocketHeartbeatData must then be UTF-8) or
     * Ws::BINARY_TYPE_ARRAYBUFFER (binary).
     */
    public string $websocketHeartbeatType = Ws::BINARY_TYPE_BLOB;

    /**
     * A wsc addition: the receive-idle timeout in seconds (fractions
     * allowed): when no message (text or binary) arrived for this long
     * while open, the connection is taken as dead: onError(PROTOCOL_FAIL,
     * "timeout: no message from the server within N ms (the receive-idle
     * timeout)") then onClose with getCloseCode() 1006; the automatic
     * reconnect (reconnectDelay) applies, or reConnect() from onClose as
     * in Workerman. Pings and pongs do not count (a feed can go quiet
     * while pings still work); while pauseRecv() is in force it does not
     * fire. 0 (the default) turns it off. Applied by connect() and
     * reConnect().
     */
    public int|float $websocketIdleTimeout = 0;

    /**
     * A wsc addition: with permessage-deflate in force (see
     * websocketCompression), messages shorter than this many bytes are sent
     * uncompressed: below a few hundred bytes deflate saves little and
     * costs CPU on both sides. 0 compresses every message;
     * sendWithCompression() chooses per message. Default 256. Applied by
     * connect() and reConnect().
     */
    public int $websocketCompressionThreshold = 256;

    /** The proxy of the current attempt, for error messages ('' for none). */
    private string $proxyInUse = '';

    /** @var array{scheme: string, host: string, port?: int, path?: string, query?: string} */
    private array $url;

    private bool $openedInAttempt = false;

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
     *                                            `socket`: bindto ('ip:port',
     *                                            '[ipv6]:port'; port 0: any),
     *                                            tcp_nodelay (bool); another
     *                                            `socket` option makes connect()
     *                                            throw
     *
     * @throws \InvalidArgumentException when the address does not parse, has another scheme
     *                                   (tcp://, http://...), no host, or a fragment
     * @throws \Wsc\Exception\LibraryException when libwsc cannot be loaded
     */
    public function __construct(string $remoteAddress, private readonly array $socketContext = [])
    {
        parent::__construct($remoteAddress);
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
        $this->tcpKeepAlive = static::TCP_KEEPALIVE_INTERVAL;
        $this->maxSendBufferSize = AsyncTcpConnection::$defaultMaxSendBufferSize;
        $this->maxPackageSize = AsyncTcpConnection::$defaultMaxPackageSize;
        Connections::add($this->id, $this);
        self::init();
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
        Connections::add($this->id, $this);
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
     * Starts connecting, without blocking: DNS, TCP, TLS, the opening
     * handshake; progress arrives as onConnect, onWebSocketConnect, or
     * onError(CONNECT_FAIL) then onClose. Applies the properties first
     * (headers, websocketOrigin, websocketClientProtocol,
     * websocketPingInterval, transport and the `ssl` and `socket` options,
     * tcpKeepAlive, connectTo, maxPackageSize, maxSendBufferSize,
     * proxySocks5 or proxyHttp, the reconnect* properties). Ignored
     * while connecting or open; cancels a pending reConnect() delay and
     * connects now.
     *
     * @throws \InvalidArgumentException for a bad header (named in the message),
     *                                   a negative ping interval, a bad transport,
     *                                   a refused `ssl` option (named), a malformed
     *                                   proxy setting, `socket` option, tcpKeepAlive
     *                                   or connectTo, a refused reconnect* property (named)
     * @throws \LogicException           when the connection was freed (Worker stopped)
     */
    public function connect(): void
    {
        $this->adoptAfterFork();
        $this->applyOptions();
        Connections::keep($this->id, $this);
        // Inside a Workerman worker, or with a ReactPHP/Revolt loop attached:
        // make that loop watch the context (again).
        Registry::connecting();
        $this->client->connect();
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
        Connections::keep($this->id, $this);
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
     * A wsc addition: the server's response to the last opening handshake
     * it refused (a status other than 101), the same Response type
     * onWebSocketConnect gets, with getStatusCode(), getReasonPhrase(),
     * getHeader() (e.g. 'Retry-After'), getHeaders(), and rawBody(): the
     * first bytes of the body (at most 4096, what arrived within 300 ms of
     * the head). Set before onError(CONNECT_FAIL) of the refusal is
     * called (whose message is "opening handshake refused: HTTP 403
     * Forbidden: " and the start of the body); null before any refusal
     * and once an attempt opens.
     */
    public function getHandshakeResponse(): ?Response
    {
        return $this->handshakeResponse;
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
     * A wsc addition: the link metrics, for graphs and health checks:
     *
     * - `rtt_last_us`, `rtt_smoothed_us`, `rtt_variation_us` (int|null,
     *   microseconds; null before the first pong): the round-trip time of
     *   the last ping answered by a pong (pings of websocketPingInterval or
     *   ping frames of libwsc), its smoothed value and variation as in
     *   RFC 6298 section 2 (SRTT with alpha 1/8, RTTVAR with beta 1/4);
     *   `rtt_samples` (int) the pongs measured;
     * - `connect_dns_us`, `connect_tcp_us`, `connect_proxy_us`,
     *   `connect_tls_us`, `connect_handshake_us`, `connect_total_us`
     *   (int|null, microseconds): the phases of the last connect that
     *   reached onWebSocketConnect (null: the phase did not take place,
     *   e.g. no DNS for an IP address, no TLS for ws://);
     * - `connects` (attempts started), `reconnects` (attempts after the
     *   first), `opens` (attempts that reached onWebSocketConnect);
     * - `messages_sent`, `messages_received` and `payload_bytes_sent`,
     *   `payload_bytes_received` (before compression / after
     *   decompression): data messages over the connection's whole life,
     *   heartbeats included; `wire_bytes_read`, `wire_bytes_written`: as
     *   $bytesRead/$bytesWritten before any assignment to them.
     *
     * Every value is 0 or null once the connection was freed.
     *
     * @return array<string, int|null>
     */
    public function getMetrics(): array
    {
        $m = $this->client->metrics() ?? array_fill_keys(self::METRICS_KEYS, -1);
        foreach ($m as $key => $value) {
            if (str_ends_with($key, '_us')) {
                $m[$key] = $value < 0 ? null : $value;
            } elseif ($value < 0) {
                $m[$key] = 0;
            }
        }
        return $m;
    }

    /** The keys of getMetrics(), in order. */
    private const METRICS_KEYS = [
        'rtt_last_us', 'rtt_smoothed_us', 'rtt_variation_us', 'rtt_samples', 'connect_dns_us',
        'connect_tcp_us', 'connect_proxy_us', 'connect_tls_us', 'connect_handshake_us',
        'connect_total_us', 'connects', 'reconnects', 'opens', 'messages_sent', 'messages_received',
        'payload_bytes_sent', 'payload_bytes_received', 'wire_bytes_read', 'wire_bytes_written',
    ];

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
                $this->handshakeResponse = null;
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
                if (isset($event['httpHead'])) {
                    $this->handshakeResponse = new Response((string) $event['httpHead'], (string) $event['httpBody']);
                }
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
            case Abi::EVENT_TYPE_RECONNECT:
                $reason = self::RECONNECT_REASONS[$event['reconnectReason']] ?? 'backoff';
                $retrying = $reason === 'backoff' || $reason === 'retry-after';
                $this->emit(
                    'onReconnect',
                    $retrying ? (int) $event['delayMs'] / 1000.0 : null,
                    $reason,
                    (int) $event['attempt'],
                    (string) $event['data'],
                );
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
        NativeOptions::liveness(
            $client,
            $this->websocketHeartbeatInterval,
            $this->websocketHeartbeatData,
            $this->websocketHeartbeatType,
            $this->websocketIdleTimeout,
            $this->websocketCompressionThreshold,
        );
        NativeOptions::socket($client, $this->socketContext);
        NativeOptions::keepAlive($client, $this->tcpKeepAlive);
        NativeOptions::connectTo($client, $this->connectTo);
        NativeOptions::reconnect($client, [
            'delay' => $this->reconnectDelay,
            'maxDelay' => $this->reconnectMaxDelay,
            'resetAfter' => $this->reconnectResetAfter,
            'maxAttempts' => $this->reconnectMaxAttempts,
            'retryAfterMax' => $this->reconnectRetryAfterMax,
            'statuses' => $this->reconnectStatuses,
            'tlsVerify' => $this->reconnectOnTlsVerifyFailure,
        ]);
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
}
