<?php

declare(strict_types=1);

namespace Wsc\Connection;

use FFI;
use FFI\CData;
use Wsc\Exception\NativeException;
use Wsc\Ffi\Abi;
use Wsc\Ffi\Context;
use Wsc\Ffi\Library;
use Wsc\Ffi\Result;

/**
 * The process's event pump: takes the events of the shared context from
 * libwsc in batches (`wsc_context_poll_events`), hands each to its
 * connection (Connections), frees them in one `wsc_events_free` call, and
 * closes every connection at shutdown. `Worker` and the event-loop
 * adapters drive it; it drives the connections.
 *
 * Performance idioms, measured and confined here: static properties are
 * written `EventPump::$name`, not `self::$name` (PHP 8.2 looks `self` up
 * again at every access, while the class name is resolved once per
 * opcode: ~90 instructions less per access; callgrind: 1,450 instructions,
 * ~9%, per sequential round trip), and dispatch() reads the connection
 * maps and the message fields directly instead of building an event array.
 *
 * @internal used by Worker and the event-loop adapters; not part of the Workerman API.
 */
final class EventPump
{
    /** The most events taken from libwsc in one `wsc_context_poll_events` call. */
    private const BATCH = 1024;

    /** libwsc, cached by init(); null until the first use. */
    private static ?FFI $ffi = null;

    /**
     * The events taken from libwsc by the last poll (`const wsc_event
     * *[BATCH]`), owned by this class: [$next, $end) wait to be
     * dispatched. Every dispatch loop, also one nested in a callback,
     * takes the next event from here before polling again, so the events
     * of a connection keep their order. All of them are freed in one
     * `wsc_events_free` call as soon as the last one was taken (its data
     * copied), so $end is 0 or above $next.
     */
    private static ?CData $events = null;

    private static int $next = 0;

    private static int $end = 0;

    /** `size_t`: the number of events the last poll returned. */
    private static ?CData $pollCount = null;

    /** FFI::addr($pollCount), made once. */
    private static ?CData $pollCountAddress = null;

    /**
     * The dispatch loop: takes the events left from the last poll, or, when
     * none is left, waits up to `$timeoutMs` and takes the first event and
     * every other one already queued in one `wsc_context_poll_events` call,
     * then hands them to their connections' callbacks in order, until none
     * is left, `$limit` were dispatched, or `$stop` turned true (checked
     * after each event). Events left over stay for the next call (of any
     * dispatch loop, also one nested in a callback).
     *
     * @param int  $timeoutMs milliseconds to wait when nothing is left; 0: do not
     *                        wait; negative: until an event arrives
     * @param int  $limit     the most events to dispatch, >= 1
     * @param bool $stop      read after each event (a reference: a callback may set it)
     *
     * @return int the number of events dispatched
     *
     * @throws NativeException when polling fails
     */
    public static function dispatch(int $timeoutMs, int $limit, bool &$stop): int
    {
        if (EventPump::$end === 0 && !self::fetch($timeoutMs, $limit)) {
            return 0;
        }
        $events = EventPump::$events;
        $count = 0;
        do {
            // Read again after every callback: a loop nested in it takes events too.
            $next = EventPump::$next;
            $native = $events[$next];
            $type = $native->event_type;
            $id = $native->client_id;
            if ($type === Abi::EVENT_TYPE_BINARY || $type === Abi::EVENT_TYPE_TEXT) {
                $len = $native->data_len;
                $data = $len > 0 ? FFI::string($native->data, $len) : '';
                $event = null;
            } else {
                $data = '';
                $event = self::eventArray($native);
            }
            if (++$next < EventPump::$end) {
                EventPump::$next = $next;
            } else {
                self::free();
            }
            $connection = Connections::$alive[$id] ?? (Connections::$known[$id] ?? null)?->get();
            if ($connection !== null) {
                if ($event === null) {
                    $connection->handleMessage($data, $type === Abi::EVENT_TYPE_BINARY);
                } else {
                    $connection->handleEvent($event);
                }
            }
            $count++;
        } while ($count < $limit && !$stop && EventPump::$end !== 0);
        return $count;
    }

    /**
     * Dispatches the events that are ready now, without waiting: dispatch()
     * with timeout 0, at most `$limit` events. Without a context (no
     * connection yet, or freed) it returns 0 without creating one.
     * `Worker::pollPending()` and the event-loop adapters call it when
     * the context stream is readable.
     *
     * @param int $limit the most events to dispatch; below 1: none
     *
     * @return int the number of events dispatched
     *
     * @throws NativeException when polling fails
     */
    public static function dispatchReady(int $limit = self::BATCH): int
    {
        if ($limit < 1 || !Context::exists()) {
            return 0;
        }
        $never = false;
        return self::dispatch(0, $limit, $never);
    }

    /**
     * The next event, taken from those left from the last poll or polled
     * (waiting up to `$timeoutMs`), as an array; not dispatched.
     *
     * @return array<string, int|string|bool>|null the event (keys type, client, data,
     *         messageType, error, closeCode, clean; httpHead and httpBody for a refused
     *         handshake's error; delayMs, reconnectReason and attempt for a reconnect
     *         decision); null when the timeout passed
     *         or a signal interrupted the wait
     *
     * @throws NativeException when polling fails
     */
    public static function take(int $timeoutMs): ?array
    {
        if (EventPump::$end === 0 && !self::fetch($timeoutMs, self::BATCH)) {
            return null;
        }
        $event = self::eventArray(EventPump::$events[EventPump::$next]);
        if (++EventPump::$next >= EventPump::$end) {
            self::free();
        }
        return $event;
    }

    /**
     * Frees the events taken from libwsc, the dispatched ones and those
     * not dispatched yet (the context is being freed: its queued events
     * are dropped too). Registered with Context::onFree().
     */
    public static function drop(): void
    {
        self::free();
    }

    /**
     * Closes every connection kept alive, for Worker shutdown: sends close
     * frames 1001 on the open ones, waits at most `$graceSeconds` for the
     * closing handshakes (their events are dropped, no callback runs),
     * then frees every native client.
     *
     * @throws NativeException when polling fails
     */
    public static function closeAllForShutdown(float $graceSeconds): void
    {
        $closing = [];
        foreach (Connections::$alive as $id => $connection) {
            if ($connection->closeForShutdown()) {
                $closing[$id] = true;
            }
        }
        $deadline = hrtime(true) + (int) ($graceSeconds * 1e9);
        while ($closing !== []) {
            $left = (int) (($deadline - hrtime(true)) / 1e6);
            if ($left <= 0) {
                break;
            }
            $event = self::take($left);
            if ($event !== null && $event['type'] === Abi::EVENT_TYPE_CLOSED) {
                unset($closing[$event['client']]);
            }
        }
        foreach (Connections::releaseAll() as $connection) {
            $connection->freeNative();
        }
    }

    /**
     * Caches libwsc and the C buffers of the hot paths, and has the events
     * dropped when the context goes.
     */
    private static function init(): void
    {
        $ffi = Library::get()->ffi;
        EventPump::$events = $ffi->new('const wsc_event *[' . self::BATCH . ']');
        EventPump::$pollCount = $ffi->new('size_t');
        EventPump::$pollCountAddress = FFI::addr(EventPump::$pollCount);
        EventPump::$ffi = $ffi;
        Context::onFree(self::class, static function (): void {
            self::drop();
        });
    }

    /**
     * Polls the shared context once into $events (empty): waits up to
     * `$timeoutMs` for the first event, takes the others already queued,
     * at most `$limit` (and BATCH) in all.
     *
     * @return bool false when no event came (timeout, or a signal)
     *
     * @throws NativeException when polling fails
     */
    private static function fetch(int $timeoutMs, int $limit): bool
    {
        if (EventPump::$ffi === null) {
            self::init();
        }
        $context = Context::pointer();
        if ($timeoutMs < -1) {
            $timeoutMs = -1;
        } elseif ($timeoutMs > 0x7fffffff) {
            $timeoutMs = 0x7fffffff;
        }
        $result = EventPump::$ffi->wsc_context_poll_events(
            $context,
            $timeoutMs,
            EventPump::$events,
            $limit < self::BATCH ? $limit : self::BATCH,
            EventPump::$pollCountAddress,
        );
        if ($result !== Abi::RESULT_OK) {
            Result::check($result, 'wsc_context_poll_events');
        }
        $count = EventPump::$pollCount->cdata;
        EventPump::$next = 0;
        EventPump::$end = $count;
        return $count > 0;
    }

    /**
     * Frees every event in $events, dispatched or not, in one call.
     */
    private static function free(): void
    {
        $count = EventPump::$end;
        EventPump::$end = 0;
        EventPump::$next = 0;
        if ($count > 0) {
            EventPump::$ffi->wsc_events_free(EventPump::$events, $count);
        }
    }

    /**
     * A native event as an array, its data copied.
     *
     * @return array<string, int|string|bool>
     */
    private static function eventArray(CData $native): array
    {
        $len = (int) $native->data_len;
        $event = [
            'type' => (int) $native->event_type,
            'client' => (int) $native->client_id,
            'data' => $len > 0 ? FFI::string($native->data, $len) : '',
            'messageType' => (int) $native->message_type,
            'error' => (int) $native->error,
            'closeCode' => (int) $native->close_code,
            'clean' => (bool) $native->clean,
        ];
        if ($event['type'] === Abi::EVENT_TYPE_ERROR && $native->http_status !== 0) {
            // A refused handshake: its response (head and body excerpt).
            $event['httpHead'] = FFI::string($native->http_head, $native->http_head_len);
            $body = $native->http_body_len;
            $event['httpBody'] = $body > 0 ? FFI::string($native->http_body, $body) : '';
        } elseif ($event['type'] === Abi::EVENT_TYPE_RECONNECT) {
            $event['delayMs'] = (int) $native->reconnect_delay_ms;
            $event['reconnectReason'] = (int) $native->reconnect_reason;
            $event['attempt'] = (int) $native->reconnect_attempt;
        }
        return $event;
    }
}
