<?php

declare(strict_types=1);

namespace Wsc\Ffi;

use FFI;
use FFI\CData;
use Wsc\Exception\LibraryException;
use Wsc\Exception\NativeException;

/**
 * The process's native context (`wsc_context`, the event loop of libwsc),
 * shared by every connection: created at first use and freed at shutdown
 * (or by free()). What must happen when it goes (the events taken from
 * it, the loops watching its stream) is registered with onFree(): this
 * class calls nothing above it.
 *
 * After `fork()` (`pcntl_fork()`, or Workerman starting its workers) the
 * child gets a context of its own: a context cannot be shared by two
 * processes, and libwsc refuses the parent's in the child with
 * `WSC_RESULT_FORKED` (it takes no lock and no syscall to tell). That
 * answer drives the switch: the caller that gets it calls
 * renewAfterFork() and tries again, so no call checks the process id.
 * The child lets go of the parent's context as by free() (the listeners
 * run: events the parent had taken and not dispatched are dropped in the
 * child; the parent dispatches them).
 */
final class Context
{
    // Static properties are written `Context::$name`, not `self::$name` (see EventPump).
    private static ?NativeHandle $handle = null;

    /** @var resource|null the stream of stream(), a dup() of the context fd */
    private static $stream = null;

    /** The context that $stream belongs to. */
    private static ?NativeHandle $streamOf = null;

    /** @var array<string, \Closure(): void> run by free(), by key */
    private static array $onFree = [];

    /**
     * The shared `wsc_context*`, created on first use. In a fork() child it
     * is still the parent's until a call on it answers `WSC_RESULT_FORKED`
     * and the caller calls renewAfterFork().
     *
     * @throws NativeException when libwsc cannot create it (e.g. no file descriptors left)
     */
    public static function pointer(): CData
    {
        $pointer = Context::$handle?->pointer;
        if ($pointer !== null) {
            return $pointer;
        }
        $ffi = Library::get()->ffi;
        $out = $ffi->new('wsc_context*');
        Result::check($ffi->wsc_context_new(FFI::addr($out)), 'wsc_context_new');
        Context::$handle = new NativeHandle($out, static function (CData $p) use ($ffi): void {
            $ffi->wsc_context_free($p);
        }, 'wsc_context');
        register_shutdown_function([self::class, 'free']);
        return Context::$handle->pointer();
    }

    /**
     * For a caller whose call on the context answered `WSC_RESULT_FORKED`
     * (this process is a fork() child of the one that made it): lets go of
     * the parent's context as free() does (libwsc only forgets it: its
     * threads and sockets are the parent's) and returns a new one, on
     * which the caller tries again.
     *
     * @throws NativeException when libwsc cannot create the new context
     */
    public static function renewAfterFork(): CData
    {
        self::free();
        Context::$handle = null;
        return self::pointer();
    }

    /**
     * True when the shared context exists (a connection was created) and
     * was not freed.
     */
    public static function exists(): bool
    {
        return Context::$handle !== null && !Context::$handle->isFreed();
    }

    /**
     * Runs `$listener` whenever the context is about to be freed (free(),
     * shutdown, or a fork() child letting go of the parent's), before its
     * stream is closed. A second registration under the same `$key`
     * replaces the first.
     *
     * @param string           $key      who registers, e.g. `EventPump::class`
     * @param \Closure(): void $listener
     */
    public static function onFree(string $key, \Closure $listener): void
    {
        Context::$onFree[$key] = $listener;
    }

    /**
     * Frees the shared context now: the onFree() listeners run, the stream
     * of stream() is closed, and all connections end at once (no closing
     * handshake); their clients then answer `CONTEXT_CLOSED`. Runs at
     * shutdown; a later pointer() call creates a new context. Nothing
     * happens without a context.
     */
    public static function free(): void
    {
        foreach (Context::$onFree as $listener) {
            $listener();
        }
        if (Context::$stream !== null) {
            if (is_resource(Context::$stream)) {
                fclose(Context::$stream);
            }
            Context::$stream = null;
            Context::$streamOf = null;
        }
        Context::$handle?->free();
    }

    /**
     * The file descriptor of the shared context (`wsc_context_fd`), for an
     * event loop that watches fds: it is readable whenever events are
     * waiting (then call `Worker::pollPending()`, which drains them).
     * It belongs to the context: never read, write or close it. Creates
     * the context when there is none.
     *
     * @throws NativeException when the context cannot be created
     */
    public static function fd(): int
    {
        $ffi = Library::get()->ffi;
        $out = $ffi->new('int');
        $result = $ffi->wsc_context_fd(self::pointer(), FFI::addr($out));
        if ($result === Abi::RESULT_FORKED) {
            $result = $ffi->wsc_context_fd(self::renewAfterFork(), FFI::addr($out));
        }
        Result::check($result, 'wsc_context_fd');
        return (int) $out->cdata;
    }

    /**
     * The context fd as a PHP stream, for `stream_select()` and the event
     * loops that take streams (Workerman, ReactPHP, Revolt): readable
     * whenever events are waiting; after it turns readable, call
     * `Worker::pollPending()`. Never read from it or write to it.
     *
     * It is `fopen('php://fd/N', 'r')`, which dup()s the fd: the stream
     * holds a second descriptor of the same epoll instance, and closing
     * the stream closes only that copy, never the context's fd. The same
     * stream is returned until free() (which closes it); a new context
     * gets a new stream. `php://fd` exists only in the CLI SAPI. The copy
     * is not close-on-exec: a program started with proc_open() or exec()
     * inherits it (harmless: it can only watch the epoll set).
     *
     * @return resource
     *
     * @throws NativeException   when the context cannot be created
     * @throws LibraryException  when PHP cannot open php://fd (not the CLI SAPI)
     */
    public static function stream()
    {
        $fd = self::fd();
        if (Context::$stream !== null) {
            if (Context::$streamOf === Context::$handle && is_resource(Context::$stream)) {
                return Context::$stream;
            }
            if (is_resource(Context::$stream)) {
                fclose(Context::$stream);
            }
            Context::$stream = null;
        }
        $error = null;
        set_error_handler(static function (int $no, string $message) use (&$error): bool {
            $error = $message;
            return true;
        });
        try {
            $stream = fopen("php://fd/{$fd}", 'r');
        } finally {
            restore_error_handler();
        }
        if ($stream === false) {
            throw new LibraryException(
                "cannot open php://fd/{$fd} for the wsc context fd: " . ($error ?? 'fopen failed')
                . ' (php://fd exists only in the CLI SAPI; use Worker::loopOnce() elsewhere)'
            );
        }
        Context::$streamOf = Context::$handle;
        return Context::$stream = $stream;
    }
}
