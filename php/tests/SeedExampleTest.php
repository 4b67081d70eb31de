<?php

declare(strict_types=1);

namespace Wsc\Tests;

use PHPUnit\Framework\TestCase;
use Wsc\Tests\Support\EchoServer;
use Wsc\Tests\Support\Process;

/**
 * The user's example (php/examples/seed.php, Workerman's ws:// client page)
 * runs unchanged against the echo server on 127.0.0.1:1234, reconnects
 * after the server went away, and stops cleanly on SIGTERM.
 */
final class SeedExampleTest extends TestCase
{
    private const SEED = __DIR__ . '/../examples/seed.php';

    private ?EchoServer $server = null;

    private ?Process $seed = null;

    protected function setUp(): void
    {
        $this->server = $this->startServer();
    }

    protected function tearDown(): void
    {
        $this->seed?->stop();
        $this->server?->stop();
        $this->seed = $this->server = null;
    }

    public function testTheSeedConnectsSendsAndPrintsTheEcho(): void
    {
        $this->seed = $seed = new Process(Process::php(self::SEED, ['start']));
        self::assertTrue($seed->waitForOutput("recv: hello\n", 10.0), $this->explain('recv: hello'));
        self::assertStringStartsWith("tcp connected\nHTTP/1.1 101 Switching Protocols\r\n", $seed->stdout());
        self::assertStringContainsString("\r\n\r\nrecv: hello\n", $seed->stdout(), 'the raw head, then the echo');

        $seed->signal(SIGTERM);
        self::assertSame(0, $seed->wait(10.0), 'exit code after SIGTERM; ' . $this->explain('exit'));
        self::assertSame('', $seed->stderr());
    }

    public function testTheSeedReconnectsWhenTheServerComesBack(): void
    {
        $this->seed = $seed = new Process(Process::php(self::SEED));
        self::assertTrue($seed->waitForOutput("recv: hello\n", 10.0), $this->explain('recv: hello'));

        $this->server?->stop();
        $this->server = null;
        self::assertTrue(
            $seed->waitForOutput("connection closed and try to reconnect\n", 10.0),
            $this->explain('onClose after the server stopped'),
        );
        self::assertTrue(
            $seed->waitForOutput('error: ', 10.0),
            $this->explain('onError of a failed reconnect'),
        );
        self::assertMatchesRegularExpression('/^error: .*refused/mi', $seed->stdout());

        $this->server = $this->startServer();
        self::assertTrue($seed->waitForOutput("recv: hello\n", 10.0, 2), $this->explain('a second recv: hello'));
        self::assertSame(2, substr_count($seed->stdout(), "tcp connected\n"));

        $seed->signal(SIGTERM);
        self::assertSame(0, $seed->wait(10.0), 'exit code after SIGTERM; ' . $this->explain('exit'));
    }

    private function startServer(): EchoServer
    {
        try {
            return EchoServer::start('127.0.0.1:1234');
        } catch (\RuntimeException $e) {
            self::fail('the seed example needs the echo server on 127.0.0.1:1234 (is the port in use, '
                . 'e.g. by a running demo?): ' . $e->getMessage());
        }
    }

    private function explain(string $what): string
    {
        return sprintf(
            "waiting for %s; seed stdout: %s; stderr: %s",
            $what,
            json_encode($this->seed?->stdout()),
            json_encode($this->seed?->stderr()),
        );
    }
}
