/*
 * The C benchmark of libwsc against wsc-echo-server (started by PID, a
 * separate process on 127.0.0.1). Prints figures only, no pass/fail:
 *
 *   1. sequential round trips: send one 32-byte text message, wait for its
 *      echo, repeat (messages/s, CPU us/message, RTT median and p99);
 *   2. a window of in-flight messages: keep 1000 64-byte text messages in
 *      flight until 200000 have come back (messages/s, CPU us/message).
 *
 * CPU is getrusage(RUSAGE_SELF): every thread of this process (the caller
 * and the wsc fallback thread), not the server; the server's CPU (from
 * /proc/PID/stat) is shown apart.
 *
 * Usage: bench [round_trips [window_messages [window]]]
 *        (defaults 20000 200000 1000; WSC_ECHO_SERVER names the server).
 */
#include "../../tests/c/common.h"

#include <sys/resource.h>

#define SEQ_SIZE 32
#define WIN_SIZE 64
#define WARMUP 1000

static double cpu_us_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

/* utime + stime of another process in us, from /proc/PID/stat; -1 if
 * unreadable. */
static double cpu_us_of(pid_t pid)
{
    char path[64], buf[1024];
    FILE *f;
    size_t n;
    char *p;
    unsigned long ut = 0, st = 0;
    int field;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* after the command name */
    if (p == NULL) {
        return -1;
    }
    p += 2; /* field 3 */
    for (field = 3; field < 14 && p; field++) {
        p = strchr(p, ' ');
        if (p) p++;
    }
    if (p == NULL || sscanf(p, "%lu %lu", &ut, &st) != 2) {
        return -1;
    }
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, wsc_result rc)
{
    fprintf(stderr, "bench: %s: %s\n", what, wsc_result_str((int)rc));
    exit(1);
}

/* Waits (at most 10 s) for the next TEXT echo; other events are fatal
 * except PONG/PING. */
static const wsc_event *next_echo(wsc_context *ctx)
{
    int64_t deadline = now_ms() + 10000;
    while (now_ms() < deadline) {
        const wsc_event *ev = NULL;
        wsc_result rc = wsc_context_poll_event(ctx, 1000, &ev);
        if (rc != WSC_RESULT_OK) {
            die("poll_event", rc);
        }
        if (ev == NULL) {
            continue;
        }
        if (ev->event_type == WSC_EVENT_TYPE_TEXT) {
            return ev;
        }
        event_print("bench: unexpected event: ", ev);
        if (ev->event_type == WSC_EVENT_TYPE_ERROR || ev->event_type == WSC_EVENT_TYPE_CLOSED) {
            exit(1);
        }
        wsc_event_free(ev);
    }
    fprintf(stderr, "bench: no echo within 10 s\n");
    exit(1);
}

int main(int argc, char **argv)
{
    long n_seq = argc > 1 ? atol(argv[1]) : 20000;
    long n_win = argc > 2 ? atol(argv[2]) : 200000;
    long window = argc > 3 ? atol(argv[3]) : 1000;
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    char url[128];
    uint8_t seq_msg[SEQ_SIZE], win_msg[WIN_SIZE];
    int64_t *rtt, t0, t1;
    double cpu0, cpu1, srv0, srv1;
    long i, sent, received, buffer_full = 0;
    double seq_rate, seq_cpu, seq_srv, win_rate, win_cpu, win_srv;
    int64_t p50, p99, pmax;
    wsc_result rc;

    if (n_seq < 1 || n_win < 1 || window < 1 || window > n_win) {
        fprintf(stderr, "usage: bench [round_trips [window_messages [window]]]\n");
        return 2;
    }
    memset(seq_msg, 'x', sizeof seq_msg);
    memset(win_msg, 'y', sizeof win_msg);
    rtt = malloc(sizeof *rtt * (size_t)n_seq);
    if (rtt == NULL) {
        return 1;
    }

    if (echo_server_start(&srv) != 0) {
        fprintf(stderr, "bench: cannot start %s\n", echo_server_path());
        return 1;
    }
    echo_url(url, sizeof url, &srv, "/");
    if ((rc = wsc_context_new(&ctx)) != WSC_RESULT_OK) die("context_new", rc);
    if ((rc = wsc_client_new(ctx, url, &c)) != WSC_RESULT_OK) die("client_new", rc);
    if ((rc = wsc_client_connect(c)) != WSC_RESULT_OK) die("connect", rc);
    ev = wait_event(ctx, WSC_EVENT_TYPE_CONNECTED, 5000);
    if (ev) wsc_event_free(ev);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    if (ev == NULL) {
        fprintf(stderr, "bench: no OPEN\n");
        return 1;
    }
    wsc_event_free(ev);

    /* Warm-up. */
    for (i = 0; i < WARMUP; i++) {
        if ((rc = wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, seq_msg, SEQ_SIZE, NULL)) != WSC_RESULT_OK)
            die("send", rc);
        wsc_event_free(next_echo(ctx));
    }

    /* 1. Sequential round trips. */
    srv0 = cpu_us_of(srv.pid);
    cpu0 = cpu_us_self();
    t0 = now_us();
    for (i = 0; i < n_seq; i++) {
        int64_t a = now_us();
        if ((rc = wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, seq_msg, SEQ_SIZE, NULL)) != WSC_RESULT_OK)
            die("send", rc);
        ev = next_echo(ctx);
        rtt[i] = now_us() - a;
        if (ev->data_len != SEQ_SIZE) {
            fprintf(stderr, "bench: echo of %zu bytes\n", ev->data_len);
            return 1;
        }
        wsc_event_free(ev);
    }
    t1 = now_us();
    cpu1 = cpu_us_self();
    srv1 = cpu_us_of(srv.pid);
    qsort(rtt, (size_t)n_seq, sizeof *rtt, cmp_i64);
    p50 = rtt[n_seq / 2];
    p99 = rtt[(size_t)((double)n_seq * 0.99) < (size_t)n_seq ? (size_t)((double)n_seq * 0.99) : (size_t)n_seq - 1];
    pmax = rtt[n_seq - 1];
    seq_rate = (double)n_seq * 1e6 / (double)(t1 - t0);
    seq_cpu = (cpu1 - cpu0) / (double)n_seq;
    seq_srv = srv0 >= 0 && srv1 >= 0 ? (srv1 - srv0) / (double)n_seq : -1;

    /* 2. A window of messages in flight. */
    srv0 = cpu_us_of(srv.pid);
    cpu0 = cpu_us_self();
    t0 = now_us();
    sent = 0;
    received = 0;
    while (received < n_win) {
        /* Top the window up. */
        while (sent < n_win && sent - received < window) {
            rc = wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, win_msg, WIN_SIZE, NULL);
            if (rc == WSC_RESULT_BUFFER_FULL) {
                buffer_full++;
                break; /* poll, then retry */
            }
            if (rc != WSC_RESULT_OK) die("send", rc);
            sent++;
        }
        ev = next_echo(ctx);
        if (ev->data_len != WIN_SIZE) {
            fprintf(stderr, "bench: echo of %zu bytes\n", ev->data_len);
            return 1;
        }
        wsc_event_free(ev);
        received++;
    }
    t1 = now_us();
    cpu1 = cpu_us_self();
    srv1 = cpu_us_of(srv.pid);
    win_rate = (double)n_win * 1e6 / (double)(t1 - t0);
    win_cpu = (cpu1 - cpu0) / (double)n_win;
    win_srv = srv0 >= 0 && srv1 >= 0 ? (srv1 - srv0) / (double)n_win : -1;

    wsc_client_close(c, 1000, NULL, 0);
    ev = wait_event(ctx, WSC_EVENT_TYPE_CLOSED, 7000);
    if (ev) wsc_event_free(ev);
    wsc_client_free(c);
    wsc_context_free(ctx);
    echo_server_stop(&srv);
    free(rtt);

    printf("wsc C benchmark: libwsc %s, echo server wsc-echo-server on %s (own process), "
           "text messages, %ld warm-up round trips\n",
           wsc_version(), url, (long)WARMUP);
    printf("CPU = getrusage(RUSAGE_SELF) of the client process, all threads; server CPU apart\n\n");
    printf("%-34s %9s %6s %11s %11s %11s %11s %11s\n", "test", "messages", "bytes",
           "msgs/s", "CPU us/msg", "srv us/msg", "RTT p50 us", "RTT p99 us");
    printf("%-34s %9ld %6d %11.0f %11.2f %11.2f %11lld %11lld\n",
           "sequential round trips", n_seq, SEQ_SIZE, seq_rate, seq_cpu, seq_srv,
           (long long)p50, (long long)p99);
    {
        char name[64];
        snprintf(name, sizeof name, "window of %ld in flight", window);
        printf("%-34s %9ld %6d %11.0f %11.2f %11.2f %11s %11s\n", name, n_win, WIN_SIZE,
               win_rate, win_cpu, win_srv, "-", "-");
    }
    printf("\n(sequential RTT max %lld us; window sends refused with BUFFER_FULL: %ld)\n",
           (long long)pmax, buffer_full);
    return 0;
}
