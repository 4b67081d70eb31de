<?php

/**
 * A small WebSocket server (RFC 6455) for the tests of the behaviours the
 * echo server (wsc-echo-server) cannot show: it sends pings and
 * fragments, reports what the client's frames look like on the wire, and
 * answers the handshake in ways the tests choose. Plain PHP sockets, one
 * connection at a time, 127.0.0.1 only.
 *
 * Usage: php scripted-ws-server.php [LIFETIME_SECONDS]
 * Prints `listening on 127.0.0.1:PORT` once ready; the tests stop it by
 * its PID (SIGTERM); it also exits by itself after LIFETIME_SECONDS
 * (default 120), so that a crashed test leaves nothing behind.
 *
 * The handshake answers the first subprotocol the client offers. Then,
 * by request path (the query is ignored):
 * - `/request`: first sends the request head as received (text), then echoes;
 * - `/peer`: first sends the client's address as this server sees it,
 *   `ip:port` (text), then echoes;
 * - `/ping/PAYLOAD`: first sends a ping with PAYLOAD; each pong that comes
 *   back is answered with the text message `pong:<payload>`; then echoes;
 * - `/pong/PAYLOAD`: first sends an unsolicited pong with PAYLOAD (RFC 6455
 *   section 5.5.3 allows it), then echoes;
 * - `/fragments`: first sends the text message "one two three" as three
 *   frames (text, continuation, continuation), then echoes;
 * - `/masks`: answers each data frame with `mask:<hex of its masking key>`
 *   (`mask:none` for an unmasked frame);
 * - `/early`: writes the 101 response and a text frame `early` in one write;
 * - `/bad-utf8`: first sends a text frame that is not UTF-8;
 * - `/burst/N`: first sends N text messages `1` ... `N` in one write;
 * - anything else: echoes every data message with its opcode.
 * A close frame is answered with a close frame carrying the same code.
 */

declare(strict_types=1);

$lifetime = (float) ($argv[1] ?? 120);
$server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
if ($server === false) {
    fwrite(STDERR, "cannot listen: {$errstr}\n");
    exit(1);
}
echo 'listening on ', stream_socket_get_name($server, false), "\n";
$deadline = microtime(true) + $lifetime;

$frame = static function (int $opcode, string $payload, bool $fin = true): string {
    $head = chr(($fin ? 0x80 : 0) | $opcode);
    $len = strlen($payload);
    if ($len < 126) {
        $head .= chr($len);
    } elseif ($len < 65536) {
        $head .= chr(126) . pack('n', $len);
    } else {
        $head .= chr(127) . pack('J', $len);
    }
    return $head . $payload;
};

/** Reads exactly $n bytes; null on EOF or timeout. */
$readExactly = static function ($conn, int $n): ?string {
    $data = '';
    while (strlen($data) < $n) {
        $chunk = fread($conn, $n - strlen($data));
        if ($chunk === false || $chunk === '') {
            return null;
        }
        $data .= $chunk;
    }
    return $data;
};

/** Reads one frame: [fin, opcode, payload, mask key or null]; null on EOF. */
$readFrame = static function ($conn) use ($readExactly): ?array {
    $head = $readExactly($conn, 2);
    if ($head === null) {
        return null;
    }
    $b0 = ord($head[0]);
    $b1 = ord($head[1]);
    $len = $b1 & 0x7f;
    if ($len === 126) {
        $len = unpack('n', (string) $readExactly($conn, 2))[1];
    } elseif ($len === 127) {
        $len = unpack('J', (string) $readExactly($conn, 8))[1];
    }
    $mask = ($b1 & 0x80) !== 0 ? $readExactly($conn, 4) : null;
    $payload = $len > 0 ? $readExactly($conn, $len) : '';
    if ($payload === null) {
        return null;
    }
    if ($mask !== null) {
        for ($i = 0; $i < $len; $i++) {
            $payload[$i] = $payload[$i] ^ $mask[$i % 4];
        }
    }
    return [($b0 & 0x80) !== 0, $b0 & 0x0f, $payload, $mask];
};

while (microtime(true) < $deadline) {
    $conn = @stream_socket_accept($server, max(0.1, $deadline - microtime(true)));
    if ($conn === false) {
        continue;
    }
    stream_set_timeout($conn, 30);
    $request = '';
    while (!str_contains($request, "\r\n\r\n")) {
        $line = fgets($conn);
        if ($line === false) {
            break;
        }
        $request .= $line;
    }
    if (preg_match('#^GET (\S+) HTTP/1\.1\r\n#', $request, $m) !== 1) {
        fclose($conn);
        continue;
    }
    // The route is the path without the query.
    $path = explode('?', $m[1], 2)[0];
    preg_match('/^Sec-WebSocket-Key:\s*(\S+)\s*$/mi', $request, $key);
    $accept = base64_encode(sha1(($key[1] ?? '') . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11', true));
    $response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        . "Sec-WebSocket-Accept: {$accept}\r\n";
    if (preg_match('/^Sec-WebSocket-Protocol:\s*([^,\r\n]+)/mi', $request, $protocol) === 1) {
        $response .= 'Sec-WebSocket-Protocol: ' . trim($protocol[1]) . "\r\n";
    }
    $response .= "X-Scripted: yes\r\n\r\n";
    if ($path === '/early') {
        fwrite($conn, $response . $frame(0x1, 'early'));
    } else {
        fwrite($conn, $response);
    }
    if ($path === '/request') {
        fwrite($conn, $frame(0x1, $request));
    } elseif ($path === '/peer') {
        fwrite($conn, $frame(0x1, (string) stream_socket_get_name($conn, true)));
    } elseif (str_starts_with($path, '/ping/')) {
        fwrite($conn, $frame(0x9, rawurldecode(substr($path, 6))));
    } elseif (str_starts_with($path, '/pong/')) {
        fwrite($conn, $frame(0xA, rawurldecode(substr($path, 6))));
    } elseif ($path === '/fragments') {
        fwrite($conn, $frame(0x1, 'one ', false) . $frame(0x0, 'two ', false) . $frame(0x0, 'three'));
    } elseif ($path === '/bad-utf8') {
        fwrite($conn, $frame(0x1, "\xff\xfe\xfd"));
    } elseif (str_starts_with($path, '/burst/')) {
        $burst = '';
        for ($i = 1, $n = (int) substr($path, 7); $i <= $n; $i++) {
            $burst .= $frame(0x1, (string) $i);
        }
        fwrite($conn, $burst);
    }
    while (($in = $readFrame($conn)) !== null) {
        [, $opcode, $payload, $mask] = $in;
        if ($opcode === 0x8) {
            fwrite($conn, $frame(0x8, substr($payload, 0, 2)));
            break;
        }
        if ($opcode === 0x9) {
            fwrite($conn, $frame(0xA, $payload));
        } elseif ($opcode === 0xA) {
            fwrite($conn, $frame(0x1, 'pong:' . $payload));
        } elseif ($path === '/masks') {
            fwrite($conn, $frame(0x1, 'mask:' . ($mask === null ? 'none' : bin2hex($mask))));
        } elseif ($opcode === 0x1 || $opcode === 0x2 || $opcode === 0x0) {
            fwrite($conn, $frame($opcode, $payload, $in[0]));
        }
    }
    fclose($conn);
}
