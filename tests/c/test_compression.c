/*
 * test_compression: permessage-deflate (RFC 7692) through the C API against
 * a server that compresses (tests/servers/deflate_ws_server.py: Debian's
 * python3-websockets): wsc_client_set_compression's argument checks,
 * wsc_client_extensions (empty before, the answer after the open, a too
 * small buffer), a 64 KiB JSON-like text echoed compressed both ways (the
 * server counts the RSV1 frames it got, wsc_client_bytes our wire bytes),
 * and a decompression bomb closed with 1009.
 */
#include "common.h"

#define SCRIPT "tests/servers/deflate_ws_server.py"
#define TEXT_LEN (64 * 1024)

/* Starts deflate_ws_server.py; finish() stops it. */
static int deflate_server_start(echo_server *s)
{
    int r = py_server_start(s, SCRIPT);
    if (s->pid > 0) {
        t_server_pid = s->pid;
    }
    return r;
}

/* A new client of `url` with compression `o` (NULL: off), connected and
 * OPEN awaited. */
static wsc_client *open_client(wsc_context *ctx, const char *url, const wsc_compression_options *o)
{
    wsc_client *c = NULL;
    const wsc_event *ev;
    if (wsc_client_new(ctx, url, &c) != WSC_RESULT_OK) {
        return NULL;
    }
    CHECK_RC(wsc_client_set_compression(c, o), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_limits(c, 1u << 20, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, 10000);
    if (ev != NULL) {
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, 10000);
    if (ev == NULL) {
        wsc_client_free(c);
        return NULL;
    }
    FREE_EVENT(ev);
    return c;
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    wsc_compression_options o;
    char url[128], ext[256];
    size_t len = 0;
    uint64_t read0 = 0, read1 = 0;
    char *text;
    size_t i;

    REQUIRE(deflate_server_start(&srv) == 0);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);

    /* Argument checks. */
    memset(&o, 0, sizeof o);
    CHECK_RC(wsc_client_set_compression(NULL, &o), WSC_RESULT_NULL_ARGUMENT);
    echo_url(url, sizeof url, &srv, "/echo");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    o.client_max_window_bits = 8;
    CHECK_RC(wsc_client_set_compression(c, &o), WSC_RESULT_INVALID_ARGUMENT);
    o.client_max_window_bits = 0;
    o.server_max_window_bits = 16;
    CHECK_RC(wsc_client_set_compression(c, &o), WSC_RESULT_INVALID_ARGUMENT);
    o.server_max_window_bits = 0;
    o.level = 10;
    CHECK_RC(wsc_client_set_compression(c, &o), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_compression(c, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_extensions(c, NULL, 10, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_extensions(NULL, ext, sizeof ext, NULL), WSC_RESULT_NULL_ARGUMENT);
    ext[0] = 'x';
    CHECK_RC(wsc_client_extensions(c, ext, sizeof ext, &len), WSC_RESULT_OK);
    CHECK(ext[0] == 0 && len == 0);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* Compressed both ways. */
    memset(&o, 0, sizeof o);
    c = open_client(ctx, url, &o);
    REQUIRE(c != NULL);
    CHECK_RC(wsc_client_extensions(c, ext, sizeof ext, &len), WSC_RESULT_OK);
    CHECK_MSG(strncmp(ext, "permessage-deflate", 18) == 0 && len == strlen(ext), "extensions '%s'", ext);
    CHECK_RC(wsc_client_extensions(c, ext, 5, &len), WSC_RESULT_INVALID_ARGUMENT);
    CHECK(len > 5);

    text = malloc(TEXT_LEN + 1);
    REQUIRE(text != NULL);
    for (i = 0; i < TEXT_LEN;) {
        i += (size_t)snprintf(text + i, TEXT_LEN + 1 - i, "{\"id\":%zu,\"name\":\"user%zu\",\"ok\":true},", i, i);
    }
    CHECK_RC(wsc_client_bytes(c, &read0, NULL, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)text, TEXT_LEN, NULL), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 10000);
    if (ev != NULL) {
        CHECK_MSG(data_is(ev, text, TEXT_LEN), "echo of %d bytes differs (got %zu)", TEXT_LEN, ev->data_len);
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_bytes(c, &read1, NULL, NULL), WSC_RESULT_OK);
    CHECK_MSG(read1 - read0 < TEXT_LEN / 4, "read %llu bytes for a %d-byte text",
              (unsigned long long)(read1 - read0), TEXT_LEN);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"stats", 5, NULL), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 10000);
    if (ev != NULL) {
        /* The text compressed; "stats" (5 bytes) is below the threshold. */
        CHECK_MSG(json_number(ev, "rsv1_in") == 1, "the server got %ld RSV1 frames, not 1",
                  json_number(ev, "rsv1_in"));
        CHECK_MSG(json_number(ev, "wire_in") < TEXT_LEN / 4, "the server read %ld bytes",
                  json_number(ev, "wire_in"));
        FREE_EVENT(ev);
    }
    free(text);
    CHECK_RC(wsc_client_close(c, 1000, (const uint8_t *)"bye", 3), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSE_FRAME, 10000);
    if (ev != NULL) {
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, 10000);
    if (ev != NULL) {
        CHECK_MSG(ev->close_code == 1000 && ev->clean, "closed %d clean %d", (int)ev->close_code, (int)ev->clean);
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* A decompression bomb (8 MiB of zeros in a few KiB) against 1 MiB. */
    echo_url(url, sizeof url, &srv, "/bomb");
    c = open_client(ctx, url, &o);
    REQUIRE(c != NULL);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_ERROR, 10000);
    if (ev != NULL) {
        CHECK_MSG(ev->error == WSC_RESULT_MESSAGE_TOO_BIG, "error %s", wsc_result_str(ev->error));
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, 10000);
    if (ev != NULL) {
        CHECK_MSG(ev->close_code == 1009, "close code %d", (int)ev->close_code);
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
