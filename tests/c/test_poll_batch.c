/*
 * wsc_context_poll_batch hands a batch over as one packed buffer: records
 * of little-endian fields (header_size, event_type, client_id, data_len,
 * data_address, message_type, error, close_code, clean), each followed by
 * its payload unless the payload is kept out of line (data_address != 0,
 * big payloads). The buffer is the calling thread's until its next batch
 * poll; misuse is an error.
 */
#include "common.h"

#define N 40
#define BIG 10000

typedef struct {
    uint32_t header_size, event_type, message_type, error;
    uint64_t client_id, data_len, data_address;
    uint16_t close_code;
    uint8_t clean;
    const uint8_t *data;
} record;

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Reads the record at `p` (with `left` bytes left); the size it spans, 0
 * when it does not fit. */
static size_t read_record(const uint8_t *p, size_t left, record *r)
{
    if (left < 48) {
        return 0;
    }
    r->header_size = (uint32_t)le(p, 4);
    r->event_type = (uint32_t)le(p + 4, 4);
    r->client_id = le(p + 8, 8);
    r->data_len = le(p + 16, 8);
    r->data_address = le(p + 24, 8);
    r->message_type = (uint32_t)le(p + 32, 4);
    r->error = (uint32_t)le(p + 36, 4);
    r->close_code = (uint16_t)le(p + 40, 2);
    r->clean = p[42];
    if (r->header_size < 48 || r->header_size > left) {
        return 0;
    }
    if (r->data_address != 0) {
        r->data = (const uint8_t *)(uintptr_t)r->data_address;
        return r->header_size;
    }
    if (r->data_len > left - r->header_size) {
        return 0;
    }
    r->data = p + r->header_size;
    return r->header_size + r->data_len;
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL, *other = NULL;
    wsc_client *c = NULL;
    const uint8_t *batch = NULL;
    size_t len = 0, count = 0, got = 0, calls = 0;
    uint64_t id = 0;
    char url[128], want[16];
    static uint8_t big[BIG];
    int k, opened = 0, big_seen = 0, out_of_line = 0;

    for (size_t i = 0; i < BIG; i++) {
        big[i] = (uint8_t)(i * 7);
    }
    REQUIRE(echo_server_start(&srv) == 0);
    echo_url(url, sizeof url, &srv, "/");
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_id(c, &id), WSC_RESULT_OK);

    /* Argument checks; a client is not a context. */
    CHECK_RC(wsc_context_poll_batch(NULL, 0, 8, &batch, &len, &count), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_batch(ctx, 0, 8, NULL, &len, &count), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_batch(ctx, 0, 8, &batch, NULL, &count), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_batch(ctx, 0, 0, &batch, &len, &count), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_context_poll_batch((wsc_context *)c, 0, 8, &batch, &len, &count),
             WSC_RESULT_INVALID_HANDLE);
    /* Nothing yet: no buffer; out_count may be NULL. */
    CHECK_RC(wsc_context_poll_batch(ctx, 0, 8, &batch, &len, NULL), WSC_RESULT_OK);
    CHECK(batch == NULL && len == 0);

    /* Queued before the handshake, echoed after it: N texts and one big
     * binary message, in order, in batches of at most 8. */
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    for (int i = 0; i < N; i++) {
        snprintf(want, sizeof want, "m%d", i);
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)want, strlen(want), NULL),
                 WSC_RESULT_OK);
    }
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, big, BIG, NULL), WSC_RESULT_OK);
    for (k = 0; k < 200 && !big_seen; k++) {
        REQUIRE_RC(wsc_context_poll_batch(ctx, 200, 8, &batch, &len, &count), WSC_RESULT_OK);
        CHECK(count <= 8);
        CHECK((batch == NULL) == (count == 0));
        if (count > 0) {
            calls++;
        }
        size_t at = 0, seen = 0;
        while (at < len) {
            record r;
            size_t span = read_record(batch + at, len - at, &r);
            CHECK_MSG(span > 0, "record at %zu of %zu does not fit", at, len);
            REQUIRE(span > 0);
            CHECK(r.header_size == 48);
            CHECK(r.client_id == id);
            CHECK(r.error == WSC_RESULT_OK);
            if (r.event_type == WSC_EVENT_TYPE_OPEN) {
                opened = 1;
                CHECK(r.data_len > 12 && memcmp(r.data, "HTTP/1.1 101", 12) == 0);
            } else if (r.event_type == WSC_EVENT_TYPE_TEXT) {
                snprintf(want, sizeof want, "m%d", (int)got);
                CHECK(r.message_type == WSC_MESSAGE_TYPE_TEXT);
                CHECK_MSG(r.data_len == strlen(want) && memcmp(r.data, want, r.data_len) == 0,
                          "message %d out of order", (int)got);
                CHECK(r.data_address == 0);
                got++;
            } else if (r.event_type == WSC_EVENT_TYPE_BINARY) {
                CHECK(got == N);
                CHECK(r.message_type == WSC_MESSAGE_TYPE_BINARY);
                CHECK(r.data_len == BIG && memcmp(r.data, big, BIG) == 0);
                out_of_line = r.data_address != 0;
                big_seen = 1;
            }
            at += span;
            seen++;
        }
        CHECK_MSG(seen == count, "%zu records, %zu counted", seen, count);
    }
    CHECK(opened);
    CHECK_MSG(got == N, "%d of %d echoes", (int)got, N);
    CHECK(big_seen);
    CHECK_MSG(out_of_line, "a %d-byte payload is kept out of line", BIG);
    CHECK_MSG(calls < (size_t)N, "%d calls for %d events: not batched", (int)calls, N);

    /* The close: CLOSE_FRAME and CLOSED carry the code, the reason and clean. */
    CHECK_RC(wsc_client_close(c, 1000, (const uint8_t *)"bye", 3), WSC_RESULT_OK);
    int closed = 0;
    for (k = 0; k < 50 && !closed; k++) {
        REQUIRE_RC(wsc_context_poll_batch(ctx, 200, 8, &batch, &len, &count), WSC_RESULT_OK);
        size_t at = 0;
        while (at < len) {
            record r;
            size_t span = read_record(batch + at, len - at, &r);
            REQUIRE(span > 0);
            if (r.event_type == WSC_EVENT_TYPE_CLOSED) {
                closed = 1;
                CHECK(r.close_code == 1000);
                CHECK(r.clean == 1);
            }
            at += span;
        }
    }
    CHECK(closed);

    /* Batches of one context do not mix with another's; a freed context is
     * an invalid handle, and its buffer went with it. */
    REQUIRE_RC(wsc_context_new(&other), WSC_RESULT_OK);
    CHECK_RC(wsc_context_poll_batch(other, 0, 8, &batch, &len, &count), WSC_RESULT_OK);
    CHECK(count == 0);
    CHECK_RC(wsc_context_free(other), WSC_RESULT_OK);
    CHECK_RC(wsc_context_poll_batch(other, 0, 8, &batch, &len, &count), WSC_RESULT_INVALID_HANDLE);

    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    CHECK_RC(wsc_context_poll_batch(ctx, 0, 8, &batch, &len, &count), WSC_RESULT_INVALID_HANDLE);
    echo_server_stop(&srv);
    finish();
    return 0;
}
