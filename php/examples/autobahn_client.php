<?php

/**
 * The Autobahn TestSuite testee on wsc's PHP API (Workerman's
 * AsyncTcpConnection): GET /getCaseCount, then for each case N connect to
 * /runCase?case=N&agent=AGENT and echo every message with its type (text
 * as text, binary as binary) until the server closes; then
 * /updateReports?agent=AGENT and stop. One connection at a time.
 *
 * usage: php php/examples/autobahn_client.php URL AGENT   (URL like ws://127.0.0.1:9001)
 * Run by scripts/autobahn.sh through scripts/autobahn/run-client-suite.sh.
 */

declare(strict_types=1);

require_once is_file(__DIR__ . '/../vendor/autoload.php')
    ? __DIR__ . '/../vendor/autoload.php'
    : __DIR__ . '/../autoload.php';

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Ws;
use Wsc\Timer;
use Wsc\Worker;

if ($argc !== 3) {
    fwrite(STDERR, "usage: php {$argv[0]} URL AGENT\n");
    exit(2);
}
[, $base, $agent] = $argv;

// Section 9 sends messages of up to 16 MiB and echoes them back.
const MAX_PACKAGE_SIZE = 64 << 20;
const MAX_SEND_BUFFER_SIZE = 256 << 20;
// The suite ends every case by itself, after the case's own limit (WAITSECS:
// at most 1000 s, in 9.5.1 and 9.6.1; the sections run here have 10 s at
// most). The testee waits longer than the longest, plus a minute for the
// closing handshake, so that a busy machine makes a case slow, never cut
// short; this limit only closes a case the server has stopped serving.
const CASE_TIMEOUT_SECONDS = 1000 + 60;

$count = 0;

/**
 * Opens one connection to $url; $onMessage gets each message; $next runs
 * after onClose (whatever the reason), so cases run one after another.
 */
$open = static function (string $url, ?callable $onMessage, callable $next): void {
    $con = new AsyncTcpConnection($url);
    $con->maxPackageSize = MAX_PACKAGE_SIZE;
    $con->maxSendBufferSize = MAX_SEND_BUFFER_SIZE;
    // no pings of our own: they would show up in the cases' frame logs
    $con->websocketPingInterval = 0;
    $timer = Timer::add(CASE_TIMEOUT_SECONDS, static function () use ($con, $url): void {
        fwrite(STDERR, "{$url}: no close within " . CASE_TIMEOUT_SECONDS . " s, closing\n");
        $con->close();
    }, [], false);
    $con->onMessage = $onMessage;
    $con->onError = static function (AsyncTcpConnection $con, int $code, string $msg) use ($url): void {
        fwrite(STDERR, "{$url}: error {$code}: {$msg}\n");
    };
    $con->onClose = static function (AsyncTcpConnection $con) use ($timer, $next): void {
        Timer::del($timer);
        $next();
    };
    $con->connect();
};

$echo = static function (AsyncTcpConnection $con, string $data): void {
    // same opcode as received: text as text, binary as binary
    $con->websocketType = $con->getLastMessageType() ?? Ws::BINARY_TYPE_BLOB;
    $con->send($data);
};

$runCase = static function (int $i) use (&$runCase, &$count, $open, $base, $agent, $echo): void {
    $agentParam = rawurlencode($agent);
    if ($i > $count) {
        $open("{$base}/updateReports?agent={$agentParam}", null, static function (): void {
            Worker::stopAll();
        });
        return;
    }
    $open("{$base}/runCase?case={$i}&agent={$agentParam}", $echo, static function () use ($runCase, $i): void {
        $runCase($i + 1);
    });
};

$worker = new Worker();
$worker->onWorkerStart = static function () use ($open, $base, $runCase, &$count): void {
    $open("{$base}/getCaseCount", static function (AsyncTcpConnection $con, string $data) use (&$count): void {
        $count = (int) $data;
    }, static function () use ($runCase, &$count): void {
        if ($count <= 0) {
            $count = (int) getenv('AUTOBAHN_CASE_COUNT');
        }
        if ($count <= 0) {
            Worker::stopAll(1, 'no case count');
            return;
        }
        echo "running {$count} cases\n";
        $runCase(1);
    });
};
Worker::runAll([$argv[0]]);
