<?php

declare(strict_types=1);

namespace Wsc;

use FFI;
use FFI\CData;
use Wsc\Exception\LibraryException;
use Wsc\Exception\NativeException;
use Wsc\Ffi\Abi;
use Wsc\Ffi\Context;
use Wsc\Ffi\Library as Loader;
use Wsc\Ffi\Result;

/**
 * The former entry point to libwsc, kept so that code written for it keeps
 * working: each method forwards to the class that now does the job.
 *
 * @deprecated use `Wsc\Ffi\Library` (loading: get(), load(), findLibrary(),
 *             scopeHeader(), preload()), `Wsc\Ffi\Context` (the process's
 *             context: stream(), fd(), exists(), free()), `Wsc\Ffi\Result`
 *             (result texts) and `Wsc\Ffi\Abi` (the constants of wsc.h).
 *             The header directory (`$includeDir`, `WSC_INCLUDE_DIR`) is gone:
 *             the declarations are the package's `php/resources/wsc.ffi.h`.
 */
final class Library
{
    /** The FFI scope name (Ffi\Library::SCOPE). */
    public const SCOPE = Loader::SCOPE;

    /** The SONAME of the libwsc this package was written for (Ffi\Library::SONAME). */
    public const SONAME = Loader::SONAME;

    private static ?self $instance = null;

    /** The loaded library (Ffi\Library::$ffi). */
    public readonly FFI $ffi;

    /** The absolute path of the loaded `libwsc.so`; null when it came from the preloaded scope `WSC`. */
    public readonly ?string $libraryPath;

    private function __construct(Loader $loader)
    {
        $this->ffi = $loader->ffi;
        $this->libraryPath = $loader->libraryPath;
    }

    /**
     * Ffi\Library::get(), wrapped.
     *
     * @throws LibraryException when the library or the declarations cannot be found or loaded
     */
    public static function get(): self
    {
        return self::$instance ??= new self(Loader::get());
    }

    /**
     * Ffi\Library::load(), wrapped.
     *
     * @param string|null $libraryPath path to `libwsc.so`; null: default search
     * @param string|null $includeDir  must be null: the declarations are the package's own
     *
     * @throws LibraryException when loading fails, or when `$includeDir` is given
     * @throws \LogicException  when another copy was already loaded in this process
     */
    public static function load(?string $libraryPath = null, ?string $includeDir = null): self
    {
        self::refuseIncludeDir($includeDir);
        $loader = Loader::load($libraryPath);
        return self::$instance ??= new self($loader);
    }

    /**
     * Ffi\Library::findLibrary().
     *
     * @throws LibraryException naming every place tried when none has it
     */
    public static function findLibrary(?string $libraryPath = null): string
    {
        return Loader::findLibrary($libraryPath);
    }

    /**
     * Ffi\Library::requireFfi().
     *
     * @throws LibraryException naming the setting that stops PHP's FFI
     */
    public static function requireFfi(bool $scopeLoaded = false): void
    {
        Loader::requireFfi($scopeLoaded);
    }

    /**
     * Ffi\Library::scopeHeader().
     *
     * @param string|null $includeDir must be null: the declarations are the package's own
     *
     * @throws LibraryException when the library is missing, or when `$includeDir` is given
     */
    public static function scopeHeader(?string $libraryPath = null, ?string $includeDir = null): string
    {
        self::refuseIncludeDir($includeDir);
        return Loader::scopeHeader($libraryPath);
    }

    /**
     * Ffi\Library::preload().
     *
     * @param string|null $includeDir must be null: the declarations are the package's own
     *
     * @throws LibraryException when loading fails, or when `$includeDir` is given
     */
    public static function preload(?string $libraryPath = null, ?string $includeDir = null): string
    {
        self::refuseIncludeDir($includeDir);
        return Loader::preload($libraryPath);
    }

    /** The library version reported by `wsc_version()`, e.g. "0.1.0". */
    public function version(): string
    {
        return (string) $this->ffi->wsc_version();
    }

    /** Ffi\Result::lastError(). */
    public function lastError(): string
    {
        return Result::lastError();
    }

    /** Ffi\Result::describe(). */
    public function describe(int $result): string
    {
        return Result::describe($result);
    }

    /** Ffi\Result::text(). */
    public function resultText(int $result): string
    {
        return Result::text($result);
    }

    /**
     * Ffi\Result::check().
     *
     * @throws NativeException unless `$result` is `WSC_RESULT_OK`
     */
    public function check(int $result, string $function): void
    {
        Result::check($result, $function);
    }

    /**
     * The value of a `WSC_*` constant of wsc.h, e.g. `WSC_EVENT_TYPE_OPEN`
     * (`Abi::EVENT_TYPE_OPEN`).
     *
     * @throws \InvalidArgumentException for a name wsc.h does not declare
     */
    public function constant(string $name): int
    {
        $value = self::constants()[$name] ?? null;
        if ($value === null) {
            throw new \InvalidArgumentException("wsc.h declares no constant {$name}");
        }
        return $value;
    }

    /**
     * All `WSC_*` enum constants of wsc.h (Abi's, with the prefix), name => value.
     *
     * @return array<string, int>
     */
    public function constants(): array
    {
        $constants = [];
        foreach ((new \ReflectionClass(Abi::class))->getConstants() as $name => $value) {
            if (is_int($value) && !str_starts_with($name, 'VERSION_')) {
                $constants['WSC_' . $name] = $value;
            }
        }
        return $constants;
    }

    /**
     * Ffi\Context::pointer().
     *
     * @throws NativeException when libwsc cannot create it
     */
    public function context(): CData
    {
        return Context::pointer();
    }

    /** Ffi\Context::exists(). */
    public function hasContext(): bool
    {
        return Context::exists();
    }

    /** Ffi\Context::free(). */
    public function freeContext(): void
    {
        Context::free();
    }

    /**
     * Ffi\Context::fd().
     *
     * @throws NativeException when the context cannot be created
     */
    public function contextFd(): int
    {
        return Context::fd();
    }

    /**
     * Ffi\Context::stream().
     *
     * @return resource
     *
     * @throws NativeException  when the context cannot be created
     * @throws LibraryException when PHP cannot open php://fd (not the CLI SAPI)
     */
    public function contextStream()
    {
        return Context::stream();
    }

    /**
     * @throws LibraryException when an include directory is given
     */
    private static function refuseIncludeDir(?string $includeDir): void
    {
        if ($includeDir !== null) {
            throw new LibraryException(
                "the include directory argument ({$includeDir}) is no longer read: the FFI declarations are the "
                . "package's own php/resources/wsc.ffi.h; drop the argument"
            );
        }
    }
}
