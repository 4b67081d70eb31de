<?php

declare(strict_types=1);

namespace Wsc;

/**
 * Runs user callbacks (of connections, timers and workers) inside
 * try/catch and reports what they throw: to `$onException`, else to
 * STDERR. It depends on no other class, so that the connections, the
 * timers and the loop all report through it without depending on each
 * other.
 *
 * `Worker` extends this class and does not declare `$onException` again,
 * so `Worker::$onException`, the setting users know from Workerman, is
 * this very property (PHP shares a static property with the subclasses
 * that do not redeclare it): setting either sets both, at any time,
 * without code having to run first.
 */
abstract class Callbacks
{
    /**
     * Receives an exception thrown by a user callback (connection callbacks,
     * timers, onWorkerStart/onWorkerStop): `function (\Throwable $e, string $callback)`,
     * where `$callback` names it (e.g. "onMessage of connection #3").
     * Null (the default) writes the exception, its callback and its trace to
     * STDERR. Either way the loop goes on. Set it as `Worker::$onException`
     * (the same property).
     *
     * @var callable|null
     */
    public static $onException = null;

    /**
     * Calls a user callback inside try/catch: an exception is given to
     * `$onException` (default: written to STDERR) and the loop goes on.
     *
     * @param string   $name what to call it in the report, e.g. "onMessage of connection #3"
     * @param callable $fn   the callback
     * @param mixed    ...$args its arguments
     *
     * @return bool false when it threw
     */
    public static function safeCall(string $name, callable $fn, mixed ...$args): bool
    {
        try {
            $fn(...$args);
            return true;
        } catch (\Throwable $e) {
            self::reportException($e, $name);
            return false;
        }
    }

    /**
     * Reports an exception thrown by a user callback: to `$onException`,
     * else to STDERR. An exception thrown by `$onException` itself is
     * written to STDERR, followed by the original one.
     *
     * @internal used by safeCall() and by the connections' callbacks
     *
     * @param string $where what to call the callback, e.g. "onMessage of connection #3"
     */
    public static function reportException(\Throwable $e, string $where): void
    {
        $handler = Callbacks::$onException;
        if ($handler !== null) {
            try {
                $handler($e, $where);
                return;
            } catch (\Throwable $inner) {
                self::stderr(sprintf(
                    "wsc: Worker::\$onException threw %s: %s\n",
                    get_class($inner),
                    $inner->getMessage(),
                ));
            }
        }
        self::stderr(sprintf(
            "wsc: uncaught %s in %s: %s in %s:%d\nStack trace:\n%s\n",
            get_class($e),
            $where,
            $e->getMessage(),
            $e->getFile(),
            $e->getLine(),
            $e->getTraceAsString(),
        ));
    }

    /**
     * Writes `$text` to STDERR (to the SAPI's error log where STDERR is
     * not defined, e.g. php-fpm).
     */
    protected static function stderr(string $text): void
    {
        if (defined('STDERR')) {
            fwrite(STDERR, $text);
        } else {
            error_log(rtrim($text, "\n"));
        }
    }
}
