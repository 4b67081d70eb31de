/*
 * test_errors: bad input is refused with the documented result code (bad
 * URLs, bad headers, forbidden close codes, invalid UTF-8, oversized ping
 * and close reason), and each connection failure gives ERROR with the
 * right code and a readable message, then CLOSED 1006: connection
 * refused, HTTP 403, a wrong Sec-WebSocket-Accept, a name that does not
 * resolve, and a handshake timeout.
 */
#include "common.h"

/* Connects `url` and expects [CONNECTED,] ERROR(code) then CLOSED 1006,
 * within timeout_ms. Checks the message contains `needle` (if non-NULL).
 * `connected`: 1 = CONNECTED must come first, 0 = it must not come. */
static void expect_failure(wsc_context *ctx, const char *url, wsc_result code,
                           const char *needle, int connected, int timeout_ms,
                           const char *set_timeouts)
{
    wsc_client *c = NULL;
    const wsc_event *ev;
    uint64_t id = 0;
    wsc_status status;
    int64_t t0;

    fprintf(stderr, "-- %s (expect %s)\n", url, wsc_result_str((int)code));
    CHECK_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    if (c == NULL) {
        return;
    }
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    if (set_timeouts != NULL) {
        CHECK_RC(wsc_client_set_timeouts(c, 0, 300), WSC_RESULT_OK);
    }
    t0 = now_ms();
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    if (connected) {
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, timeout_ms);
        if (ev) FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_ERROR, timeout_ms);
    if (ev != NULL) {
        CHECK(ev->client_id == id);
        CHECK_RC(ev->error, code);
        CHECK_MSG(ev->data_len > 0 && ev->data != NULL && ev->data[ev->data_len] == '\0',
                  "ERROR data is not a NUL-terminated text");
        if (ev->data != NULL) {
            fprintf(stderr, "   message: %s\n", (const char *)ev->data);
            if (needle != NULL) {
                CHECK_MSG(strstr((const char *)ev->data, needle) != NULL,
                          "ERROR message '%s' does not contain '%s'",
                          (const char *)ev->data, needle);
            }
        }
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, timeout_ms);
    if (ev != NULL) {
        CHECK(ev->client_id == id);
        CHECK_MSG(ev->close_code == 1006, "close code %u", (unsigned)ev->close_code);
        CHECK(!ev->clean);
        FREE_EVENT(ev);
    }
    if (set_timeouts != NULL) {
        int64_t took = now_ms() - t0;
        fprintf(stderr, "   handshake timeout reported after %lld ms\n", (long long)took);
        CHECK_MSG(took >= 250 && took < 3000, "timeout after %lld ms, set 300",
                  (long long)took);
    }
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_CLOSED);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL, *sentinel = (wsc_client *)&srv;
    const wsc_event *ev;
    char url[128];
    uint8_t big[200];
    int port, refused_fd = -1;
    size_t i;
    static const char *bad_urls[] = {
        "http://x", "not a url", "ws://", "ws://h/#frag", "", "https://example.com/",
        "ftp://127.0.0.1/", "wss://", "ws://127.0.0.1:99999/",
    };
    static const uint16_t bad_codes[] = {0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535};
    static const char *bad_utf8[] = {"\xff\xfe", "\xc0\x80", "ab\xe2\x82", "\xed\xa0\x80"};

    REQUIRE(echo_server_start(&srv) == 0);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);

    /* Bad URLs: INVALID_URL, out-parameter untouched. */
    for (i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        c = sentinel;
        CHECK_MSG(wsc_client_new(ctx, bad_urls[i], &c) == WSC_RESULT_INVALID_URL,
                  "'%s' not refused as INVALID_URL", bad_urls[i]);
        CHECK_MSG(c == sentinel, "out_client written on failure for '%s'", bad_urls[i]);
    }
    c = sentinel;
    CHECK_RC(wsc_client_new(ctx, "ws://h\xff/", &c), WSC_RESULT_INVALID_UTF8);
    CHECK(c == sentinel);
    /* Good ones for contrast (nothing connects). */
    CHECK_RC(wsc_client_new(ctx, "ws://[::1]:9/p?q=1", &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_new(ctx, "wss://example.com", &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* Bad headers: INVALID_HEADER. */
    echo_url(url, sizeof url, &srv, "/");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_header(c, "", "v"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "X Bad", "v"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "X-Colon:", "v"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "X-Ok", "a\rb"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "X-Ok", "a\nb"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "X-Ok", "a\r\nX-Injected: 1"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "X-Ok\r\nX-Injected", "1"), WSC_RESULT_INVALID_HEADER);
    /* Host may be replaced (virtual hosting), as wsc.h documents; CR/LF in it may not. */
    CHECK_RC(wsc_client_set_header(c, "Host", "example.test"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_header(c, "Host", "a\r\nX: 1"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "Sec-WebSocket-Extensions", "x"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "sec-websocket-key", "x"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "Upgrade", "x"), WSC_RESULT_INVALID_HEADER);
    CHECK_RC(wsc_client_set_header(c, "X-\xff", "v"), WSC_RESULT_INVALID_UTF8);
    CHECK_RC(wsc_client_set_header(c, "X-Ok", "fine value"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_header(c, "X-Empty", ""), WSC_RESULT_OK);

    /* Ping and close argument checks on a client that is not open. */
    CHECK_RC(wsc_client_ping(c, NULL, 0), WSC_RESULT_NOT_CONNECTED);

    /* Open it: the refused headers did not break the handshake. */
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    CHECK_MSG(ev != NULL, "no OPEN with the accepted headers");
    if (ev) FREE_EVENT(ev);

    /* Forbidden close codes, oversized or non-UTF-8 reasons. */
    for (i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
        CHECK_MSG(wsc_client_close(c, bad_codes[i], NULL, 0) == WSC_RESULT_INVALID_ARGUMENT,
                  "close code %u not refused", (unsigned)bad_codes[i]);
    }
    memset(big, 'r', sizeof big);
    CHECK_RC(wsc_client_close(c, 1000, big, 124), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_close(c, 1000, (const uint8_t *)"\xff", 1), WSC_RESULT_INVALID_UTF8);
    /* Ping over 125 bytes. */
    CHECK_RC(wsc_client_ping(c, big, 126), WSC_RESULT_INVALID_ARGUMENT);
    /* Text that is not UTF-8. */
    for (i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        CHECK_MSG(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)bad_utf8[i],
                                  strlen(bad_utf8[i]), NULL) == WSC_RESULT_INVALID_UTF8,
                  "invalid UTF-8 #%zu not refused", i);
    }
    /* The same bytes are fine as binary. */
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, (const uint8_t *)bad_utf8[0], 2, NULL),
             WSC_RESULT_OK);
    /* The connection is still fine after all the refusals. */
    CHECK_RC(wsc_client_ping(c, big, 125), WSC_RESULT_OK);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"still", 5, NULL),
             WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_BINARY, 5000);
    if (ev) {
        CHECK(data_is(ev, bad_utf8[0], 2));
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_PONG, 5000);
    if (ev) {
        CHECK(data_is(ev, big, 125));
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 5000);
    if (ev) {
        CHECK(data_is(ev, "still", 5));
        FREE_EVENT(ev);
    }
    /* Largest reason and a registered code are accepted. */
    CHECK_RC(wsc_client_close(c, 4999, big, 123), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_CLOSED, 7000);
    CHECK_MSG(ev != NULL, "no CLOSED after close(4999)");
    if (ev) {
        CHECK_MSG(ev->close_code == 4999, "close code %u", (unsigned)ev->close_code);
        CHECK(ev->clean);
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* Connection failures. */
    port = refused_port(&refused_fd);
    REQUIRE(port > 0);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    expect_failure(ctx, url, WSC_RESULT_CONNECT, NULL, 0, 5000, NULL);
    close(refused_fd);

    echo_url(url, sizeof url, &srv, "/status/403");
    expect_failure(ctx, url, WSC_RESULT_HANDSHAKE, "HTTP 403 Forbidden", 1, 5000, NULL);

    echo_url(url, sizeof url, &srv, "/bad-accept");
    expect_failure(ctx, url, WSC_RESULT_HANDSHAKE, NULL, 1, 5000, NULL);

    /* .invalid is reserved and never resolves (RFC 6761). */
    expect_failure(ctx, "ws://nonexistent.invalid/", WSC_RESULT_DNS, NULL, 0, 12000, NULL);

    echo_url(url, sizeof url, &srv, "/silent");
    expect_failure(ctx, url, WSC_RESULT_TIMEOUT, NULL, 1, 5000, "0,300");

    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
