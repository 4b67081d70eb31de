<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\DeflateWsServer;
use Wsc\Tests\Support\Recorder;

/**
 * permessage-deflate (RFC 7692) through the PHP API (websocketCompression,
 * getWebSocketExtensions()) against a third-party server that compresses:
 * Debian's python3-websockets (tests/servers/deflate_ws_server.py), which
 * reports how many frames it received with RSV1 and how many bytes were on
 * the wire; our side's wire bytes are $bytesRead.
 */
final class CompressionTest extends WscTestCase
{
    private static ?DeflateWsServer $deflate = null;

    public static function setUpBeforeClass(): void
    {
        // No echo server of the base class: this class has its own server.
        self::$deflate = DeflateWsServer::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$deflate?->stop();
        self::$deflate = null;
    }

    private static function deflateUrl(string $path = '/echo'): string
    {
        self::assertNotNull(self::$deflate);
        return self::$deflate->url($path);
    }

    /** About `$n` bytes of JSON-like text. */
    private static function jsonLike(int $n): string
    {
        $rows = [];
        for ($i = 0, $len = 0; $len < $n; $i++) {
            $row = json_encode(['id' => $i, 'name' => "user{$i}", 'active' => true, 'tags' => ['a', 'b']]);
            $rows[] = $row;
            $len += strlen((string) $row) + 1;
        }
        return '[' . implode(',', $rows) . ']';
    }

    private function open(Recorder $rec, AsyncTcpConnection $con): void
    {
        $con->connect();
        self::loopUntil(
            fn () => $rec->count('onWebSocketConnect') + $rec->count('onClose') > 0,
            'onWebSocketConnect',
        );
        self::assertSame(0, $rec->count('onError'), (string) json_encode($rec->args('onError')));
    }

    /**
     * Echoes `$count` copies of `$text`, then asks the server for its
     * counters.
     *
     * @return array{wire_in: int, rsv1_in: int, frames_in: int, extensions: ?string}
     */
    private function echoAndStats(Recorder $rec, AsyncTcpConnection $con, string $text, int $count): array
    {
        $before = $rec->count('onMessage');
        for ($i = 0; $i < $count; $i++) {
            $con->send($text);
        }
        $con->send('stats');
        self::loopUntil(fn () => $rec->count('onMessage') >= $before + $count + 1, 'the echoes and the stats');
        $messages = array_slice($rec->args('onMessage'), $before);
        for ($i = 0; $i < $count; $i++) {
            self::assertSame($text, $messages[$i][0], 'the echo comes back whole');
        }
        $stats = json_decode($messages[$count][0], true, 4, JSON_THROW_ON_ERROR);
        self::assertIsArray($stats);
        return $stats;
    }

    public function testCompressedBothWaysAndTheAnswerIsReachable(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::deflateUrl()));
        $con->websocketCompression = true;
        $this->open($rec, $con);
        $ext = $con->getWebSocketExtensions();
        self::assertStringStartsWith('permessage-deflate', $ext);
        $text = self::jsonLike(100000);
        $readBefore = $con->bytesRead;
        $stats = $this->echoAndStats($rec, $con, $text, 3);
        $read = $con->bytesRead - $readBefore;
        // 3 x 100 KB, each with RSV1 ("stats", 5 bytes, is below the
        // compression threshold); a few KB each way.
        self::assertSame(3, $stats['rsv1_in'], 'every message reached the server compressed');
        self::assertLessThan(40000, $stats['wire_in'], 'client to server: compressed');
        self::assertLessThan(40000, $read, 'server to client: compressed');
        self::assertSame($ext, $stats['extensions'], 'what the server answered is what PHP sees');
        $con->close();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(1000, $con->getCloseCode());
        // Still readable after the close.
        self::assertSame($ext, $con->getWebSocketExtensions());
    }

    public function testLowMemoryModeNegotiatesNoContextTakeoverBothWays(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::deflateUrl()));
        $con->websocketCompression = [
            'client_no_context_takeover' => true,
            'server_no_context_takeover' => true,
            'server_max_window_bits' => 12,
            'level' => 1,
        ];
        $this->open($rec, $con);
        $ext = $con->getWebSocketExtensions();
        self::assertStringContainsString('server_no_context_takeover', $ext);
        self::assertStringContainsString('client_no_context_takeover', $ext);
        self::assertStringContainsString('server_max_window_bits=12', $ext);
        $stats = $this->echoAndStats($rec, $con, self::jsonLike(50000), 2);
        self::assertSame(2, $stats['rsv1_in']);
        self::assertLessThan(30000, $stats['wire_in']);
    }

    public function testLevelZeroMeansTheDefaultLevel(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::deflateUrl()));
        $con->websocketCompression = ['level' => 0];
        $this->open($rec, $con);
        self::assertStringStartsWith('permessage-deflate', $con->getWebSocketExtensions());
        $stats = $this->echoAndStats($rec, $con, self::jsonLike(50000), 2);
        self::assertSame(2, $stats['rsv1_in'], 'every message reached the server compressed');
        self::assertLessThan(30000, $stats['wire_in'], 'compressed, not stored blocks');
    }

    public function testOffByDefault(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::deflateUrl()));
        self::assertFalse($con->websocketCompression);
        $this->open($rec, $con);
        self::assertSame('', $con->getWebSocketExtensions());
        $stats = $this->echoAndStats($rec, $con, self::jsonLike(20000), 1);
        self::assertSame(0, $stats['rsv1_in']);
        self::assertGreaterThan(20000, $stats['wire_in']);
    }

    public function testADecompressionBombClosesWith1009(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::deflateUrl('/bomb')));
        $con->websocketCompression = true;
        $con->maxPackageSize = 1 << 20;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(1009, $con->getCloseCode());
        self::assertSame(0, $rec->count('onMessage'));
        $errors = $rec->args('onError');
        self::assertCount(1, $errors);
        self::assertSame(AsyncTcpConnection::PROTOCOL_FAIL, $errors[0][0]);
    }

    public function testInvalidUtf8InACompressedTextClosesWith1007(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::deflateUrl('/bad-utf8')));
        $con->websocketCompression = true;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(1007, $con->getCloseCode());
    }

    /**
     * @return iterable<string, array{0: mixed}>
     */
    public static function badSettings(): iterable
    {
        yield 'level 10' => [['level' => 10]];
        yield 'level -1' => [['level' => -1]];
        yield 'window bits 8' => [['client_max_window_bits' => 8]];
        yield 'window bits as string' => [['server_max_window_bits' => '12']];
        yield 'flag as int' => [['server_no_context_takeover' => 1]];
        yield 'unknown parameter' => [['window' => 12]];
    }

    /**
     * @dataProvider badSettings
     */
    public function testBadSettingsThrowAtConnect(mixed $setting): void
    {
        $con = new AsyncTcpConnection(self::deflateUrl());
        $con->websocketCompression = $setting;
        $this->expectException(\InvalidArgumentException::class);
        $con->connect();
    }
}
