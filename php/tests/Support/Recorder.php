<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

use Wsc\Connection\AsyncTcpConnection;

/**
 * Sets every callback of a connection to one that records its name and
 * arguments (without the connection), in order.
 */
final class Recorder
{
    public const CALLBACKS = [
        'onConnect',
        'onWebSocketConnect',
        'onMessage',
        'onError',
        'onClose',
        'onWebSocketPing',
        'onWebSocketPong',
        'onUndelivered',
        'onReconnect',
    ];

    /** @var list<array{0: string, 1: list<mixed>}> */
    public array $events = [];

    /**
     * Records the callbacks of `$connection`; a callable of `$then` under
     * the same name runs after the recording.
     *
     * @param array<string, callable> $then extra behaviour per callback name
     */
    public function attach(AsyncTcpConnection $connection, array $then = []): AsyncTcpConnection
    {
        foreach (self::CALLBACKS as $name) {
            $extra = $then[$name] ?? null;
            $connection->{$name} = function (AsyncTcpConnection $con, mixed ...$args) use ($name, $extra): void {
                $this->events[] = [$name, $args];
                if ($extra !== null) {
                    $extra($con, ...$args);
                }
            };
        }
        return $connection;
    }

    /**
     * The callback names, in order.
     *
     * @return list<string>
     */
    public function names(): array
    {
        return array_column($this->events, 0);
    }

    /** How many times `$name` was called. */
    public function count(string $name): int
    {
        return count(array_keys($this->names(), $name, true));
    }

    /**
     * The arguments of each call of `$name`.
     *
     * @return list<list<mixed>>
     */
    public function args(string $name): array
    {
        $out = [];
        foreach ($this->events as [$n, $args]) {
            if ($n === $name) {
                $out[] = $args;
            }
        }
        return $out;
    }
}
