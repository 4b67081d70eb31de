/*
 * test_ping_reconnect: the ping interval sends pings the server sees
 * (/report-pings answers "ping:"), a server-initiated close reports its
 * code and reason (/close/4000), wsc_client_reconnect opens the same
 * client again (after a closed connection, and on an open one: CLOSED 1006
 * first, messages sent meanwhile delivered on the new connection), and
 * headers set with wsc_client_set_header reach the server (/headers), on
 * every reconnect.
 */
#include "common.h"

/* Expects CONNECTED then OPEN; returns 1 when both came. */
static int expect_open(wsc_context *ctx, uint64_t id, int timeout_ms)
{
    const wsc_event *ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, timeout_ms);
    int ok = ev != NULL;
    if (ev) {
        CHECK(ev->client_id == id);
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, timeout_ms);
    if (ev) {
        CHECK(ev->client_id == id);
        CHECK(ev->data_len >= 12 && memcmp(ev->data, "HTTP/1.1 101", 12) == 0);
        FREE_EVENT(ev);
    } else {
        ok = 0;
    }
    return ok;
}

/* Expects the /headers JSON as the next TEXT and checks its contents. */
static void expect_headers(wsc_context *ctx)
{
    const wsc_event *ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 5000);
    char *json;
    if (ev == NULL) {
        return;
    }
    json = malloc(ev->data_len + 1);
    REQUIRE(json != NULL);
    memcpy(json, ev->data, ev->data_len);
    json[ev->data_len] = '\0';
    fprintf(stderr, "   /headers: %s\n", json);
    CHECK_MSG(strstr(json, "\"x-test\":\"replaced\"") != NULL, "x-test missing or not replaced");
    CHECK_MSG(strstr(json, "first value") == NULL, "the replaced value was sent too");
    CHECK_MSG(strstr(json, "\"origin\":\"http://example.com\"") != NULL, "origin missing");
    CHECK_MSG(strstr(json, "\"cookie\":\"a=b; c=d\"") != NULL, "cookie missing");
    CHECK_MSG(strstr(json, "\"authorization\":\"Bearer t0k3n\"") != NULL,
              "authorization missing");
    CHECK_MSG(strstr(json, "\"sec-websocket-key\":") != NULL, "no sec-websocket-key");
    free(json);
    FREE_EVENT(ev);
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    uint64_t id = 0;
    wsc_status status;
    wsc_send_status st;
    char url[128];
    int64_t t0, took;
    int k, saw_ping_text = 0, saw_pong = 0;

    REQUIRE(echo_server_start(&srv) == 0);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);

    /* 1. Ping interval: /report-pings answers each ping with "ping:". */
    echo_url(url, sizeof url, &srv, "/report-pings");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_ping_interval(c, 200), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    REQUIRE(expect_open(ctx, id, 5000));
    t0 = now_ms();
    for (k = 0; k < 50 && !(saw_ping_text && saw_pong); k++) {
        int64_t left = t0 + 2000 - now_ms();
        ev = next_event(ctx, left > 0 ? (int)left : 0);
        if (ev == NULL) {
            break;
        }
        if (ev->event_type == WSC_EVENT_TYPE_TEXT) {
            CHECK_MSG(data_is(ev, "ping:", 5), "TEXT is not 'ping:' (an empty ping)");
            saw_ping_text = 1;
        } else if (ev->event_type == WSC_EVENT_TYPE_PONG) {
            CHECK(ev->data_len == 0);
            saw_pong = 1;
        } else {
            event_print("  unexpected: ", ev);
            CHECK_MSG(0, "unexpected event while waiting for pings");
        }
        FREE_EVENT(ev);
    }
    took = now_ms() - t0;
    CHECK_MSG(saw_ping_text, "no TEXT 'ping:' within 2 s of OPEN");
    CHECK_MSG(saw_pong, "no PONG within 2 s of OPEN");
    fprintf(stderr, "   first ping seen after %lld ms\n", (long long)took);
    /* An explicit ping with a payload. */
    CHECK_RC(wsc_client_ping(c, (const uint8_t *)"abc", 3), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_PONG, 2000);
    CHECK_MSG(ev != NULL && data_is(ev, "abc", 3), "no PONG 'abc'");
    if (ev) FREE_EVENT(ev);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* 2. The server closes with 4000 "bye": a clean CLOSED. */
    echo_url(url, sizeof url, &srv, "/close/4000");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    REQUIRE(expect_open(ctx, id, 5000));
    ev = EXPECT_CLOSE(ctx, 4000, 7000);
    if (ev) {
        CHECK(ev->client_id == id);
        CHECK_MSG(ev->close_code == 4000, "close code %u", (unsigned)ev->close_code);
        CHECK_MSG(data_is(ev, "bye", 3), "close reason is not 'bye'");
        CHECK(ev->data_len == 0 || ev->data[ev->data_len] == '\0');
        CHECK(ev->clean);
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_CLOSED);

    /* 3. Reconnect the closed client after 100 ms: OPEN again, and the
     *    server closes it again with 4000. */
    t0 = now_ms();
    CHECK_RC(wsc_client_reconnect(c, 100), WSC_RESULT_OK);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK_MSG(status == WSC_STATUS_CONNECTING, "status %d while waiting to reconnect",
              (int)status);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, 5000);
    took = now_ms() - t0;
    CHECK_MSG(took >= 95, "reconnected after %lld ms, delay 100", (long long)took);
    if (ev) FREE_EVENT(ev);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    if (ev) FREE_EVENT(ev);
    ev = EXPECT_CLOSE(ctx, 4000, 7000);
    if (ev) {
        CHECK(ev->close_code == 4000 && ev->clean);
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* 4. Headers reach the server, and again after a reconnect of an open
     *    connection (CLOSED 1006 first; a message sent meanwhile is
     *    queued and delivered on the new connection). */
    echo_url(url, sizeof url, &srv, "/headers");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_header(c, "X-Test", "first value"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_header(c, "x-test", "replaced"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_header(c, "Origin", "http://example.com"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_header(c, "Cookie", "a=b; c=d"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_header(c, "Authorization", "Bearer t0k3n"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    REQUIRE(expect_open(ctx, id, 5000));
    expect_headers(ctx);

    CHECK_RC(wsc_client_reconnect(c, 50), WSC_RESULT_OK);
    st = (wsc_send_status)99;
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"meanwhile", 9, &st),
             WSC_RESULT_OK);
    CHECK_MSG(st == WSC_SEND_STATUS_QUEUED, "send while reconnecting: status %d", (int)st);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, 2000);
    if (ev) {
        CHECK_MSG(ev->close_code == 1006, "close code %u", (unsigned)ev->close_code);
        CHECK(!ev->clean);
        FREE_EVENT(ev);
    }
    if (expect_open(ctx, id, 5000)) {
        /* The message queued meanwhile was written right after OPEN. */
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_BUFFER_DRAIN, 5000);
        if (ev) FREE_EVENT(ev);
        expect_headers(ctx);
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 5000);
        if (ev) {
            CHECK_MSG(data_is(ev, "meanwhile", 9), "the queued message was not delivered");
            FREE_EVENT(ev);
        }
    }

    /* A second reconnect call replaces the pending delay; close cancels
     * it. */
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    ev = EXPECT_CLOSE(ctx, 1000, 7000);
    if (ev) FREE_EVENT(ev);
    CHECK_RC(wsc_client_reconnect(c, 5000), WSC_RESULT_OK);
    t0 = now_ms();
    CHECK_RC(wsc_client_reconnect(c, 50), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, 3000);
    took = now_ms() - t0;
    CHECK_MSG(took < 2000, "the second reconnect delay did not replace the first (%lld ms)",
              (long long)took);
    if (ev) FREE_EVENT(ev);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    if (ev) FREE_EVENT(ev);
    expect_headers(ctx);
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    ev = EXPECT_CLOSE(ctx, 1000, 7000);
    if (ev) FREE_EVENT(ev);
    CHECK_RC(wsc_client_reconnect(c, 100), WSC_RESULT_OK);
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    ev = next_event(ctx, 400);
    if (ev) {
        /* close() on a client waiting to reconnect ends it; a CLOSED may
         * report that, but no new connection is made. */
        CHECK_MSG(ev->event_type == WSC_EVENT_TYPE_CLOSED,
                  "close() did not cancel the pending reconnect");
        event_print("   after cancel: ", ev);
        FREE_EVENT(ev);
        ev = next_event(ctx, 300);
        CHECK_MSG(ev == NULL, "an event after the cancelled reconnect");
        if (ev) {
            event_print("  ", ev);
            wsc_event_free(ev);
        }
    }
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK_MSG(status == WSC_STATUS_CLOSED, "status %d after cancelling a reconnect",
              (int)status);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
