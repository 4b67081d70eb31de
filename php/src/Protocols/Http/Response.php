<?php

declare(strict_types=1);

namespace Wsc\Protocols\Http;

/**
 * The server's answer to the opening handshake, as handed to
 * `onWebSocketConnect($connection, $response)`, and, for a refused
 * handshake (a status other than 101), as returned by
 * `AsyncTcpConnection::getHandshakeResponse()`, then with the first bytes
 * of its body (rawBody()).
 *
 * Its string form is the raw response head exactly as received (status
 * line and header lines, each ending in CRLF, and the empty line), which
 * is what Workerman 4 passes as a string: `echo $response;` prints
 * `HTTP/1.1 101 Switching Protocols` and the headers. It also offers the
 * accessors of Workerman 5's `Workerman\Protocols\Http\Response` that make
 * sense for a received head: getStatusCode(), getReasonPhrase(),
 * getProtocolVersion(), getHeader() (names compared case-insensitively,
 * where Workerman 5 needs the exact spelling), getHeaders() and rawBody().
 * Unlike Workerman 5, it never shows headers the server did not send
 * (Content-Type, Content-Length). Workerman 5's setters (withHeader(),
 * withStatus(), withBody()...) are left out: they build responses to send,
 * and this one was received.
 *
 * Workerman 4 code that passes `$response` to string functions (strpos,
 * explode...) works unchanged in files without `declare(strict_types=1)`
 * (PHP converts the object to its string form); with strict types, write
 * `(string) $response`.
 */
final class Response implements \Stringable
{
    private string $protocolVersion = '1.1';

    private int $statusCode = 0;

    private string $reasonPhrase = '';

    /** @var array<string, array{0: string, 1: list<string>}> lowercased name => [name as sent, values] */
    private array $headers = [];

    /**
     * @param string $rawHead the response head as received, CRLF line ends
     * @param string $rawBody the body, or its first bytes (a refused handshake's
     *                        excerpt, at most 4096 bytes); '' for a 101
     */
    public function __construct(private readonly string $rawHead, private readonly string $rawBody = '')
    {
        $lines = preg_split("/\r?\n/", rtrim($rawHead, "\r\n"));
        $status = (string) array_shift($lines);
        if (preg_match('#^HTTP/(\d+(?:\.\d+)?)\s+(\d{3})(?:\s+(.*))?$#', $status, $m) === 1) {
            $this->protocolVersion = $m[1];
            $this->statusCode = (int) $m[2];
            $this->reasonPhrase = $m[3] ?? '';
        }
        foreach ($lines as $line) {
            $colon = strpos($line, ':');
            if ($colon === false || $colon === 0) {
                continue;
            }
            $name = substr($line, 0, $colon);
            $value = trim(substr($line, $colon + 1), " \t");
            $key = strtolower($name);
            if (isset($this->headers[$key])) {
                $this->headers[$key][1][] = $value;
            } else {
                $this->headers[$key] = [$name, [$value]];
            }
        }
    }

    /**
     * The raw response head, exactly as received (Workerman 4's string).
     */
    public function __toString(): string
    {
        return $this->rawHead;
    }

    /**
     * The raw response head, exactly as received.
     */
    public function rawHead(): string
    {
        return $this->rawHead;
    }

    /**
     * The status code, 101 for a successful opening handshake.
     */
    public function getStatusCode(): int
    {
        return $this->statusCode;
    }

    /**
     * The reason phrase of the status line, e.g. "Switching Protocols".
     */
    public function getReasonPhrase(): string
    {
        return $this->reasonPhrase;
    }

    /**
     * The HTTP version of the status line, e.g. "1.1".
     */
    public function getProtocolVersion(): string
    {
        return $this->protocolVersion;
    }

    /**
     * One header's value, the name compared case-insensitively; a header
     * sent several times gives its values joined with ", " (RFC 9110
     * section 5.3). Null when the server did not send it.
     */
    public function getHeader(string $name): ?string
    {
        $entry = $this->headers[strtolower($name)] ?? null;
        return $entry === null ? null : implode(', ', $entry[1]);
    }

    /**
     * True when the server sent this header (name case-insensitive).
     */
    public function hasHeader(string $name): bool
    {
        return isset($this->headers[strtolower($name)]);
    }

    /**
     * The body (Workerman 5's rawBody()): '' for the 101 of an open
     * connection (it has none); for a refused handshake, the first bytes
     * of the server's body as libwsc read them (at most 4096 bytes,
     * chunked coding removed, what arrived within 300 ms of the head).
     */
    public function rawBody(): string
    {
        return $this->rawBody;
    }

    /**
     * All headers, name as sent => value (repeated headers joined with ", ").
     *
     * @return array<string, string>
     */
    public function getHeaders(): array
    {
        $out = [];
        foreach ($this->headers as [$name, $values]) {
            $out[$name] = implode(', ', $values);
        }
        return $out;
    }
}
