<?php

declare(strict_types=1);

namespace Wsc\EventLoop;

/**
 * Runs wsc's connections on the Revolt event loop (`revolt/event-loop`
 * 1.x, used by AMPHP 3; any driver: StreamSelectDriver, EvDriver,
 * EventDriver, UvDriver):
 *
 * ```php
 * use Revolt\EventLoop;
 * Wsc\EventLoop\Revolt::attach();
 * $con = new Wsc\Connection\AsyncTcpConnection('ws://127.0.0.1:1234');
 * $con->onMessage = function ($con, $data) { echo $data, "\n"; };
 * $con->connect();
 * EventLoop::run();
 * ```
 *
 * It is `EventLoop::onReadable(Wsc\Ffi\Context::stream(), fn () =>
 * Worker::pollPending())`, plus: the callback is cancelled while no
 * connection is alive, so that `EventLoop::run()` can return, and
 * registered again at the next connect(). Use Revolt's timers
 * (`EventLoop::delay()`), not `Wsc\Timer`, on this loop.
 *
 * Not tested in CI (revolt/event-loop is not installed there: Packagist
 * is out of reach); `php/tests/EventLoopRevoltTest.php` runs it when
 * `REVOLT_DIR` points at a checkout of revoltphp/event-loop.
 */
final class Revolt extends Adapter
{
    private ?string $callbackId = null;

    private function __construct(private readonly object $driver)
    {
    }

    /**
     * Makes the Revolt loop dispatch wsc's events. Idempotent per driver.
     *
     * @param object|null $driver a `Revolt\EventLoop\Driver`; null: `EventLoop::getDriver()`
     *
     * @throws \LogicException when revolt/event-loop is not installed
     */
    public static function attach(?object $driver = null): self
    {
        if ($driver === null) {
            if (!class_exists('Revolt\\EventLoop')) {
                throw new \LogicException('revolt/event-loop is not installed (composer require revolt/event-loop)');
            }
            $driver = \Revolt\EventLoop::getDriver();
        }
        return self::attachOnce(new self($driver));
    }

    public function key(): string
    {
        return self::class . '#' . spl_object_id($this->driver);
    }

    protected function watch($stream, \Closure $drain): void
    {
        // Revolt passes (callbackId, stream) and requires a null return.
        $this->callbackId = $this->driver->onReadable($stream, static function () use ($drain): void {
            $drain();
        });
    }

    protected function unwatch($stream): void
    {
        if ($this->callbackId !== null) {
            $this->driver->cancel($this->callbackId);
            $this->callbackId = null;
        }
    }
}
