<?php

/**
 * The PHP benchmark: the scenarios of bench/c/bench.c and bench/floor.rs,
 * written as Workerman client code is written (a Worker, onWorkerStart,
 * AsyncTcpConnection callbacks: onWebSocketConnect starts, onMessage sends
 * the next message), run on wsc (Wsc\...) or, with --workerman DIR, on a
 * Workerman checkout (Workerman\...): only the classes behind the `use`
 * lines change. Figures, no pass/fail.
 *
 *   seq32     sequential round trips of 32-byte binary messages, after
 *             1000 warm-up round trips: messages/s, CPU us/message, RTT
 *             p50 and p99 in us (hrtime, send to echo);
 *   window64  64-byte binary messages, 1000 in flight (each echo sends the
 *             next) until 200000 came back: messages/s, CPU us/message.
 *
 * Each scenario uses its own connection. CPU is getrusage() of the whole
 * process (user + system, all threads, including libwsc's), the way the
 * C benchmark and the Rust floor count it.
 *
 * Usage:
 *   php bench/php/bench.php --url ws://127.0.0.1:PORT/ [--round-trips N]
 *       [--messages N] [--window N] [--warmup N] [--time-limit SECONDS]
 *       [--workerman DIR] [--client NAME]
 *
 * Prints one line per scenario, in the format of bench/floor.rs:
 *   RESULT client=php-wsc scenario=seq32 messages=N seconds=S msg_per_s=X
 *          cpu_us_per_msg=Y rtt_p50_us=A rtt_p99_us=B
 *   RESULT client=php-wsc scenario=window64 messages=N seconds=S msg_per_s=X
 *          cpu_us_per_msg=Y
 * Exits non-zero (wsc) or prints no RESULT line (Workerman, whose master
 * process does not pass the exit code on) when a scenario fails or does
 * not finish within --time-limit seconds (default 120, for the whole run).
 */

declare(strict_types=1);

namespace WscBench;

use WscBench\Api\AsyncTcpConnection;
use WscBench\Api\Timer;
use WscBench\Api\Worker;
use WscBench\Api\Ws;

const SEQ_SIZE = 32;
const WIN_SIZE = 64;

/** @return array<string, string|int|float|null> */
function options(): array
{
    $o = getopt('h', [
        'url:', 'round-trips:', 'messages:', 'window:', 'warmup:', 'time-limit:', 'workerman:', 'client:', 'help',
    ], $rest);
    $usage = "usage: php bench/php/bench.php --url ws://127.0.0.1:PORT/ [--round-trips 20000] "
        . "[--messages 200000] [--window 1000] [--warmup 1000] [--time-limit 120] "
        . "[--workerman DIR] [--client NAME]\n";
    if ($o === false || isset($o['h']) || isset($o['help'])) {
        fwrite(STDOUT, $usage);
        exit(isset($o['h']) || isset($o['help']) ? 0 : 2);
    }
    $argv = $_SERVER['argv'] ?? [];
    if ($rest < count($argv)) {
        fwrite(STDERR, "bench.php: unexpected argument " . json_encode($argv[$rest]) . "\n" . $usage);
        exit(2);
    }
    $int = static function (string $name, int $default, int $min) use ($o, $usage): int {
        if (!isset($o[$name])) {
            return $default;
        }
        $v = $o[$name];
        if (!is_string($v) || !ctype_digit($v) || (int) $v < $min) {
            fwrite(STDERR, "bench.php: --{$name} needs an integer >= {$min}\n" . $usage);
            exit(2);
        }
        return (int) $v;
    };
    $url = $o['url'] ?? null;
    if (!is_string($url) || !preg_match('~^ws://127\.0\.0\.1:\d+(/.*)?$~', $url)) {
        fwrite(STDERR, "bench.php: --url ws://127.0.0.1:PORT/ is required (loopback only)\n" . $usage);
        exit(2);
    }
    $opts = [
        'url' => $url,
        'roundTrips' => $int('round-trips', 20000, 1),
        'messages' => $int('messages', 200000, 1),
        'window' => $int('window', 1000, 1),
        'warmup' => $int('warmup', 1000, 0),
        'timeLimit' => $int('time-limit', 120, 1),
        'workerman' => isset($o['workerman']) && is_string($o['workerman']) ? $o['workerman'] : null,
        'client' => isset($o['client']) && is_string($o['client']) ? $o['client'] : null,
    ];
    if ($opts['window'] > $opts['messages']) {
        fwrite(STDERR, "bench.php: --window must not exceed --messages\n");
        exit(2);
    }
    return $opts;
}

/**
 * Loads wsc or Workerman and makes WscBench\Api\{Worker, AsyncTcpConnection,
 * Timer, Ws} aliases of its classes: the equivalent of switching the `use`
 * lines. Returns the client name and the version.
 *
 * @return array{string, string}
 */
function loadApi(?string $workermanDir): array
{
    if ($workermanDir === null) {
        $root = dirname(__DIR__, 2) . '/php';
        require_once is_file("{$root}/vendor/autoload.php") ? "{$root}/vendor/autoload.php" : "{$root}/autoload.php";
        $ns = 'Wsc';
        $timer = 'Wsc\Timer';
    } else {
        $dir = rtrim($workermanDir, '/');
        if (is_file("{$dir}/vendor/autoload.php")) {
            require_once "{$dir}/vendor/autoload.php";      // a checkout after `composer install`, or a project
        } elseif (is_file("{$dir}/Autoloader.php")) {
            require_once "{$dir}/Autoloader.php";           // Workerman 4 without Composer
        } elseif (is_file("{$dir}/src/Worker.php")) {
            fwrite(STDERR, "bench.php: --workerman {$dir}: Workerman 5 needs its dependencies "
                . "(workerman/coroutine): run `composer install --no-dev` in {$dir}\n");
            exit(2);
        } else {
            fwrite(STDERR, "bench.php: --workerman {$dir}: neither vendor/autoload.php nor Autoloader.php "
                . "(Workerman 4) there; point it at a Workerman checkout after `composer install --no-dev`, "
                . "or at a project that requires workerman/workerman\n");
            exit(2);
        }
        if (!class_exists('Workerman\Worker')) {
            fwrite(STDERR, "bench.php: --workerman {$dir}: class Workerman\\Worker not found\n");
            exit(2);
        }
        $ns = 'Workerman';
        $timer = class_exists('Workerman\Timer') ? 'Workerman\Timer' : 'Workerman\Lib\Timer';
    }
    class_alias("{$ns}\\Worker", Worker::class);
    class_alias("{$ns}\\Connection\\AsyncTcpConnection", AsyncTcpConnection::class);
    class_alias("{$ns}\\Protocols\\Ws", Ws::class);
    class_alias($timer, Timer::class);
    if ($ns === 'Wsc') {
        return ['php-wsc', \Wsc\Library::get()->version()];
    }
    $tmp = sys_get_temp_dir() . '/wsc-bench-workerman-' . getmypid();
    @mkdir($tmp, 0700, true);
    // Keep Workerman's pid, status and log files out of the repository.
    foreach (['pidFile' => 'pid', 'statusFile' => 'status', 'logFile' => 'log'] as $property => $file) {
        if (property_exists(Worker::class, $property)) {
            Worker::${$property} = "{$tmp}/workerman.{$file}";
        }
    }
    $creator = getmypid();
    register_shutdown_function(static function () use ($tmp, $creator): void {
        if (getmypid() !== $creator) {
            return;                             // a forked worker process: the master cleans up
        }
        foreach (glob("{$tmp}/*") ?: [] as $f) {
            @unlink($f);
        }
        @rmdir($tmp);
    });
    $version = defined('Workerman\Worker::VERSION') ? (string) constant('Workerman\Worker::VERSION') : '?';
    return ['php-workerman', $version];
}

/** CPU time of the whole process (all threads), user + system, in microseconds. */
function cpuUs(): float
{
    $r = getrusage();
    return $r['ru_utime.tv_sec'] * 1e6 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_sec'] * 1e6 + $r['ru_stime.tv_usec'];
}

/**
 * The run: the two scenarios one after the other on the worker's loop, a
 * time limit for the whole run, and the stop.
 */
final class Bench
{
    private bool $wsc;

    private bool $finished = false;

    private string $stage = 'connecting (seq32)';

    private int $progress = 0;

    private int $target = 0;

    /** @param array<string, mixed> $o */
    public function __construct(private readonly array $o, private readonly string $client)
    {
        $this->wsc = $client === 'php-wsc';
    }

    public function start(): void
    {
        Timer::add((float) $this->o['timeLimit'], function (): void {
            $this->fail("did not finish within {$this->o['timeLimit']} s: {$this->stage}, "
                . "{$this->progress} of {$this->target} messages echoed");
        }, [], false);
        $this->sequential();
    }

    /** Sequential 32-byte round trips after the warm-up. */
    private function sequential(): void
    {
        $warmup = $this->o['warmup'];
        $n = $this->o['roundTrips'];
        $payload = str_repeat('x', SEQ_SIZE);
        $rtt = [];
        $echoed = 0;
        $sentAt = 0;
        $t0 = 0;
        $cpu0 = 0.0;
        $this->target = $warmup + $n;

        $con = $this->connection('seq32');
        $con->onWebSocketConnect = function ($con) use ($payload, &$sentAt, &$t0, &$cpu0, $warmup): void {
            $this->stage = $warmup > 0 ? 'seq32 warm-up' : 'seq32';
            if ($warmup === 0) {
                $cpu0 = cpuUs();
                $t0 = hrtime(true);
            }
            $sentAt = hrtime(true);
            $this->send($con, $payload);
        };
        $con->onMessage = function (
            $con,
            $data
        ) use (
            $payload,
            $warmup,
            $n,
            &$rtt,
            &$echoed,
            &$sentAt,
            &$t0,
            &$cpu0,
        ): void {
            $now = hrtime(true);
            if (strlen($data) !== SEQ_SIZE) {
                $this->fail('seq32: an echo of ' . strlen($data) . ' bytes');
                return;
            }
            $echoed++;
            $this->progress = $echoed;
            if ($echoed > $warmup) {
                $rtt[] = $now - $sentAt;
            } elseif ($echoed === $warmup) {
                $this->stage = 'seq32';
                $cpu0 = cpuUs();
                $t0 = hrtime(true);
            }
            if ($echoed < $warmup + $n) {
                $sentAt = hrtime(true);
                $this->send($con, $payload);
                return;
            }
            $seconds = (hrtime(true) - $t0) / 1e9;
            $cpu = cpuUs() - $cpu0;
            sort($rtt);
            printf(
                "RESULT client=%s scenario=seq32 messages=%d seconds=%.3f msg_per_s=%.0f cpu_us_per_msg=%.2f "
                . "rtt_p50_us=%.1f rtt_p99_us=%.1f\n",
                $this->client,
                $n,
                $seconds,
                $n / $seconds,
                $cpu / $n,
                $rtt[intdiv($n, 2)] / 1e3,
                $rtt[intdiv($n * 99, 100)] / 1e3,
            );
            $this->stage = 'closing (seq32)';
            $con->onClose = null;
            $con->close();
            $this->window();
        };
        $con->connect();
    }

    /** 64-byte messages, a window of them in flight. */
    private function window(): void
    {
        $total = $this->o['messages'];
        $window = $this->o['window'];
        $payload = str_repeat('y', WIN_SIZE);
        $sent = 0;
        $echoed = 0;
        $t0 = 0;
        $cpu0 = 0.0;
        $this->stage = 'connecting (window64)';
        $this->progress = 0;
        $this->target = $total;

        $con = $this->connection('window64');
        $con->onWebSocketConnect = function ($con) use ($payload, $window, &$sent, &$t0, &$cpu0): void {
            $this->stage = 'window64';
            $cpu0 = cpuUs();
            $t0 = hrtime(true);
            for ($i = 0; $i < $window; $i++) {
                $this->send($con, $payload);
            }
            $sent = $window;
        };
        $con->onMessage = function ($con, $data) use ($payload, $total, &$sent, &$echoed, &$t0, &$cpu0): void {
            if (strlen($data) !== WIN_SIZE) {
                $this->fail('window64: an echo of ' . strlen($data) . ' bytes');
                return;
            }
            $echoed++;
            if ($sent < $total) {
                $sent++;
                $this->send($con, $payload);
                return;
            }
            if ($echoed < $total) {
                $this->progress = $echoed;
                return;
            }
            $seconds = (hrtime(true) - $t0) / 1e9;
            $cpu = cpuUs() - $cpu0;
            printf(
                "RESULT client=%s scenario=window64 messages=%d seconds=%.3f msg_per_s=%.0f cpu_us_per_msg=%.2f\n",
                $this->client,
                $total,
                $seconds,
                $total / $seconds,
                $cpu / $total,
            );
            $this->finished = true;
            $con->onClose = null;
            $con->close();
            $this->stop();
        };
        $con->connect();
    }

    private function connection(string $scenario): AsyncTcpConnection
    {
        $con = new AsyncTcpConnection($this->o['url']);
        $con->websocketType = Ws::BINARY_TYPE_ARRAYBUFFER;
        $con->onError = function ($con, $code, $msg) use ($scenario): void {
            $this->fail("{$scenario}: onError {$code}: {$msg}");
        };
        $con->onClose = function () use ($scenario): void {
            $this->fail("{$scenario}: the connection closed during the scenario");
        };
        return $con;
    }

    private function send(AsyncTcpConnection $con, string $payload): void
    {
        if ($con->send($payload) === false) {
            $this->fail("{$this->stage}: send() refused a message");
        }
    }

    private function fail(string $why): void
    {
        if ($this->finished) {
            return;
        }
        $this->finished = true;
        fwrite(STDERR, "bench.php: {$this->client}: {$why}\n");
        $this->stop(1);
    }

    private function stop(int $code = 0): void
    {
        if ($this->wsc) {
            Worker::stopAll($code);
            return;
        }
        // Workerman runs this in a forked worker process; a worker that
        // exits is restarted by the master, so stop the master.
        posix_kill(posix_getppid(), SIGINT);
    }
}

$o = options();
[$client, $version] = loadApi($o['workerman']);
if ($o['client'] !== null) {
    $client = $o['client'];
}
fwrite(STDERR, "bench.php: {$client} (version {$version}), PHP " . PHP_VERSION . ", {$o['url']}\n");

// Both Worker::runAll() read the command from the command line.
$_SERVER['argv'] = $GLOBALS['argv'] = [$_SERVER['argv'][0] ?? 'bench.php', 'start'];
$_SERVER['argc'] = $GLOBALS['argc'] = 2;

$worker = new Worker();
$worker->name = 'bench';
$worker->count = 1;
$worker->onWorkerStart = function () use ($o, $client): void {
    (new Bench($o, $client))->start();
};
Worker::runAll();
