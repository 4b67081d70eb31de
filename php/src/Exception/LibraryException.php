<?php

declare(strict_types=1);

namespace Wsc\Exception;

/**
 * Thrown when libwsc cannot be loaded: the shared library or its header is
 * missing, unreadable, or they do not match each other, or the FFI
 * extension is not available. The message says what to do (build the
 * library with `cargo build --release`, or set `WSC_LIB`).
 */
class LibraryException extends \RuntimeException
{
}
