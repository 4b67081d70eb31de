<?php

declare(strict_types=1);

namespace Wsc\Ffi;

use FFI;
use FFI\CData;
use Wsc\Exception\NativeException;

/**
 * One native client (`wsc_client*`) of the process's context, owned by
 * this object (freed with `wsc_client_free` by free() or at the latest
 * with the object), with its `wsc_client_*` calls in PHP types.
 *
 * Calls on a client whose context was freed answer as a closed client
 * (the queries) or do nothing (abort(), cancelReconnect(), pauseRecv(),
 * resumeRecv()); the same holds once free() ran. Every other failure
 * throws a NativeException. The settings (`wsc_client_set_*`) are made on
 * pointer() by the layer above.
 *
 * @internal used by AsyncTcpConnection; not part of the Workerman API.
 */
final class Client
{
    /** The client's id (`wsc_client_id`, the `client_id` of its events), unique in the process. */
    public readonly int $id;

    /** The owner of the pointer; `$handle->pointer` is null once freed (read by send(), the hot path). */
    public readonly NativeHandle $handle;

    /**
     * Creates a client for `$url` on the process's context (`wsc_client_new`).
     *
     * @param string $url `ws://` or `wss://` URL
     *
     * @throws \InvalidArgumentException when libwsc refuses the URL (INVALID_URL, INVALID_UTF8),
     *                                   with its reason
     * @throws NativeException           when libwsc cannot create the client
     */
    public function __construct(string $url)
    {
        $ffi = Library::get()->ffi;
        $out = $ffi->new('wsc_client*');
        $result = $ffi->wsc_client_new(Context::pointer(), $url, FFI::addr($out));
        if ($result === Abi::RESULT_FORKED) {
            $result = $ffi->wsc_client_new(Context::renewAfterFork(), $url, FFI::addr($out));
        }
        if ($result === Abi::RESULT_INVALID_URL || $result === Abi::RESULT_INVALID_UTF8) {
            throw new \InvalidArgumentException("invalid remote address '{$url}': " . Result::describe($result));
        }
        Result::check($result, 'wsc_client_new');
        $this->handle = new NativeHandle($out, static function (CData $p) use ($ffi): void {
            $ffi->wsc_client_free($p);
        }, 'wsc_client');
        $id = $ffi->new('uint64_t');
        Result::check($ffi->wsc_client_id($out, FFI::addr($id)), 'wsc_client_id');
        $this->id = (int) $id->cdata;
    }

    /**
     * The native pointer, for the `wsc_client_*` calls made elsewhere.
     *
     * @throws \LogicException when the client was freed
     */
    public function pointer(): CData
    {
        return $this->handle->pointer();
    }

    /** True once free() ran. */
    public function isFreed(): bool
    {
        return $this->handle->isFreed();
    }

    /** Frees the native client now (`wsc_client_free`); later calls do nothing. */
    public function free(): void
    {
        $this->handle->free();
    }

    /**
     * `wsc_client_connect`: starts connecting.
     *
     * @throws NativeException when libwsc refuses (e.g. CONTEXT_CLOSED)
     * @throws \LogicException when the client was freed
     */
    public function connect(): void
    {
        Result::check(Library::get()->ffi->wsc_client_connect($this->pointer()), 'wsc_client_connect');
    }

    /**
     * `wsc_client_reconnect`: connects again after `$delayMs` milliseconds.
     *
     * @param int $delayMs 0 to 0xffffffff
     *
     * @throws NativeException when libwsc refuses
     * @throws \LogicException when the client was freed
     */
    public function reconnect(int $delayMs): void
    {
        Result::check(
            Library::get()->ffi->wsc_client_reconnect($this->pointer(), $delayMs),
            'wsc_client_reconnect',
        );
    }

    /**
     * `wsc_client_close`: starts the closing handshake with `$code` and
     * `$reason` (RFC 6455 section 7.1.2).
     *
     * @param int    $code   a close code libwsc accepts (1000, 1001, 3000-4999, ...)
     * @param string $reason UTF-8, at most 123 bytes
     *
     * @throws NativeException when libwsc refuses (e.g. CONTEXT_CLOSED)
     * @throws \LogicException when the client was freed
     */
    public function close(int $code, string $reason = ''): void
    {
        $ffi = Library::get()->ffi;
        $len = strlen($reason);
        $buffer = null;
        if ($len > 0) {
            $buffer = $ffi->new("uint8_t[{$len}]");
            FFI::memcpy($buffer, $reason, $len);
        }
        Result::check($ffi->wsc_client_close($this->pointer(), $code, $buffer, $len), 'wsc_client_close');
    }

    /**
     * `wsc_client_abort`: ends the connection at once, without the closing
     * handshake.
     *
     * @throws NativeException on an unexpected failure
     */
    public function abort(): void
    {
        $this->callIfAlive('wsc_client_abort');
    }

    /**
     * `wsc_client_cancel_reconnect`: cancels a pending reconnect delay.
     *
     * @throws NativeException on an unexpected failure
     */
    public function cancelReconnect(): void
    {
        $this->callIfAlive('wsc_client_cancel_reconnect');
    }

    /**
     * `wsc_client_pause_recv`: stops reading from the socket.
     *
     * @throws NativeException on an unexpected failure
     */
    public function pauseRecv(): void
    {
        $this->callIfAlive('wsc_client_pause_recv');
    }

    /**
     * `wsc_client_resume_recv`: reads again after pauseRecv().
     *
     * @throws NativeException on an unexpected failure
     */
    public function resumeRecv(): void
    {
        $this->callIfAlive('wsc_client_resume_recv');
    }

    /**
     * `wsc_client_status`: one of `Abi::STATUS_*`; `Abi::STATUS_CLOSED`
     * once freed or when the context was freed.
     *
     * @throws NativeException on an unexpected failure
     */
    public function status(): int
    {
        $pointer = $this->handle->pointer;
        if ($pointer === null) {
            return Abi::STATUS_CLOSED;
        }
        $ffi = Library::get()->ffi;
        $out = $ffi->new('wsc_status');
        $result = $ffi->wsc_client_status($pointer, FFI::addr($out));
        if ($result === Abi::RESULT_OK) {
            return (int) $out->cdata;
        }
        if ($result !== Abi::RESULT_CONTEXT_CLOSED) {
            Result::check($result, 'wsc_client_status');
        }
        return Abi::STATUS_CLOSED;
    }

    /**
     * The bytes accepted by `wsc_client_send` and not yet written
     * (`wsc_client_bytes`); 0 once freed or when the context was freed.
     *
     * @throws NativeException on an unexpected failure
     */
    public function queuedBytes(): int
    {
        $pointer = $this->handle->pointer;
        if ($pointer === null) {
            return 0;
        }
        $ffi = Library::get()->ffi;
        $out = $ffi->new('size_t');
        $result = $ffi->wsc_client_bytes($pointer, null, null, FFI::addr($out));
        if ($result === Abi::RESULT_CONTEXT_CLOSED) {
            return 0;
        }
        Result::check($result, 'wsc_client_bytes');
        return (int) $out->cdata;
    }

    /**
     * The bytes read and written over all connections of this client
     * (`wsc_client_bytes`, after TLS decryption / before encryption); null
     * once freed or when the context was freed.
     *
     * @return array{0: int, 1: int}|null [read, written]
     *
     * @throws NativeException on an unexpected failure
     */
    public function byteCounts(): ?array
    {
        $pointer = $this->handle->pointer;
        if ($pointer === null) {
            return null;
        }
        $ffi = Library::get()->ffi;
        $read = $ffi->new('uint64_t');
        $written = $ffi->new('uint64_t');
        $result = $ffi->wsc_client_bytes($pointer, FFI::addr($read), FFI::addr($written), null);
        if ($result === Abi::RESULT_OK) {
            return [(int) $read->cdata, (int) $written->cdata];
        }
        if ($result !== Abi::RESULT_CONTEXT_CLOSED) {
            Result::check($result, 'wsc_client_bytes');
        }
        return null;
    }

    /**
     * `wsc_client_extensions`: the `Sec-WebSocket-Extensions` answer in
     * force on the last connection that opened; '' when none, once freed,
     * or when the context was freed.
     *
     * @throws NativeException on an unexpected failure
     */
    public function extensions(): string
    {
        $pointer = $this->handle->pointer;
        if ($pointer === null) {
            return '';
        }
        $ffi = Library::get()->ffi;
        $buf = $ffi->new('char[512]');
        $len = $ffi->new('size_t');
        $result = $ffi->wsc_client_extensions($pointer, $buf, 512, FFI::addr($len));
        if ($result === Abi::RESULT_CONTEXT_CLOSED) {
            return '';
        }
        Result::check($result, 'wsc_client_extensions');
        return FFI::string($buf, (int) $len->cdata);
    }

    /**
     * `wsc_client_tls_session_resumed`: whether the last TLS handshake
     * resumed a session; false once freed or when the context was freed.
     *
     * @throws NativeException on an unexpected failure
     */
    public function tlsSessionResumed(): bool
    {
        $pointer = $this->handle->pointer;
        if ($pointer === null) {
            return false;
        }
        $ffi = Library::get()->ffi;
        $out = $ffi->new('bool');
        $result = $ffi->wsc_client_tls_session_resumed($pointer, FFI::addr($out));
        if ($result === Abi::RESULT_CONTEXT_CLOSED) {
            return false;
        }
        Result::check($result, 'wsc_client_tls_session_resumed');
        return (bool) $out->cdata;
    }

    /**
     * `wsc_client_address`: one end of the current or last TCP connection,
     * [ip (IPv6 without brackets), port]; null before any, once freed, or
     * when the context was freed.
     *
     * @param bool $local true: our end; false: the server's (or the proxy's)
     *
     * @return array{0: string, 1: int}|null
     *
     * @throws NativeException on an unexpected failure
     */
    public function address(bool $local): ?array
    {
        $pointer = $this->handle->pointer;
        if ($pointer === null) {
            return null;
        }
        $ffi = Library::get()->ffi;
        $buffer = $ffi->new('char[64]');
        $result = $ffi->wsc_client_address($pointer, $local, $buffer, 64);
        if ($result !== Abi::RESULT_OK) {
            if ($result !== Abi::RESULT_NOT_CONNECTED && $result !== Abi::RESULT_CONTEXT_CLOSED) {
                Result::check($result, 'wsc_client_address');
            }
            return null;
        }
        $text = FFI::string($buffer);
        $colon = strrpos($text, ':');
        if ($colon === false) {
            return null;
        }
        return [trim(substr($text, 0, $colon), '[]'), (int) substr($text, $colon + 1)];
    }

    /**
     * `wsc_client_metrics`: the link metrics, each field of
     * `wsc_link_metrics` by its C name (durations in microseconds, -1 when
     * not measured); null once freed or when the context was freed.
     *
     * @return array<string, int>|null
     *
     * @throws NativeException on an unexpected failure
     */
    public function metrics(): ?array
    {
        $pointer = $this->handle->pointer;
        if ($pointer === null) {
            return null;
        }
        $ffi = Library::get()->ffi;
        $m = $ffi->new('wsc_link_metrics');
        $m->size = FFI::sizeof($m);
        $result = $ffi->wsc_client_metrics($pointer, FFI::addr($m));
        if ($result === Abi::RESULT_CONTEXT_CLOSED) {
            return null;
        }
        Result::check($result, 'wsc_client_metrics');
        return [
            'rtt_last_us' => $m->rtt_last_us,
            'rtt_smoothed_us' => $m->rtt_smoothed_us,
            'rtt_variation_us' => $m->rtt_variation_us,
            'rtt_samples' => $m->rtt_samples,
            'connect_dns_us' => $m->connect_dns_us,
            'connect_tcp_us' => $m->connect_tcp_us,
            'connect_proxy_us' => $m->connect_proxy_us,
            'connect_tls_us' => $m->connect_tls_us,
            'connect_handshake_us' => $m->connect_handshake_us,
            'connect_total_us' => $m->connect_total_us,
            'connects' => $m->connects,
            'reconnects' => $m->reconnects,
            'opens' => $m->opens,
            'messages_sent' => $m->messages_sent,
            'messages_received' => $m->messages_received,
            'payload_bytes_sent' => $m->payload_bytes_sent,
            'payload_bytes_received' => $m->payload_bytes_received,
            'wire_bytes_read' => $m->wire_bytes_read,
            'wire_bytes_written' => $m->wire_bytes_written,
        ];
    }

    /**
     * Calls a `wsc_client_*(client)` function unless the client was freed
     * or its context closed.
     *
     * @throws NativeException on any other failure
     */
    private function callIfAlive(string $function): void
    {
        $pointer = $this->handle->pointer;
        if ($pointer === null) {
            return;
        }
        $result = Library::get()->ffi->{$function}($pointer);
        if ($result !== Abi::RESULT_CONTEXT_CLOSED) {
            Result::check($result, $function);
        }
    }
}
