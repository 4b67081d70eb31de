<?php

declare(strict_types=1);

namespace Wsc\Ffi;

use FFI;
use Wsc\Exception\LibraryException;

/**
 * Loads libwsc through PHP's FFI extension, once per process: finds the
 * shared library, declares it with the generated declarations, or takes
 * the preloaded FFI scope `WSC`. It calls nothing above it (no connection,
 * no event loop).
 *
 * libwsc runs on Linux only (it uses epoll); other systems get a
 * LibraryException saying so.
 *
 * Where the shared library is found, first match wins:
 * 1. the `$libraryPath` argument of `Library::load()`;
 * 2. the FFI scope `WSC`, when `php/preload.php` ran as `opcache.preload`
 *    or `ffi.preload` declared it (then no header is parsed at request time);
 * 3. the environment variable `WSC_LIB` (a path to `libwsc.so`);
 * 4. the prebuilt library shipped in the package for this platform,
 *    `lib/linux-<machine>/libwsc.so.0` (the Composer package of a release
 *    has one for x86_64 with glibc 2.17 or newer; skipped on musl);
 * 5. the system library, `libwsc.so.0` through the dynamic linker (as
 *    installed by `make install` followed by `ldconfig`, or by the Debian
 *    package `libwsc0`; `LD_LIBRARY_PATH` counts);
 * 6. the development build of a source tree: `target/release/libwsc.so`,
 *    then `target/debug/libwsc.so` (relative to the package root).
 * When none is there, the exception lists every place tried and what to do.
 *
 * The declarations are `php/resources/wsc.ffi.h` of this package, which
 * the build generates from the same Rust source as `include/wsc.h` (with
 * `wsc_client_send`'s `data` declared `const char *`, so that a PHP string
 * goes to libwsc without a copy); the constants are `Abi`'s, generated
 * alongside. Nothing is parsed or patched at run time.
 *
 * PHP's FFI must be usable: the extension loaded and `ffi.enable=true`, or
 * `ffi.enable=preload` (the default) in the CLI or with wsc preloaded;
 * otherwise the exception says which setting stops it and how to change it.
 *
 * Preloading (optional with `ffi.enable=true`; required outside the CLI
 * with `ffi.enable=preload`, where PHP allows FFI calls only from preloaded
 * code) declares the FFI scope `WSC`, which get() then uses through
 * `FFI::scope('WSC')`:
 * - `ffi.preload`: write the header with its `FFI_SCOPE`/`FFI_LIB` lines
 *   once, `php php/ffi-header.php /etc/php/wsc-ffi.h`, and set
 *   `ffi.preload=/etc/php/wsc-ffi.h` in php.ini;
 * - `opcache.preload=/path/to/php/preload.php` (with `opcache.enable=1`,
 *   and `opcache.enable_cli=1` for the CLI) preloads the package's classes
 *   and declares the scope unless `ffi.preload` did; when PHP starts as
 *   root (`opcache.preload_user`, which forbids `FFI::load()`), set both.
 *
 * Thread safety: PHP runs it on one thread; the object is immutable.
 */
final class Library
{
    /** The FFI scope name declared by `php/preload.php` and `php/ffi-header.php`. */
    public const SCOPE = 'WSC';

    /** The SONAME of the libwsc this package was written for (docs/compatibility.md). */
    public const SONAME = 'libwsc.so.0';

    // Static properties are written `Library::$name`, not `self::$name` (see EventPump).
    private static ?self $instance = null;

    private function __construct(
        /** The loaded library: call `wsc_*` functions on it, e.g. `$lib->ffi->wsc_version()`. */
        public readonly FFI $ffi,
        /** The absolute path of the loaded `libwsc.so`; null when it came from the preloaded scope `WSC`. */
        public readonly ?string $libraryPath,
    ) {
    }

    /**
     * The loaded library, loading it on first use with the default search
     * (see the class docblock).
     *
     * @throws LibraryException when the library or the declarations cannot be found or loaded
     */
    public static function get(): self
    {
        return Library::$instance ??= self::open(null);
    }

    /**
     * Loads libwsc from an explicit place, before anything else uses it.
     *
     * @param string|null $libraryPath path to `libwsc.so`; null: default search
     *
     * @throws LibraryException when loading fails
     * @throws \LogicException  when another copy was already loaded in this process
     */
    public static function load(?string $libraryPath = null): self
    {
        if (Library::$instance !== null) {
            if ($libraryPath === null || realpath($libraryPath) === Library::$instance->libraryPath) {
                return Library::$instance;
            }
            throw new \LogicException(sprintf(
                'libwsc is already loaded from %s; call Library::load() before any connection is created',
                Library::$instance->libraryPath ?? 'the preloaded FFI scope WSC',
            ));
        }
        return Library::$instance = self::open($libraryPath);
    }

    /**
     * Where the shared library would be loaded from, in the order of the
     * class docblock. The system library is looked up by loading it once
     * through the dynamic linker (`dlopen("libwsc.so.0")`); nothing else is
     * loaded.
     *
     * @param string|null $libraryPath an explicit path, checked to exist
     *
     * @return string the absolute path of the library
     *
     * @throws LibraryException naming every place tried, and what to do, when none has it;
     *                          on a system other than Linux
     */
    public static function findLibrary(?string $libraryPath = null): string
    {
        self::requireLinux();
        if ($libraryPath !== null) {
            if (!is_file($libraryPath)) {
                throw new LibraryException("libwsc not found at {$libraryPath} (the path given to Library::load())");
            }
            return (string) realpath($libraryPath);
        }
        $env = getenv('WSC_LIB');
        if ($env !== false && $env !== '') {
            if (!is_file($env)) {
                throw new LibraryException("libwsc not found at {$env} (from the environment variable WSC_LIB)");
            }
            return (string) realpath($env);
        }
        $root = dirname(__DIR__, 3);
        $tried = [];

        $machine = php_uname('m');
        $prebuilt = "{$root}/lib/linux-{$machine}/" . self::SONAME;
        if (glob('/lib/ld-musl-*.so.1') !== []) {
            $tried[] = "the package's prebuilt library (skipped: it is built for glibc, this system uses musl)";
        } elseif (is_file($prebuilt)) {
            return (string) realpath($prebuilt);
        } else {
            $tried[] = "the package's prebuilt library {$prebuilt} (none for {$machine} in this package)";
        }

        $system = self::systemLibrary();
        if ($system !== null) {
            return $system;
        }
        $tried[] = 'the system library ' . self::SONAME . ' through the dynamic linker (not installed, or '
            . '`ldconfig` not run after installing it)';

        foreach (['release', 'debug'] as $profile) {
            $candidate = "{$root}/target/{$profile}/libwsc.so";
            if (is_file($candidate)) {
                return (string) realpath($candidate);
            }
            $tried[] = "the development build {$candidate}";
        }
        throw new LibraryException(
            'libwsc not found; tried the environment variable WSC_LIB (unset), ' . implode(', ', $tried) . '. '
            . 'To fix it: on x86_64 Linux with glibc 2.17 or newer, install the release package '
            . '(`composer require wsc/wsc` from a release, which ships the library), or install libwsc on the system '
            . '(the Debian package libwsc0, or `make install` in a wsc source tree, then `ldconfig`), or build it '
            . "from source (`cargo build --release` in a wsc clone, Rust 1.95+), or set the environment variable "
            . 'WSC_LIB to the path of a libwsc.so'
        );
    }

    /**
     * Throws when PHP's FFI cannot be used here: the extension missing,
     * `ffi.enable` off, or `ffi.enable=preload` outside the CLI without the
     * preloaded scope `WSC`.
     *
     * @param bool $scopeLoaded whether the FFI scope `WSC` was preloaded
     *
     * @throws LibraryException naming the setting and how to change it
     */
    public static function requireFfi(bool $scopeLoaded = false): void
    {
        if (!extension_loaded('ffi')) {
            throw new LibraryException(
                "PHP's FFI extension is not loaded (wsc calls libwsc through it): enable it with "
                . '`extension=ffi` in php.ini (on Debian and Ubuntu it comes with phpX.Y-common: `phpenmod ffi`), '
                . 'with ffi.enable=true or ffi.enable=preload'
            );
        }
        $setting = strtolower(trim((string) ini_get('ffi.enable')));
        if (in_array($setting, ['', '0', 'false', 'off', 'no'], true)) {
            throw new LibraryException(
                "PHP's FFI is disabled (ffi.enable={$setting} in " . (php_ini_loaded_file() ?: 'php.ini') . '): '
                . 'set ffi.enable=true, or ffi.enable=preload and preload wsc (see "Preloading" in php/README.md)'
            );
        }
        if ($setting === 'preload' && PHP_SAPI !== 'cli' && !$scopeLoaded) {
            throw new LibraryException(
                'ffi.enable=preload (PHP\'s default) allows FFI only in the CLI and in preloaded code, and this is the '
                . PHP_SAPI . ' SAPI without wsc preloaded: either set ffi.enable=true in php.ini, or preload wsc '
                . 'with opcache.enable=1 and opcache.preload=' . dirname(__DIR__, 2) . '/preload.php in php.ini '
                . '(plus opcache.preload_user when PHP starts as root; see "Preloading" in php/README.md)'
            );
        }
    }

    /**
     * The path of the generated declarations, `php/resources/wsc.ffi.h`.
     */
    public static function headerFile(): string
    {
        return dirname(__DIR__, 2) . '/resources/wsc.ffi.h';
    }

    /**
     * The text of the generated declarations (headerFile()), as given to
     * `FFI::cdef`.
     *
     * @throws LibraryException when the file is missing or unreadable
     */
    public static function declarations(): string
    {
        $file = self::headerFile();
        $text = is_file($file) ? @file_get_contents($file) : false;
        if ($text === false) {
            throw new LibraryException(
                "the FFI declarations {$file} are missing or unreadable: the package ships them, and in a wsc "
                . 'source tree `cargo build --release` generates them'
            );
        }
        return $text;
    }

    /**
     * The header text that declares the FFI scope `WSC`: the declarations
     * with `#define FFI_SCOPE "WSC"` and `#define FFI_LIB "<absolute path>"`
     * in front, for `ffi.preload` (write it to a file with
     * `php php/ffi-header.php FILE`) or `FFI::load()`.
     *
     * @param string|null $libraryPath path to `libwsc.so`; null: the search of findLibrary()
     *
     * @throws LibraryException when the library or the declarations are missing
     */
    public static function scopeHeader(?string $libraryPath = null): string
    {
        $path = self::findLibrary($libraryPath);
        return sprintf(
            "#define FFI_SCOPE \"%s\"\n#define FFI_LIB \"%s\"\n",
            self::SCOPE,
            addcslashes($path, '"\\'),
        ) . self::declarations();
    }

    /**
     * Declares the FFI scope `WSC` from an `opcache.preload` script
     * (`php/preload.php`): writes scopeHeader() to a file in the temporary
     * directory and loads it with `FFI::load()`. PHP refuses `FFI::load()`
     * together with `opcache.preload_user` (needed when PHP starts as
     * root): use `ffi.preload` with the file of `php/ffi-header.php` then.
     *
     * @param string|null $libraryPath path to `libwsc.so`; null: the search of findLibrary()
     *
     * @return string the header file that was loaded
     *
     * @throws LibraryException when the library or the declarations are missing or cannot be loaded
     */
    public static function preload(?string $libraryPath = null): string
    {
        $text = self::scopeHeader($libraryPath);
        $file = sys_get_temp_dir() . '/wsc-preload-' . md5($text) . '.h';
        if (!is_file($file)) {
            $tmp = $file . '.' . getmypid();
            if (@file_put_contents($tmp, $text) === false || !@rename($tmp, $file)) {
                throw new LibraryException("cannot write the preload header {$file}");
            }
        }
        if (FFI::load($file) === null) {
            throw new LibraryException("FFI::load({$file}) failed: see the PHP warning above");
        }
        return $file;
    }

    /**
     * The library version reported by `wsc_version()`, e.g. "0.1.0".
     */
    public function version(): string
    {
        return (string) $this->ffi->wsc_version();
    }

    /**
     * The system's `libwsc.so.0` through the dynamic linker, as an absolute
     * path (read from `/proc/self/maps` while it is loaded), or null when
     * the dynamic linker does not find it. The bare name when the path
     * cannot be read.
     */
    private static function systemLibrary(): ?string
    {
        try {
            $probe = FFI::cdef('', self::SONAME);
        } catch (\FFI\Exception) {
            return null;
        }
        $maps = @file('/proc/self/maps', FILE_IGNORE_NEW_LINES) ?: [];
        unset($probe);
        foreach ($maps as $line) {
            $path = strstr($line, '/');
            if ($path !== false && basename($path) !== '' && str_starts_with(basename($path), 'libwsc.so')) {
                return $path;
            }
        }
        return self::SONAME;
    }

    /**
     * Throws unless PHP runs on Linux: libwsc uses epoll.
     *
     * @throws LibraryException on any other system
     */
    private static function requireLinux(): void
    {
        if (PHP_OS_FAMILY !== 'Linux') {
            throw new LibraryException(
                'wsc runs on Linux only (libwsc uses epoll); this PHP runs on ' . PHP_OS_FAMILY
            );
        }
    }

    private static function open(?string $libraryPath): self
    {
        self::requireLinux();
        $scope = null;
        if ($libraryPath === null && extension_loaded('ffi')) {
            try {
                $scope = FFI::scope(self::SCOPE);
            } catch (\FFI\Exception) {
                // Not preloaded: declare it below.
            }
        }
        self::requireFfi($scope !== null);
        if ($scope !== null) {
            return new self($scope, null);
        }
        $path = self::findLibrary($libraryPath);
        try {
            $ffi = FFI::cdef(self::declarations(), $path);
        } catch (\FFI\Exception $e) {
            throw new LibraryException(
                "cannot load {$path} with " . self::headerFile() . ": {$e->getMessage()} (the library and the "
                . 'PHP package must come from the same wsc version: in a source tree, rebuild with '
                . '`cargo build --release`; elsewhere point WSC_LIB at a matching libwsc.so)',
                0,
                $e,
            );
        }
        return new self($ffi, $path);
    }
}
