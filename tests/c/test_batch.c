/*
 * wsc_context_poll_events drains a batch in one call: the first event as
 * wsc_context_poll_event gives it, then the queued ones, in order, at most
 * `capacity`; wsc_events_free frees an array of them (a double free in it
 * is reported, the rest freed).
 */
#include "common.h"

#define N 40

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *evs[8];
    const wsc_event *ev = NULL;
    size_t n = 99, got = 0, calls = 0;
    char url[128], want[16];
    int i, k, opened = 0;

    REQUIRE(echo_server_start(&srv) == 0);
    echo_url(url, sizeof url, &srv, "/");
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);

    /* Argument checks. */
    CHECK_RC(wsc_context_poll_events(NULL, 0, evs, 8, &n), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_events(ctx, 0, NULL, 8, &n), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_events(ctx, 0, evs, 8, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_events(ctx, 0, evs, 0, &n), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_events_free(NULL, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_events_free(NULL, 1), WSC_RESULT_NULL_ARGUMENT);

    /* Queued before the handshake, delivered after it: one batch or more. */
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    for (i = 0; i < N; i++) {
        snprintf(want, sizeof want, "m%d", i);
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)want, strlen(want), NULL),
                 WSC_RESULT_OK);
    }
    for (k = 0; k < 200 && got < N; k++) {
        REQUIRE_RC(wsc_context_poll_events(ctx, 200, evs, 8, &n), WSC_RESULT_OK);
        CHECK(n <= 8);
        if (n > 0) {
            calls++;
        }
        for (size_t j = 0; j < n; j++) {
            if (evs[j]->event_type == WSC_EVENT_TYPE_OPEN) {
                opened = 1;
            } else if (evs[j]->event_type == WSC_EVENT_TYPE_TEXT) {
                snprintf(want, sizeof want, "m%d", (int)got);
                CHECK_MSG(data_is(evs[j], want, strlen(want)), "message %d out of order", (int)got);
                got++;
            }
        }
        CHECK_RC(wsc_events_free(evs, n), WSC_RESULT_OK);
    }
    CHECK(opened);
    CHECK_MSG(got == N, "%d of %d echoes", (int)got, N);
    CHECK_MSG(calls < (size_t)N, "%d calls for %d events: not batched", (int)calls, N);

    /* A double free inside the array is reported; the others are freed. */
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"x", 1, NULL), WSC_RESULT_OK);
    REQUIRE_RC(wsc_context_poll_events(ctx, 2000, evs, 1, &n), WSC_RESULT_OK);
    CHECK(n == 1);
    if (n == 1) {
        ev = evs[0];
        evs[1] = ev;
        CHECK_RC(wsc_events_free(evs, 2), WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_event_free(ev), WSC_RESULT_INVALID_HANDLE);
    }

    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
