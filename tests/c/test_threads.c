/*
 * test_threads: one thread blocks in wsc_context_poll_event(ctx, 2000)
 * while another sends 1000 messages: the sends do not wait for the poll
 * timeout (the whole loop takes well under 2 s) and every echo arrives, in
 * order. Then two threads poll one context (each echo goes to exactly one
 * of them), and a context freed while a thread is blocked in poll_event
 * makes that call return within its timeout.
 * Then: two threads send on one client at once (every message arrives
 * once, whole, each thread's in its order); a thread polls in a loop while
 * another frees the context (its calls answer OK, CONTEXT_CLOSED, then
 * INVALID_HANDLE, never crash); a thread sends in a loop while another
 * frees the client (OK, then INVALID_HANDLE, never a crash).
 */
#include "common.h"

#include <pthread.h>
#include <sched.h>
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

/* ------------------------------------------------------------------ */
/* Two threads sending on one client at once                           */
/* ------------------------------------------------------------------ */

#define N_PAIR 1500
#define MAX_BODY 3000

typedef struct {
    wsc_client *c;
    char tag; /* 'A' or 'B' */
    atomic_int *go;
    int sent;
    int buffer_full_retries;
    int errors;
} sender_t;

/* Message i of a sender: "A-000012-" then a body of (i * 37) % MAX_BODY
 * bytes, each byte derived from the tag, i and its position (so that a
 * message cut, merged or interleaved with another is detected). */
static size_t make_msg(char *out, char tag, int i)
{
    size_t body = (size_t)((i * 37) % MAX_BODY), k;
    int n = snprintf(out, 16, "%c-%06d-", tag, i);
    for (k = 0; k < body; k++) {
        out[n + k] = (char)('a' + (tag + i + (int)k) % 26);
    }
    return (size_t)n + body;
}

static void *pair_sender(void *arg)
{
    sender_t *s = arg;
    static _Thread_local char buf[16 + MAX_BODY];
    int i;
    while (!atomic_load(s->go)) {
        sched_yield();
    }
    for (i = 0; i < N_PAIR; i++) {
        size_t len = make_msg(buf, s->tag, i);
        int tries;
        for (tries = 0; tries < 5000; tries++) {
            wsc_result rc =
                wsc_client_send(s->c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)buf, len, NULL);
            if (rc == WSC_RESULT_OK) {
                s->sent++;
                break;
            }
            if (rc == WSC_RESULT_BUFFER_FULL) {
                s->buffer_full_retries++;
                sleep_ms(1);
                continue;
            }
            s->errors++;
            fprintf(stderr, "   sender %c, message %d: %s\n", s->tag, i, wsc_result_str((int)rc));
            return NULL;
        }
    }
    return NULL;
}

/* Checks one echo; returns the sender index (0 for 'A', 1 for 'B') and
 * the message number in *num, or -1 when it is not a whole message. */
static int check_msg(const wsc_event *ev, int *num)
{
    char expect[16 + MAX_BODY];
    char tag;
    int i;
    size_t len;
    if (ev->data == NULL || ev->data_len < 9 || ev->data[1] != '-' || ev->data[8] != '-') {
        return -1;
    }
    tag = (char)ev->data[0];
    if (tag != 'A' && tag != 'B') {
        return -1;
    }
    i = atoi((const char *)ev->data + 2);
    if (i < 0 || i >= N_PAIR) {
        return -1;
    }
    len = make_msg(expect, tag, i);
    if (!data_is(ev, expect, len)) {
        return -1;
    }
    *num = i;
    return tag == 'A' ? 0 : 1;
}

static void two_senders_one_client(const char *url)
{
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    pthread_t th[2];
    sender_t s[2];
    atomic_int go = 0;
    static unsigned char seen[2][N_PAIR];
    int next[2] = {0, 0}, received = 0, broken = 0, out_of_order = 0, dup = 0, missing = 0;
    int i, j;
    int64_t deadline;

    memset(seen, 0, sizeof seen);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_limits(c, 0, 8u << 20), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    REQUIRE(ev != NULL);
    FREE_EVENT(ev);

    for (i = 0; i < 2; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].c = c;
        s[i].tag = i == 0 ? 'A' : 'B';
        s[i].go = &go;
        REQUIRE(pthread_create(&th[i], NULL, pair_sender, &s[i]) == 0);
    }
    atomic_store(&go, 1);
    /* This thread polls while both send. */
    deadline = now_ms() + 60000;
    while (received < 2 * N_PAIR && now_ms() < deadline) {
        int num = -1, who;
        ev = next_event(ctx, 200);
        if (ev == NULL) {
            continue;
        }
        if (ev->event_type == WSC_EVENT_TYPE_BUFFER_FULL ||
            ev->event_type == WSC_EVENT_TYPE_BUFFER_DRAIN) {
            wsc_event_free(ev);
            continue;
        }
        if (ev->event_type != WSC_EVENT_TYPE_TEXT) {
            event_print("  unexpected: ", ev);
            broken++;
            wsc_event_free(ev);
            break;
        }
        who = check_msg(ev, &num);
        if (who < 0) {
            if (broken < 5) {
                event_print("  not a whole message: ", ev);
            }
            broken++;
        } else {
            if (seen[who][num]) {
                dup++;
            }
            seen[who][num] = 1;
            if (num != next[who]) {
                out_of_order++;
            }
            next[who] = num + 1;
        }
        received++;
        wsc_event_free(ev);
    }
    for (i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < 2; i++) {
        for (j = 0; j < N_PAIR; j++) {
            missing += !seen[i][j];
        }
    }
    fprintf(stderr, "   two senders: %d + %d sent (%d + %d BUFFER_FULL retries), %d received\n",
            s[0].sent, s[1].sent, s[0].buffer_full_retries, s[1].buffer_full_retries, received);
    CHECK_MSG(s[0].errors == 0 && s[1].errors == 0, "send failed");
    CHECK_MSG(s[0].sent == N_PAIR && s[1].sent == N_PAIR, "not every message was accepted");
    CHECK_MSG(received == 2 * N_PAIR, "%d of %d echoes arrived", received, 2 * N_PAIR);
    CHECK_MSG(broken == 0, "%d echoes were not whole messages (cut or interleaved)", broken);
    CHECK_MSG(missing == 0, "%d messages never came back", missing);
    CHECK_MSG(dup == 0, "%d messages came back twice", dup);
    CHECK_MSG(out_of_order == 0, "%d echoes out of their sender's order", out_of_order);

    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
}

/* ------------------------------------------------------------------ */
/* poll_event in a loop while another thread frees the context          */
/* ------------------------------------------------------------------ */

typedef struct {
    wsc_context *ctx;
    atomic_int polls;
    int events;
    int after_closed_ok; /* OK after CONTEXT_CLOSED or INVALID_HANDLE */
    int bad;             /* any other result */
    int closed;          /* CONTEXT_CLOSED results */
    int invalid;         /* INVALID_HANDLE results */
} looping_poller_t;

static void *looping_poller(void *arg)
{
    looping_poller_t *p = arg;
    int i, ended = 0;
    for (i = 0; i < 200000; i++) {
        const wsc_event *ev = NULL;
        wsc_result rc = wsc_context_poll_event(p->ctx, 5, &ev);
        atomic_fetch_add(&p->polls, 1);
        if (rc == WSC_RESULT_OK) {
            if (ended) {
                p->after_closed_ok++;
            }
            if (ev != NULL) {
                /* Events stay readable after the context's free. */
                volatile size_t sum = 0;
                size_t k;
                for (k = 0; k < ev->data_len; k++) {
                    sum += ev->data[k];
                }
                (void)sum;
                p->events++;
                wsc_event_free(ev);
            }
        } else if (rc == WSC_RESULT_CONTEXT_CLOSED) {
            p->closed++;
            ended = 1;
        } else if (rc == WSC_RESULT_INVALID_HANDLE) {
            p->invalid++;
            break; /* freed: every later call answers the same */
        } else {
            p->bad++;
            fprintf(stderr, "   looping poll: %s\n", wsc_result_str((int)rc));
            break;
        }
    }
    return NULL;
}

static void poll_loop_while_context_freed(const char *url)
{
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    looping_poller_t p;
    pthread_t th;
    int i, k;

    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    memset(&p, 0, sizeof p);
    p.ctx = ctx;
    REQUIRE(pthread_create(&th, NULL, looping_poller, &p) == 0);
    /* Traffic while it polls: the echoes are its events. */
    for (i = 0; i < 200; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "loop-%d", i);
        (void)wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)buf, strlen(buf), NULL);
        if (i % 20 == 0) {
            sleep_ms(2);
        }
    }
    for (k = 0; k < 200 && atomic_load(&p.polls) < 20; k++) {
        sleep_ms(5);
    }
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    pthread_join(th, NULL);
    fprintf(stderr,
            "   poll loop vs context free: %d polls, %d events, %d CONTEXT_CLOSED, %d "
            "INVALID_HANDLE\n",
            atomic_load(&p.polls), p.events, p.closed, p.invalid);
    CHECK_MSG(p.bad == 0, "poll_event answered something other than OK, CONTEXT_CLOSED, "
                          "INVALID_HANDLE");
    CHECK_MSG(p.invalid == 1, "the loop did not end with INVALID_HANDLE");
    CHECK_MSG(p.after_closed_ok == 0, "poll_event answered OK after CONTEXT_CLOSED");
    /* The client answers CONTEXT_CLOSED, then is freed. */
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"x", 1, NULL),
             WSC_RESULT_CONTEXT_CLOSED);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
}

/* ------------------------------------------------------------------ */
/* send in a loop while another thread frees the client                 */
/* ------------------------------------------------------------------ */

typedef struct {
    wsc_client *c;
    atomic_int sends;
    int ok, full, invalid, bad, ok_after_invalid;
} looping_sender_t;

static void *looping_sender(void *arg)
{
    looping_sender_t *s = arg;
    int i;
    for (i = 0; i < 2000000; i++) {
        wsc_result rc =
            wsc_client_send(s->c, WSC_MESSAGE_TYPE_BINARY, (const uint8_t *)"0123456789", 10, NULL);
        atomic_fetch_add(&s->sends, 1);
        if (rc == WSC_RESULT_OK) {
            s->ok++;
            if (s->invalid) {
                s->ok_after_invalid++;
            }
        } else if (rc == WSC_RESULT_BUFFER_FULL) {
            s->full++;
        } else if (rc == WSC_RESULT_INVALID_HANDLE) {
            /* A few more calls on the freed handle: still INVALID_HANDLE. */
            if (++s->invalid >= 10) {
                break;
            }
        } else {
            s->bad++;
            fprintf(stderr, "   looping send: %s\n", wsc_result_str((int)rc));
            break;
        }
    }
    return NULL;
}

static void send_loop_while_client_freed(const char *url)
{
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    looping_sender_t s;
    pthread_t th;
    int k, n;

    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    REQUIRE(ev != NULL);
    FREE_EVENT(ev);
    memset(&s, 0, sizeof s);
    s.c = c;
    REQUIRE(pthread_create(&th, NULL, looping_sender, &s) == 0);
    for (k = 0; k < 400 && atomic_load(&s.sends) < 500; k++) {
        sleep_ms(5);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    pthread_join(th, NULL);
    fprintf(stderr, "   send loop vs client free: %d OK, %d BUFFER_FULL, %d INVALID_HANDLE\n",
            s.ok, s.full, s.invalid);
    CHECK_MSG(s.bad == 0, "send answered something other than OK, BUFFER_FULL, INVALID_HANDLE");
    CHECK_MSG(s.invalid == 10, "the loop did not see INVALID_HANDLE after the free");
    CHECK_MSG(s.ok_after_invalid == 0, "send answered OK after INVALID_HANDLE");
    CHECK_MSG(s.ok > 0, "no send succeeded before the free");
    CHECK_RC(wsc_client_free(c), WSC_RESULT_INVALID_HANDLE);
    /* The context drains what was queued; nothing breaks. */
    for (n = 0; n < 100000; n++) {
        ev = next_event(ctx, 100);
        if (ev == NULL) {
            break;
        }
        wsc_event_free(ev);
    }
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
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

    two_senders_one_client(url);
    poll_loop_while_context_freed(url);
    send_loop_while_client_freed(url);

    echo_server_stop(&srv);
    finish();
    return 0;
}
