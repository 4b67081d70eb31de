<?php

declare(strict_types=1);

namespace Wsc\Tests;

use PHPUnit\Framework\TestCase;
use Wsc\Timer;
use Wsc\Worker;

/**
 * Timer::add/del/delAll on the Worker loop.
 */
final class TimerTest extends TestCase
{
    protected function tearDown(): void
    {
        Timer::delAll();
    }

    public function testAOneShotTimerRunsOnceWithItsArguments(): void
    {
        $calls = [];
        $id = Timer::add(0.05, function (string $a, int $b) use (&$calls): void {
            $calls[] = [$a, $b];
        }, ['x', 7], false);
        self::assertGreaterThan(0, $id);
        $start = microtime(true);
        Worker::loopFor(0.3);
        self::assertSame([['x', 7]], $calls);
        self::assertFalse(Timer::del($id), 'a one-shot timer that ran is gone');
        self::assertGreaterThanOrEqual(0.3, microtime(true) - $start, 'loopFor() runs until its deadline');
    }

    public function testAPersistentTimerRepeatsUntilDeleted(): void
    {
        $runs = 0;
        $id = Timer::add(0.02, function () use (&$runs): void {
            $runs++;
        });
        self::assertTrue(Worker::loopFor(2.0, function () use (&$runs): bool {
            return $runs >= 3;
        }));
        self::assertTrue(Timer::del($id));
        $seen = $runs;
        Worker::loopFor(0.1);
        self::assertSame($seen, $runs, 'no run after del()');
    }

    public function testTheDelayIsRespected(): void
    {
        $ranAt = null;
        $start = hrtime(true);
        Timer::add(0.15, function () use (&$ranAt): void {
            $ranAt = hrtime(true);
        }, [], false);
        Worker::loopFor(2.0, function () use (&$ranAt): bool {
            return $ranAt !== null;
        });
        self::assertNotNull($ranAt);
        $elapsed = ($ranAt - $start) / 1e9;
        self::assertGreaterThanOrEqual(0.15, $elapsed);
        self::assertLessThan(1.0, $elapsed);
    }

    public function testATimerCanDeleteAnother(): void
    {
        $ran = [];
        $second = 0;
        Timer::add(0.01, function () use (&$second, &$ran): void {
            $ran[] = 'first';
            Timer::del($second);
        }, [], false);
        $second = Timer::add(0.2, function () use (&$ran): void {
            $ran[] = 'second';
        }, [], false);
        Worker::loopFor(0.4);
        self::assertSame(['first'], $ran);
    }

    public function testDelAllAndCount(): void
    {
        Timer::add(1, fn () => null);
        Timer::add(2, fn () => null, [], false);
        self::assertSame(2, Timer::count());
        Timer::delAll();
        self::assertSame(0, Timer::count());
        self::assertNull(Timer::msUntilNext());
        self::assertFalse(Timer::del(12345));
    }

    public function testBadIntervalsAreRefused(): void
    {
        try {
            Timer::add(-1, fn () => null);
            self::fail('a negative interval was accepted');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('>= 0', $e->getMessage());
        }
        $this->expectException(\InvalidArgumentException::class);
        Timer::add(0, fn () => null, [], true);
    }
}
