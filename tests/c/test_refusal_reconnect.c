/*
 * test_refusal_reconnect: a refused opening handshake reports its HTTP
 * status, raw head (reason phrase, headers) and body excerpt in the ERROR
 * event; the reconnect policy reports each decision as a RECONNECT event:
 * the server's Retry-After as the delay (429), no retry for 403, a
 * backoff that keeps growing for a server that accepts then drops at
 * once, and the attempt limit. Peer: the echo server process.
 */
#include "common.h"

#define WAIT_MS 10000

static int contains(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle), i;
    if (p == NULL || n > len) {
        return 0;
    }
    for (i = 0; i + n <= len; i++) {
        if (memcmp(p + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Waits for the next RECONNECT event and checks its reason; returns its
 * delay (or -1), frees it. *attempt receives its attempt number. */
static int64_t expect_reconnect(wsc_context *ctx, wsc_reconnect_reason reason,
                                uint32_t *attempt)
{
    const wsc_event *ev = wait_event(ctx, WSC_EVENT_TYPE_RECONNECT, WAIT_MS);
    int64_t delay;
    CHECK(ev != NULL);
    if (ev == NULL) {
        return -1;
    }
    fprintf(stderr, "   RECONNECT delay=%llu reason=%d attempt=%u: %s\n",
            (unsigned long long)ev->reconnect_delay_ms, (int)ev->reconnect_reason,
            (unsigned)ev->reconnect_attempt, (const char *)ev->data);
    CHECK_MSG(ev->reconnect_reason == reason, "reason %d, expected %d",
              (int)ev->reconnect_reason, (int)reason);
    CHECK(ev->data != NULL && ev->data[ev->data_len] == '\0');
    CHECK(ev->http_status == 0 && ev->http_head == NULL);
    delay = (int64_t)ev->reconnect_delay_ms;
    if (attempt != NULL) {
        *attempt = ev->reconnect_attempt;
    }
    FREE_EVENT(ev);
    return delay;
}

/* 429 with Retry-After and a body: the ERROR event carries them; the
 * next attempts wait the server's second; two reconnects at most. */
static void rate_limited(wsc_context *ctx, const echo_server *srv)
{
    char url[160];
    wsc_client *c = NULL;
    const wsc_event *ev;
    int64_t closed_at[3] = {0, 0, 0};
    uint32_t attempt = 0;
    wsc_status status;
    int round;

    fprintf(stderr, "-- 429 with Retry-After: 1\n");
    echo_url(url, sizeof url, srv, "/status/429?retry-after=1&body=slow%20down");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_backoff(c, 50, 100), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_max_attempts(c, 2), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);

    ev = wait_event(ctx, WSC_EVENT_TYPE_ERROR, WAIT_MS);
    REQUIRE(ev != NULL);
    fprintf(stderr, "   ERROR: %s\n", (const char *)ev->data);
    CHECK_RC(ev->error, WSC_RESULT_HANDSHAKE);
    CHECK(strcmp((const char *)ev->data,
                 "opening handshake refused: HTTP 429 Too Many Requests "
                 "(Retry-After: 1): slow down") == 0);
    CHECK(ev->http_status == 429);
    CHECK(ev->http_head_len > 0 &&
          memcmp(ev->http_head, "HTTP/1.1 429 Too Many Requests\r\n", 32) == 0);
    CHECK(contains(ev->http_head, ev->http_head_len, "\r\nRetry-After: 1\r\n"));
    CHECK(ev->http_head_len >= 4 &&
          memcmp(ev->http_head + ev->http_head_len - 4, "\r\n\r\n", 4) == 0);
    CHECK(ev->http_body_len == 9 && memcmp(ev->http_body, "slow down", 9) == 0);
    CHECK(ev->reconnect_reason == WSC_RECONNECT_REASON_NONE);
    FREE_EVENT(ev);

    for (round = 1; round <= 2; round++) {
        int64_t delay = expect_reconnect(ctx, WSC_RECONNECT_REASON_RETRY_AFTER, &attempt);
        CHECK_MSG(delay == 1000, "delay %lld ms, Retry-After says 1000", (long long)delay);
        CHECK(attempt == (uint32_t)round);
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, WAIT_MS);
        if (ev) FREE_EVENT(ev);
        closed_at[round - 1] = now_ms();
    }
    CHECK(expect_reconnect(ctx, WSC_RECONNECT_REASON_ATTEMPTS_EXHAUSTED, &attempt) == 0);
    CHECK(attempt == 2);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, WAIT_MS);
    if (ev) FREE_EVENT(ev);
    closed_at[2] = now_ms();
    fprintf(stderr, "   gaps between attempts: %lld, %lld ms\n",
            (long long)(closed_at[1] - closed_at[0]), (long long)(closed_at[2] - closed_at[1]));
    CHECK(closed_at[1] - closed_at[0] >= 950 && closed_at[2] - closed_at[1] >= 950);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_CLOSED);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
}

/* 403 is not retried by default; marked retried, it is. */
static void forbidden(wsc_context *ctx, const echo_server *srv)
{
    char url[128];
    wsc_client *c = NULL;
    const wsc_event *ev;
    wsc_status status;

    fprintf(stderr, "-- 403\n");
    echo_url(url, sizeof url, srv, "/status/403");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_backoff(c, 50, 100), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_ERROR, WAIT_MS);
    CHECK(ev != NULL && ev->http_status == 403);
    if (ev) FREE_EVENT(ev);
    CHECK(expect_reconnect(ctx, WSC_RECONNECT_REASON_FATAL, NULL) == 0);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, WAIT_MS);
    if (ev) FREE_EVENT(ev);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_CLOSED);
    ev = next_event(ctx, 300);
    CHECK_MSG(ev == NULL, "no further attempt after a fatal refusal");
    if (ev) FREE_EVENT(ev);

    CHECK_RC(wsc_client_set_reconnect_status(c, 403, true), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    CHECK(expect_reconnect(ctx, WSC_RECONNECT_REASON_BACKOFF, NULL) >= 0);
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
}

/* A server that accepts then drops at once: the backoff grows. */
static void accept_then_drop(wsc_context *ctx, const echo_server *srv)
{
    char url[128];
    wsc_client *c = NULL;
    static const int64_t base[3] = {100, 200, 400};
    uint32_t attempt = 0;
    int i;

    fprintf(stderr, "-- accept then drop\n");
    echo_url(url, sizeof url, srv, "/drop");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_backoff(c, 100, 800), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    for (i = 0; i < 3; i++) {
        int64_t delay = expect_reconnect(ctx, WSC_RECONNECT_REASON_BACKOFF, &attempt);
        CHECK_MSG(delay >= base[i] / 2 && delay <= base[i],
                  "delay %lld ms for a backoff of %lld ms", (long long)delay,
                  (long long)base[i]);
        CHECK(attempt == (uint32_t)i + 1);
    }
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;

    REQUIRE(echo_server_start(&srv) == 0);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);

    /* Argument checks. */
    CHECK_RC(wsc_client_set_reconnect_status(NULL, 500, true), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_reconnect_reset_after(NULL, 0), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_reconnect_max_attempts(NULL, 0), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_reconnect_retry_after_max(NULL, 0), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_reconnect_tls_verify(NULL, true), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_clear_reconnect_statuses(NULL), WSC_RESULT_NULL_ARGUMENT);
    REQUIRE_RC(wsc_client_new(ctx, "ws://127.0.0.1:9/", &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_status(c, 101, true), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_reconnect_status(c, 600, true), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_reconnect_status(c, 502, false), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_reset_after(c, 5000), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_retry_after_max(c, 60000), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_tls_verify(c, true), WSC_RESULT_OK);
    CHECK_RC(wsc_client_clear_reconnect_statuses(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_reconnect_max_attempts(c, 1), WSC_RESULT_INVALID_HANDLE);

    rate_limited(ctx, &srv);
    forbidden(ctx, &srv);
    accept_then_drop(ctx, &srv);

    while ((ev = next_event(ctx, 200)) != NULL) {
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    finish();
    return 0;
}
