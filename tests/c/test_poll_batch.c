/*
 * wsc_context_poll_batch hands a batch over as one packed buffer: records
 * of little-endian fields (record_size, event_type, client_id, data_len,
 * data_offset, data_address, message_type, error, close_code, clean), then
 * the inline payloads; a big payload may stay out of line (data_address).
 * The buffer is the calling thread's until its next batch poll; misuse is
 * an error.
 */
#include "common.h"

#define N 40
#define BIG 10000

typedef struct {
    uint32_t record_size, event_type, message_type, error;
    uint64_t client_id, data_len, data_offset, data_address;
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

/* Reads record `i` of the batch `b` (`len` bytes, `count` records) byte by
 * byte, as a reader on any host would; 0 when it does not fit. */
static int read_record(const uint8_t *b, size_t len, size_t count, size_t i, record *r)
{
    if (len < 4) {
        return 0;
    }
    size_t stride = (size_t)le(b, 4);
    if (stride < 56 || count > len / stride || (i + 1) * stride > len) {
        return 0;
    }
    const uint8_t *p = b + i * stride;
    r->record_size = (uint32_t)le(p, 4);
    r->event_type = (uint32_t)le(p + 4, 4);
    r->client_id = le(p + 8, 8);
    r->data_len = le(p + 16, 8);
    r->data_offset = le(p + 24, 8);
    r->data_address = le(p + 32, 8);
    r->message_type = (uint32_t)le(p + 40, 4);
    r->error = (uint32_t)le(p + 44, 4);
    r->close_code = (uint16_t)le(p + 48, 2);
    r->clean = p[50];
    if (r->data_address != 0) {
        r->data = (const uint8_t *)(uintptr_t)r->data_address;
    } else if (r->data_len == 0) {
        r->data = NULL;
    } else if (r->data_offset < count * stride || r->data_len > len - r->data_offset) {
        return 0;
    } else {
        r->data = b + r->data_offset;
    }
    return 1;
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL, *other = NULL;
    wsc_client *c = NULL;
    const wsc_batch_record *batch = NULL;
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
        /* With the compact index: two words per event, as the records say. */
        const uint64_t *index = NULL;
        REQUIRE_RC(wsc_context_poll_batch_index(ctx, 200, 8, &batch, &len, &count, &index),
                   WSC_RESULT_OK);
        CHECK(count <= 8);
        CHECK((batch == NULL) == (count == 0));
        CHECK((index == NULL) == (count == 0));
        if (count > 0) {
            calls++;
        }
        size_t seen = 0;
        for (size_t i = 0; i < count; i++) {
            record r;
            int fits = read_record((const uint8_t *)batch, len, count, i, &r);
            CHECK_MSG(fits, "record %zu of %zu does not fit in %zu bytes", i, count, len);
            REQUIRE(fits);
            CHECK(r.record_size == 112);
            CHECK(r.client_id == id);
            CHECK(r.error == WSC_RESULT_OK);
            /* The same through the struct (a little-endian host). */
            CHECK(batch[i].event_type == r.event_type && batch[i].data_len == r.data_len);
            CHECK(index[2 * i] == r.client_id);
            uint64_t packed = r.data_address == 0 ? r.data_len << 8 | r.data_offset << 32
                                                  : (uint64_t)0xFFFFFF << 8;
            CHECK_MSG(index[2 * i + 1] == (r.event_type | packed), "index word of record %zu", i);
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
        for (size_t i = 0; i < count; i++) {
            record r;
            REQUIRE(read_record((const uint8_t *)batch, len, count, i, &r));
            if (r.event_type == WSC_EVENT_TYPE_CLOSED) {
                closed = 1;
                CHECK(r.close_code == 1000);
                CHECK(r.clean == 1);
            }
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
