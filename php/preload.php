<?php

/**
 * opcache.preload script for wsc: declares the FFI scope `WSC` so that
 * `Wsc\Library::get()` uses `FFI::scope('WSC')` instead of parsing the
 * header in every request. In php.ini:
 *
 *     opcache.enable=1
 *     opcache.enable_cli=1            ; for the CLI
 *     opcache.preload=/path/to/wsc/php/preload.php
 *     ffi.enable=preload              ; the default
 *
 * PHP refuses FFI::load() with opcache.preload_user (needed when PHP
 * starts as root): use ffi.preload with the header that ffi-header.php
 * writes instead. The library is found as at run time (WSC_LIB, then the
 * build outputs); the headers as well (WSC_INCLUDE_DIR, then ../include).
 */

declare(strict_types=1);

require_once __DIR__ . '/autoload.php';

\Wsc\Library::preload();
