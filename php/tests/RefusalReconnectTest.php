<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Http\Response;
use Wsc\Tests\Support\Recorder;

/**
 * Why a handshake failed (onError's message, getHandshakeResponse()) and
 * the automatic reconnect policy (reconnectDelay and its companions,
 * onReconnect), against the real echo server: a refusal with a body and
 * Retry-After, a 403, a server that accepts then drops at once, the
 * attempt limit.
 */
final class RefusalReconnectTest extends WscTestCase
{
    public function testOnErrorShowsTheStatusAndTheBodyAndTheResponseIsKept(): void
    {
        $body = '{"code":-2015,"msg":"Invalid API-key"}';
        $rec = new Recorder();
        $seenInOnError = null;
        $con = self::recorded('/status/401?body=' . rawurlencode($body), $rec, [
            'onError' => function (AsyncTcpConnection $c) use (&$seenInOnError): void {
                $seenInOnError = $c->getHandshakeResponse();
            },
        ]);
        self::assertNull($con->getHandshakeResponse());
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onError', 'onClose'], $rec->names());
        self::assertSame(
            [[AsyncTcpConnection::CONNECT_FAIL, "opening handshake refused: HTTP 401 Unauthorized: {$body}"]],
            $rec->args('onError'),
        );
        $response = $con->getHandshakeResponse();
        self::assertInstanceOf(Response::class, $response);
        self::assertSame($response, $seenInOnError, 'set before onError runs');
        self::assertSame(401, $response->getStatusCode());
        self::assertSame('Unauthorized', $response->getReasonPhrase());
        self::assertSame('text/plain', $response->getHeader('content-type'));
        self::assertSame($body, $response->rawBody());
        self::assertStringStartsWith("HTTP/1.1 401 Unauthorized\r\n", (string) $response);
        self::assertStringEndsWith("\r\n\r\n", (string) $response);
    }

    public function testAnOpenClearsTheLastRefusal(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/status/503?retry-after=7', $rec);
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(
            'opening handshake refused: HTTP 503 Service Unavailable (Retry-After: 7): 503 Service Unavailable',
            $rec->args('onError')[0][1],
        );
        self::assertSame('7', $con->getHandshakeResponse()?->getHeader('Retry-After'));
        $ok = self::recorded('/', $rec);
        $ok->connect();
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') > 0, 'onWebSocketConnect');
        self::assertNull($ok->getHandshakeResponse());
        self::assertSame('', $rec->args('onWebSocketConnect')[0][0]->rawBody());
    }

    /**
     * 429 with `Retry-After: 1` under a backoff of 50..100 ms: each
     * attempt waits the server's second; two reconnects at most.
     */
    public function testRetryAfterSetsTheDelayAndTheAttemptLimitStops(): void
    {
        $rec = new Recorder();
        $closedAt = [];
        $con = self::recorded('/status/429?retry-after=1&body=slow%20down', $rec, [
            'onClose' => function () use (&$closedAt): void {
                $closedAt[] = hrtime(true) / 1e9;
            },
        ]);
        $con->reconnectDelay = 0.05;
        $con->reconnectMaxDelay = 0.1;
        $con->reconnectMaxAttempts = 2;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') >= 3, 'three attempts', 10.0);
        $decisions = $rec->args('onReconnect');
        self::assertSame([
            [1.0, 'retry-after', 1,
                'reconnecting in 1000 ms (attempt 1 of 2): the server asked to retry after 1 s (HTTP 429 Retry-After)'],
            [1.0, 'retry-after', 2,
                'reconnecting in 1000 ms (attempt 2 of 2): the server asked to retry after 1 s (HTTP 429 Retry-After)'],
            [null, 'attempts-exhausted', 2, 'not reconnecting: 2 reconnect attempts in a row failed'],
        ], $decisions);
        self::assertSame(3, $rec->count('onError'));
        self::assertSame(
            'opening handshake refused: HTTP 429 Too Many Requests (Retry-After: 1): slow down',
            $rec->args('onError')[2][1],
        );
        self::assertSame(
            ['onConnect', 'onError', 'onReconnect', 'onClose'],
            array_slice($rec->names(), 0, 4),
            'the decision comes between onError and onClose',
        );
        self::assertGreaterThanOrEqual(0.95, $closedAt[1] - $closedAt[0]);
        self::assertGreaterThanOrEqual(0.95, $closedAt[2] - $closedAt[1]);
        self::assertFalse(
            \Wsc\Worker::loopFor(0.4, fn () => $rec->count('onConnect') > 3),
            'no attempt after the limit',
        );
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
    }

    public function testForbiddenIsNotRetriedUnlessListed(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/status/403', $rec);
        $con->reconnectDelay = 0.05;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(['onConnect', 'onError', 'onReconnect', 'onClose'], $rec->names());
        self::assertSame(
            [[null, 'fatal', 0, 'not reconnecting: HTTP 403 is not retried']],
            $rec->args('onReconnect'),
        );
        self::assertFalse(\Wsc\Worker::loopFor(0.3, fn () => $rec->count('onConnect') > 1));

        $rec2 = new Recorder();
        $retried = self::recorded('/status/403', $rec2);
        $retried->reconnectDelay = 0.05;
        $retried->reconnectStatuses = [403 => true];
        $retried->connect();
        self::loopUntil(fn () => $rec2->count('onReconnect') >= 2, 'two decisions');
        $retried->close();
        self::assertSame(['backoff', 'backoff'], array_column($rec2->args('onReconnect'), 1));
        self::assertSame([1, 2], array_column($rec2->args('onReconnect'), 2));
    }

    /**
     * A server that accepts then drops at once: the backoff keeps
     * growing (the connections did not stay open reconnectResetAfter).
     */
    public function testAcceptThenDropGrowsTheDelay(): void
    {
        $rec = new Recorder();
        $con = self::recorded('/drop', $rec);
        $con->reconnectDelay = 0.1;
        $con->reconnectMaxDelay = 0.8;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onReconnect') >= 3, 'three decisions', 10.0);
        $con->close();
        $decisions = array_slice($rec->args('onReconnect'), 0, 3);
        self::assertGreaterThanOrEqual(3, $rec->count('onWebSocketConnect'), 'each attempt opened');
        foreach ([0.1, 0.2, 0.4] as $i => $base) {
            [$delay, $reason, $attempt] = $decisions[$i];
            self::assertSame('backoff', $reason);
            self::assertSame($i + 1, $attempt);
            self::assertGreaterThanOrEqual($base / 2, $delay, "attempt {$attempt}");
            self::assertLessThanOrEqual($base, $delay, "attempt {$attempt}");
        }
    }

    public function testABadPolicyIsRefusedByConnect(): void
    {
        $cases = [
            ['reconnectMaxDelay', 0.5, 'reconnectMaxDelay (0.5 s) must not be below reconnectDelay (1 s)'],
            ['reconnectStatuses', [101 => true], 'reconnectStatuses[101] was refused'],
            ['reconnectStatuses', ['x' => true], 'reconnectStatuses must map HTTP statuses'],
            ['reconnectStatuses', [500 => 1], 'reconnectStatuses must map HTTP statuses'],
            ['reconnectMaxAttempts', -1, 'reconnectMaxAttempts must be an int >= 0'],
            ['reconnectResetAfter', -1, 'reconnectResetAfter must be a number of seconds >= 0'],
        ];
        foreach ($cases as [$property, $value, $message]) {
            $con = new AsyncTcpConnection(self::url('/'));
            $con->reconnectDelay = 1;
            $con->{$property} = $value;
            try {
                $con->connect();
                self::fail("{$property} accepted");
            } catch (\InvalidArgumentException $e) {
                self::assertStringContainsString($message, $e->getMessage());
            }
        }
    }
}
