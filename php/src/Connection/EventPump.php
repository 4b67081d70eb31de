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
 * libwsc in packed batches (`wsc_context_poll_batch`: one FFI call per
 * batch, which also releases the previous one; the batch is read with one
 * `FFI::string`, then `unpack`/`substr` per event, no CData read), hands
 * each to its connection (Connections), and closes every connection at
 * shutdown. `Worker` and the event-loop adapters drive it; it drives the
 * connections.
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
    /** The most events taken from libwsc in one `wsc_context_poll_batch` call. */
    private const BATCH = 1024;

    /**
     * unpack() format of a batch record's first 32 bytes (see
     * wsc_context_poll_batch in wsc.h) as four little-endian 64-bit
     * words, keys 1 to 4: header_size | event_type << 32, client_id,
     * data_len, data_address. One repeated code, no names: half the cost
     * of `Vsize/Vtype/Pid/Plen/Paddress` (measured: 82 against 158 ns).
     */
    private const HEAD = 'P4';

    /** unpack() format of all the fields of a batch record. */
    private const FIELDS = 'Vsize/Vtype/Pid/Plen/Paddress/VmessageType/Verror/vcloseCode/Cclean';

    /** libwsc, cached by init(); null until the first use. */
    private static ?FFI $ffi = null;

    /**
     * The records of the last batch (a copy of libwsc's buffer), owned by
     * this class: [$next, $end) wait to be dispatched. Every dispatch
     * loop, also one nested in a callback, takes the next event from here
     * before polling again, so the events of a connection keep their
     * order, and an event's data is read as it is taken: a payload that
     * libwsc kept out of line (over 4 KiB, valid until the next batch
     * poll) is read before the next poll. $end is 0 when none is left.
     */
    private static string $batch = '';

    /** Byte offset of the next record in $batch. */
    private static int $next = 0;

    /** Length of $batch in bytes; 0: nothing left. */
    private static int $end = 0;

    /** `const uint8_t *`: the batch pointer the last poll returned. */
    private static ?CData $batchPointer = null;

    /** FFI::addr($batchPointer), made once. */
    private static ?CData $batchPointerAddress = null;

    /** `size_t`: the batch length the last poll returned. */
    private static ?CData $batchLength = null;

    /** FFI::addr($batchLength), made once. */
    private static ?CData $batchLengthAddress = null;

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
        $count = 0;
        do {
            // Read again after every callback: a loop nested in it takes events too.
            $batch = EventPump::$batch;
            $at = EventPump::$next;
            [1 => $sizeType, 2 => $id, 3 => $len, 4 => $address] = unpack(self::HEAD, $batch, $at);
            $type = $sizeType >> 32;
            $next = $at + ($sizeType & 0xffffffff);
            if ($address === 0) {
                $data = $len > 0 ? substr($batch, $next, $len) : '';
                $next += $len;
            } else {
                $data = FFI::string(EventPump::$ffi->cast('uint8_t *', $address), $len);
            }
            $event = $type === Abi::EVENT_TYPE_BINARY || $type === Abi::EVENT_TYPE_TEXT
                ? null
                : self::eventArray($batch, $at, $data);
            if ($next < EventPump::$end) {
                EventPump::$next = $next;
            } else {
                EventPump::$end = 0;
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
     *         messageType, error, closeCode, clean); null when the timeout passed
     *         or a signal interrupted the wait
     *
     * @throws NativeException when polling fails
     */
    public static function take(int $timeoutMs): ?array
    {
        if (EventPump::$end === 0 && !self::fetch($timeoutMs, self::BATCH)) {
            return null;
        }
        $batch = EventPump::$batch;
        $at = EventPump::$next;
        [1 => $sizeType, 3 => $len, 4 => $address] = unpack(self::HEAD, $batch, $at);
        $next = $at + ($sizeType & 0xffffffff);
        if ($address === 0) {
            $data = $len > 0 ? substr($batch, $next, $len) : '';
            $next += $len;
        } else {
            $data = FFI::string(EventPump::$ffi->cast('uint8_t *', $address), $len);
        }
        if ($next < EventPump::$end) {
            EventPump::$next = $next;
        } else {
            EventPump::$end = 0;
        }
        return self::eventArray($batch, $at, $data);
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
        EventPump::$batchPointer = $ffi->new('const uint8_t *');
        EventPump::$batchPointerAddress = FFI::addr(EventPump::$batchPointer);
        EventPump::$batchLength = $ffi->new('size_t');
        EventPump::$batchLengthAddress = FFI::addr(EventPump::$batchLength);
        EventPump::$ffi = $ffi;
        Context::onFree(self::class, static function (): void {
            self::drop();
        });
    }

    /**
     * Polls the shared context once into $batch (empty): waits up to
     * `$timeoutMs` for the first event, takes the others already queued,
     * at most `$limit` (and BATCH) in all, in one `wsc_context_poll_batch`
     * call, which releases libwsc's previous batch. In a fork() child the
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
        $result = EventPump::$ffi->wsc_context_poll_batch(
            Context::pointer(),
            $timeoutMs,
            $max,
            EventPump::$batchPointerAddress,
            EventPump::$batchLengthAddress,
            null,
        );
        if ($result !== Abi::RESULT_OK) {
            if ($result === Abi::RESULT_FORKED) {
                $result = EventPump::$ffi->wsc_context_poll_batch(
                    Context::renewAfterFork(),
                    $timeoutMs,
                    $max,
                    EventPump::$batchPointerAddress,
                    EventPump::$batchLengthAddress,
                    null,
                );
            }
            Result::check($result, 'wsc_context_poll_batch');
        }
        $length = EventPump::$batchLength->cdata;
        if ($length === 0) {
            return false;
        }
        EventPump::$batch = FFI::string(EventPump::$batchPointer, $length);
        EventPump::$next = 0;
        EventPump::$end = $length;
        return true;
    }

    /**
     * An event of the batch as an array.
     *
     * @param string $batch the batch
     * @param int    $at    the offset of its record
     * @param string $data  its payload, already read
     *
     * @return array<string, int|string|bool>
     */
    private static function eventArray(string $batch, int $at, string $data): array
    {
        $f = unpack(self::FIELDS, $batch, $at);
        return [
            'type' => $f['type'],
            'client' => $f['id'],
            'data' => $data,
            'messageType' => $f['messageType'],
            'error' => $f['error'],
            'closeCode' => $f['closeCode'],
            'clean' => $f['clean'] !== 0,
        ];
    }
}
