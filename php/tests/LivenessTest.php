<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Ws;
use Wsc\Tests\Support\DeflateWsServer;
use Wsc\Tests\Support\LivenessWsServer;
use Wsc\Tests\Support\Recorder;

/**
 * Liveness beyond ping/pong, link metrics and the per-message compression
 * choice through the PHP API, against real servers over loopback: the
 * heartbeat as tests/servers/liveness_ws_server.py hears it, the
 * receive-idle timeout on a feed that goes quiet while pings still work
 * (onError, onClose 1006, reConnect() from onClose), getMetrics() of a
 * live connection, and websocketCompressionThreshold / sendWithCompression()
 * as deflate_ws_server.py counts the compressed frames it received.
 */
final class LivenessTest extends WscTestCase
{
    private static ?LivenessWsServer $live = null;

    private static ?DeflateWsServer $deflate = null;

    public static function setUpBeforeClass(): void
    {
        parent::setUpBeforeClass();
        self::$live = LivenessWsServer::start();
        self::$deflate = DeflateWsServer::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$live?->stop();
        self::$live = null;
        self::$deflate?->stop();
        self::$deflate = null;
        parent::tearDownAfterClass();
    }

    private static function liveUrl(string $path): string
    {
        self::assertNotNull(self::$live);
        return self::$live->url($path);
    }

    public function testATextHeartbeatIsSentEveryIntervalAndHeardByTheServer(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::liveUrl('/heard')));
        $con->websocketHeartbeatInterval = 0.1;
        $con->websocketHeartbeatData = '{"op":"ping"}';
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') >= 3, 'three heartbeats heard');
        foreach ($rec->args('onMessage') as $args) {
            self::assertSame('heard text {"op":"ping"}', $args[0]);
        }
        self::assertSame(0, $rec->count('onError'));
        self::assertGreaterThanOrEqual(3, $con->getMetrics()['messages_sent']);
    }

    public function testABinaryHeartbeat(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::liveUrl('/heard')));
        $con->websocketHeartbeatInterval = 0.05;
        $con->websocketHeartbeatData = "\x00\x01\xfe";
        $con->websocketHeartbeatType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onMessage') >= 1, 'a heartbeat heard');
        self::assertSame('heard binary 0001fe', $rec->args('onMessage')[0][0]);
    }

    public function testBadHeartbeatSettingsAreRefusedNamingTheProperty(): void
    {
        $con = new AsyncTcpConnection(self::liveUrl('/heard'));
        $con->websocketHeartbeatInterval = 1;
        $con->websocketHeartbeatData = "\xff";
        try {
            $con->connect();
            self::fail('invalid UTF-8 in a text heartbeat was accepted');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('websocketHeartbeatData', $e->getMessage());
        }
        $con->websocketHeartbeatData = 'ping';
        $con->websocketHeartbeatType = 'text';
        try {
            $con->connect();
            self::fail('a bad heartbeat type was accepted');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('websocketHeartbeatType', $e->getMessage());
        }
        $con->websocketHeartbeatType = Ws::BINARY_TYPE_BLOB;
        $con->websocketIdleTimeout = -1;
        try {
            $con->connect();
            self::fail('a negative idle timeout was accepted');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('websocketIdleTimeout', $e->getMessage());
        }
    }

    public function testAFeedThatGoesQuietIsClosedAfterTheIdleTimeoutAndReconnects(): void
    {
        $rec = new Recorder();
        $reconnected = false;
        $con = $rec->attach(new AsyncTcpConnection(self::liveUrl('/feed?count=3&interval_ms=100')), [
            'onClose' => function (AsyncTcpConnection $c) use (&$reconnected): void {
                if (!$reconnected) {
                    $reconnected = true;
                    $c->reConnect(0.05);
                }
            },
        ]);
        $con->websocketIdleTimeout = 1.0; // ticks come 100 ms apart: a wide margin
        $con->websocketPingInterval = 0.1; // pings keep working: they do not count
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') >= 1, 'onClose after the idle timeout', 10.0);
        self::assertSame(['tick 1', 'tick 2', 'tick 3'], array_column($rec->args('onMessage'), 0));
        $pongs = $rec->count('onWebSocketPong');
        self::assertGreaterThanOrEqual(2, $pongs, 'pongs came while the feed was quiet');
        self::assertSame(
            [[AsyncTcpConnection::PROTOCOL_FAIL,
                'timeout: no message from the server within 1000 ms (the receive-idle timeout)']],
            $rec->args('onError'),
        );
        self::assertSame(1006, $con->getCloseCode());
        // reConnect() from onClose: open again, the feed starts over.
        self::loopUntil(fn () => $rec->count('onMessage') >= 4, 'the feed after the reconnect', 10.0);
        self::assertSame('tick 1', $rec->args('onMessage')[3][0]);
        $m = $con->getMetrics();
        self::assertSame([2, 1, 2], [$m['connects'], $m['reconnects'], $m['opens']]);
    }

    public function testAnyMessageCountsAsAPongForThePongTimeout(): void
    {
        $rec = new Recorder();
        // Never a pong, but a message every 50 ms for 1.5 s.
        $con = $rec->attach(new AsyncTcpConnection(self::liveUrl('/feed?count=30&interval_ms=50&pong=0')));
        $con->websocketPingInterval = 0.1;
        $con->websocketPongTimeout = 1.0;
        $con->connect();
        self::loopUntil(
            fn () => $rec->count('onMessage') >= 30 || $rec->count('onError') > 0,
            'the 30 messages of the feed',
            15.0,
        );
        self::assertSame([], $rec->args('onError'), 'not failed while messages flowed');
        self::assertSame(0, $rec->count('onWebSocketPong'));
        // Quiet and no pongs: now the pong timeout fires.
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose after the pong timeout', 10.0);
        self::assertStringContainsString('no pong within 1000 ms', (string) $rec->args('onError')[0][1]);
        self::assertSame(1006, $con->getCloseCode());
    }

    public function testTheMetricsOfALiveConnection(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/', $rec);
        $before = $con->getMetrics();
        self::assertNull($before['rtt_last_us']);
        self::assertSame(0, $before['connects']);
        $con->websocketPingInterval = 0.05;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        for ($i = 0; $i < 10; $i++) {
            $con->send(str_repeat('m', 100));
        }
        self::loopUntil(
            fn () => $rec->count('onMessage') >= 10 && $rec->count('onWebSocketPong') >= 3,
            'ten echoes and three pongs',
        );
        $m = $con->getMetrics();
        self::assertSame(array_keys($before), array_keys($m));
        self::assertIsInt($m['rtt_last_us']);
        self::assertGreaterThan(0, $m['rtt_last_us']);
        self::assertLessThan(2000000, $m['rtt_last_us']);
        self::assertIsInt($m['rtt_smoothed_us']);
        self::assertGreaterThanOrEqual(3, $m['rtt_samples']);
        self::assertNull($m['connect_dns_us'], 'no DNS for 127.0.0.1');
        self::assertNull($m['connect_tls_us'], 'no TLS for ws://');
        self::assertNull($m['connect_proxy_us']);
        self::assertIsInt($m['connect_tcp_us']);
        self::assertIsInt($m['connect_handshake_us']);
        self::assertGreaterThanOrEqual($m['connect_tcp_us'] + $m['connect_handshake_us'], $m['connect_total_us']);
        self::assertSame([1, 0, 1], [$m['connects'], $m['reconnects'], $m['opens']]);
        self::assertSame([10, 10], [$m['messages_sent'], $m['messages_received']]);
        self::assertSame([1000, 1000], [$m['payload_bytes_sent'], $m['payload_bytes_received']]);
        self::assertSame([$con->bytesRead, $con->bytesWritten], [$m['wire_bytes_read'], $m['wire_bytes_written']]);
    }

    public function testTheCompressionThresholdAndTheChoicePerMessage(): void
    {
        self::assertNotNull(self::$deflate);
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::$deflate->url('/echo')));
        $con->websocketCompression = true;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        $big = str_repeat('a', 1000);
        $small = str_repeat('b', 100);
        self::assertTrue($con->send($big));                          // compressed (>= 256)
        self::assertTrue($con->send($small));                        // not
        self::assertTrue($con->sendWithCompression($small, true));   // compressed
        self::assertTrue($con->sendWithCompression($big, false));    // not
        self::loopUntil(fn () => $rec->count('onMessage') >= 4, 'four echoes');
        self::assertSame([$big, $small, $small, $big], array_column($rec->args('onMessage'), 0));
        $con->send('stats');
        self::loopUntil(fn () => $rec->count('onMessage') >= 5, 'the stats');
        $stats = json_decode($rec->args('onMessage')[4][0], true, 4, JSON_THROW_ON_ERROR);
        self::assertIsArray($stats);
        self::assertSame(2, $stats['rsv1_in'], 'the server got two compressed frames');
        self::assertSame(5, $stats['frames_in']);
        // A threshold of 0 compresses everything from the next connect on.
        $con->websocketCompressionThreshold = 0;
        $con->reConnect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 1, 'the second onWebSocketConnect');
        $con->send($small);
        $con->send('stats');
        self::loopUntil(fn () => $rec->count('onMessage') >= 7, 'the echo and the stats');
        $stats = json_decode($rec->args('onMessage')[6][0], true, 4, JSON_THROW_ON_ERROR);
        self::assertIsArray($stats);
        self::assertSame(2, $stats['rsv1_in'], 'both compressed');
    }
}
