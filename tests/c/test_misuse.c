/*
 * test_misuse: the C API survives misuse with the documented result
 * codes: NULL for every pointer argument, _free(NULL), double frees, a
 * handle of the wrong kind, calls on freed handles, freeing a client with
 * its events queued, freeing the context while clients and events exist
 * (the clients answer CONTEXT_CLOSED, an event taken before stays
 * readable), wsc_result_str for every code, an invalid message type;
 * NULL for the functions added later (TLS, proxy, timeouts, backoff,
 * pause/resume, abort, cancel_reconnect, bytes, address, batch polling)
 * and wsc_last_error per thread.
 * ASan/LSan and valgrind check that none of it crashes or leaks.
 */
#include "common.h"

#include <limits.h>
#include <pthread.h>

#define N_MSG 5

static void null_arguments(wsc_context *ctx, wsc_client *c, const char *url)
{
    wsc_context *octx = (wsc_context *)&octx;
    wsc_client *oc = (wsc_client *)&oc;
    const wsc_event *oev = (const wsc_event *)&oev;
    int fd = -7;
    uint64_t id = 77;
    wsc_status status = (wsc_status)77;
    wsc_send_status st = (wsc_send_status)77;

    /* Frees of NULL are no-ops. */
    CHECK_RC(wsc_context_free(NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_event_free(NULL), WSC_RESULT_OK);

    CHECK_RC(wsc_context_new(NULL), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_context_fd(NULL, &fd), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_fd(ctx, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK(fd == -7);

    CHECK_RC(wsc_context_poll_event(NULL, 0, &oev), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_event(ctx, 0, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK(oev == (const wsc_event *)&oev);

    CHECK_RC(wsc_client_new(NULL, url, &oc), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_new(ctx, NULL, &oc), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_new(ctx, url, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK(oc == (wsc_client *)&oc);
    CHECK(octx == (wsc_context *)&octx);

    CHECK_RC(wsc_client_id(NULL, &id), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_id(c, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK(id == 77);

    CHECK_RC(wsc_client_set_header(NULL, "X-A", "b"), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_header(c, NULL, "b"), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_header(c, "X-A", NULL), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_client_set_ping_interval(NULL, 100), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_timeouts(NULL, 100, 100), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls(NULL, false, true), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_limits(NULL, 0, 0), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_connect(NULL), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_client_send(NULL, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"a", 1, &st),
             WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, NULL, 1, &st),
             WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, NULL, 5, NULL),
             WSC_RESULT_NULL_ARGUMENT);
    CHECK(st == (wsc_send_status)77);

    CHECK_RC(wsc_client_ping(NULL, (const uint8_t *)"a", 1), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_ping(c, NULL, 3), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_client_close(NULL, 1000, NULL, 0), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_close(c, 1000, NULL, 3), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_client_reconnect(NULL, 100), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_client_status(NULL, &status), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_status(c, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK(status == (wsc_status)77);

    /* The client is unharmed: still initial. */
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_INITIAL);
}

/* wsc_last_error on a thread that never failed: "" (copied: the string
 * is the thread's own and goes with it). */
static void *last_error_of_fresh_thread(void *arg)
{
    char *out = arg;
    const char *e = wsc_last_error();
    snprintf(out, 64, "%s", e != NULL ? e : "(null)");
    return NULL;
}

/* NULL for every pointer argument of the functions added after
 * null_arguments() was written; out-parameters stay untouched. */
static void null_arguments_newer(wsc_context *ctx, wsc_client *c)
{
    uint64_t r = 77, w = 77;
    size_t sb = 77, count = 77;
    char buf[64];
    const wsc_event *evs[4] = {NULL, NULL, NULL, NULL};

    /* wsc_last_error: never NULL; says why the last failure on this thread
     * failed; per thread. */
    CHECK(wsc_last_error() != NULL);
    CHECK_RC(wsc_client_set_header(c, "Bad Name", "v"), WSC_RESULT_INVALID_HEADER);
    CHECK_MSG(wsc_last_error() != NULL && strstr(wsc_last_error(), "header") != NULL,
              "wsc_last_error after INVALID_HEADER: '%s'", wsc_last_error());
    {
        pthread_t th;
        char other[64] = "unset";
        REQUIRE(pthread_create(&th, NULL, last_error_of_fresh_thread, other) == 0);
        pthread_join(th, NULL);
        CHECK_MSG(other[0] == '\0', "another thread's wsc_last_error is '%s', expected \"\"",
                  other);
    }

    CHECK_RC(wsc_client_set_tls_verify(NULL, true, true), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_allow_self_signed(NULL, false), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_client_set_tls_ca_file(NULL, "/nonexistent.pem"), WSC_RESULT_NULL_ARGUMENT);
    /* NULL path = the system's roots again. */
    CHECK_RC(wsc_client_set_tls_ca_file(c, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_ca_file(c, "/nonexistent/ca.pem"), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_MSG(wsc_last_error()[0] != '\0', "no wsc_last_error text for an unreadable CA file");

    CHECK_RC(wsc_client_set_tls_peer_name(NULL, "example.org"), WSC_RESULT_NULL_ARGUMENT);
    /* NULL name = the URL's host. */
    CHECK_RC(wsc_client_set_tls_peer_name(c, NULL), WSC_RESULT_OK);

    CHECK_RC(wsc_client_set_tls_client_cert(NULL, "/nonexistent.pem", NULL, NULL),
             WSC_RESULT_NULL_ARGUMENT);
    /* cert_path is required; key_path and passphrase may be NULL. */
    CHECK_RC(wsc_client_set_tls_client_cert(c, NULL, NULL, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_client_cert(c, NULL, "/nonexistent.key", "pw"),
             WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_client_cert(c, "/nonexistent/cert.pem", NULL, NULL),
             WSC_RESULT_INVALID_ARGUMENT);

    CHECK_RC(wsc_client_set_pong_timeout(NULL, 100), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_close_timeout(NULL, 100), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_close_timeout(c, 0), WSC_RESULT_INVALID_ARGUMENT);

    CHECK_RC(wsc_client_set_proxy(NULL, "http://127.0.0.1:1", NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_proxy(NULL, NULL, NULL), WSC_RESULT_NULL_ARGUMENT);
    /* NULL url = connect directly; NULL authorization = none. */
    CHECK_RC(wsc_client_set_proxy(c, NULL, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_proxy(c, NULL, "Basic eDp5"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_proxy(c, "ftp://127.0.0.1:1", NULL), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_proxy(c, NULL, NULL), WSC_RESULT_OK);

    CHECK_RC(wsc_client_set_reconnect_backoff(NULL, 100, 1000), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_reconnect_backoff(c, 1000, 100), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_reconnect_backoff(c, 0, 0), WSC_RESULT_OK);

    CHECK_RC(wsc_client_pause_recv(NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_resume_recv(NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_abort(NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_cancel_reconnect(NULL), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_client_bytes(NULL, &r, &w, &sb), WSC_RESULT_NULL_ARGUMENT);
    CHECK(r == 77 && w == 77 && sb == 77);
    /* Each out-parameter may be NULL. */
    CHECK_RC(wsc_client_bytes(c, NULL, NULL, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_bytes(c, &r, NULL, NULL), WSC_RESULT_OK);
    CHECK(r == 0);

    memset(buf, '#', sizeof buf);
    CHECK_RC(wsc_client_address(NULL, false, buf, sizeof buf), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_address(NULL, true, buf, sizeof buf), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_address(c, false, NULL, 48), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_address(c, true, NULL, 0), WSC_RESULT_NULL_ARGUMENT);
    /* Never connected: no address yet, and buf is not written. */
    CHECK_RC(wsc_client_address(c, false, buf, sizeof buf), WSC_RESULT_NOT_CONNECTED);
    CHECK(buf[0] == '#' && buf[sizeof buf - 1] == '#');

    /* Batch polling. */
    CHECK_RC(wsc_context_poll_events(NULL, 0, evs, 4, &count), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_events(ctx, 0, NULL, 4, &count), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_context_poll_events(ctx, 0, evs, 4, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK(count == 77 && evs[0] == NULL);
    CHECK_RC(wsc_context_poll_events(ctx, 0, evs, 0, &count), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_events_free(NULL, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_events_free(NULL, 3), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_events_free(evs, 4), WSC_RESULT_OK); /* all NULL: skipped */
}

static void result_strings(void)
{
    int r;
    const char *unknown = wsc_result_str(-1);
    CHECK(unknown != NULL && strcmp(unknown, "unknown result code") == 0);
    for (r = WSC_RESULT_OK; r <= WSC_RESULT_FORKED; r++) {
        const char *s = wsc_result_str(r);
        CHECK_MSG(s != NULL && s[0] != '\0', "wsc_result_str(%d) empty", r);
        CHECK_MSG(s != NULL && strcmp(s, "unknown result code") != 0,
                  "wsc_result_str(%d) says unknown", r);
    }
    {
        const int others[] = {23, 24, 100, 1000, INT_MAX, INT_MIN, -2};
        size_t i;
        for (i = 0; i < sizeof others / sizeof others[0]; i++) {
            const char *s = wsc_result_str(others[i]);
            CHECK_MSG(s != NULL && strcmp(s, "unknown result code") == 0,
                      "wsc_result_str(%d)", others[i]);
        }
    }
    CHECK(wsc_version() != NULL && wsc_version()[0] != '\0');
}

/* Every client call on a handle that is not a live client. */
static void client_calls_fail(wsc_client *c, wsc_result want)
{
    uint64_t id = 5;
    wsc_status status = (wsc_status)5;
    wsc_send_status st = (wsc_send_status)5;
    /* wsc_client_id does not answer CONTEXT_CLOSED (documented: OK). */
    if (want != WSC_RESULT_CONTEXT_CLOSED) {
        CHECK_RC(wsc_client_id(c, &id), want);
        CHECK(id == 5);
    }
    CHECK_RC(wsc_client_status(c, &status), want);
    CHECK(status == (wsc_status)5);
    CHECK_RC(wsc_client_set_header(c, "X-A", "b"), want);
    CHECK_RC(wsc_client_set_ping_interval(c, 100), want);
    CHECK_RC(wsc_client_set_timeouts(c, 100, 100), want);
    CHECK_RC(wsc_client_set_tls(c, false, true), want);
    CHECK_RC(wsc_client_set_limits(c, 0, 0), want);
    CHECK_RC(wsc_client_connect(c), want);
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"a", 1, &st), want);
    CHECK(st == (wsc_send_status)5);
    CHECK_RC(wsc_client_ping(c, NULL, 0), want);
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), want);
    CHECK_RC(wsc_client_reconnect(c, 10), want);
    /* The functions added later. */
    {
        uint64_t r = 5, w = 5;
        size_t sb = 5;
        char buf[48];
        memset(buf, '#', sizeof buf);
        CHECK_RC(wsc_client_set_tls_verify(c, true, true), want);
        CHECK_RC(wsc_client_set_tls_allow_self_signed(c, false), want);
        CHECK_RC(wsc_client_set_tls_ca_file(c, NULL), want);
        CHECK_RC(wsc_client_set_tls_peer_name(c, NULL), want);
        /* Arguments are checked before the context (as by set_header): a
         * missing file answers INVALID_ARGUMENT on a freed context. */
        CHECK_RC(wsc_client_set_tls_client_cert(c, "/nonexistent.pem", NULL, NULL),
                 want == WSC_RESULT_CONTEXT_CLOSED ? WSC_RESULT_INVALID_ARGUMENT : want);
        CHECK_RC(wsc_client_set_proxy(c, NULL, NULL), want);
        CHECK_RC(wsc_client_set_reconnect_backoff(c, 0, 0), want);
        CHECK_RC(wsc_client_set_pong_timeout(c, 100), want);
        CHECK_RC(wsc_client_set_close_timeout(c, 100), want);
        CHECK_RC(wsc_client_pause_recv(c), want);
        CHECK_RC(wsc_client_resume_recv(c), want);
        CHECK_RC(wsc_client_abort(c), want);
        CHECK_RC(wsc_client_cancel_reconnect(c), want);
        CHECK_RC(wsc_client_bytes(c, &r, &w, &sb), want);
        CHECK(r == 5 && w == 5 && sb == 5);
        CHECK_RC(wsc_client_address(c, false, buf, sizeof buf), want);
        CHECK(buf[0] == '#');
    }
}

/* Connects c, sends N_MSG messages while connecting, and lets the fallback
 * thread (nobody polls) run the handshake and queue the echoes. */
static void connect_and_let_events_queue(wsc_client *c, int settle_ms)
{
    int i;
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    for (i = 0; i < N_MSG; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "m%d", i);
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)buf,
                                 strlen(buf), NULL),
                 WSC_RESULT_OK);
    }
    sleep_ms(settle_ms);
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL, *ctx2 = NULL;
    wsc_client *c = NULL, *c2 = NULL, *c3 = NULL;
    const wsc_event *ev, *kept;
    uint64_t id = 0, id3 = 0;
    int fd, i, n;
    char url[128];
    static const uint32_t bad_types[] = {0, 3, 8, 9, 10, 0xffffffffu};
    /* The messages were sent before the handshake: BUFFER_DRAIN follows OPEN
     * once they are written. */
    static const int expected_types[3 + N_MSG] = {
        WSC_EVENT_TYPE_CONNECTED, WSC_EVENT_TYPE_OPEN, WSC_EVENT_TYPE_BUFFER_DRAIN, WSC_EVENT_TYPE_TEXT,
        WSC_EVENT_TYPE_TEXT, WSC_EVENT_TYPE_TEXT, WSC_EVENT_TYPE_TEXT, WSC_EVENT_TYPE_TEXT,
    };

    REQUIRE(echo_server_start(&srv) == 0);
    echo_url(url, sizeof url, &srv, "/");
    result_strings();

    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    null_arguments(ctx, c, url);
    null_arguments_newer(ctx, c);

    /* An invalid message type. */
    for (i = 0; i < (int)(sizeof bad_types / sizeof bad_types[0]); i++) {
        CHECK_MSG(wsc_client_send(c, bad_types[i], (const uint8_t *)"a", 1, NULL) ==
                      WSC_RESULT_INVALID_ARGUMENT,
                  "message type %u accepted", bad_types[i]);
    }

    /* Handles of the wrong kind, and pointers wsc never returned. */
    CHECK_RC(wsc_context_fd((const wsc_context *)c, &fd), WSC_RESULT_INVALID_HANDLE);
    {
        const wsc_event *out = NULL;
        wsc_client *oc = NULL;
        CHECK_RC(wsc_context_poll_event((wsc_context *)c, 0, &out), WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_client_new((wsc_context *)c, url, &oc), WSC_RESULT_INVALID_HANDLE);
        CHECK(oc == NULL && out == NULL);
    }
    CHECK_RC(wsc_context_free((wsc_context *)c), WSC_RESULT_INVALID_HANDLE);
    client_calls_fail((wsc_client *)ctx, WSC_RESULT_INVALID_HANDLE);
    CHECK_RC(wsc_client_free((wsc_client *)ctx), WSC_RESULT_INVALID_HANDLE);
    CHECK_RC(wsc_event_free((const wsc_event *)c), WSC_RESULT_INVALID_HANDLE);
    CHECK_RC(wsc_event_free((const wsc_event *)ctx), WSC_RESULT_INVALID_HANDLE);
    {
        uint64_t stack_thing[8] = {0};
        client_calls_fail((wsc_client *)stack_thing, WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_client_free((wsc_client *)stack_thing), WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_context_free((wsc_context *)stack_thing), WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_event_free((const wsc_event *)stack_thing), WSC_RESULT_INVALID_HANDLE);
    }
    /* Both survived the mix-ups. */
    CHECK_RC(wsc_context_fd(ctx, &fd), WSC_RESULT_OK);
    CHECK(fd >= 0);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);

    /* Double free of an event; an event handle is not a client. */
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, 5000);
    if (ev != NULL) {
        client_calls_fail((wsc_client *)(uintptr_t)ev, WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_context_free((wsc_context *)(uintptr_t)ev), WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_event_free(ev), WSC_RESULT_OK);
        CHECK_RC(wsc_event_free(ev), WSC_RESULT_INVALID_HANDLE);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    if (ev) FREE_EVENT(ev);

    /* Double free of a client, and calls on the freed client (no new
     * client is made in between, so the address is not reused). */
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_INVALID_HANDLE);
    client_calls_fail(c, WSC_RESULT_INVALID_HANDLE);
    /* Its connection was dropped at once: no CLOSED or other event. */
    ev = next_event(ctx, 300);
    CHECK_MSG(ev == NULL, "an event after the client was freed");
    if (ev) {
        event_print("  ", ev);
        wsc_event_free(ev);
    }

    /* Free a client while its events are queued: they are still returned
     * (with its id), in order, and nothing else is. */
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    connect_and_let_events_queue(c, 1000);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    for (n = 0; n < 64; n++) {
        ev = next_event(ctx, 300);
        if (ev == NULL) {
            break;
        }
        CHECK(ev->client_id == id);
        if (n < 3 + N_MSG) {
            CHECK_MSG((int)ev->event_type == expected_types[n],
                      "queued event %d is %s, expected %s", n,
                      event_name((int)ev->event_type), event_name(expected_types[n]));
            if (n >= 3) {
                char buf[16];
                snprintf(buf, sizeof buf, "m%d", n - 3);
                CHECK(data_is(ev, buf, strlen(buf)));
            }
        } else {
            event_print("  unexpected: ", ev);
        }
        FREE_EVENT(ev);
    }
    CHECK_MSG(n == 3 + N_MSG, "%d events of the freed client, expected %d (all queued)",
              n, 3 + N_MSG);

    /* Free the context while clients and queued events exist. */
    REQUIRE_RC(wsc_context_new(&ctx2), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx2, url, &c2), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx2, url, &c3), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c3, &id3), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c2), WSC_RESULT_OK);
    /* Keep c2's OPEN event (with data) across the context's free. */
    kept = wait_event(ctx2, WSC_EVENT_TYPE_OPEN, 5000);
    CHECK_MSG(kept != NULL, "no OPEN on the second context");
    CHECK_RC(wsc_client_send(c2, WSC_MESSAGE_TYPE_BINARY, (const uint8_t *)"queued", 6, NULL),
             WSC_RESULT_OK);
    connect_and_let_events_queue(c3, 500);
    CHECK_RC(wsc_context_free(ctx2), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx2), WSC_RESULT_INVALID_HANDLE);
    {
        const wsc_event *out = NULL;
        wsc_client *oc = NULL;
        CHECK_RC(wsc_context_poll_event(ctx2, 0, &out), WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_context_fd(ctx2, &fd), WSC_RESULT_INVALID_HANDLE);
        CHECK_RC(wsc_client_new(ctx2, url, &oc), WSC_RESULT_INVALID_HANDLE);
        CHECK(oc == NULL && out == NULL);
    }
    if (kept != NULL) {
        CHECK(kept->client_id != 0);
        CHECK_MSG(kept->data_len >= 12 && memcmp(kept->data, "HTTP/1.1 101", 12) == 0,
                  "the kept event's data is not readable after the context's free");
    }
    /* The clients answer CONTEXT_CLOSED (their id still works). */
    client_calls_fail(c2, WSC_RESULT_CONTEXT_CLOSED);
    client_calls_fail(c3, WSC_RESULT_CONTEXT_CLOSED);
    {
        uint64_t got = 0;
        CHECK_RC(wsc_client_id(c3, &got), WSC_RESULT_OK);
        CHECK(got == id3);
    }
    CHECK_RC(wsc_client_free(c2), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c3), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c3), WSC_RESULT_INVALID_HANDLE);
    if (kept != NULL) {
        CHECK(kept->data_len >= 12 && memcmp(kept->data, "HTTP/1.1 101", 12) == 0);
        FREE_EVENT(kept);
        CHECK_RC(wsc_event_free(kept), WSC_RESULT_INVALID_HANDLE);
    }

    /* The first context is unaffected by the other's free. */
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    CHECK_MSG(ev != NULL, "first context broken after freeing the second");
    if (ev) FREE_EVENT(ev);

    /* Free the context with the client open, then free the client. */
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_INVALID_HANDLE);
    client_calls_fail(c, WSC_RESULT_CONTEXT_CLOSED);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_INVALID_HANDLE);

    echo_server_stop(&srv);
    finish();
    return 0;
}
