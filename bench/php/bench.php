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
 * The scale scenarios, one per run (--scenario):
 *   mib1      sequential 1 MiB binary round trips (--count, default 200)
 *             after 5 warm-up ones: messages/s, CPU, RTT p50/p99;
 *   conns     --conns connections (default 500) opened at once (open_s:
 *             until all are open), then each does --rounds (default 10)
 *             sequential 64-byte round trips, all at the same time;
 *   idle      after one warm-up connection, --conns connections (default
 *             1000) opened at once: the RSS they add per connection
 *             (/proc/self/statm), the time to open them, the CPU while idle
 *             for --idle-seconds (default 3), then one round of 32-byte
 *             messages, each connection its own content, every echo checked.
 *   push      server push: --conns connections (default 1) to the echo
 *             server's /push/COUNT/SIZE feed, which streams --count
 *             messages in all (default 500000, shared out evenly) of
 *             --size bytes (default 100; JSON text with a "seq" number)
 *             as fast as the client takes them; onMessage only counts
 *             each message (its length checked), or with --json also
 *             json_decode()s it and checks its "seq": messages/s from
 *             the connect to the last message, CPU us/message, and the
 *             process's peak RSS (VmHWM, peak_rss_kib).
 * A scenario that cannot run prints `NORESULT client=.. scenario=..
 * reason=...` instead (e.g. Workerman's stream_select event loop, which
 * handles at most 1024 connections: opening stalls, reported after 5 s
 * without progress).
 *
 * Usage:
 *   php bench/php/bench.php --url ws://127.0.0.1:PORT/ [--round-trips N]
 *       [--messages N] [--window N] [--warmup N] [--time-limit SECONDS]
 *       [--workerman DIR] [--client NAME]
 *   php bench/php/bench.php --url URL --scenario mib1|conns|idle [--count N]
 *       [--conns N] [--rounds N] [--idle-seconds S] [--workerman DIR]
 *   php bench/php/bench.php --url URL --scenario push [--conns 1] [--size 100]
 *       [--count 500000] [--json] [--workerman DIR]
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
const MIB = 1 << 20;

/** @return array<string, string|int|float|null> */
function options(): array
{
    $o = getopt('h', [
        'url:', 'round-trips:', 'messages:', 'window:', 'warmup:', 'time-limit:', 'workerman:', 'client:', 'help',
        'scenario:', 'count:', 'conns:', 'rounds:', 'idle-seconds:', 'size:', 'json',
    ], $rest);
    $usage = "usage: php bench/php/bench.php --url ws://127.0.0.1:PORT/ [--round-trips 20000] "
        . "[--messages 200000] [--window 1000] [--warmup 1000] [--time-limit 120] "
        . "[--workerman DIR] [--client NAME]\n"
        . "       php bench/php/bench.php --url URL --scenario mib1|conns|idle [--count 200] [--conns N] "
        . "[--rounds 10] [--idle-seconds 3] [--workerman DIR]\n"
        . "       php bench/php/bench.php --url URL --scenario push [--conns 1] [--size 100] "
        . "[--count 500000] [--json] [--workerman DIR]\n";
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
        'scenario' => isset($o['scenario']) && is_string($o['scenario']) ? $o['scenario'] : 'basic',
        'count' => $int('count', 200, 1),
        'conns' => $int('conns', 0, 1),
        'rounds' => $int('rounds', 10, 1),
        'idleSeconds' => $int('idle-seconds', 3, 1),
        'size' => $int('size', 100, 80),
        'json' => isset($o['json']),
    ];
    if (!in_array($opts['scenario'], ['basic', 'mib1', 'conns', 'idle', 'push'], true)) {
        fwrite(STDERR, "bench.php: --scenario is basic, mib1, conns, idle or push\n" . $usage);
        exit(2);
    }
    if ($opts['conns'] === 0) {
        $opts['conns'] = match ($opts['scenario']) {
            'idle' => 1000,
            'push' => 1,
            default => 500,
        };
    }
    if ($opts['scenario'] === 'push') {
        if (!isset($o['count'])) {
            $opts['count'] = 500000;
        }
        if ($opts['count'] < $opts['conns']) {
            fwrite(STDERR, "bench.php: --count must be at least --conns\n");
            exit(2);
        }
    }
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
        return ['php-wsc', \Wsc\Ffi\Library::get()->version()];
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

/** The resident set of this process, in bytes. */
function rssBytes(): float
{
    $statm = explode(' ', (string) file_get_contents('/proc/self/statm'));
    return (float) ($statm[1] ?? 0) * 4096.0;
}

/** The peak resident set of this process (VmHWM), in KiB. */
function peakRssKib(): int
{
    $status = (string) file_get_contents('/proc/self/status');
    return preg_match('/^VmHWM:\s+(\d+) kB/m', $status, $m) === 1 ? (int) $m[1] : 0;
}

/** A 32- or 64-byte message naming the connection and the round. */
function tagged(int $i, int $round, int $size): string
{
    return str_pad("{$i}:{$round}", $size, '.');
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

    private string $scenario = 'seq32';

    private int $progress = 0;

    private int $target = 0;

    /** The idle scenario's warm-up connection, kept open. */
    private ?AsyncTcpConnection $warm = null;

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
        match ($this->o['scenario']) {
            'mib1' => $this->mib1(),
            'conns' => $this->many($this->o['conns'], $this->o['rounds'], WIN_SIZE, false),
            'idle' => $this->many($this->o['conns'], 1, SEQ_SIZE, true),
            'push' => $this->push($this->o['conns'], $this->o['size'], $this->o['count'], $this->o['json']),
            default => $this->sequential(),
        };
    }

    /** Sequential 1 MiB round trips after 5 warm-up ones. */
    private function mib1(): void
    {
        $payload = '';
        for ($i = 0; $i < 1024; $i++) {
            $payload .= str_repeat(chr($i % 251), 1024);
        }
        $con = $this->connection('mib1');
        $con->maxPackageSize = 4 << 20;        // Workerman's default (1 MiB) is below a 1 MiB frame
        $con->maxSendBufferSize = 4 << 20;
        $this->roundTrips(
            $con,
            'mib1',
            $payload,
            5,
            $this->o['count'],
            // The size and the first 64 bytes, as the C benchmark checks
            // (the floor checks the size): comparing every byte would
            // measure PHP's memcmp, not the client.
            static fn (string $data): ?string => strlen($data) !== MIB || substr_compare($data, $payload, 0, 64) !== 0
                ? 'mib1: a wrong echo of ' . strlen($data) . ' bytes'
                : null,
            ['%.1f', '%.1f'],
            function ($con): void {
                $this->finished = true;
                $con->onClose = null;
                $con->close();
                $this->stop();
            },
        );
    }

    /**
     * $n connections opened at once; then each sends $rounds messages of
     * $size bytes one after the other (the next from onMessage), all at the
     * same time, every echo checked. With $idle: one warm-up connection
     * first, the RSS the $n add, and $idleSeconds of idling before the
     * round.
     */
    private function many(int $n, int $rounds, int $size, bool $idle): void
    {
        $this->scenario = $idle ? "idle{$n}" : "conns{$n}";
        $this->stage = "opening {$n} connections";
        $this->target = $n;
        $cons = [];
        $index = [];
        $done = [];
        $opened = 0;
        $echoed = 0;
        $total = $n * $rounds;
        $t0 = 0;
        $rss0 = 0.0;
        $openS = 0.0;
        $rss1 = 0.0;
        $idleCpu = 0.0;
        $msgT0 = 0;
        $msgCpu0 = 0.0;
        $startRound = function () use (&$cons, &$msgT0, &$msgCpu0, $n, $size): void {
            $this->stage = "echo rounds over {$n} connections";
            $this->progress = 0;
            $msgCpu0 = cpuUs();
            $msgT0 = hrtime(true);
            foreach ($cons as $i => $con) {
                $this->send($con, tagged($i, 0, $size));
            }
        };
        $onMessage = function (
            $con,
            $data
        ) use (
            &$index,
            &$done,
            &$echoed,
            &$msgT0,
            &$msgCpu0,
            &$openS,
            &$rss0,
            &$rss1,
            &$idleCpu,
            $n,
            $rounds,
            $total,
            $size,
            $idle,
        ): void {
            $i = $index[spl_object_id($con)];
            if ($data !== tagged($i, $done[$i], $size)) {
                $want = tagged($i, $done[$i], $size);
                $this->fail("connection {$i}: echo " . json_encode($data) . ' is not ' . json_encode($want));
                return;
            }
            $echoed++;
            $this->progress = $echoed;
            if (++$done[$i] < $rounds) {
                $this->send($con, tagged($i, $done[$i], $size));
                return;
            }
            if ($echoed < $total) {
                return;
            }
            $seconds = (hrtime(true) - $msgT0) / 1e9;
            $cpu = cpuUs() - $msgCpu0;
            $extra = sprintf(' open_s=%.3f', $openS);
            if ($idle) {
                $extra .= sprintf(' rss_kib_per_conn=%.1f idle_cpu_pct=%.2f', ($rss1 - $rss0) / 1024 / $n, $idleCpu);
            }
            $this->result($total, $seconds, $cpu, '%.2f', $extra);
            $this->finished = true;
            $this->stop();
        };
        $onOpen = function () use (&$opened, &$t0, &$openS, &$rss1, &$idleCpu, $n, $idle, $startRound): void {
            $opened++;
            $this->progress = $opened;
            if ($opened < $n) {
                return;
            }
            $openS = (hrtime(true) - $t0) / 1e9;
            if (!$idle) {
                $startRound();
                return;
            }
            $rss1 = rssBytes();
            $this->stage = "idle for {$this->o['idleSeconds']} s";
            $cpu0 = cpuUs();
            Timer::add((float) $this->o['idleSeconds'], function () use ($cpu0, &$idleCpu, $startRound): void {
                $idleCpu = (cpuUs() - $cpu0) / ($this->o['idleSeconds'] * 1e6) * 100;
                $startRound();
            }, [], false);
        };
        $openAll = function () use (&$index, &$cons, &$done, &$t0, &$rss0, $n, $onOpen, $onMessage): void {
            $rss0 = rssBytes();
            $t0 = hrtime(true);
            for ($i = 0; $i < $n; $i++) {
                $con = $this->connection($this->scenario);
                $index[spl_object_id($con)] = $i;
                $con->onWebSocketConnect = $onOpen;
                $con->onMessage = $onMessage;
                $cons[$i] = $con;
                $done[$i] = 0;
                $con->connect();
            }
            // A stall (Workerman's stream_select loop stops at 1024
            // connections) is reported after 5 s without progress.
            $last = -1;
            $since = hrtime(true);
            Timer::add(1.0, function () use (&$last, &$since): void {
                if ($this->finished) {
                    return;
                }
                if ($this->progress !== $last) {
                    $last = $this->progress;
                    $since = hrtime(true);
                } elseif (hrtime(true) - $since > 5e9) {
                    $this->fail("{$this->stage}: stalled at {$this->progress} of {$this->target} for 5 s");
                }
            });
        };
        if (!$idle) {
            $openAll();
            return;
        }
        // One warm-up connection first: the library, the context and the
        // classes are loaded before the RSS is taken.
        $warm = $this->connection($this->scenario);
        $warm->onWebSocketConnect = function () use ($openAll): void {
            $openAll();
        };
        $this->warm = $warm;
        $warm->connect();
    }

    /**
     * Server push: $n connections to the echo server's
     * /push/COUNT/SIZE feed, $total messages of $size bytes in all
     * (shared out evenly, the remainder on the first ones). onMessage
     * counts each message and checks its length, or with $json decodes
     * it and checks its sequence number. The connections close when the
     * server's close frame follows the last message.
     */
    private function push(int $n, int $size, int $total, bool $json): void
    {
        $this->scenario = "push{$n}x{$size}" . ($json ? 'j' : '');
        $this->stage = "{$this->scenario}: receiving";
        $this->target = $total;
        $received = 0;
        $counts = [];
        $want = [];
        $cpu0 = cpuUs();
        $t0 = hrtime(true);
        $onMessage = function ($con, $data) use (&$received, &$counts, &$t0, &$cpu0, $size, $total, $json): void {
            $id = spl_object_id($con);
            $seq = $counts[$id]++;
            if ($json) {
                $m = json_decode($data, true);
                if (!is_array($m) || ($m['seq'] ?? null) !== $seq) {
                    $this->fail("{$this->scenario}: message {$seq} is " . json_encode(substr($data, 0, 120)));
                    return;
                }
            } elseif (strlen($data) !== $size) {
                $this->fail("{$this->scenario}: a message of " . strlen($data) . " bytes, not {$size}");
                return;
            }
            if (++$received < $total) {
                if (($received & 0x3fff) === 0) {
                    $this->progress = $received;
                }
                return;
            }
            $seconds = (hrtime(true) - $t0) / 1e9;
            $cpu = cpuUs() - $cpu0;
            $this->result($total, $seconds, $cpu, '%.3f', sprintf(' peak_rss_kib=%d', peakRssKib()));
            $this->finished = true;
            $this->stop();
        };
        $onClose = function ($con) use (&$counts, &$want): void {
            $id = spl_object_id($con);
            if (!$this->finished && $counts[$id] < $want[$id]) {
                $this->fail("{$this->scenario}: the connection closed after {$counts[$id]} of {$want[$id]} messages");
            }
        };
        $base = rtrim($this->o['url'], '/');
        $cons = [];
        for ($i = 0; $i < $n; $i++) {
            $count = intdiv($total, $n) + ($i < $total % $n ? 1 : 0);
            $con = new AsyncTcpConnection("{$base}/push/{$count}/{$size}");
            $con->onError = function ($con, $code, $msg): void {
                $this->fail("{$this->scenario}: onError {$code}: {$msg}");
            };
            $con->onMessage = $onMessage;
            $con->onClose = $onClose;
            $counts[spl_object_id($con)] = 0;
            $want[spl_object_id($con)] = $count;
            $cons[] = $con;
            $con->connect();
        }
        // A stall is reported after 5 s without progress.
        $last = -1;
        $since = hrtime(true);
        Timer::add(1.0, function () use (&$last, &$since, &$received, &$cons): void {
            if ($this->finished) {
                $cons = [];
                return;
            }
            $this->progress = $received;
            if ($received !== $last) {
                $last = $received;
                $since = hrtime(true);
            } elseif (hrtime(true) - $since > 5e9) {
                $this->fail("{$this->stage}: stalled at {$received} of {$this->target} for 5 s");
            }
        });
    }

    /** Sequential 32-byte round trips after the warm-up. */
    private function sequential(): void
    {
        $this->roundTrips(
            $this->connection('seq32'),
            'seq32',
            str_repeat('x', SEQ_SIZE),
            $this->o['warmup'],
            $this->o['roundTrips'],
            static fn (string $data): ?string => strlen($data) !== SEQ_SIZE
                ? 'seq32: an echo of ' . strlen($data) . ' bytes'
                : null,
            ['%.0f', '%.2f'],
            function ($con): void {
                $this->stage = 'closing (seq32)';
                $con->onClose = null;
                $con->close();
                $this->window();
            },
        );
    }

    /**
     * Sequential round trips of $payload on $con (not yet connected):
     * $warmup ones, then $n timed ones, the next sent from onMessage. Each
     * echo goes through $check (null: right, else why it is wrong: the run
     * fails); RTT is send to echo (hrtime). Prints the RESULT line of
     * $scenario (msg_per_s and cpu_us_per_msg in the printf formats
     * $formats), then calls $done($con).
     *
     * @param \Closure(string): ?string          $check
     * @param array{string, string}              $formats
     * @param \Closure(AsyncTcpConnection): void $done
     */
    private function roundTrips(
        AsyncTcpConnection $con,
        string $scenario,
        string $payload,
        int $warmup,
        int $n,
        \Closure $check,
        array $formats,
        \Closure $done,
    ): void {
        $this->scenario = $scenario;
        $rtt = [];
        $echoed = 0;
        $sentAt = 0;
        $t0 = 0;
        $cpu0 = 0.0;
        $this->target = $warmup + $n;

        $con->onWebSocketConnect = function ($con) use ($scenario, $payload, &$sentAt, &$t0, &$cpu0, $warmup): void {
            $this->stage = $warmup > 0 ? "{$scenario} warm-up" : $scenario;
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
            $scenario,
            $payload,
            $warmup,
            $n,
            $check,
            $formats,
            $done,
            &$rtt,
            &$echoed,
            &$sentAt,
            &$t0,
            &$cpu0,
        ): void {
            $now = hrtime(true);
            $wrong = $check($data);
            if ($wrong !== null) {
                $this->fail($wrong);
                return;
            }
            $echoed++;
            $this->progress = $echoed;
            if ($echoed > $warmup) {
                $rtt[] = $now - $sentAt;
            } elseif ($echoed === $warmup) {
                $this->stage = $scenario;
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
                "RESULT client=%s scenario=%s messages=%d seconds=%.3f msg_per_s={$formats[0]} "
                . "cpu_us_per_msg={$formats[1]} rtt_p50_us=%.1f rtt_p99_us=%.1f\n",
                $this->client,
                $scenario,
                $n,
                $seconds,
                $n / $seconds,
                $cpu / $n,
                $rtt[intdiv($n, 2)] / 1e3,
                $rtt[intdiv($n * 99, 100)] / 1e3,
            );
            $done($con);
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

    /**
     * Prints the RESULT line of the current scenario: $total messages in
     * $seconds, $cpu microseconds of CPU (CPU per message in the printf
     * format $cpuFormat), then $extra (fields with a leading space).
     */
    private function result(int $total, float $seconds, float $cpu, string $cpuFormat, string $extra): void
    {
        printf(
            "RESULT client=%s scenario=%s messages=%d seconds=%.3f msg_per_s=%.0f cpu_us_per_msg={$cpuFormat}%s\n",
            $this->client,
            $this->scenario,
            $total,
            $seconds,
            $total / $seconds,
            $cpu / $total,
            $extra,
        );
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
        if ($this->scenario !== 'seq32') {
            $reason = str_replace("\n", ' ', $why);
            printf("NORESULT client=%s scenario=%s reason=%s\n", $this->client, $this->scenario, $reason);
        }
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

// Workerman runs the script in a worker process forked from its master,
// whose peak RSS (VmHWM) counts only the pages it touches after the fork
// (PHP's own code and libraries mapped before it are not counted until
// used): the push scenario, which reports the peak RSS, runs wsc in a
// forked child too, so that both figures are taken the same way.
if ($client === 'php-wsc' && $o['scenario'] === 'push') {
    $child = pcntl_fork();
    if ($child === -1) {
        fwrite(STDERR, "bench.php: fork failed\n");
        exit(1);
    }
    if ($child > 0) {
        pcntl_waitpid($child, $status);
        exit(pcntl_wifexited($status) ? pcntl_wexitstatus($status) : 1);
    }
}

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
