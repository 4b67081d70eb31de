/*
 * The C benchmark of libwsc, the scenarios of bench/floor.rs (the Rust
 * floor) and bench/php/bench.php, against wsc-echo-server (a separate
 * process on 127.0.0.1). Prints figures only, no pass/fail:
 *
 *   seq32     sequential round trips: send one 32-byte binary message, wait
 *             for its echo, repeat, after 1000 warm-up round trips
 *             (messages/s, CPU us/message, RTT median and p99);
 *   window64  a window of in-flight messages: keep 1000 64-byte binary
 *             messages in flight until 200000 have come back (messages/s,
 *             CPU us/message).
 *
 * Each scenario uses its own connection, as in the floor and the PHP
 * benchmark. CPU is getrusage(RUSAGE_SELF): every thread of this process
 * (the caller and the wsc fallback thread), not the server; the server's
 * CPU (from /proc/PID/stat) is shown apart when its PID is known.
 *
 * Usage: bench [--url ws://127.0.0.1:PORT/ [--server-pid PID]]
 *              [round_trips [window_messages [window]]]
 *        (defaults 20000 200000 1000). Without --url it starts its own
 *        server: $WSC_ECHO_SERVER, else target/release/wsc-echo-server.
 *
 * Output: a table, then one line per scenario in the format of the floor,
 * which bench/run.sh collects:
 *   RESULT client=c-wsc scenario=seq32 messages=N seconds=S msg_per_s=X
 *          cpu_us_per_msg=Y rtt_p50_us=A rtt_p99_us=B
 *   RESULT client=c-wsc scenario=window64 messages=N seconds=S msg_per_s=X
 *          cpu_us_per_msg=Y
 * Bounded: every wait for an echo gives up after 10 s, the whole run
 * after 120 s (exit 1 with a message).
 */
#include "../../tests/c/common.h"

#include <sys/resource.h>

#define SEQ_SIZE 32
#define WIN_SIZE 64
#define WARMUP 1000
#define ECHO_TIMEOUT_MS 10000
#define RUN_LIMIT_MS 120000

static int64_t g_deadline_ms;

static double cpu_us_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

/* utime + stime of another process in us, from /proc/PID/stat; -1 if
 * unreadable or pid <= 0. */
static double cpu_us_of(pid_t pid)
{
    char path[64], buf[1024];
    FILE *f;
    size_t n;
    char *p;
    unsigned long ut = 0, st = 0;
    int field;
    if (pid <= 0) {
        return -1;
    }
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

/* Waits (at most 10 s, and not past the run's deadline) for the next
 * BINARY echo; other events are fatal except PONG/PING. */
static const wsc_event *next_echo(wsc_context *ctx)
{
    int64_t now = now_ms();
    int64_t deadline = now + ECHO_TIMEOUT_MS;
    if (deadline > g_deadline_ms) {
        deadline = g_deadline_ms;
    }
    while (now < deadline) {
        const wsc_event *ev = NULL;
        wsc_result rc = wsc_context_poll_event(ctx, 1000, &ev);
        if (rc != WSC_RESULT_OK) {
            die("poll_event", rc);
        }
        if (ev != NULL) {
            if (ev->event_type == WSC_EVENT_TYPE_BINARY) {
                return ev;
            }
            event_print("bench: unexpected event: ", ev);
            if (ev->event_type == WSC_EVENT_TYPE_ERROR || ev->event_type == WSC_EVENT_TYPE_CLOSED) {
                exit(1);
            }
            wsc_event_free(ev);
        }
        now = now_ms();
    }
    if (now >= g_deadline_ms) {
        fprintf(stderr, "bench: the run did not finish within %d s\n", RUN_LIMIT_MS / 1000);
    } else {
        fprintf(stderr, "bench: no echo within %d s\n", ECHO_TIMEOUT_MS / 1000);
    }
    exit(1);
}

/* A new client on url, connected and open (at most 5 s). */
static wsc_client *open_client(wsc_context *ctx, const char *url)
{
    wsc_client *c = NULL;
    const wsc_event *ev;
    wsc_result rc;
    if ((rc = wsc_client_new(ctx, url, &c)) != WSC_RESULT_OK) die("client_new", rc);
    if ((rc = wsc_client_connect(c)) != WSC_RESULT_OK) die("connect", rc);
    ev = wait_event(ctx, WSC_EVENT_TYPE_CONNECTED, 5000);
    if (ev) wsc_event_free(ev);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    if (ev == NULL) {
        fprintf(stderr, "bench: no OPEN from %s within 5 s\n", url);
        exit(1);
    }
    wsc_event_free(ev);
    return c;
}

/* Closes c (closing handshake, at most 7 s) and frees it. */
static void close_client(wsc_context *ctx, wsc_client *c)
{
    const wsc_event *ev;
    wsc_client_close(c, 1000, NULL, 0);
    ev = wait_event(ctx, WSC_EVENT_TYPE_CLOSED, 7000);
    if (ev) wsc_event_free(ev);
    wsc_client_free(c);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench [--url ws://127.0.0.1:PORT/ [--server-pid PID]] "
                    "[round_trips [window_messages [window]]]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long n_seq = 20000, n_win = 200000, window = 1000;
    const char *url_arg = NULL;
    pid_t server_pid = 0;
    int own_server = 0, npos = 0, ai;
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

    for (ai = 1; ai < argc; ai++) {
        if (strcmp(argv[ai], "--url") == 0 && ai + 1 < argc) {
            url_arg = argv[++ai];
        } else if (strcmp(argv[ai], "--server-pid") == 0 && ai + 1 < argc) {
            server_pid = (pid_t)atol(argv[++ai]);
        } else if (argv[ai][0] == '-') {
            usage();
        } else {
            long v = atol(argv[ai]);
            switch (npos++) {
            case 0: n_seq = v; break;
            case 1: n_win = v; break;
            case 2: window = v; break;
            default: usage();
            }
        }
    }
    if (n_seq < 1 || n_win < 1 || window < 1 || window > n_win) {
        usage();
    }
    if (url_arg != NULL && strncmp(url_arg, "ws://127.0.0.1:", 15) != 0) {
        fprintf(stderr, "bench: --url must be ws://127.0.0.1:PORT/ (loopback only)\n");
        return 2;
    }
    memset(seq_msg, 'x', sizeof seq_msg);
    memset(win_msg, 'y', sizeof win_msg);
    rtt = malloc(sizeof *rtt * (size_t)n_seq);
    if (rtt == NULL) {
        return 1;
    }
    g_deadline_ms = now_ms() + RUN_LIMIT_MS;

    if (url_arg != NULL) {
        snprintf(url, sizeof url, "%s", url_arg);
    } else {
        if (echo_server_start(&srv) != 0) {
            fprintf(stderr, "bench: cannot start %s\n", echo_server_path());
            return 1;
        }
        own_server = 1;
        server_pid = srv.pid;
        echo_url(url, sizeof url, &srv, "/");
    }
    if ((rc = wsc_context_new(&ctx)) != WSC_RESULT_OK) die("context_new", rc);

    /* 1. Sequential round trips, after the warm-up. */
    c = open_client(ctx, url);
    for (i = 0; i < WARMUP; i++) {
        if ((rc = wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, seq_msg, SEQ_SIZE, NULL)) != WSC_RESULT_OK)
            die("send", rc);
        wsc_event_free(next_echo(ctx));
    }
    srv0 = cpu_us_of(server_pid);
    cpu0 = cpu_us_self();
    t0 = now_us();
    for (i = 0; i < n_seq; i++) {
        int64_t a = now_us();
        if ((rc = wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, seq_msg, SEQ_SIZE, NULL)) != WSC_RESULT_OK)
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
    srv1 = cpu_us_of(server_pid);
    close_client(ctx, c);
    qsort(rtt, (size_t)n_seq, sizeof *rtt, cmp_i64);
    p50 = rtt[n_seq / 2];
    p99 = rtt[n_seq * 99 / 100];
    pmax = rtt[n_seq - 1];
    seq_rate = (double)n_seq * 1e6 / (double)(t1 - t0);
    seq_cpu = (cpu1 - cpu0) / (double)n_seq;
    seq_srv = srv0 >= 0 && srv1 >= 0 ? (srv1 - srv0) / (double)n_seq : -1;
    printf("RESULT client=c-wsc scenario=seq32 messages=%ld seconds=%.3f msg_per_s=%.0f "
           "cpu_us_per_msg=%.2f rtt_p50_us=%.1f rtt_p99_us=%.1f\n",
           n_seq, (double)(t1 - t0) / 1e6, seq_rate, seq_cpu, (double)p50, (double)p99);
    fflush(stdout);

    /* 2. A window of messages in flight. */
    c = open_client(ctx, url);
    srv0 = cpu_us_of(server_pid);
    cpu0 = cpu_us_self();
    t0 = now_us();
    sent = 0;
    received = 0;
    while (received < n_win) {
        /* Top the window up. */
        while (sent < n_win && sent - received < window) {
            rc = wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, win_msg, WIN_SIZE, NULL);
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
    srv1 = cpu_us_of(server_pid);
    win_rate = (double)n_win * 1e6 / (double)(t1 - t0);
    win_cpu = (cpu1 - cpu0) / (double)n_win;
    win_srv = srv0 >= 0 && srv1 >= 0 ? (srv1 - srv0) / (double)n_win : -1;
    printf("RESULT client=c-wsc scenario=window64 messages=%ld seconds=%.3f msg_per_s=%.0f "
           "cpu_us_per_msg=%.2f\n",
           n_win, (double)(t1 - t0) / 1e6, win_rate, win_cpu);

    close_client(ctx, c);
    wsc_context_free(ctx);
    if (own_server) {
        echo_server_stop(&srv);
    }
    free(rtt);

    printf("\nwsc C benchmark: libwsc %s, echo server on %s (%s), "
           "binary messages, %ld warm-up round trips\n",
           wsc_version(), url, own_server ? "started by the benchmark" : "given", (long)WARMUP);
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
    printf("\n(srv us/msg -1: server PID unknown; sequential RTT max %lld us; "
           "window sends refused with BUFFER_FULL: %ld)\n",
           (long long)pmax, buffer_full);
    return 0;
}
