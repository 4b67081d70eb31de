/*
 * test_send_before_open: messages sent before the opening handshake
 * completes are QUEUED and delivered right after OPEN, in the order of the
 * calls; a send on a closing or closed client is NOT_CONNECTED; messages
 * queued for an attempt that fails (connection refused, or close() before
 * OPEN) come back as UNDELIVERED with their payload and type, before
 * CLOSED; the send that fills the send buffer returns QUEUED_BUFFER_FULL
 * and the next one BUFFER_FULL.
 */
#include "common.h"

#define N_QUEUED 8

static void payload(char *buf, size_t len, int i)
{
    snprintf(buf, len, "queued-%d", i);
}

/* Sends N_QUEUED messages (alternating text/binary) and expects QUEUED. */
static void send_queued(wsc_client *c, int from, int to)
{
    int i;
    for (i = from; i < to; i++) {
        char buf[32];
        wsc_send_status st = (wsc_send_status)99;
        uint32_t type = (i % 2) ? WSC_MESSAGE_TYPE_BINARY : WSC_MESSAGE_TYPE_TEXT;
        payload(buf, sizeof buf, i);
        CHECK_RC(wsc_client_send(c, type, (const uint8_t *)buf, strlen(buf), &st),
                 WSC_RESULT_OK);
        CHECK_MSG(st == WSC_SEND_STATUS_QUEUED, "message %d: status %d, expected QUEUED",
                  i, (int)st);
    }
}

/* Collects events until CLOSED (at most 64 events, timeout_ms): checks the
 * UNDELIVERED ones match the queued messages in order, that they all come
 * before CLOSED, and that an ERROR with `want_error` came (unless OK). */
static void expect_undelivered_then_closed(wsc_context *ctx, uint64_t id,
                                           int n, wsc_result want_error,
                                           int timeout_ms)
{
    int undelivered = 0, errors = 0, closed = 0, k;
    int64_t deadline = now_ms() + timeout_ms;
    for (k = 0; k < 64 && !closed; k++) {
        int64_t left = deadline - now_ms();
        const wsc_event *ev = next_event(ctx, left > 0 ? (int)left : 0);
        if (ev == NULL) {
            break;
        }
        CHECK(ev->client_id == id);
        switch ((int)ev->event_type) {
        case WSC_EVENT_TYPE_UNDELIVERED: {
            char buf[32];
            uint32_t type = (undelivered % 2) ? WSC_MESSAGE_TYPE_BINARY
                                              : WSC_MESSAGE_TYPE_TEXT;
            payload(buf, sizeof buf, undelivered);
            CHECK_MSG(data_is(ev, buf, strlen(buf)),
                      "UNDELIVERED #%d carries the wrong payload", undelivered);
            CHECK_MSG((uint32_t)ev->message_type == type,
                      "UNDELIVERED #%d: message_type %d", undelivered,
                      (int)ev->message_type);
            undelivered++;
            break;
        }
        case WSC_EVENT_TYPE_ERROR:
            errors++;
            if (want_error != WSC_RESULT_OK) {
                CHECK_RC(ev->error, want_error);
            }
            CHECK(ev->data_len > 0 && ev->data[ev->data_len] == '\0');
            break;
        case WSC_EVENT_TYPE_CLOSED:
            closed = 1;
            CHECK_MSG(ev->close_code == 1006, "close code %u", (unsigned)ev->close_code);
            CHECK(!ev->clean);
            break;
        case WSC_EVENT_TYPE_CONNECTED:
            break;
        default:
            CHECK_MSG(0, "unexpected event before CLOSED");
            event_print("  ", ev);
        }
        FREE_EVENT(ev);
    }
    CHECK_MSG(closed, "no CLOSED within %d ms", timeout_ms);
    CHECK_MSG(undelivered == n, "%d UNDELIVERED events before CLOSED, expected %d",
              undelivered, n);
    if (want_error != WSC_RESULT_OK) {
        CHECK_MSG(errors == 1, "%d ERROR events, expected 1", errors);
    }
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    uint64_t id = 0;
    const wsc_event *ev;
    wsc_status status;
    char url[128];
    int i, refused_fd = -1, port;

    REQUIRE(echo_server_start(&srv) == 0);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);

    /* 1. Queued before and right after connect, delivered after OPEN. */
    echo_url(url, sizeof url, &srv, "/opcode");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    send_queued(c, 0, 2);          /* initial: never connected */
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    send_queued(c, 2, N_QUEUED);   /* connecting */

    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, 5000);
    if (ev) FREE_EVENT(ev);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    if (ev) FREE_EVENT(ev);
    /* The queue is written right after OPEN: BUFFER_DRAIN says so. */
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_BUFFER_DRAIN, 5000);
    if (ev) FREE_EVENT(ev);
    /* /opcode answers "text:<p>" or "binary:<p>": the order and the type
     * of every queued message are visible. */
    for (i = 0; i < N_QUEUED; i++) {
        char p[32], want[48];
        payload(p, sizeof p, i);
        snprintf(want, sizeof want, "%s:%s", (i % 2) ? "binary" : "text", p);
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 5000);
        if (ev == NULL) {
            break;
        }
        CHECK_MSG(data_is(ev, want, strlen(want)), "message %d: expected '%s'", i, want);
        FREE_EVENT(ev);
    }

    /* 2. Closing, then closed: NOT_CONNECTED. */
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    if (status == WSC_STATUS_CLOSING) {
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"x", 1, NULL),
                 WSC_RESULT_NOT_CONNECTED);
    }
    ev = EXPECT_CLOSE(ctx, 1000, 7000);
    if (ev) {
        CHECK(ev->close_code == 1000 && ev->clean);
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"late", 4, NULL),
             WSC_RESULT_NOT_CONNECTED);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, NULL, 0, NULL),
             WSC_RESULT_NOT_CONNECTED);
    /* Nothing of a refused send comes back as an event. */
    ev = next_event(ctx, 200);
    CHECK_MSG(ev == NULL, "an event after a refused send");
    if (ev) {
        event_print("  ", ev);
        wsc_event_free(ev);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* 3. Queued for a refused port: UNDELIVERED (payload, type, order),
     *    an ERROR CONNECT, then CLOSED 1006. */
    port = refused_port(&refused_fd);
    REQUIRE(port > 0);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    send_queued(c, 0, 3);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    expect_undelivered_then_closed(ctx, id, 3, WSC_RESULT_CONNECT, 5000);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"x", 1, NULL),
             WSC_RESULT_NOT_CONNECTED);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    close(refused_fd);

    /* 4. close() before OPEN ends the attempt at once: UNDELIVERED, then
     *    CLOSED 1006 (/silent never answers the handshake). */
    echo_url(url, sizeof url, &srv, "/silent");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    send_queued(c, 0, 4);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    expect_undelivered_then_closed(ctx, id, 4, WSC_RESULT_OK, 3000);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_CLOSED);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* 5. The send that fills the send buffer (100 bytes here) says so,
     *    QUEUED_BUFFER_FULL; the next send is refused, BUFFER_FULL; the
     *    BUFFER_FULL event still comes, once; what was queued is delivered
     *    after OPEN. */
    echo_url(url, sizeof url, &srv, "/opcode");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_limits(c, 0, 100), WSC_RESULT_OK);
    {
        char big[60], want[80];
        wsc_send_status st = (wsc_send_status)99;
        memset(big, 'a', sizeof big);
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)big, sizeof big, &st),
                 WSC_RESULT_OK);
        CHECK_MSG(st == WSC_SEND_STATUS_QUEUED, "60 of 100 bytes: status %d, expected QUEUED",
                  (int)st);
        st = (wsc_send_status)99;
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)big, sizeof big, &st),
                 WSC_RESULT_OK);
        CHECK_MSG(st == WSC_SEND_STATUS_QUEUED_BUFFER_FULL,
                  "120 of 100 bytes: status %d, expected QUEUED_BUFFER_FULL", (int)st);
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)big, sizeof big, NULL),
                 WSC_RESULT_BUFFER_FULL);
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_BUFFER_FULL, 1000);
        if (ev) FREE_EVENT(ev);
        ev = next_event(ctx, 100);
        CHECK_MSG(ev == NULL, "a second event after BUFFER_FULL before connect");
        if (ev) {
            event_print("  ", ev);
            wsc_event_free(ev);
        }
        CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, 5000);
        if (ev) FREE_EVENT(ev);
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, 5000);
        if (ev) FREE_EVENT(ev);
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_BUFFER_DRAIN, 5000);
        if (ev) FREE_EVENT(ev);
        snprintf(want, sizeof want, "text:%.*s", (int)sizeof big, big);
        for (i = 0; i < 2; i++) {
            ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 5000);
            if (ev == NULL) {
                break;
            }
            CHECK_MSG(data_is(ev, want, strlen(want)), "queued message %d came back changed", i);
            FREE_EVENT(ev);
        }
    }
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    ev = EXPECT_CLOSE(ctx, 1000, 7000);
    if (ev) FREE_EVENT(ev);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
