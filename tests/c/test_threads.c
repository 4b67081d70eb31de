/*
 * test_threads: one thread blocks in wsc_context_poll_event(ctx, 2000)
 * while another sends 1000 messages: the sends do not wait for the poll
 * timeout (the whole loop takes well under 2 s) and every echo arrives, in
 * order. Then two threads poll one context (each echo goes to exactly one
 * of them), and a context freed while a thread is blocked in poll_event
 * makes that call return within its timeout.
 */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>

#define N_SEND 1000

typedef struct {
    wsc_context *ctx;
    uint64_t id;
    atomic_int started;
    atomic_int stop;
    atomic_int received;      /* TEXT echoes seen by all pollers */
    atomic_int out_of_order;
    atomic_int other_events;
    atomic_int poll_errors;
    atomic_int seen[N_SEND];  /* how many times each message came back */
    int next_expected;        /* only for the single-poller run */
    int check_order;
} shared_t;

static int parse_msg(const wsc_event *ev)
{
    char buf[16];
    size_t n = ev->data_len < sizeof buf - 1 ? ev->data_len : sizeof buf - 1;
    if (ev->data == NULL || n < 5 || memcmp(ev->data, "msg-", 4) != 0) {
        return -1;
    }
    memcpy(buf, ev->data + 4, n - 4);
    buf[n - 4] = '\0';
    return atoi(buf);
}

static void *poller(void *arg)
{
    shared_t *s = arg;
    int64_t deadline = now_ms() + 30000;
    int calls = 0;
    atomic_store(&s->started, atomic_load(&s->started) + 1);
    while (!atomic_load(&s->stop) && atomic_load(&s->received) < N_SEND &&
           now_ms() < deadline && calls < 100000) {
        const wsc_event *ev = NULL;
        wsc_result rc = wsc_context_poll_event(s->ctx, 2000, &ev);
        calls++;
        if (rc != WSC_RESULT_OK) {
            atomic_fetch_add(&s->poll_errors, 1);
            fprintf(stderr, "poll_event: %s\n", wsc_result_str((int)rc));
            break;
        }
        if (ev == NULL) {
            continue;
        }
        if (ev->event_type == WSC_EVENT_TYPE_TEXT && ev->client_id == s->id) {
            int i = parse_msg(ev);
            if (i >= 0 && i < N_SEND) {
                atomic_fetch_add(&s->seen[i], 1);
                if (s->check_order) {
                    if (i != s->next_expected) {
                        atomic_fetch_add(&s->out_of_order, 1);
                    }
                    s->next_expected = i + 1;
                }
            } else {
                atomic_fetch_add(&s->other_events, 1);
            }
            atomic_fetch_add(&s->received, 1);
        } else {
            event_print("  poller got: ", ev);
            atomic_fetch_add(&s->other_events, 1);
        }
        wsc_event_free(ev);
    }
    return NULL;
}

/* Sends N_SEND messages from this thread; returns the loop's duration in
 * ms and the slowest single send in *max_us. */
static int64_t send_all(wsc_client *c, int64_t *max_us, int *failures)
{
    int i;
    int64_t t0 = now_us();
    *max_us = 0;
    *failures = 0;
    for (i = 0; i < N_SEND; i++) {
        char buf[16];
        int64_t a = now_us(), d;
        wsc_result rc;
        snprintf(buf, sizeof buf, "msg-%d", i);
        rc = wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)buf, strlen(buf), NULL);
        d = now_us() - a;
        if (d > *max_us) {
            *max_us = d;
        }
        if (d > 100000) {
            fprintf(stderr, "   send %d waited %lld ms\n", i, (long long)(d / 1000));
        }
        if (rc != WSC_RESULT_OK) {
            if (*failures < 5) {
                fprintf(stderr, "send %d: %s\n", i, wsc_result_str((int)rc));
            }
            (*failures)++;
        }
    }
    return (now_us() - t0) / 1000;
}

static void run_round(wsc_context *ctx, wsc_client *c, uint64_t id, int n_pollers)
{
    shared_t *s = calloc(1, sizeof *s);
    pthread_t th[2];
    int i, k, missing = 0, dup = 0, failures = 0;
    int64_t loop_ms, max_us;

    REQUIRE(s != NULL);
    s->ctx = ctx;
    s->id = id;
    s->check_order = n_pollers == 1;
    for (i = 0; i < n_pollers; i++) {
        REQUIRE(pthread_create(&th[i], NULL, poller, s) == 0);
    }
    /* Let the pollers enter their 2 s wait (bounded). */
    for (k = 0; k < 200 && atomic_load(&s->started) < n_pollers; k++) {
        sleep_ms(5);
    }
    sleep_ms(100);

    loop_ms = send_all(c, &max_us, &failures);
    fprintf(stderr, "   %d poller(s): %d sends took %lld ms, slowest %lld us\n", n_pollers,
            N_SEND, (long long)loop_ms, (long long)max_us);
    CHECK_MSG(failures == 0, "%d sends failed", failures);
    CHECK_MSG(loop_ms < 1000, "%d sends took %lld ms while a thread polls with 2000 ms",
              N_SEND, (long long)loop_ms);
    CHECK_MSG(max_us < 1000000, "one send waited %lld us (the poll timeout?)",
              (long long)max_us);

    /* Wait (bounded) for the pollers to see every echo. */
    for (k = 0; k < 1000 && atomic_load(&s->received) < N_SEND; k++) {
        sleep_ms(10);
    }
    atomic_store(&s->stop, 1);
    for (i = 0; i < n_pollers; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < N_SEND; i++) {
        int n = atomic_load(&s->seen[i]);
        missing += n == 0;
        dup += n > 1;
    }
    CHECK_MSG(atomic_load(&s->received) == N_SEND, "%d of %d echoes arrived",
              atomic_load(&s->received), N_SEND);
    CHECK_MSG(missing == 0, "%d messages never came back", missing);
    CHECK_MSG(dup == 0, "%d messages came back more than once", dup);
    CHECK_MSG(atomic_load(&s->out_of_order) == 0, "%d echoes out of order",
              atomic_load(&s->out_of_order));
    CHECK(atomic_load(&s->other_events) == 0);
    CHECK(atomic_load(&s->poll_errors) == 0);
    free(s);
}

typedef struct {
    wsc_context *ctx;
    atomic_int entered;
    wsc_result rc;
    const wsc_event *ev;
    int64_t took_ms;
} blocked_t;

static void *blocked_poll(void *arg)
{
    blocked_t *b = arg;
    int64_t t0 = now_ms();
    atomic_store(&b->entered, 1);
    b->rc = wsc_context_poll_event(b->ctx, 2000, &b->ev);
    b->took_ms = now_ms() - t0;
    return NULL;
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL, *ctx2 = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    uint64_t id = 0;
    char url[128];
    int k;

    REQUIRE(echo_server_start(&srv) == 0);
    echo_url(url, sizeof url, &srv, "/");
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    REQUIRE(ev != NULL);
    FREE_EVENT(ev);

    run_round(ctx, c, id, 1);
    run_round(ctx, c, id, 2);

    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_CLOSED, 7000);
    CHECK_MSG(ev != NULL && ev->close_code == 1000, "no clean CLOSED 1000");
    if (ev) FREE_EVENT(ev);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);

    /* A context freed while another thread waits in poll_event: that call
     * returns within its timeout with CONTEXT_CLOSED or no event. */
    {
        blocked_t b;
        pthread_t th;
        memset(&b, 0, sizeof b);
        REQUIRE_RC(wsc_context_new(&ctx2), WSC_RESULT_OK);
        b.ctx = ctx2;
        b.rc = WSC_RESULT_PANIC;
        REQUIRE(pthread_create(&th, NULL, blocked_poll, &b) == 0);
        for (k = 0; k < 200 && !atomic_load(&b.entered); k++) {
            sleep_ms(5);
        }
        sleep_ms(200);
        CHECK_RC(wsc_context_free(ctx2), WSC_RESULT_OK);
        pthread_join(th, NULL);
        fprintf(stderr, "   poll_event on a freed context returned %s after %lld ms\n",
                wsc_result_str((int)b.rc), (long long)b.took_ms);
        CHECK_MSG(b.rc == WSC_RESULT_CONTEXT_CLOSED ||
                      (b.rc == WSC_RESULT_OK && b.ev == NULL),
                  "poll_event returned %d (%s)", (int)b.rc, wsc_result_str((int)b.rc));
        CHECK_MSG(b.took_ms < 2600, "poll_event returned after %lld ms (timeout 2000)",
                  (long long)b.took_ms);
        if (b.rc == WSC_RESULT_OK && b.ev != NULL) {
            wsc_event_free(b.ev);
        }
    }

    echo_server_stop(&srv);
    finish();
    return 0;
}
