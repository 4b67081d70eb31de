<?php

declare(strict_types=1);

namespace Wsc\EventLoop;

/**
 * Runs wsc's connections on a ReactPHP event loop (`react/event-loop`
 * 1.x, any of its loops: StreamSelectLoop, ExtEventLoop, ExtEvLoop,
 * ExtUvLoop):
 *
 * ```php
 * use React\EventLoop\Loop;
 * Wsc\EventLoop\ReactPhp::attach();             // Loop::get(), or pass a loop
 * $con = new Wsc\Connection\AsyncTcpConnection('ws://127.0.0.1:1234');
 * $con->onMessage = function ($con, $data) { echo $data, "\n"; };
 * $con->connect();
 * // Loop::run() runs by itself at the end of the script
 * ```
 *
 * It is `$loop->addReadStream(Wsc\Ffi\Context::stream(), fn () =>
 * Worker::pollPending())`, plus: the stream is removed while no connection
 * is alive, so the loop can end, and added again at the next connect().
 * Use ReactPHP's timers (`Loop::addTimer()`), not `Wsc\Timer`, on this
 * loop.
 *
 * Not tested in CI (react/event-loop is not installed there: Packagist
 * is out of reach); `php/tests/EventLoopReactPhpTest.php` runs it when
 * `REACTPHP_DIR` points at a checkout of reactphp/event-loop.
 */
final class ReactPhp extends Adapter
{
    private function __construct(private readonly object $loop)
    {
    }

    /**
     * Makes a ReactPHP loop dispatch wsc's events. Idempotent per loop.
     *
     * @param object|null $loop a `React\EventLoop\LoopInterface`; null: `React\EventLoop\Loop::get()`
     *
     * @throws \LogicException when `$loop` is null and react/event-loop is not installed
     */
    public static function attach(?object $loop = null): self
    {
        if ($loop === null) {
            if (!class_exists('React\\EventLoop\\Loop')) {
                throw new \LogicException('react/event-loop is not installed (composer require react/event-loop)');
            }
            $loop = \React\EventLoop\Loop::get();
        }
        return self::attachOnce(new self($loop));
    }

    public function key(): string
    {
        return self::class . '#' . spl_object_id($this->loop);
    }

    protected function watch($stream, \Closure $drain): void
    {
        $this->loop->addReadStream($stream, $drain);
    }

    protected function unwatch($stream): void
    {
        $this->loop->removeReadStream($stream);
    }
}
