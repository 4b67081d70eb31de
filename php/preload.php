<?php

/**
 * opcache.preload script for wsc: preloads the package's classes and, unless
 * `ffi.preload` declared it already, the FFI scope `WSC`, so that
 * `Wsc\Ffi\Library::get()` uses `FFI::scope('WSC')` instead of parsing the
 * header in every request. With `ffi.enable=preload` (PHP's default), the
 * only way to use wsc outside the CLI (php-fpm, ...): PHP then allows FFI
 * calls only from preloaded code, which is why every class is preloaded.
 * In php.ini:
 *
 *     opcache.enable=1
 *     opcache.enable_cli=1            ; for the CLI
 *     opcache.preload=/path/to/wsc/php/preload.php
 *     ffi.enable=preload              ; the default
 *
 * When PHP starts as root it needs opcache.preload_user, and PHP refuses
 * FFI::load() with that setting: then also set ffi.preload to the header
 * that `php ffi-header.php FILE` writes; this script sees the scope and
 * only preloads the classes. The library is found as at run time (WSC_LIB,
 * the package's prebuilt library, the system's libwsc.so.0, the build
 * outputs); the declarations are resources/wsc.ffi.h of this package.
 */

declare(strict_types=1);

require_once __DIR__ . '/autoload.php';

try {
    FFI::scope(\Wsc\Ffi\Library::SCOPE);
} catch (\FFI\Exception) {
    \Wsc\Ffi\Library::preload();
}

// Every class of the package, through the autoloader (parents first).
$src = __DIR__ . '/src/';
$files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($src, FilesystemIterator::SKIP_DOTS));
foreach ($files as $file) {
    if ($file->getExtension() !== 'php') {
        continue;
    }
    $class = 'Wsc\\' . str_replace('/', '\\', substr($file->getPathname(), strlen($src), -4));
    // Adapters whose event-loop library is not installed cannot be preloaded.
    try {
        class_exists($class) || interface_exists($class);
    } catch (\Throwable) {
    }
}
