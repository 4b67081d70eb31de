<?php

declare(strict_types=1);

namespace Wsc\Ffi;

use Wsc\Exception\NativeException;

/**
 * The `wsc_result` of a libwsc call, in words: libwsc's sentence for each
 * code (`wsc_result_str`) and the detail of the last failure on this
 * thread (`wsc_last_error`); check() turns an unexpected result into a
 * NativeException. The codes are `Abi::RESULT_*`.
 */
final class Result
{
    /**
     * Throws unless `$result` is `Abi::RESULT_OK`.
     *
     * @param int    $result   what the call returned
     * @param string $function the C function, for the message
     *
     * @throws NativeException carrying `$result` as its code and describe()'s text
     */
    public static function check(int $result, string $function): void
    {
        if ($result !== Abi::RESULT_OK) {
            throw new NativeException($function, $result, self::describe($result));
        }
    }

    /**
     * text() of `$result`, followed by lastError() when it adds something:
     * the message for an exception about a failed call.
     */
    public static function describe(int $result): string
    {
        $text = self::text($result);
        $detail = self::lastError();
        if ($detail === '' || $detail === $text) {
            return $text;
        }
        return str_starts_with($detail, $text) ? $detail : "{$text}: {$detail}";
    }

    /**
     * The English sentence of `wsc_result_str()` for a result code.
     */
    public static function text(int $result): string
    {
        return (string) Library::get()->ffi->wsc_result_str($result);
    }

    /**
     * Why the last failing wsc call on this thread failed, in libwsc's
     * words (`wsc_last_error()`, e.g. `the value of header "Cookie"
     * contains CR, LF or NUL`); '' when there is no detail.
     */
    public static function lastError(): string
    {
        return (string) Library::get()->ffi->wsc_last_error();
    }
}
