<?php

declare(strict_types=1);

namespace Wsc\Ffi;

use FFI\CData;

/**
 * Owns one native object allocated by libwsc (a `wsc_context*` or a
 * `wsc_client*`) and frees it exactly once, with the library's own
 * destructor (`wsc_context_free`, `wsc_client_free`), at the latest when
 * this object is destroyed (RAII). Memory that Rust allocated is never
 * given to `FFI::free`.
 *
 * @internal used by Context and AsyncTcpConnection; not part of the
 *           Workerman API.
 */
final class NativeHandle
{
    /**
     * The native pointer, null once freed. Public for the hot paths
     * (`send`, the event loop), which read it without a method call; only
     * this class writes it.
     */
    public ?CData $pointer;

    /** @var \Closure(CData): void */
    private \Closure $free;

    /**
     * @param CData                $pointer the native pointer, owned from now on
     * @param callable(CData): void $free   the library's destructor for it
     * @param string               $kind    the C type, for error messages (`wsc_client`)
     */
    public function __construct(CData $pointer, callable $free, private readonly string $kind)
    {
        $this->pointer = $pointer;
        $this->free = \Closure::fromCallable($free);
    }

    /**
     * The native pointer, to pass to libwsc.
     *
     * @throws \LogicException when it was already freed
     */
    public function pointer(): CData
    {
        if ($this->pointer === null) {
            throw new \LogicException("this {$this->kind} was already freed");
        }
        return $this->pointer;
    }

    /**
     * True once free() ran.
     */
    public function isFreed(): bool
    {
        return $this->pointer === null;
    }

    /**
     * Frees the native object now; later calls do nothing.
     */
    public function free(): void
    {
        $pointer = $this->pointer;
        if ($pointer === null) {
            return;
        }
        $this->pointer = null;
        ($this->free)($pointer);
    }

    /**
     * Frees the native object if free() was not called.
     */
    public function __destruct()
    {
        $this->free();
    }
}
