<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Http\Response;
use Wsc\Tests\Support\Nginx;
use Wsc\Tests\Support\Recorder;

/**
 * Refused handshakes (onError's message, getHandshakeResponse()) and the
 * reconnect policy (onReconnect) against a server this project did not
 * write: Debian's nginx on 127.0.0.1 (Support\Nginx), refusing WebSocket
 * upgrades as an API gateway does: 401 with a JSON body, 429 with
 * `Retry-After: 1`. nginx's access log tells when each attempt reached it.
 * Skipped, saying so, only when nginx is not installed.
 */
final class NginxRefusalTest extends WscTestCase
{
    private const KEY_BODY = '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}';

    private const RATE_BODY = '{"code":-1003,"msg":"Too many requests; retry later."}';

    private static ?Nginx $nginx = null;

    public static function setUpBeforeClass(): void
    {
        // No echo server: nginx is the peer.
        if (Nginx::missing() !== null) {
            return;
        }
        $key = self::KEY_BODY;
        $rate = self::RATE_BODY;
        self::$nginx = Nginx::start(<<<NGINX
                    location = /v1/stream {
                        default_type application/json;
                        add_header WWW-Authenticate 'ApiKey realm="stream"' always;
                        return 401 '{$key}';
                    }
                    location = /v1/busy {
                        default_type application/json;
                        add_header Retry-After 1 always;
                        return 429 '{$rate}';
                    }
            NGINX);
    }

    public static function tearDownAfterClass(): void
    {
        self::$nginx?->stop();
        self::$nginx = null;
    }

    protected function setUp(): void
    {
        $missing = Nginx::missing();
        if ($missing !== null) {
            self::markTestSkipped($missing);
        }
    }

    private static function nginx(): Nginx
    {
        self::assertNotNull(self::$nginx, 'nginx is not running');
        return self::$nginx;
    }

    /**
     * nginx's 401 with a JSON body: onError's message shows the status and
     * the body, getHandshakeResponse() has nginx's headers and the body,
     * and the policy does not retry it (onReconnect 'fatal').
     */
    public function testA401WithAJsonBodyReachesOnErrorAndIsNotRetried(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::nginx()->ws('/v1/stream')));
        $con->reconnectDelay = 0.05;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onError', 'onReconnect', 'onClose'], $rec->names());
        self::assertSame(
            [[AsyncTcpConnection::CONNECT_FAIL, 'opening handshake refused: HTTP 401 Unauthorized: ' . self::KEY_BODY]],
            $rec->args('onError'),
        );
        $response = $con->getHandshakeResponse();
        self::assertInstanceOf(Response::class, $response);
        self::assertSame(401, $response->getStatusCode());
        self::assertSame('Unauthorized', $response->getReasonPhrase());
        self::assertSame(self::KEY_BODY, $response->rawBody());
        self::assertSame('application/json', $response->getHeader('Content-Type'));
        self::assertSame('ApiKey realm="stream"', $response->getHeader('www-authenticate'));
        self::assertStringStartsWith('nginx', (string) $response->getHeader('Server'));
        self::assertSame(json_decode(self::KEY_BODY, true), json_decode($response->rawBody(), true));
        self::assertSame(
            [[null, 'fatal', 0, 'not reconnecting: HTTP 401 is not retried']],
            $rec->args('onReconnect'),
        );
        self::assertFalse(\Wsc\Worker::loopFor(0.4, fn () => $rec->count('onConnect') > 1), 'no retry');
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
        self::assertCount(1, self::nginx()->requestTimes('/v1/stream', 1), 'nginx saw one request');
    }

    /**
     * nginx's 429 with `Retry-After: 1` under a 50..100 ms backoff: each
     * decision waits the server's second, and nginx sees the attempts at
     * least that far apart; the attempt limit ends it.
     */
    public function testA429RetryAfterSpacesTheAttemptsAtNginx(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::nginx()->ws('/v1/busy')));
        $con->reconnectDelay = 0.05;
        $con->reconnectMaxDelay = 0.1;
        $con->reconnectMaxAttempts = 2;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') >= 3, 'three attempts', 15.0);
        self::assertSame([
            [1.0, 'retry-after', 1,
                'reconnecting in 1000 ms (attempt 1 of 2): the server asked to retry after 1 s (HTTP 429 Retry-After)'],
            [1.0, 'retry-after', 2,
                'reconnecting in 1000 ms (attempt 2 of 2): the server asked to retry after 1 s (HTTP 429 Retry-After)'],
            [null, 'attempts-exhausted', 2, 'not reconnecting: 2 reconnect attempts in a row failed'],
        ], $rec->args('onReconnect'));
        foreach ($rec->args('onError') as [$code, $message]) {
            self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
            self::assertSame(
                'opening handshake refused: HTTP 429 Too Many Requests (Retry-After: 1): ' . self::RATE_BODY,
                $message,
            );
        }
        $response = $con->getHandshakeResponse();
        self::assertSame(429, $response?->getStatusCode());
        self::assertSame('1', $response->getHeader('Retry-After'));
        self::assertSame(self::RATE_BODY, $response->rawBody());

        $times = self::nginx()->requestTimes('/v1/busy', 3);
        self::assertCount(3, $times, self::nginx()->errorLog());
        self::assertGreaterThanOrEqual(0.995, $times[1] - $times[0], 'the first reconnect waited 1 s at nginx');
        self::assertGreaterThanOrEqual(0.995, $times[2] - $times[1], 'the second reconnect waited 1 s at nginx');
    }
}
