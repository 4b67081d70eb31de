<?php

declare(strict_types=1);

namespace Wsc\Connection;

use FFI;
use FFI\CData;
use Wsc\Exception\NativeException;
use Wsc\Ffi\Abi;
use Wsc\Ffi\Library;
use Wsc\Ffi\Result;

/**
 * Translates a connection's Workerman properties and PHP socket context
 * into libwsc's client settings (`wsc_client_set_*`). Each setting is
 * checked in one place, libwsc: this class converts PHP values into C
 * ones (seconds into milliseconds, PHP's `ssl` options into their wsc
 * calls, the proxy properties into a proxy URL) and refuses only what
 * cannot be expressed in C (a value of the wrong PHP type, a NUL byte in a
 * C string, a number outside the C type), then maps libwsc's refusal
 * (`INVALID_ARGUMENT`, `INVALID_HEADER`, `INVALID_UTF8`) to an
 * \InvalidArgumentException naming the property or option.
 *
 * @internal used by AsyncTcpConnection::connect() and reConnect(); not part of the Workerman API.
 */
final class NativeOptions
{
    /**
     * The `ssl` context options a client reads in PHP (ext/openssl), each
     * with the libwsc function that applies it; `null`: accepted, nothing
     * to apply (TLS compression is never used).
     */
    private const TLS_OPTIONS = [
        'verify_peer' => 'wsc_client_set_tls_verify',
        'verify_peer_name' => 'wsc_client_set_tls_verify',
        'allow_self_signed' => 'wsc_client_set_tls_allow_self_signed',
        'peer_name' => 'wsc_client_set_tls_peer_name',
        'cafile' => 'wsc_client_set_tls_ca_file',
        'capath' => 'wsc_client_set_tls_ca_path',
        'local_cert' => 'wsc_client_set_tls_client_cert',
        'local_pk' => 'wsc_client_set_tls_client_cert',
        'passphrase' => 'wsc_client_set_tls_client_cert',
        'peer_fingerprint' => 'wsc_client_add_tls_peer_fingerprint',
        'ciphers' => 'wsc_client_set_tls_ciphers',
        'security_level' => 'wsc_client_set_tls_security_level',
        'SNI_enabled' => 'wsc_client_set_tls_sni',
        'crypto_method' => 'wsc_client_set_tls_versions',
        'disable_compression' => null,
    ];

    /**
     * Options of PHP's servers only: a PHP client ignores them, so does wsc.
     */
    private const TLS_SERVER_OPTIONS = [
        'honor_cipher_order', 'single_dh_use', 'single_ecdh_use', 'ecdh_curve', 'dh_param',
        'rsa_key_size', 'SNI_server_certs', 'reneg_limit', 'reneg_window', 'reneg_limit_callback',
    ];

    /**
     * STREAM_CRYPTO_METHOD_TLSv1_x bits and the matching wsc_tls_version.
     */
    private const CRYPTO_METHOD_VERSIONS = [
        8 => Abi::TLS_VERSION_TLS10,
        16 => Abi::TLS_VERSION_TLS11,
        32 => Abi::TLS_VERSION_TLS12,
        64 => Abi::TLS_VERSION_TLS13,
    ];

    /**
     * The request headers of the opening handshake (`wsc_client_set_header`).
     *
     * @param array<mixed> $headers name => value (a string, a number or a \Stringable)
     *
     * @throws \InvalidArgumentException naming the header when libwsc refuses it or the
     *                                   value is not a string
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function headers(CData $client, array $headers): void
    {
        $ffi = Library::get()->ffi;
        foreach ($headers as $name => $value) {
            $name = (string) $name;
            if (!is_scalar($value) && !$value instanceof \Stringable) {
                throw new \InvalidArgumentException(
                    "header '{$name}': the value must be a string, got " . get_debug_type($value)
                );
            }
            $value = (string) $value;
            if (str_contains($name . $value, "\0")) {
                // A C string ends at NUL: libwsc would see a shorter name or value.
                throw new \InvalidArgumentException(
                    'header ' . self::headerLabel($name) . ' refused: its name or value contains NUL'
                );
            }
            $result = $ffi->wsc_client_set_header($client, $name, $value);
            if ($result === Abi::RESULT_INVALID_HEADER || $result === Abi::RESULT_INVALID_UTF8) {
                throw new \InvalidArgumentException(
                    'header ' . self::headerLabel($name) . ' refused: ' . Result::describe($result)
                );
            }
            Result::check($result, 'wsc_client_set_header');
        }
    }

    /**
     * A header name for a message: in single quotes when printable
     * (`'Bad Name'`), else JSON-encoded (`""`, `"X-Ev\rl"`).
     */
    private static function headerLabel(string $name): string
    {
        if (preg_match('/^[\x20-\x7e]+$/', $name) === 1) {
            return "'{$name}'";
        }
        return (string) json_encode($name, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
    }

    /**
     * The ping interval and the pong timeout, in seconds (fractions
     * allowed, millisecond resolution; 0 turns each off).
     *
     * @throws \InvalidArgumentException when one is negative or not finite
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function timers(CData $client, int|float $pingInterval, int|float $pongTimeout): void
    {
        $ffi = Library::get()->ffi;
        $ping = self::milliseconds($pingInterval, 'websocketPingInterval');
        Result::check($ffi->wsc_client_set_ping_interval($client, $ping), 'wsc_client_set_ping_interval');
        $pong = self::milliseconds($pongTimeout, 'websocketPongTimeout');
        Result::check($ffi->wsc_client_set_pong_timeout($client, $pong), 'wsc_client_set_pong_timeout');
    }

    /**
     * Seconds as the `uint32_t` milliseconds of libwsc (longer is capped at ~49 days).
     *
     * @throws \InvalidArgumentException naming the property when it is negative or not finite
     */
    private static function milliseconds(int|float $seconds, string $property): int
    {
        if (!is_finite((float) $seconds) || $seconds < 0) {
            throw new \InvalidArgumentException("{$property} must be a number of seconds >= 0");
        }
        return min((int) round($seconds * 1000), 0xffffffff);
    }

    /**
     * The `socket` context options a PHP client reads, with PHP's meaning:
     * `bindto` (the local 'ip:port' to bind, IPv6 as '[ip]:port'; port 0
     * lets the kernel pick; '0:0', '0.0.0.0:0' and '[::]:0' mean "any")
     * and `tcp_nodelay` (true: Nagle's algorithm off; false: on; not given:
     * wsc's default, on, as Workerman sets it). Any other `socket` option
     * (backlog, ipv6_v6only, so_reuseport, so_broadcast: listening and UDP
     * sockets only) is refused by name.
     *
     * @param array<string, mixed> $socketContext PHP stream context options; `socket` is read
     *
     * @throws \InvalidArgumentException naming the option when it is unknown, of the wrong type,
     *                                   or refused by libwsc (a malformed address)
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function socket(CData $client, array $socketContext): void
    {
        $ffi = Library::get()->ffi;
        $socket = $socketContext['socket'] ?? [];
        if (!is_array($socket)) {
            throw new \InvalidArgumentException(
                "the socket context option 'socket' must be an array of options"
            );
        }
        foreach (array_keys($socket) as $option) {
            if ($option !== 'bindto' && $option !== 'tcp_nodelay') {
                throw new \InvalidArgumentException(
                    "the socket context option socket.{$option} is not supported by wsc (supported: bindto, "
                    . 'tcp_nodelay; the others apply to listening or UDP sockets)'
                );
            }
        }
        $bindto = $socket['bindto'] ?? null;
        if ($bindto !== null) {
            if (!is_string($bindto) || str_contains($bindto, "\0")) {
                throw new \InvalidArgumentException(
                    "the socket context option socket.bindto must be a string 'ip:port' (e.g. '192.0.2.7:0', "
                    . "'[2001:db8::7]:0'), got " . get_debug_type($bindto)
                );
            }
            // PHP's form: 'host:port' where host '0' is any address.
            if (in_array($bindto, ['0:0', '0.0.0.0:0', '[::]:0'], true)) {
                $bindto = null;
            } elseif (str_starts_with($bindto, '0:')) {
                $bindto = '0.0.0.0' . substr($bindto, 1);
            }
        }
        $result = $ffi->wsc_client_set_bind_address($client, $bindto);
        if ($result === Abi::RESULT_INVALID_ARGUMENT || $result === Abi::RESULT_INVALID_UTF8) {
            throw new \InvalidArgumentException(
                'the socket context option socket.bindto was refused: ' . Result::describe($result)
            );
        }
        Result::check($result, 'wsc_client_set_bind_address');
        $nodelay = array_key_exists('tcp_nodelay', $socket) ? (bool) $socket['tcp_nodelay'] : true;
        Result::check($ffi->wsc_client_set_tcp_nodelay($client, $nodelay), 'wsc_client_set_tcp_nodelay');
    }

    /**
     * The tcpKeepAlive property (`wsc_client_set_tcp_keepalive`): seconds
     * of silence before the first probe and between probes, one probe (as
     * Workerman sets it), or an array `['idle' => s, 'interval' => s,
     * 'count' => n]`; 0 turns TCP keepalive off.
     *
     * @param int|array<mixed> $setting
     *
     * @throws \InvalidArgumentException naming the property when a value is of the wrong type
     *                                   or out of range (libwsc's reason)
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function keepAlive(CData $client, int|array $setting): void
    {
        if (is_int($setting)) {
            $setting = ['idle' => $setting, 'interval' => $setting, 'count' => 1];
        }
        $values = [];
        foreach (['idle', 'interval', 'count'] as $key) {
            $value = $setting[$key] ?? null;
            // A uint32_t in C; libwsc checks the ranges.
            if (!is_int($value) || $value < 0 || $value > 0xffffffff) {
                throw new \InvalidArgumentException(
                    "tcpKeepAlive must be seconds (an int >= 0, 0: off) or ['idle' => s, 'interval' => s, "
                    . "'count' => n]; '{$key}' is " . var_export($value, true)
                );
            }
            $values[] = $value;
        }
        $unknown = array_values(array_diff(array_keys($setting), ['idle', 'interval', 'count']));
        if ($unknown !== []) {
            throw new \InvalidArgumentException(
                'tcpKeepAlive: unknown key ' . json_encode($unknown[0]) . ' (known: idle, interval, count)'
            );
        }
        $result = Library::get()->ffi->wsc_client_set_tcp_keepalive($client, ...$values);
        if ($result === Abi::RESULT_INVALID_ARGUMENT) {
            throw new \InvalidArgumentException('tcpKeepAlive refused: ' . Result::describe($result));
        }
        Result::check($result, 'wsc_client_set_tcp_keepalive');
    }

    /**
     * The connectTo property (`wsc_client_set_connect_to`): '' for the
     * URL's host, else 'host[:port]' or several 'ip[:port]' separated by
     * commas.
     *
     * @throws \InvalidArgumentException when libwsc refuses it (its reason)
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function connectTo(CData $client, string $connectTo): void
    {
        if (str_contains($connectTo, "\0")) {
            throw new \InvalidArgumentException('connectTo refused: it contains NUL');
        }
        $value = trim($connectTo) === '' ? null : $connectTo;
        $result = Library::get()->ffi->wsc_client_set_connect_to($client, $value);
        if ($result === Abi::RESULT_INVALID_ARGUMENT || $result === Abi::RESULT_INVALID_UTF8) {
            throw new \InvalidArgumentException("connectTo '{$connectTo}' refused: " . Result::describe($result));
        }
        Result::check($result, 'wsc_client_set_connect_to');
    }

    /**
     * The websocketCompression property (`wsc_client_set_compression`):
     * false, true (the defaults) or an array of RFC 7692 parameters.
     *
     * @param bool|array<mixed> $setting
     *
     * @throws \InvalidArgumentException naming the parameter when it is unknown, of the wrong
     *                                   type, or refused by libwsc
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function compression(CData $client, bool|array $setting): void
    {
        $ffi = Library::get()->ffi;
        if ($setting === false) {
            Result::check($ffi->wsc_client_set_compression($client, null), 'wsc_client_set_compression');
            return;
        }
        $o = $ffi->new('wsc_compression_options');
        foreach ($setting === true ? [] : $setting as $key => $value) {
            switch ($key) {
                case 'client_no_context_takeover':
                case 'server_no_context_takeover':
                    if (!is_bool($value)) {
                        throw new \InvalidArgumentException("websocketCompression['{$key}'] must be a bool");
                    }
                    $o->{$key} = $value;
                    break;
                case 'client_max_window_bits':
                case 'server_max_window_bits':
                    // A uint8_t in C, where 0 means "not set": libwsc checks the range (9..15).
                    if (!is_int($value) || $value < 1 || $value > 255) {
                        throw new \InvalidArgumentException(
                            "websocketCompression['{$key}'] must be an int 9..15 (a window of 2^N bytes)"
                        );
                    }
                    $o->{$key} = $value;
                    break;
                case 'level':
                    // A uint8_t in C: libwsc checks the range (0 = the default, 6; 1..9 zlib's levels).
                    if (!is_int($value) || $value < 0 || $value > 255) {
                        throw new \InvalidArgumentException(
                            "websocketCompression['level'] must be an int 0..9 (0: the default, 6)"
                        );
                    }
                    $o->level = $value;
                    break;
                default:
                    throw new \InvalidArgumentException(sprintf(
                        'websocketCompression: unknown parameter %s (known: client_no_context_takeover, '
                        . 'server_no_context_takeover, client_max_window_bits, server_max_window_bits, level)',
                        json_encode($key),
                    ));
            }
        }
        $result = $ffi->wsc_client_set_compression($client, FFI::addr($o));
        if ($result === Abi::RESULT_INVALID_ARGUMENT) {
            throw new \InvalidArgumentException('websocketCompression refused: ' . Result::describe($result));
        }
        Result::check($result, 'wsc_client_set_compression');
    }

    /**
     * maxPackageSize and maxSendBufferSize, in bytes (`wsc_client_set_limits`).
     *
     * @throws \InvalidArgumentException when one is below 1 (libwsc reads 0 as "unchanged")
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function limits(CData $client, int $maxPackageSize, int $maxSendBufferSize): void
    {
        if ($maxPackageSize < 1 || $maxSendBufferSize < 1) {
            throw new \InvalidArgumentException('maxPackageSize and maxSendBufferSize must be at least 1 byte');
        }
        Result::check(
            Library::get()->ffi->wsc_client_set_limits($client, $maxPackageSize, $maxSendBufferSize),
            'wsc_client_set_limits',
        );
    }

    /**
     * The proxy of proxySocks5 (with its user name and password) or
     * proxyHttp (with proxyAuthorization), or none when both are ''
     * (`wsc_client_set_proxy`).
     *
     * @return string the proxy in use, for error messages ("proxySocks5 = '...'"), '' for none
     *
     * @throws \InvalidArgumentException for both proxies set, a malformed proxy address or
     *                                   authorization, or a proxy libwsc refuses
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function proxy(
        CData $client,
        string $socks5,
        string $socks5Username,
        string $socks5Password,
        string $http,
        string $authorization,
    ): string {
        $socks5 = trim($socks5);
        $http = trim($http);
        $url = null;
        $header = null;
        if ($socks5 !== '' && $http !== '') {
            throw new \InvalidArgumentException(
                'proxySocks5 and proxyHttp are both set: a connection goes through one proxy, set only one of them'
            );
        }
        $inUse = '';
        if ($socks5 !== '') {
            $hostPort = self::proxyHostPort($socks5, 'socks5', 'proxySocks5');
            $credentials = '';
            if ($socks5Username !== '' || $socks5Password !== '') {
                $credentials = rawurlencode($socks5Username) . ':' . rawurlencode($socks5Password) . '@';
            }
            $url = "socks5://{$credentials}{$hostPort}";
            $inUse = "proxySocks5 = '{$socks5}'";
        } elseif ($http !== '') {
            $hostPort = self::proxyHostPort($http, 'http', 'proxyHttp');
            $url = "http://{$hostPort}";
            $header = self::proxyAuthorizationHeader($authorization);
            $inUse = "proxyHttp = '{$http}'";
        }
        $result = Library::get()->ffi->wsc_client_set_proxy($client, $url, $header);
        if ($result === Abi::RESULT_INVALID_ARGUMENT || $result === Abi::RESULT_INVALID_UTF8) {
            throw new \InvalidArgumentException("the proxy ({$inUse}) was refused: " . Result::describe($result));
        }
        Result::check($result, 'wsc_client_set_proxy');
        return $inUse;
    }

    /**
     * 'host:port' of a proxy property ('host:port', '[ip6]:port', or the
     * same after `$scheme://`).
     *
     * @throws \InvalidArgumentException naming the property when it is malformed
     */
    private static function proxyHostPort(string $value, string $scheme, string $property): string
    {
        $prefix = $scheme . '://';
        $rest = strncasecmp($value, $prefix, strlen($prefix)) === 0 ? substr($value, strlen($prefix)) : $value;
        $parts = str_contains($rest, '://') || str_contains($rest, "\0") ? false : parse_url($prefix . $rest);
        if (
            $parts === false || !isset($parts['host'], $parts['port']) || isset($parts['user'])
            || isset($parts['query']) || isset($parts['fragment']) || rtrim($parts['path'] ?? '', '/') !== ''
        ) {
            $hint = $scheme === 'socks5'
                ? 'the credentials go in proxySocks5Username and proxySocks5Password'
                : 'the credentials go in proxyAuthorization';
            throw new \InvalidArgumentException(
                "{$property} '{$value}' is not 'host:port' (e.g. '127.0.0.1:1080', '[::1]:1080'); {$hint}"
            );
        }
        return $parts['host'] . ':' . $parts['port'];
    }

    /**
     * The `Proxy-Authorization` value of proxyAuthorization, null for none.
     *
     * @throws \InvalidArgumentException when it is in neither accepted form
     */
    private static function proxyAuthorizationHeader(string $value): ?string
    {
        if ($value === '') {
            return null;
        }
        if (str_contains($value, "\0")) {
            // A C string ends at NUL; libwsc refuses CR and LF itself.
            throw new \InvalidArgumentException('proxyAuthorization refused: it contains CR, LF or NUL');
        }
        // A header value: an auth-scheme token, a space, credentials (RFC 9110 section 11.4).
        if (preg_match('/^[!#$%&\'*+.^_`|~0-9A-Za-z-]+ +\S/', $value) === 1) {
            return $value;
        }
        if (str_contains($value, ':')) {
            return 'Basic ' . base64_encode($value);
        }
        throw new \InvalidArgumentException(
            "proxyAuthorization must be 'user:password' or a whole Proxy-Authorization value "
            . "such as 'Basic dXNlcjpwYXNz'"
        );
    }

    /**
     * The transport and the `ssl` socket context options, with PHP's
     * meaning. An option wsc cannot honour (capture_peer_cert,
     * verify_depth, ...) or does not know is refused with an
     * \InvalidArgumentException naming it, never ignored.
     *
     * @param string               $transport     'tcp' or 'ssl' (any case)
     * @param array<string, mixed> $socketContext PHP stream context options; `ssl` is read
     *
     * @throws \InvalidArgumentException naming the option that is refused
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function tls(CData $client, string $transport, array $socketContext): void
    {
        $ffi = Library::get()->ffi;
        $lower = strtolower($transport);
        if ($lower !== 'tcp' && $lower !== 'ssl') {
            throw new \InvalidArgumentException("transport must be 'tcp' or 'ssl', got '{$transport}'");
        }
        $ssl = $socketContext['ssl'] ?? [];
        if (!is_array($ssl)) {
            throw new \InvalidArgumentException("the socket context option 'ssl' must be an array of options");
        }
        foreach ($ssl as $option => $value) {
            $option = (string) $option;
            if (in_array($option, self::TLS_SERVER_OPTIONS, true)) {
                continue;
            }
            if (!array_key_exists($option, self::TLS_OPTIONS)) {
                // capture_peer_cert(_chain) and capture_session_meta false ask for nothing.
                if (str_starts_with($option, 'capture_') && !$value) {
                    continue;
                }
                throw new \InvalidArgumentException(
                    "the socket context option ssl.{$option} is not supported by wsc (supported: "
                    . implode(', ', array_keys(self::TLS_OPTIONS)) . ')'
                );
            }
        }
        $verifyPeer = (bool) ($ssl['verify_peer'] ?? true);
        $verifyPeerName = (bool) ($ssl['verify_peer_name'] ?? true);
        Result::check($ffi->wsc_client_set_tls($client, $lower === 'ssl', $verifyPeer), 'wsc_client_set_tls');
        Result::check(
            $ffi->wsc_client_set_tls_verify($client, $verifyPeer, $verifyPeerName),
            'wsc_client_set_tls_verify',
        );
        Result::check(
            $ffi->wsc_client_set_tls_allow_self_signed($client, (bool) ($ssl['allow_self_signed'] ?? false)),
            'wsc_client_set_tls_allow_self_signed',
        );
        $strings = [];
        foreach (['peer_name', 'cafile', 'capath', 'local_cert', 'local_pk', 'passphrase', 'ciphers'] as $option) {
            $value = $ssl[$option] ?? null;
            if ($value !== null && (!is_string($value) || $value === '' || str_contains($value, "\0"))) {
                throw new \InvalidArgumentException(
                    "the socket context option ssl.{$option} must be a non-empty string"
                );
            }
            $strings[$option] = $value;
        }
        self::checkTls('peer_name', $ffi->wsc_client_set_tls_peer_name($client, $strings['peer_name']));
        self::checkTls('cafile', $ffi->wsc_client_set_tls_ca_file($client, $strings['cafile']));
        self::checkTls('capath', $ffi->wsc_client_set_tls_ca_path($client, $strings['capath']));
        self::checkTls('ciphers', $ffi->wsc_client_set_tls_ciphers($client, $strings['ciphers']));
        $level = $ssl['security_level'] ?? -1;
        // A C int; libwsc checks the range (0..5, -1: OpenSSL's default).
        if (!is_int($level) || $level < -0x80000000 || $level > 0x7fffffff) {
            throw new \InvalidArgumentException(
                'the socket context option ssl.security_level must be an integer from 0 to 5'
            );
        }
        self::checkTls('security_level', $ffi->wsc_client_set_tls_security_level($client, $level));
        self::checkTls('SNI_enabled', $ffi->wsc_client_set_tls_sni($client, (bool) ($ssl['SNI_enabled'] ?? true)));
        [$min, $max] = self::tlsVersions($ssl['crypto_method'] ?? null);
        self::checkTls('crypto_method', $ffi->wsc_client_set_tls_versions($client, $min, $max));
        Result::check($ffi->wsc_client_clear_tls_peer_fingerprints($client), 'wsc_client_clear_tls_peer_fingerprints');
        foreach (self::fingerprints($ssl['peer_fingerprint'] ?? null) as [$algorithm, $hash]) {
            self::checkTls('peer_fingerprint', $ffi->wsc_client_add_tls_peer_fingerprint($client, $algorithm, $hash));
        }
        if ($strings['local_cert'] !== null) {
            self::checkTls('local_cert', $ffi->wsc_client_set_tls_client_cert(
                $client,
                $strings['local_cert'],
                $strings['local_pk'],
                $strings['passphrase'],
            ));
        } elseif ($strings['local_pk'] !== null) {
            throw new \InvalidArgumentException('the socket context option ssl.local_pk needs ssl.local_cert');
        }
    }

    /**
     * PHP's `crypto_method` (STREAM_CRYPTO_METHOD_* flags) as the lowest and
     * highest wsc_tls_version: PHP allows every version from the lowest
     * TLS bit set to the highest; the client bit (1) and the SSLv2/SSLv3
     * bits (2, 4: not supported by OpenSSL 3, ignored by PHP when TLS bits
     * are set) do not count. Not given: OpenSSL's configured range.
     *
     * @return array{0: int, 1: int}
     */
    private static function tlsVersions(mixed $method): array
    {
        if ($method === null) {
            return [0, 0];
        }
        if (!is_int($method) || $method < 0 || $method > 127) {
            throw new \InvalidArgumentException(
                'the socket context option ssl.crypto_method must be STREAM_CRYPTO_METHOD_* flags'
                . ' (an integer from 0 to 127), got ' . var_export($method, true)
            );
        }
        $versions = [];
        foreach (self::CRYPTO_METHOD_VERSIONS as $bit => $version) {
            if (($method & $bit) !== 0) {
                $versions[] = $version;
            }
        }
        if ($versions === []) {
            throw new \InvalidArgumentException(
                "the socket context option ssl.crypto_method ({$method}) allows no TLS version:"
                . ' SSLv2 and SSLv3 are not supported; use STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT and the like'
            );
        }
        return [min($versions), max($versions)];
    }

    /**
     * PHP's `peer_fingerprint` as (algorithm, hex) pins: a string (md5 for
     * 32 hex digits, sha1 for 40: algorithm null) or an array
     * `algo => fingerprint`, all of which must match.
     *
     * @return list<array{0: ?string, 1: string}>
     */
    private static function fingerprints(mixed $value): array
    {
        if ($value === null) {
            return [];
        }
        // PHP compares the hex digits as they are (no ':' separators).
        $hex = static function (string $hash): string {
            if (!ctype_xdigit($hash)) {
                throw new \InvalidArgumentException(
                    'the socket context option ssl.peer_fingerprint must be hex digits without separators, got '
                    . var_export($hash, true)
                );
            }
            return $hash;
        };
        if (is_string($value)) {
            return [[null, $hex($value)]];
        }
        $form = 'the socket context option ssl.peer_fingerprint must be a fingerprint string'
            . " or a non-empty array ['sha256' => fingerprint, ...]";
        if (!is_array($value) || $value === []) {
            throw new \InvalidArgumentException($form);
        }
        $pins = [];
        foreach ($value as $algorithm => $hash) {
            if (!is_string($algorithm) || !is_string($hash) || str_contains($algorithm . $hash, "\0")) {
                throw new \InvalidArgumentException($form);
            }
            $pins[] = [$algorithm, $hex($hash)];
        }
        return $pins;
    }

    /**
     * The automatic reconnect policy (`wsc_client_set_reconnect_*`): the
     * properties reconnectDelay, reconnectMaxDelay, reconnectResetAfter,
     * reconnectRetryAfterMax (seconds), reconnectMaxAttempts,
     * reconnectStatuses and reconnectOnTlsVerifyFailure of
     * AsyncTcpConnection, each checked and named when refused.
     *
     * @param array{delay: int|float, maxDelay: int|float, resetAfter: int|float, maxAttempts: int,
     *              retryAfterMax: int|float, statuses: array<mixed>, tlsVerify: bool} $policy
     *
     * @throws \InvalidArgumentException naming the property that is refused
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function reconnect(CData $client, array $policy): void
    {
        $ffi = Library::get()->ffi;
        $first = self::milliseconds($policy['delay'], 'reconnectDelay');
        $longest = self::milliseconds($policy['maxDelay'], 'reconnectMaxDelay');
        $result = $ffi->wsc_client_set_reconnect_backoff($client, $first, $longest);
        if ($result === Abi::RESULT_INVALID_ARGUMENT) {
            throw new \InvalidArgumentException(
                "reconnectMaxDelay ({$policy['maxDelay']} s) must not be below reconnectDelay ({$policy['delay']} s)"
            );
        }
        Result::check($result, 'wsc_client_set_reconnect_backoff');
        $reset = self::milliseconds($policy['resetAfter'], 'reconnectResetAfter');
        Result::check(
            $ffi->wsc_client_set_reconnect_reset_after($client, $reset),
            'wsc_client_set_reconnect_reset_after',
        );
        $attempts = $policy['maxAttempts'];
        if ($attempts < 0 || $attempts > 0xffffffff) {
            throw new \InvalidArgumentException('reconnectMaxAttempts must be an int >= 0 (0: no limit)');
        }
        Result::check(
            $ffi->wsc_client_set_reconnect_max_attempts($client, $attempts),
            'wsc_client_set_reconnect_max_attempts',
        );
        $retryAfter = self::milliseconds($policy['retryAfterMax'], 'reconnectRetryAfterMax');
        Result::check(
            $ffi->wsc_client_set_reconnect_retry_after_max($client, $retryAfter),
            'wsc_client_set_reconnect_retry_after_max',
        );
        Result::check(
            $ffi->wsc_client_clear_reconnect_statuses($client),
            'wsc_client_clear_reconnect_statuses',
        );
        foreach ($policy['statuses'] as $status => $retry) {
            if (!is_int($status) || $status < 100 || $status > 599 || !is_bool($retry)) {
                throw new \InvalidArgumentException(sprintf(
                    'reconnectStatuses must map HTTP statuses (100..599) to bool (true: retried, '
                    . 'false: fatal), got %s => %s',
                    json_encode($status),
                    get_debug_type($retry),
                ));
            }
            $result = $ffi->wsc_client_set_reconnect_status($client, $status, $retry);
            if ($result === Abi::RESULT_INVALID_ARGUMENT) {
                throw new \InvalidArgumentException(
                    "reconnectStatuses[{$status}] was refused: " . Result::describe($result)
                );
            }
            Result::check($result, 'wsc_client_set_reconnect_status');
        }
        Result::check(
            $ffi->wsc_client_set_reconnect_tls_verify($client, $policy['tlsVerify']),
            'wsc_client_set_reconnect_tls_verify',
        );
    }

    /**
     * Turns a refused TLS option into an exception naming it.
     *
     * @throws \InvalidArgumentException when libwsc refused the option
     * @throws NativeException           on an unexpected libwsc failure
     */
    private static function checkTls(string $option, int $result): void
    {
        if ($result === Abi::RESULT_INVALID_ARGUMENT || $result === Abi::RESULT_INVALID_UTF8) {
            throw new \InvalidArgumentException(
                "the socket context option ssl.{$option} was refused: " . Result::describe($result)
            );
        }
        Result::check($result, "wsc_client_set_tls ({$option})");
    }

    /**
     * The heartbeat (`wsc_client_set_heartbeat`), the receive-idle timeout
     * (`wsc_client_set_idle_timeout`) and the compression threshold
     * (`wsc_client_set_compression_threshold`) of the connection's
     * properties websocketHeartbeatInterval, websocketHeartbeatData,
     * websocketHeartbeatType, websocketIdleTimeout and
     * websocketCompressionThreshold.
     *
     * @throws \InvalidArgumentException naming the property when a value is refused
     * @throws NativeException           on an unexpected libwsc failure
     */
    public static function liveness(
        CData $client,
        int|float $heartbeatInterval,
        string $heartbeatData,
        string $heartbeatType,
        int|float $idleTimeout,
        int $compressionThreshold,
    ): void {
        $ffi = Library::get()->ffi;
        $interval = self::milliseconds($heartbeatInterval, 'websocketHeartbeatInterval');
        $type = match ($heartbeatType) {
            "\x81" => Abi::MESSAGE_TYPE_TEXT,
            "\x82" => Abi::MESSAGE_TYPE_BINARY,
            default => throw new \InvalidArgumentException(
                'websocketHeartbeatType must be Ws::BINARY_TYPE_BLOB ("\x81", text) or '
                . 'Ws::BINARY_TYPE_ARRAYBUFFER ("\x82", binary)'
            ),
        };
        $len = strlen($heartbeatData);
        $buf = $ffi->new('uint8_t[' . max(1, $len) . ']');
        FFI::memcpy($buf, $heartbeatData, $len);
        $result = $ffi->wsc_client_set_heartbeat($client, $interval, $type, $buf, $len);
        if ($result === Abi::RESULT_INVALID_UTF8) {
            throw new \InvalidArgumentException(
                'websocketHeartbeatData must be valid UTF-8 for a text heartbeat (websocketHeartbeatType '
                . 'Ws::BINARY_TYPE_BLOB); use Ws::BINARY_TYPE_ARRAYBUFFER for binary data'
            );
        }
        Result::check($result, 'wsc_client_set_heartbeat');
        $idle = self::milliseconds($idleTimeout, 'websocketIdleTimeout');
        Result::check($ffi->wsc_client_set_idle_timeout($client, $idle), 'wsc_client_set_idle_timeout');
        if ($compressionThreshold < 0) {
            throw new \InvalidArgumentException('websocketCompressionThreshold must be a number of bytes >= 0');
        }
        Result::check(
            $ffi->wsc_client_set_compression_threshold($client, $compressionThreshold),
            'wsc_client_set_compression_threshold',
        );
    }
}
