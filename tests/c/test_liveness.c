/*
 * test_liveness: liveness beyond ping/pong and the link metrics through the
 * C API, against tests/servers/liveness_ws_server.py (Debian's
 * python3-websockets) and tests/servers/deflate_ws_server.py:
 * wsc_client_set_heartbeat (argument checks; a text heartbeat heard by the
 * server), wsc_client_set_idle_timeout (a feed that goes quiet while pings
 * still work: ERROR TIMEOUT then CLOSED 1006, then the automatic reconnect
 * opens again), wsc_client_metrics (argument checks, a live connection's
 * RTT, connect timings and counts, a caller with an older, smaller
 * struct), and the compression threshold and wsc_client_send_with (the
 * server counts the frames it got with RSV1).
 */
#include "common.h"

/* Waits for OPEN (skipping CONNECTED), checks it came. */
static void expect_open(wsc_context *ctx)
{
    const wsc_event *ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 10000);
    CHECK_MSG(ev != NULL, "no OPEN");
    if (ev != NULL) {
        FREE_EVENT(ev);
    }
}

static void heartbeat_and_metrics(const echo_server *srv)
{
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    wsc_link_metrics m;
    char url[128];
    const char *hb = "{\"op\":\"ping\"}";
    const char *heard = "heard text {\"op\":\"ping\"}";
    int i, pongs = 0, heard_n = 0;
    int64_t deadline;

    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    echo_url(url, sizeof url, srv, "/heard");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);

    /* Argument checks. */
    CHECK_RC(wsc_client_set_heartbeat(NULL, 100, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"x", 1),
             WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_heartbeat(c, 100, WSC_MESSAGE_TYPE_TEXT, NULL, 1), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_heartbeat(c, 100, 7, (const uint8_t *)"x", 1), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_heartbeat(c, 100, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"\xff", 1),
             WSC_RESULT_INVALID_UTF8);
    CHECK_RC(wsc_client_set_idle_timeout(NULL, 100), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_metrics(c, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_metrics(NULL, &m), WSC_RESULT_NULL_ARGUMENT);
    memset(&m, 0, sizeof m);
    m.size = 4;
    CHECK_RC(wsc_client_metrics(c, &m), WSC_RESULT_INVALID_ARGUMENT);
    m.size = sizeof m;
    CHECK_RC(wsc_client_metrics(c, &m), WSC_RESULT_OK);
    CHECK_MSG(m.size == sizeof m && m.rtt_last_us == -1 && m.connects == 0 && m.connect_tcp_us == -1,
              "before connecting: size %zu rtt %lld connects %llu", m.size, (long long)m.rtt_last_us,
              (unsigned long long)m.connects);

    /* A text heartbeat every 100 ms, pings every 50 ms. */
    CHECK_RC(wsc_client_set_heartbeat(c, 100, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)hb, strlen(hb)),
             WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_ping_interval(c, 50), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    expect_open(ctx);
    deadline = now_ms() + 10000;
    while ((heard_n < 3 || pongs < 3) && now_ms() < deadline) {
        ev = next_event(ctx, 200);
        if (ev == NULL) {
            continue;
        }
        if (ev->event_type == WSC_EVENT_TYPE_TEXT) {
            CHECK_MSG(data_is(ev, heard, strlen(heard)), "the server heard '%.*s'", (int)ev->data_len,
                      (const char *)ev->data);
            heard_n++;
        } else if (ev->event_type == WSC_EVENT_TYPE_PONG) {
            pongs++;
        }
        wsc_event_free(ev);
    }
    CHECK_MSG(heard_n >= 3 && pongs >= 3, "%d heartbeats heard, %d pongs", heard_n, pongs);

    /* The metrics of this live connection. */
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    CHECK_RC(wsc_client_metrics(c, &m), WSC_RESULT_OK);
    printf("  metrics: rtt last %lld us, smoothed %lld us, var %lld us, %llu samples; "
           "connect dns %lld tcp %lld tls %lld handshake %lld total %lld us; "
           "connects %llu reconnects %llu opens %llu; sent %llu msgs %llu B, received %llu msgs %llu B; "
           "wire read %llu written %llu\n",
           (long long)m.rtt_last_us, (long long)m.rtt_smoothed_us, (long long)m.rtt_variation_us,
           (unsigned long long)m.rtt_samples, (long long)m.connect_dns_us, (long long)m.connect_tcp_us,
           (long long)m.connect_tls_us, (long long)m.connect_handshake_us, (long long)m.connect_total_us,
           (unsigned long long)m.connects, (unsigned long long)m.reconnects, (unsigned long long)m.opens,
           (unsigned long long)m.messages_sent, (unsigned long long)m.payload_bytes_sent,
           (unsigned long long)m.messages_received, (unsigned long long)m.payload_bytes_received,
           (unsigned long long)m.wire_bytes_read, (unsigned long long)m.wire_bytes_written);
    CHECK(m.rtt_last_us > 0 && m.rtt_last_us < 2000000);
    CHECK(m.rtt_smoothed_us > 0 && m.rtt_variation_us >= 0 && m.rtt_samples >= 3);
    CHECK_MSG(m.connect_dns_us == -1 && m.connect_proxy_us == -1 && m.connect_tls_us == -1,
              "no DNS, proxy or TLS for ws://127.0.0.1: %lld %lld %lld", (long long)m.connect_dns_us,
              (long long)m.connect_proxy_us, (long long)m.connect_tls_us);
    CHECK(m.connect_tcp_us >= 0 && m.connect_handshake_us > 0);
    CHECK(m.connect_total_us >= m.connect_tcp_us + m.connect_handshake_us);
    CHECK(m.connects == 1 && m.reconnects == 0 && m.opens == 1);
    CHECK_MSG(m.messages_sent >= 3 && m.payload_bytes_sent == m.messages_sent * strlen(hb),
              "sent %llu messages, %llu bytes", (unsigned long long)m.messages_sent,
              (unsigned long long)m.payload_bytes_sent);
    CHECK(m.messages_received >= 3 && m.payload_bytes_received >= m.messages_received * strlen(heard));
    CHECK(m.wire_bytes_read > m.payload_bytes_received && m.wire_bytes_written > m.payload_bytes_sent);

    /* A caller built against an older, smaller struct: only what fits. */
    {
        wsc_link_metrics old;
        size_t small = offsetof(wsc_link_metrics, rtt_samples);
        memset(&old, 0x5a, sizeof old);
        old.size = small;
        CHECK_RC(wsc_client_metrics(c, &old), WSC_RESULT_OK);
        CHECK_MSG(old.size == small, "filled %zu of %zu", old.size, small);
        CHECK(old.rtt_last_us > 0);
        for (i = (int)small; i < (int)sizeof old; i++) {
            if (((const unsigned char *)&old)[i] != 0x5a) {
                CHECK_MSG(0, "byte %d past the caller's size was written", i);
                break;
            }
        }
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
}

static void idle_timeout(const echo_server *srv)
{
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    wsc_link_metrics m;
    char url[128];
    int ticks = 0;

    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    echo_url(url, sizeof url, srv, "/feed?count=3&interval_ms=100");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_idle_timeout(c, 1000), WSC_RESULT_OK); /* ticks: 100 ms apart */
    CHECK_RC(wsc_client_set_ping_interval(c, 100), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_backoff(c, 50, 50), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    expect_open(ctx);
    for (;;) {
        ev = next_event(ctx, 10000);
        if (ev == NULL) {
            CHECK_MSG(0, "no ERROR within 10 s");
            break;
        }
        if (ev->event_type == WSC_EVENT_TYPE_TEXT) {
            ticks++;
        }
        if (ev->event_type == WSC_EVENT_TYPE_ERROR) {
            CHECK_MSG(ev->error == WSC_RESULT_TIMEOUT, "error %s", wsc_result_str(ev->error));
            CHECK_MSG(ev->data_len > 0 && strstr((const char *)ev->data, "within 1000 ms") != NULL,
                      "message '%.*s'", (int)ev->data_len, (const char *)ev->data);
            wsc_event_free(ev);
            break;
        }
        wsc_event_free(ev);
    }
    CHECK_MSG(ticks == 3, "%d ticks before the timeout", ticks);
    /* The reconnect policy's decision, then the end it follows. */
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_RECONNECT, 5000);
    if (ev != NULL) {
        CHECK_MSG(ev->reconnect_reason == WSC_RECONNECT_REASON_BACKOFF && ev->reconnect_delay_ms <= 50,
                  "reconnect reason %d in %u ms", (int)ev->reconnect_reason, (unsigned)ev->reconnect_delay_ms);
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, 5000);
    if (ev != NULL) {
        CHECK_MSG(ev->close_code == 1006 && !ev->clean, "closed %d", (int)ev->close_code);
        FREE_EVENT(ev);
    }
    expect_open(ctx); /* the automatic reconnect */
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    CHECK_RC(wsc_client_metrics(c, &m), WSC_RESULT_OK);
    CHECK_MSG(m.connects == 2 && m.reconnects == 1 && m.opens == 2, "connects %llu reconnects %llu opens %llu",
              (unsigned long long)m.connects, (unsigned long long)m.reconnects, (unsigned long long)m.opens);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
}

static void compression_choice(const echo_server *srv)
{
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    wsc_compression_options o;
    wsc_send_status st;
    char url[128], big[1000];
    int i;

    memset(big, 'a', sizeof big);
    memset(&o, 0, sizeof o);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    echo_url(url, sizeof url, srv, "/echo");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_compression(c, &o), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_compression_threshold(NULL, 10), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_send_with(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"x", 1, 3, NULL),
             WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    expect_open(ctx);
    /* 1000 B (compressed: over the default threshold), 100 B (not),
     * 100 B with ALWAYS (compressed), 1000 B with NEVER (not), then 100 B
     * after the threshold went to 0 (compressed): 3 RSV1 frames. */
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)big, 1000, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)big, 100, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_send_with(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)big, 100, WSC_COMPRESS_ALWAYS, &st),
             WSC_RESULT_OK);
    CHECK(st == WSC_SEND_STATUS_WRITTEN || st == WSC_SEND_STATUS_QUEUED);
    CHECK_RC(wsc_client_send_with(c, WSC_MESSAGE_TYPE_BINARY, (const uint8_t *)big, 1000, WSC_COMPRESS_NEVER, NULL),
             WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_compression_threshold(c, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)big, 100, NULL), WSC_RESULT_OK);
    for (i = 0; i < 5; i++) {
        static const size_t sizes[] = {1000, 100, 100, 1000, 100};
        ev = wait_event(ctx, i == 3 ? WSC_EVENT_TYPE_BINARY : WSC_EVENT_TYPE_TEXT, 10000);
        CHECK_MSG(ev != NULL && data_is(ev, big, sizes[i]), "echo %d", i);
        if (ev != NULL) {
            wsc_event_free(ev);
        }
    }
    CHECK_RC(wsc_client_set_compression_threshold(c, 256), WSC_RESULT_OK);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"stats", 5, NULL), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_TEXT, 10000);
    CHECK(ev != NULL);
    if (ev != NULL) {
        CHECK_MSG(json_number(ev, "rsv1_in") == 3, "the server got %ld RSV1 frames, not 3",
                  json_number(ev, "rsv1_in"));
        CHECK_MSG(json_number(ev, "frames_in") == 6, "the server got %ld frames, not 6",
                  json_number(ev, "frames_in"));
        wsc_event_free(ev);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
}

int main(void)
{
    echo_server live, deflate;

    REQUIRE(py_server_start(&live, "tests/servers/liveness_ws_server.py") == 0);
    if (py_server_start(&deflate, "tests/servers/deflate_ws_server.py") != 0) {
        echo_server_stop(&live);
        REQUIRE(0);
    }
    heartbeat_and_metrics(&live);
    idle_timeout(&live);
    compression_choice(&deflate);
    echo_server_stop(&deflate);
    echo_server_stop(&live);
    finish();
    return 0;
}
