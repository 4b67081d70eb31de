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
use Wsc\Protocols\Ws;

/**
 * The process's event pump: takes the events of the shared context from
 * libwsc in packed batches (`wsc_context_poll_batch_index`: one FFI call
 * per batch, which also releases the previous one; the buffer is copied
 * with one `FFI::string`, a message's type, client, length and offset are
 * read from the batch's compact index, two `uint64_t` words, and its
 * payload cut with `substr`; other events are read from their
 * `wsc_batch_record`), hands each to its connection (Connections), and
 * closes every connection at shutdown. `Worker` and the event-loop
 * adapters drive it; it drives the connections. (Measured with callgrind,
 * PHP 8.2: a record's CData object and four field reads cost ~700
 * instructions per message, the two index reads ~230 less end to end;
 * decoding fields from a string costs more: unpack() ~370 instructions
 * per integer, json_decode() ~570.)
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
    /** The most events taken from libwsc in one `wsc_context_poll_batch_index` call. */
    private const BATCH = 1024;

    /** libwsc, cached by init(); null until the first use. */
    private static ?FFI $ffi = null;

    /**
     * The last batch, copied from libwsc's buffer (records, then inline
     * payloads), its records and its compact index read in place (`const
     * wsc_batch_record *` and `const uint64_t *`, valid until the next
     * poll), owned by this class: the events whose index words are
     * [$next, $end) (two per event: record $next >> 1 first) wait to be
     * dispatched. Every dispatch loop, also one
     * nested in a callback, takes the next event from here before polling
     * again, so the events of a connection keep their order, and an
     * event's data is read as it is taken: everything in libwsc's buffer
     * (and a payload kept out of line) is read before the next poll
     * releases it. $end is 0 when none is left.
     */
    private static string $batch = '';

    private static ?CData $records = null;

    private static ?CData $index = null;

    /** Index word of the next event (twice its record's index). */
    private static int $next = 0;

    /** Index words of the batch (twice its events); 0: nothing left. */
    private static int $end = 0;

    /** The shared context's pointer, cached: forgotten by drop() when the context goes. */
    private static ?CData $context = null;

    /** `const wsc_batch_record *`: the batch the last poll returned (records, then payloads). */
    private static ?CData $batchPointer = null;

    /** FFI::addr($batchPointer), made once. */
    private static ?CData $batchPointerAddress = null;

    /** `size_t`: the batch length the last poll returned. */
    private static ?CData $batchLength = null;

    /** FFI::addr($batchLength), made once. */
    private static ?CData $batchLengthAddress = null;

    /** `size_t`: the number of events the last poll returned. */
    private static ?CData $batchCount = null;

    /** FFI::addr($batchCount), made once. */
    private static ?CData $batchCountAddress = null;

    /** `const uint64_t *`: the compact index the last poll returned. */
    private static ?CData $batchIndex = null;

    /** FFI::addr($batchIndex), made once. */
    private static ?CData $batchIndexAddress = null;

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
        // Locals: a class constant of another class is fetched at every use
        // (no opcache in the CLI) and compared through zend_is_identical().
        $text = Abi::EVENT_TYPE_TEXT;
        $binary = Abi::EVENT_TYPE_BINARY;
        $blob = Ws::BINARY_TYPE_BLOB;
        $arraybuffer = Ws::BINARY_TYPE_ARRAYBUFFER;
        $count = 0;
        do {
            // Read again after every callback: a loop nested in it takes events too.
            $at = EventPump::$next;
            $index = EventPump::$index;
            // Taken before its callback runs (a nested loop takes the next one).
            if (($next = $at + 2) < EventPump::$end) {
                EventPump::$next = $next;
            } else {
                EventPump::$end = 0;
            }
            // event_type | data_len << 8 | data_offset << 32 (see wsc_context_poll_batch_index).
            $word = $index[$at + 1];
            $type = $word & 0xff;
            if ($type === $text || $type === $binary) {
                $len = ($word >> 8) & 0xffffff;
                if ($len === 0) {
                    $data = '';
                } elseif ($len !== 0xffffff) {
                    $data = substr(EventPump::$batch, $word >> 32, $len);
                } else {
                    // Out of line, or too long or far for the index word.
                    $data = self::payload(EventPump::$records[$at >> 1]);
                }
                $id = $index[$at];
                $connection = Connections::$alive[$id] ?? (Connections::$known[$id] ?? null)?->get();
                if ($connection !== null) {
                    // Inlined (see EventTarget::reportMessageException()): no method call per message.
                    $connection->lastMessageType = $type === $binary ? $arraybuffer : $blob;
                    $fn = $connection->onMessage;
                    if ($fn !== null) {
                        try {
                            $fn($connection, $data);
                        } catch (\Throwable $e) {
                            $connection->reportMessageException($e);
                        }
                    }
                }
            } else {
                $record = EventPump::$records[$at >> 1];
                $event = self::eventArray($record, self::payload($record));
                $id = $event['client'];
                (Connections::$alive[$id] ?? (Connections::$known[$id] ?? null)?->get())
                    ?->handleEvent($event);
            }
        } while (++$count < $limit && !$stop && EventPump::$end !== 0);
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
        $record = EventPump::$records[EventPump::$next >> 1];
        $event = self::eventArray($record, self::payload($record));
        if ((EventPump::$next += 2) >= EventPump::$end) {
            EventPump::$end = 0;
        }
        return $event;
    }

    /**
     * Forgets the events taken from libwsc and not dispatched yet (the
     * context is being freed: its queued events are dropped too; libwsc
     * releases its batch buffer with the context). Registered with
     * Context::onFree().
     */
    public static function drop(): void
    {
        EventPump::$end = 0;
        EventPump::$next = 0;
        EventPump::$batch = '';
        EventPump::$records = null;
        EventPump::$index = null;
        EventPump::$context = null;
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
     * Caches libwsc and the C out-parameters of the hot path, and has the
     * events dropped when the context goes.
     */
    private static function init(): void
    {
        $ffi = Library::get()->ffi;
        EventPump::$batchPointer = $ffi->new('const wsc_batch_record *');
        EventPump::$batchPointerAddress = FFI::addr(EventPump::$batchPointer);
        EventPump::$batchLength = $ffi->new('size_t');
        EventPump::$batchLengthAddress = FFI::addr(EventPump::$batchLength);
        EventPump::$batchCount = $ffi->new('size_t');
        EventPump::$batchCountAddress = FFI::addr(EventPump::$batchCount);
        EventPump::$batchIndex = $ffi->new('const uint64_t *');
        EventPump::$batchIndexAddress = FFI::addr(EventPump::$batchIndex);
        EventPump::$ffi = $ffi;
        Context::onFree(self::class, static function (): void {
            self::drop();
        });
    }

    /**
     * Polls the shared context once into $batch (empty): waits up to
     * `$timeoutMs` for the first event, takes the others already queued,
     * at most `$limit` (and BATCH) in all, in one
     * `wsc_context_poll_batch_index` call, which releases libwsc's
     * previous batch. In a fork() child the
     * parent's context answers `WSC_RESULT_FORKED`: the child gets its own
     * (Context::renewAfterFork()) and polls that.
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
        if ($timeoutMs < -1) {
            $timeoutMs = -1;
        } elseif ($timeoutMs > 0x7fffffff) {
            $timeoutMs = 0x7fffffff;
        }
        $max = $limit < self::BATCH ? $limit : self::BATCH;
        $result = EventPump::$ffi->wsc_context_poll_batch_index(
            EventPump::$context ??= Context::pointer(),
            $timeoutMs,
            $max,
            EventPump::$batchPointerAddress,
            EventPump::$batchLengthAddress,
            EventPump::$batchCountAddress,
            EventPump::$batchIndexAddress,
        );
        if ($result !== Abi::RESULT_OK) {
            if ($result === Abi::RESULT_FORKED) {
                $result = EventPump::$ffi->wsc_context_poll_batch_index(
                    EventPump::$context = Context::renewAfterFork(),
                    $timeoutMs,
                    $max,
                    EventPump::$batchPointerAddress,
                    EventPump::$batchLengthAddress,
                    EventPump::$batchCountAddress,
                    EventPump::$batchIndexAddress,
                );
            }
            Result::check($result, 'wsc_context_poll_batch_index');
        }
        $length = EventPump::$batchLength->cdata;
        if ($length === 0) {
            return false;
        }
        EventPump::$batch = FFI::string(EventPump::$batchPointer, $length);
        EventPump::$records = EventPump::$batchPointer;
        EventPump::$index = EventPump::$batchIndex;
        EventPump::$next = 0;
        EventPump::$end = EventPump::$batchCount->cdata * 2;
        return true;
    }

    /**
     * The payload of a record of the batch: cut from the copy of the buffer
     * when inline, read at its address when libwsc kept it out of line.
     *
     * @param CData $record a `wsc_batch_record` of the current batch
     */
    private static function payload(CData $record): string
    {
        $len = $record->data_len;
        if ($len === 0) {
            return '';
        }
        $offset = $record->data_offset;
        return $offset !== 0
            ? substr(EventPump::$batch, $offset, $len)
            : FFI::string(EventPump::$ffi->cast('uint8_t *', $record->data_address), $len);
    }

    /**
     * An event of the batch as an array.
     *
     * @param CData  $record its `wsc_batch_record`
     * @param string $data   its payload, already read
     *
     * @return array<string, int|string|bool>
     */
    private static function eventArray(CData $record, string $data): array
    {
        $event = [
            'type' => $record->event_type,
            'client' => $record->client_id,
            'data' => $data,
            'messageType' => $record->message_type,
            'error' => $record->error,
            'closeCode' => $record->close_code,
            'clean' => $record->clean !== 0,
        ];
        if ($event['type'] === Abi::EVENT_TYPE_ERROR && $record->http_status !== 0) {
            // A refused handshake: its response (head and body excerpt), inline in the batch.
            $event['httpHead'] = substr(EventPump::$batch, $record->http_head_offset, $record->http_head_len);
            $body = $record->http_body_len;
            $event['httpBody'] = $body > 0 ? substr(EventPump::$batch, $record->http_body_offset, $body) : '';
        } elseif ($event['type'] === Abi::EVENT_TYPE_RECONNECT) {
            $event['delayMs'] = $record->reconnect_delay_ms;
            $event['reconnectReason'] = $record->reconnect_reason;
            $event['attempt'] = $record->reconnect_attempt;
        }
        return $event;
    }
}
