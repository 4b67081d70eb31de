<?php

declare(strict_types=1);

namespace Wsc\EventLoop;

use Wsc\Ffi\Context;
use Wsc\Timer;
use Wsc\Worker;

/**
 * wsc in a loop of PHP's own `stream_select()`. Either by hand:
 *
 * ```php
 * $wsc = Wsc\Ffi\Context::stream();
 * while ($running) {
 *     $read = [$wsc, $mySocket]; $write = $except = [];
 *     if (stream_select($read, $write, $except, 1) > 0) {
 *         if (in_array($wsc, $read, true)) {
 *             Wsc\Worker::pollPending();                 // wsc's callbacks run here
 *         }
 *         // ... $mySocket
 *     }
 * }
 * ```
 *
 * or with select() below, which adds the context stream to the read set,
 * drains wsc's events when it is readable, runs the due `Wsc\Timer`
 * timers, and hands back only the caller's streams.
 */
final class StreamSelect
{
    /**
     * The context stream to put in stream_select()'s read set
     * (`Ffi\Context::stream()`); never read from it.
     *
     * @return resource
     */
    public static function stream()
    {
        return Context::stream();
    }

    /**
     * `stream_select()` that also serves wsc: waits until one of the
     * caller's streams is ready, or `$timeout` passed, dispatching wsc's
     * events (their callbacks run inside this call) and the `Wsc\Timer`
     * timers while it waits (at most until the next timer is due). On
     * return, `$read`, `$write` and `$except` hold the caller's streams
     * that are ready (keys preserved), never the context stream.
     *
     * @param array<resource>|null $read    streams to watch for reading
     * @param array<resource>|null $write   streams to watch for writing
     * @param array<resource>|null $except  streams to watch for out-of-band data
     * @param float|null           $timeout seconds; null: until a stream is ready
     *                                      or a timer is due
     *
     * @return int|false how many of the caller's streams are ready (0 after the
     *                   timeout, after wsc's events alone, or when a signal
     *                   interrupted the wait); false when stream_select()
     *                   failed (its warning is passed on)
     */
    public static function select(?array &$read, ?array &$write, ?array &$except, ?float $timeout): int|false
    {
        $stream = self::stream();
        $r = $read ?? [];
        $r[] = $stream;
        $w = $write ?? [];
        $e = $except ?? [];
        $ms = $timeout === null ? null : max(0, (int) ceil($timeout * 1000));
        $next = Timer::msUntilNext();
        if ($next !== null && ($ms === null || $next < $ms)) {
            $ms = $next;
        }
        $seconds = $ms === null ? null : intdiv($ms, 1000);
        $microseconds = $ms === null ? null : ($ms % 1000) * 1000;
        $n = @stream_select($r, $w, $e, $seconds, $microseconds);
        if ($n === false) {
            $error = error_get_last();
            $message = $error['message'] ?? 'stream_select() failed';
            if (!str_contains($message, 'Interrupted system call')) {
                trigger_error($message, E_USER_WARNING);
                return false;
            }
            $r = $w = $e = [];
        }
        $ours = false;
        foreach ($r as $key => $ready) {
            if ($ready === $stream) {
                unset($r[$key]);
                $ours = true;
            }
        }
        if ($ours) {
            Worker::pollPending();
        }
        Timer::runDue();
        if ($read !== null) {
            $read = $r;
        }
        if ($write !== null) {
            $write = $w;
        }
        if ($except !== null) {
            $except = $e;
        }
        return count($r) + count($w) + count($e);
    }
}
