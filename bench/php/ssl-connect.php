<?php

/**
 * PHP's own TLS client cost, the figure bench-wss (bench/wss.rs) compares
 * wsc's wss:// connects with: N `ssl://` stream connects, one after the
 * other, to 127.0.0.1:PORT (nginx of bench-wss) with `cafile` and
 * `peer_name` localhost, each closed at once. Prints
 * `cpu_ms_per_connect=X` (this process's user + system CPU, divided by
 * N). Exits 1 with a message when a connect fails.
 *
 * Usage: php ssl-connect.php PORT CAFILE N
 */

declare(strict_types=1);

if ($argc !== 4) {
    fwrite(STDERR, "usage: php ssl-connect.php PORT CAFILE N\n");
    exit(2);
}
[$port, $ca, $n] = [(int) $argv[1], $argv[2], (int) $argv[3]];

function cpuSeconds(): float
{
    $u = getrusage();
    return $u['ru_utime.tv_sec'] + $u['ru_utime.tv_usec'] / 1e6
        + $u['ru_stime.tv_sec'] + $u['ru_stime.tv_usec'] / 1e6;
}

$context = stream_context_create(['ssl' => ['cafile' => $ca, 'peer_name' => 'localhost']]);
$cpu0 = cpuSeconds();
for ($i = 0; $i < $n; $i++) {
    $errno = 0;
    $errstr = '';
    $s = @stream_socket_client("ssl://127.0.0.1:{$port}", $errno, $errstr, 10.0, STREAM_CLIENT_CONNECT, $context);
    if ($s === false) {
        fwrite(STDERR, "ssl-connect.php: connect {$i} failed: {$errstr}\n");
        exit(1);
    }
    fclose($s);
}
printf("cpu_ms_per_connect=%.3f\n", (cpuSeconds() - $cpu0) * 1000 / $n);
