<?php

/**
 * Workerman 5's own WebSocket server on 127.0.0.1 (a free port), as a peer
 * this project did not write, for php/tests/WorkermanPeerTest.php.
 *
 * Usage: php workerman-ws-server.php start AUTOLOAD TMP
 *   AUTOLOAD  the Composer autoloader that has workerman/workerman 5
 *   TMP       an existing folder for Workerman's pid and log files
 * Runs in the foreground (one worker process besides the master); prints
 * `listening on 127.0.0.1:PORT` on stdout once the worker is ready (after
 * Workerman's own banner). The test stops it by the master's PID
 * (SIGINT: the master stops its worker).
 *
 * After the opening handshake, by request path:
 *   /peer  sends one text message: the client's address as Workerman sees
 *          it, `getRemoteIp():getRemotePort()`, then echoes
 *   /drop  closes the connection at once ($connection->close(): TCP closed
 *          without a WebSocket closing handshake)
 *   other  echoes every message
 */

declare(strict_types=1);

use Workerman\Connection\TcpConnection;
use Workerman\Protocols\Http\Request;
use Workerman\Worker;

[, , $autoload, $tmp] = $argv;
$argv = $_SERVER['argv'] = [$argv[0], 'start'];
require $autoload;

Worker::$pidFile = "{$tmp}/workerman.pid";
Worker::$logFile = "{$tmp}/workerman.log";
Worker::$statusFile = "{$tmp}/workerman.status";

$worker = new Worker('websocket://127.0.0.1:0');
$worker->count = 1;
$worker->onWorkerStart = static function (Worker $worker): void {
    $name = (string) stream_socket_get_name($worker->getMainSocket(), false);
    echo 'listening on ', $name, "\n";
};
$worker->onWebSocketConnected = static function (TcpConnection $connection, Request $request): void {
    switch ($request->path()) {
        case '/peer':
            $connection->send($connection->getRemoteIp() . ':' . $connection->getRemotePort());
            break;
        case '/drop':
            $connection->close();
            break;
    }
};
$worker->onMessage = static function (TcpConnection $connection, mixed $data): void {
    $connection->send($data);
};
Worker::runAll();
