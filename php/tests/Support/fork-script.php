<?php

/**
 * The fork scenario of ForkTest, in a process of its own (a fork inside
 * PHPUnit would run PHPUnit's shutdown in the child): a connection opened
 * and one only constructed before pcntl_fork(); then, in the child, the
 * open one refuses to send (NativeException naming fork()), the
 * constructed one connects on the child's own context and echoes, and a
 * new one echoes; in the parent, the open one still echoes.
 *
 * Usage: php fork-script.php ws://127.0.0.1:PORT/
 * Prints one line per result (`child: ...`, `parent: ...`); every wait is
 * bounded (5 s per step, 20 s for the child).
 */

declare(strict_types=1);

require_once is_file(__DIR__ . '/../../vendor/autoload.php')
    ? __DIR__ . '/../../vendor/autoload.php'
    : __DIR__ . '/../../autoload.php';

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Exception\NativeException;
use Wsc\Worker;

$url = $argv[1] ?? exit("usage: fork-script.php WS_URL\n");

/** Sends $text on the open $c; true when it came back within 5 s. */
$echoes = static function (AsyncTcpConnection $c, string $text): bool {
    $got = null;
    $c->onMessage = static function ($con, string $data) use (&$got): void {
        $got = $data;
    };
    $c->send($text);
    return Worker::loopFor(5.0, static function () use (&$got, $text): bool {
        return $got === $text;
    });
};

/** Connects $c; true when the opening handshake completed within 5 s. */
$opened = static function (AsyncTcpConnection $c): bool {
    $open = false;
    $c->onWebSocketConnect = static function () use (&$open): void {
        $open = true;
    };
    $c->connect();
    return Worker::loopFor(5.0, static function () use (&$open): bool {
        return $open;
    });
};

$open = new AsyncTcpConnection($url);
$late = new AsyncTcpConnection($url);
echo 'parent: opened before fork: ' . json_encode($opened($open) && $echoes($open, 'before')) . "\n";
$parentId = $late->id;

$pid = pcntl_fork();
if ($pid < 0) {
    exit("fork failed\n");
}
if ($pid === 0) {
    try {
        $open->send('from the child');
        echo "child: the parent's connection sent: no exception\n";
    } catch (NativeException $e) {
        echo 'child: the parent\'s connection refused: ' . $e->getMessage() . "\n";
    }
    echo 'child: constructed before fork, connected after: '
        . json_encode($opened($late) && $echoes($late, 'late in the child'))
        . ' (id ' . ($late->id === $parentId ? 'unchanged' : 'new') . ")\n";
    $new = new AsyncTcpConnection($url);
    echo 'child: new connection: ' . json_encode($opened($new) && $echoes($new, 'new in the child')) . "\n";
    exit(0);
}
$status = 0;
$deadline = microtime(true) + 20.0;
while (pcntl_waitpid($pid, $status, WNOHANG) === 0 && microtime(true) < $deadline) {
    usleep(20000);
}
if (microtime(true) >= $deadline) {
    posix_kill($pid, SIGKILL);
    pcntl_waitpid($pid, $status);
    echo "parent: the child hung (killed after 20 s)\n";
}
echo 'parent: child exit status ' . (pcntl_wifexited($status) ? pcntl_wexitstatus($status) : 'signal') . "\n";
echo 'parent: echoes after the fork: ' . json_encode($echoes($open, 'after')) . "\n";
