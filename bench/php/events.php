<?php

/**
 * A micro-benchmark of the PHP package's per-message costs, for work on
 * the PHP layer (bench/php/bench.php measures the scenarios): on one open
 * connection to an echo server it measures, best of --rounds rounds,
 *
 *   send      one send() of a --size byte binary message, in a loop of
 *             --burst sends without polling (libwsc and the kernel's
 *             write included);
 *   dispatch  taking the echoes of such a burst and handing each to an
 *             empty onMessage: Worker::loopOnce() until all came back,
 *             per message (libwsc's read and parse included);
 *   idle      one Worker::loopOnce(0) that finds nothing.
 *
 * Wall time (hrtime) of the loops, in ns, the minimum over the rounds, so
 * that a busy machine disturbs it less than the scenarios. Figures, no
 * pass/fail.
 *
 * Usage:
 *   php bench/php/events.php --url ws://127.0.0.1:PORT/ [--size 64]
 *       [--burst 5000] [--rounds 30]
 * (target/release/wsc-echo-server --addr 127.0.0.1:0 prints the port.)
 */

declare(strict_types=1);

namespace WscBench;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Protocols\Ws;
use Wsc\Worker;

$o = getopt('', ['url:', 'size:', 'burst:', 'rounds:']);
$url = is_array($o) && isset($o['url']) && is_string($o['url']) ? $o['url'] : '';
if (!preg_match('~^ws://127\.0\.0\.1:\d+(/.*)?$~', $url)) {
    fwrite(STDERR, "usage: php bench/php/events.php --url ws://127.0.0.1:PORT/ [--size 64] [--burst 5000] "
        . "[--rounds 30]\n");
    exit(2);
}
$int = static fn (string $name, int $default): int => max(1, (int) ($o[$name] ?? $default));
$size = $int('size', 64);
$burst = $int('burst', 5000);
$rounds = $int('rounds', 30);

$root = dirname(__DIR__, 2) . '/php';
require_once is_file("{$root}/vendor/autoload.php") ? "{$root}/vendor/autoload.php" : "{$root}/autoload.php";

$con = new AsyncTcpConnection($url);
$con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
$open = false;
$echoed = 0;
$con->onWebSocketConnect = static function () use (&$open): void {
    $open = true;
};
$con->onMessage = static function ($con, string $data) use (&$echoed): void {
    $echoed++;
};
$con->onError = static function ($con, int $code, string $msg): void {
    fwrite(STDERR, "events.php: onError {$code}: {$msg}\n");
    exit(1);
};
$con->connect();
if (!Worker::loopFor(5.0, static function () use (&$open): bool {
    return $open;
})) {
    fwrite(STDERR, "events.php: no connection to {$url} within 5 s\n");
    exit(1);
}

$payload = str_repeat('y', $size);
$best = ['send' => INF, 'dispatch' => INF, 'idle' => INF];
for ($round = 0; $round < $rounds; $round++) {
    $echoed = 0;
    $t0 = hrtime(true);
    for ($i = 0; $i < $burst; $i++) {
        $con->send($payload);
    }
    $best['send'] = min($best['send'], (hrtime(true) - $t0) / $burst);
    usleep(20000); // the echoes arrive; libwsc reads them at the next poll
    $t0 = hrtime(true);
    $deadline = $t0 + 10_000_000_000;
    while ($echoed < $burst && hrtime(true) < $deadline) {
        Worker::loopOnce(1000);
    }
    if ($echoed < $burst) {
        fwrite(STDERR, "events.php: {$echoed} of {$burst} echoes within 10 s\n");
        exit(1);
    }
    $best['dispatch'] = min($best['dispatch'], (hrtime(true) - $t0) / $burst);
    $t0 = hrtime(true);
    for ($i = 0; $i < 1000; $i++) {
        Worker::loopOnce(0);
    }
    $best['idle'] = min($best['idle'], (hrtime(true) - $t0) / 1000);
}
$con->onClose = null;
$con->close();
printf(
    "RESULT client=php-wsc scenario=events size=%d burst=%d rounds=%d send_ns=%.0f dispatch_ns=%.0f "
    . "idle_loop_ns=%.0f\n",
    $size,
    $burst,
    $rounds,
    $best['send'],
    $best['dispatch'],
    $best['idle'],
);
