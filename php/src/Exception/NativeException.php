<?php

declare(strict_types=1);

namespace Wsc\Exception;

/**
 * Thrown when a libwsc call returns a result the PHP layer does not expect
 * (for example `WSC_RESULT_IO` when no context can be created, or
 * `WSC_RESULT_PANIC`). The exception code is the `wsc_result` number; the
 * message names the C function and quotes `wsc_result_str()`.
 */
class NativeException extends \RuntimeException
{
    /**
     * @param string $function the C function that failed, e.g. `wsc_context_new`
     * @param int    $result   the `wsc_result` it returned
     * @param string $text     the sentence of `wsc_result_str($result)`
     */
    public function __construct(
        /** The C function that failed, e.g. `wsc_context_new`. */
        public readonly string $function,
        int $result,
        string $text,
    ) {
        parent::__construct(sprintf('%s() failed: %s (wsc_result %d)', $function, $text, $result), $result);
    }
}
