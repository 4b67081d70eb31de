<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Tests\Support\Process;

/**
 * Workerman forks its workers after start-up: a process that used wsc
 * before `pcntl_fork()` must work in the child. The child gets a context
 * of its own; a connection opened before the fork refuses to send there
 * with an exception naming fork() (its socket is the parent's); one only
 * constructed before the fork connects in the child; the parent goes on.
 * The scenario runs in a process of its own (Support/fork-script.php).
 */
final class ForkTest extends WscTestCase
{
    public function testAProcessThatForksKeepsWorkingInTheParentAndTheChild(): void
    {
        if (!function_exists('pcntl_fork')) {
            self::markTestSkipped('needs ext-pcntl (pcntl_fork)');
        }
        $process = new Process(Process::php(__DIR__ . '/Support/fork-script.php', [self::url('/')]));
        $exit = $process->wait(30.0);
        $out = $process->stdout();
        $context = "stdout:\n{$out}\nstderr:\n" . $process->stderr();
        self::assertSame(0, $exit, $context);
        self::assertStringContainsString('parent: opened before fork: true', $out, $context);
        self::assertMatchesRegularExpression(
            "/child: the parent's connection refused: wsc_client_send\\(\\) failed: .*fork\\(\\)/",
            $out,
            $context,
        );
        self::assertStringContainsString(
            'child: constructed before fork, connected after: true (id new)',
            $out,
            $context,
        );
        self::assertStringContainsString('child: new connection: true', $out, $context);
        self::assertStringContainsString('parent: child exit status 0', $out, $context);
        self::assertStringContainsString('parent: echoes after the fork: true', $out, $context);
    }
}
