/*
 * test_leak: long runs stay flat. After a warm-up, 10,000 connect / send /
 * echo / close / free cycles, 1,000,000 echoed messages on one connection
 * and 500 context new/free cycles must not grow the process: RSS (VmRSS)
 * by at most 2 MiB, and not one file descriptor or thread more.
 *
 * Modes (WSC_LEAK_MODE):
 *   rss    the full counts and the RSS bound; tests/c/run.sh runs it so in
 *          its "leak" mode, compiled without sanitizers (ASan's quarantine
 *          and valgrind's own heap make RSS meaningless).
 *   (else) a short run (200 cycles, 20,000 messages, 20 contexts) that
 *          checks fds and threads only: run.sh's asan and valgrind modes,
 *          where LeakSanitizer and valgrind check every allocation.
 * WSC_LONG=1 multiplies the full counts by 10.
 */
#include "common.h"

#define RSS_SLACK_KIB 2048

static long status_field(const char *name)
{
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static long rss_kib(void) { return status_field("VmRSS"); }
static long threads(void) { return status_field("Threads"); }

static int open_fds(void)
{
    char path[64];
    int fd, n = 0;
    for (fd = 0; fd < 4096; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (access(path, F_OK) == 0) {
            n++;
        }
    }
    return n;
}

/* Waits for an event of `type` of any client, freeing the others; counts
 * the TEXT/BINARY ones in *messages. Returns 0 when it came in time. */
static int await(wsc_context *ctx, int type, int timeout_ms, long *messages)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        const wsc_event *ev = NULL;
        wsc_result rc = wsc_context_poll_event(ctx, 100, &ev);
        if (rc != WSC_RESULT_OK) {
            t_fail(__FILE__, __LINE__, "poll_event: %s", wsc_result_str((int)rc));
            return -1;
        }
        if (ev == NULL) {
            continue;
        }
        if (messages != NULL && (ev->event_type == WSC_EVENT_TYPE_TEXT ||
                                 ev->event_type == WSC_EVENT_TYPE_BINARY)) {
            (*messages)++;
        }
        if ((int)ev->event_type == type) {
            wsc_event_free(ev);
            return 0;
        }
        if (ev->event_type == WSC_EVENT_TYPE_ERROR) {
            event_print("  unexpected: ", ev);
        }
        wsc_event_free(ev);
    }
    return -1;
}

/* One cycle: new client, connect, send, echo, close 1000, CLOSED, free. */
static int cycle(wsc_context *ctx, const char *url, int i)
{
    wsc_client *c = NULL;
    char msg[64];
    long echoes = 0;
    int ok = 1;
    if (wsc_client_new(ctx, url, &c) != WSC_RESULT_OK) {
        return 0;
    }
    snprintf(msg, sizeof msg, "cycle %d", i);
    /* Timeouts far above a loopback handshake, so that a busy machine
     * slows the cycles but never fails one (1 s did fail a cycle under a
     * load of 9 on 2 cores); the timers of an ended attempt are dropped
     * with it (engine::Timers::compact), so they do not accumulate. */
    ok = ok && wsc_client_set_timeouts(c, 10000, 10000) == WSC_RESULT_OK;
    ok = ok && wsc_client_set_close_timeout(c, 10000) == WSC_RESULT_OK;
    ok = ok && wsc_client_connect(c) == WSC_RESULT_OK;
    /* Queued before the handshake, written right after it. */
    ok = ok && wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)msg, strlen(msg),
                               NULL) == WSC_RESULT_OK;
    ok = ok && await(ctx, WSC_EVENT_TYPE_TEXT, 15000, &echoes) == 0;
    ok = ok && wsc_client_close(c, 1000, (const uint8_t *)"bye", 3) == WSC_RESULT_OK;
    ok = ok && await(ctx, WSC_EVENT_TYPE_CLOSED, 15000, NULL) == 0;
    if (wsc_client_free(c) != WSC_RESULT_OK) {
        ok = 0;
    }
    return ok;
}

static int cycles(wsc_context *ctx, const char *url, int n)
{
    int i, failed = 0;
    for (i = 0; i < n; i++) {
        if (!cycle(ctx, url, i)) {
            if (failed++ < 5) {
                fprintf(stderr, "  cycle %d failed\n", i);
            }
        }
    }
    return failed;
}

/* Sends n messages on an open client, at most `window` unanswered at a
 * time, and waits for every echo. Returns the echoes counted. */
static long messages(wsc_context *ctx, wsc_client *c, long n, int window)
{
    static const char body[] = "0123456789abcdef0123456789abcdef0123456789abcdef012345678";
    long sent = 0, echoed = 0, refused = 0;
    int64_t deadline = now_ms() + 600000;
    while (echoed < n && now_ms() < deadline) {
        while (sent < n && sent - echoed < window) {
            wsc_result rc = wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY,
                                            (const uint8_t *)body, sizeof body - 1, NULL);
            if (rc == WSC_RESULT_BUFFER_FULL) {
                refused++;
                break;
            }
            if (rc != WSC_RESULT_OK) {
                t_fail(__FILE__, __LINE__, "send %ld: %s", sent, wsc_result_str((int)rc));
                return echoed;
            }
            sent++;
        }
        for (;;) {
            const wsc_event *ev = NULL;
            wsc_result rc = wsc_context_poll_event(ctx, sent - echoed >= window ? 100 : 0, &ev);
            if (rc != WSC_RESULT_OK) {
                t_fail(__FILE__, __LINE__, "poll_event: %s", wsc_result_str((int)rc));
                return echoed;
            }
            if (ev == NULL) {
                break;
            }
            if (ev->event_type == WSC_EVENT_TYPE_BINARY) {
                echoed++;
            } else if (ev->event_type != WSC_EVENT_TYPE_BUFFER_FULL &&
                       ev->event_type != WSC_EVENT_TYPE_BUFFER_DRAIN) {
                event_print("  unexpected: ", ev);
                wsc_event_free(ev);
                return echoed;
            }
            wsc_event_free(ev);
            if (sent - echoed < window / 2) {
                break;
            }
        }
    }
    if (refused > 0) {
        fprintf(stderr, "  (%ld sends refused with BUFFER_FULL and retried)\n", refused);
    }
    return echoed;
}

static int contexts(int n)
{
    int i, failed = 0;
    for (i = 0; i < n; i++) {
        wsc_context *ctx = NULL;
        wsc_client *c = NULL;
        if (wsc_context_new(&ctx) != WSC_RESULT_OK) {
            failed++;
            continue;
        }
        /* A client left in the context, freed after it. */
        if (wsc_client_new(ctx, "ws://127.0.0.1:9/", &c) != WSC_RESULT_OK) {
            failed++;
        }
        if (wsc_context_free(ctx) != WSC_RESULT_OK || wsc_client_free(c) != WSC_RESULT_OK) {
            failed++;
        }
    }
    return failed;
}

typedef struct {
    long rss_kib;
    int fds;
    long threads;
} usage_t;

static usage_t usage(void)
{
    usage_t u;
    u.rss_kib = rss_kib();
    u.fds = open_fds();
    u.threads = threads();
    return u;
}

/* Compares two readings; `what` names the phase, `cause` the likely leak. */
static void check_flat(const char *what, usage_t a, usage_t b, int check_rss, const char *cause)
{
    printf("%s: RSS %ld KiB -> %ld KiB (%+ld KiB), fds %d -> %d, threads %ld -> %ld\n", what,
           a.rss_kib, b.rss_kib, b.rss_kib - a.rss_kib, a.fds, b.fds, a.threads, b.threads);
    fflush(stdout);
    CHECK_MSG(b.fds <= a.fds, "%s: %d file descriptors more: a socket, epoll or eventfd is not "
                              "closed", what, b.fds - a.fds);
    CHECK_MSG(b.threads <= a.threads, "%s: %ld threads more: a fallback or resolver thread is "
                                      "not joined", what, b.threads - a.threads);
    if (check_rss) {
        CHECK_MSG(b.rss_kib - a.rss_kib <= RSS_SLACK_KIB, "%s: RSS grew by %ld KiB (limit %d "
                  "KiB) after the warm-up: %s", what, b.rss_kib - a.rss_kib, RSS_SLACK_KIB,
                  cause);
    }
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    char url[128];
    const char *mode = getenv("WSC_LEAK_MODE");
    const char *lng = getenv("WSC_LONG");
    int full = mode != NULL && strcmp(mode, "rss") == 0;
    int factor = (lng != NULL && strcmp(lng, "1") == 0) ? 10 : 1;
    int n_cycles = full ? 10000 * factor : 200;
    long n_messages = full ? 1000000L * factor : 20000;
    int n_contexts = full ? 500 * factor : 20;
    usage_t a, b;
    int64_t t0;
    long got;

    REQUIRE(echo_server_start(&srv) == 0);
    echo_url(url, sizeof url, &srv, "/");
    printf("test_leak: %s mode: %d cycles, %ld messages, %d contexts\n",
           full ? "rss" : "short", n_cycles, n_messages, n_contexts);

    /* Connect / send / close cycles on one context. */
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    /* Warm-up: a tenth of the cycles, and at least 1.5 s (the timers'
     * steady state, see cycle()). */
    t0 = now_ms();
    CHECK_MSG(cycles(ctx, url, n_cycles / 10) == 0, "warm-up cycles failed");
    while (now_ms() - t0 < 1500) {
        CHECK_MSG(cycles(ctx, url, 100) == 0, "warm-up cycles failed");
    }
    a = usage();
    t0 = now_ms();
    CHECK_MSG(cycles(ctx, url, n_cycles) == 0, "cycles failed");
    b = usage();
    printf("%d cycles in %lld ms\n", n_cycles, (long long)(now_ms() - t0));
    check_flat("connect/send/close cycles", a, b, full,
               "a client, its connection or its events are kept after wsc_client_free "
               "(engine client map, timers, event queue, handle registry)");

    /* Messages on one connection. */
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    REQUIRE(ev != NULL);
    FREE_EVENT(ev);
    got = messages(ctx, c, n_messages / 10, 256);
    CHECK_MSG(got == n_messages / 10, "warm-up: %ld of %ld echoes", got, n_messages / 10);
    a = usage();
    t0 = now_ms();
    got = messages(ctx, c, n_messages, 256);
    b = usage();
    printf("%ld messages in %lld ms\n", got, (long long)(now_ms() - t0));
    CHECK_MSG(got == n_messages, "%ld of %ld echoes", got, n_messages);
    check_flat("messages", a, b, full,
               "messages or events are kept after delivery (unwritten list, read buffer, "
               "event queue, wsc_event_free)");
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    CHECK_MSG(await(ctx, WSC_EVENT_TYPE_CLOSED, 7000, NULL) == 0, "no CLOSED");
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);

    /* Contexts (each with its threads, poller and a client). */
    CHECK_MSG(contexts(n_contexts / 10 + 1) == 0, "warm-up contexts failed");
    a = usage();
    t0 = now_ms();
    CHECK_MSG(contexts(n_contexts) == 0, "contexts failed");
    b = usage();
    printf("%d contexts in %lld ms\n", n_contexts, (long long)(now_ms() - t0));
    check_flat("context new/free", a, b, full,
               "a context's threads, poller or registry entry outlive wsc_context_free");

    echo_server_stop(&srv);
    finish();
    return 0;
}
