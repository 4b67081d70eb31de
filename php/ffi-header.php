<?php

/**
 * Writes the header that declares the FFI scope `WSC` (the package's FFI
 * declarations, as \Wsc\Ffi\Library::scopeHeader() gives them, with FFI_SCOPE
 * and FFI_LIB lines, the library's absolute path included), for php.ini's
 * `ffi.preload`:
 *
 *     php php/ffi-header.php /etc/php/wsc-ffi.h
 *     ; php.ini:
 *     ffi.preload=/etc/php/wsc-ffi.h
 *
 * Without a file argument it prints the header. The library is found as by
 * Wsc\Ffi\Library::findLibrary() (WSC_LIB, the package's prebuilt library, the
 * system's libwsc.so.0, then target/release and target/debug); rerun
 * after moving it.
 */

declare(strict_types=1);

require_once __DIR__ . '/autoload.php';

$text = \Wsc\Ffi\Library::scopeHeader();
$file = $argv[1] ?? null;
if ($file === null) {
    echo $text;
    exit(0);
}
if (@file_put_contents($file, $text) === false) {
    fwrite(STDERR, "ffi-header.php: cannot write {$file}\n");
    exit(1);
}
fwrite(STDERR, "wrote {$file}; set ffi.preload={$file} in php.ini\n");
