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
 * The scale scenarios, one per run (one context each, all clients on it):
 *   bench --url URL --scenario mib1 [--count 200]
 *             sequential 1 MiB binary round trips after 5 warm-up ones;
 *   bench --url URL --scenario conns [--conns 500] [--rounds 10]
 *             opens the connections at once (open_s: until all are open),
 *             then each does `rounds` sequential 64-byte round trips, all
 *             connections at the same time (msgs/s over all of them);
 *   bench --url URL --scenario idle [--conns 1000] [--idle-seconds 3]
 *             after one warm-up connection, opens the connections at once,
 *             reports the RSS they add per connection (/proc/self/statm),
 *             the time until all were open and the CPU while idle, then one
 *             round of 32-byte messages (each connection its own content,
 *             every echo checked).
 *   bench --url URL --scenario push [--conns 1] [--size 100] [--count 500000]
 *         [--queue-limit BYTES]
 *             server push: the connections (all opened at once) receive
 *             the echo server's /push/COUNT/SIZE feed, `count` JSON text
 *             messages of `size` bytes in all, shared out evenly; each
 *             message's length is checked (the figures of the PHP
 *             benchmark's push scenario without --json), and the
 *             process's peak RSS (VmHWM) is printed as peak_rss_kib;
 *             --queue-limit sets wsc_context_set_event_queue_limit.
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
                    "[round_trips [window_messages [window]]]\n"
                    "       bench --url URL --scenario mib1 [--count N]\n"
                    "       bench --url URL --scenario conns [--conns N] [--rounds N]\n"
                    "       bench --url URL --scenario idle [--conns N] [--idle-seconds S]\n"
                    "       bench --url URL --scenario push [--conns N] [--size B] [--count N] "
                    "[--queue-limit BYTES]\n");
    exit(2);
}

/* ------------------------------------------------------ scale scenarios */

#define MIB (1 << 20)
#define MIB_WARMUP 5
#define BATCH 256

/* The resident set of this process in bytes. */
static double rss_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%ld %ld", &size, &resident) != 2) {
        fprintf(stderr, "bench: cannot read /proc/self/statm\n");
        exit(1);
    }
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static void check_run_deadline(const char *what, long done, long of)
{
    if (now_ms() > g_deadline_ms) {
        fprintf(stderr, "bench: %s: %ld of %ld within %d s\n", what, done, of, RUN_LIMIT_MS / 1000);
        exit(1);
    }
}

/* Sequential 1 MiB round trips. */
static int run_mib1(const char *url, long n)
{
    wsc_context *ctx = NULL;
    wsc_client *c;
    uint8_t *payload = malloc(MIB);
    int64_t *rtt = malloc(sizeof *rtt * (size_t)n);
    int64_t t0 = 0, t1;
    double cpu0 = 0;
    long i;
    wsc_result rc;
    if (payload == NULL || rtt == NULL) return 1;
    for (i = 0; i < MIB; i++) payload[i] = (uint8_t)(i % 251);
    if ((rc = wsc_context_new(&ctx)) != WSC_RESULT_OK) die("context_new", rc);
    c = open_client(ctx, url);
    for (i = 0; i < MIB_WARMUP + n; i++) {
        int64_t a;
        const wsc_event *ev;
        if (i == MIB_WARMUP) {
            cpu0 = cpu_us_self();
            t0 = now_us();
        }
        a = now_us();
        if ((rc = wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, payload, MIB, NULL)) != WSC_RESULT_OK)
            die("send", rc);
        ev = next_echo(ctx);
        if (ev->data_len != MIB || memcmp(ev->data, payload, 64) != 0) {
            fprintf(stderr, "bench: mib1: a wrong echo (%zu bytes)\n", ev->data_len);
            return 1;
        }
        wsc_event_free(ev);
        if (i >= MIB_WARMUP) rtt[i - MIB_WARMUP] = now_us() - a;
    }
    t1 = now_us();
    qsort(rtt, (size_t)n, sizeof *rtt, cmp_i64);
    printf("RESULT client=c-wsc scenario=mib1 messages=%ld seconds=%.3f msg_per_s=%.1f "
           "cpu_us_per_msg=%.1f rtt_p50_us=%.1f rtt_p99_us=%.1f\n",
           n, (double)(t1 - t0) / 1e6, (double)n * 1e6 / (double)(t1 - t0),
           (cpu_us_self() - cpu0) / (double)n, (double)rtt[n / 2], (double)rtt[n * 99 / 100]);
    close_client(ctx, c);
    wsc_context_free(ctx);
    free(payload);
    free(rtt);
    return 0;
}

/* The index of the client with this id in ids[0..n) (consecutive ids are
 * the usual case; a search otherwise). */
static long index_of(const uint64_t *ids, long n, uint64_t id)
{
    long i;
    if (id >= ids[0] && id - ids[0] < (uint64_t)n && ids[id - ids[0]] == id) {
        return (long)(id - ids[0]);
    }
    for (i = 0; i < n; i++) {
        if (ids[i] == id) return i;
    }
    return -1;
}

/* Opens n clients on ctx at once; returns when all are open (exits on an
 * error or after 60 s). */
static void open_many(wsc_context *ctx, const char *url, long n, wsc_client **cs, uint64_t *ids)
{
    const wsc_event *evs[BATCH];
    long opened = 0, i;
    size_t got, k;
    int64_t deadline = now_ms() + 60000;
    wsc_result rc;
    for (i = 0; i < n; i++) {
        if ((rc = wsc_client_new(ctx, url, &cs[i])) != WSC_RESULT_OK) die("client_new", rc);
        wsc_client_id(cs[i], &ids[i]);
        if ((rc = wsc_client_connect(cs[i])) != WSC_RESULT_OK) die("connect", rc);
    }
    while (opened < n) {
        if ((rc = wsc_context_poll_events(ctx, 1000, evs, BATCH, &got)) != WSC_RESULT_OK)
            die("poll_events", rc);
        for (k = 0; k < got; k++) {
            if (evs[k]->event_type == WSC_EVENT_TYPE_OPEN) {
                opened++;
            } else if (evs[k]->event_type != WSC_EVENT_TYPE_CONNECTED) {
                event_print("bench: while opening: ", evs[k]);
                fprintf(stderr, "bench: %ld of %ld connections open\n", opened, n);
                exit(1);
            }
        }
        wsc_events_free(evs, got);
        if (now_ms() > deadline) {
            fprintf(stderr, "bench: %ld of %ld connections open after 60 s\n", opened, n);
            exit(1);
        }
    }
}

/* Sends message `round` of client i: 32 or 64 bytes naming both. */
static void send_tagged(wsc_client *c, long i, long round, size_t size)
{
    char msg[64];
    wsc_result rc;
    memset(msg, '.', sizeof msg);
    snprintf(msg, sizeof msg, "%ld:%ld", i, round);
    if ((rc = wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, (const uint8_t *)msg, size, NULL)) != WSC_RESULT_OK)
        die("send", rc);
}

static int echo_is(const wsc_event *ev, long i, long round, size_t size)
{
    char msg[64];
    memset(msg, '.', sizeof msg);
    snprintf(msg, sizeof msg, "%ld:%ld", i, round);
    return ev->event_type == WSC_EVENT_TYPE_BINARY && ev->data_len == size && memcmp(ev->data, msg, size) == 0;
}

/* Each of n clients sends `rounds` messages one after the other (the next
 * when the echo of the last came), all clients at once; every echo is
 * checked. Returns the CPU us and sets *secs. */
static double echo_rounds(wsc_context *ctx, wsc_client **cs, const uint64_t *ids, long n, long rounds,
                          size_t size, double *secs)
{
    const wsc_event *evs[BATCH];
    long *done = calloc((size_t)n, sizeof *done);
    long echoed = 0, total = n * rounds, i;
    size_t got, k;
    double cpu0 = cpu_us_self();
    int64_t t0 = now_us();
    wsc_result rc;
    if (done == NULL) exit(1);
    for (i = 0; i < n; i++) send_tagged(cs[i], i, 0, size);
    while (echoed < total) {
        if ((rc = wsc_context_poll_events(ctx, 1000, evs, BATCH, &got)) != WSC_RESULT_OK)
            die("poll_events", rc);
        for (k = 0; k < got; k++) {
            long ix = index_of(ids, n, evs[k]->client_id);
            if (ix < 0 || !echo_is(evs[k], ix, done[ix], size)) {
                event_print("bench: not the expected echo: ", evs[k]);
                exit(1);
            }
            echoed++;
            if (++done[ix] < rounds) send_tagged(cs[ix], ix, done[ix], size);
        }
        wsc_events_free(evs, got);
        check_run_deadline("echoes", echoed, total);
    }
    *secs = (double)(now_us() - t0) / 1e6;
    free(done);
    return cpu_us_self() - cpu0;
}

static int run_conns(const char *url, long n, long rounds)
{
    wsc_context *ctx = NULL;
    wsc_client **cs = calloc((size_t)n, sizeof *cs);
    uint64_t *ids = calloc((size_t)n, sizeof *ids);
    double secs, cpu, open_s;
    int64_t t0;
    long i;
    wsc_result rc;
    if (cs == NULL || ids == NULL) return 1;
    if ((rc = wsc_context_new(&ctx)) != WSC_RESULT_OK) die("context_new", rc);
    t0 = now_us();
    open_many(ctx, url, n, cs, ids);
    open_s = (double)(now_us() - t0) / 1e6;
    cpu = echo_rounds(ctx, cs, ids, n, rounds, WIN_SIZE, &secs);
    printf("RESULT client=c-wsc scenario=conns%ld messages=%ld seconds=%.3f msg_per_s=%.0f "
           "cpu_us_per_msg=%.2f open_s=%.3f\n",
           n, n * rounds, secs, (double)(n * rounds) / secs, cpu / (double)(n * rounds), open_s);
    for (i = 0; i < n; i++) wsc_client_free(cs[i]);
    wsc_context_free(ctx);
    free(cs);
    free(ids);
    return 0;
}

static int run_idle(const char *url, long n, long idle_s)
{
    wsc_context *ctx = NULL;
    wsc_client *warm;
    wsc_client **cs = calloc((size_t)n, sizeof *cs);
    uint64_t *ids = calloc((size_t)n, sizeof *ids);
    double secs, cpu, open_s, rss0, rss1, idle_cpu;
    int64_t t0, idle_end;
    long i;
    wsc_result rc;
    if (cs == NULL || ids == NULL) return 1;
    if ((rc = wsc_context_new(&ctx)) != WSC_RESULT_OK) die("context_new", rc);
    warm = open_client(ctx, url);
    rss0 = rss_bytes();
    t0 = now_us();
    open_many(ctx, url, n, cs, ids);
    open_s = (double)(now_us() - t0) / 1e6;
    rss1 = rss_bytes();
    /* Idle: the caller waits in poll_event, as an application would. */
    idle_cpu = cpu_us_self();
    idle_end = now_ms() + idle_s * 1000;
    while (now_ms() < idle_end) {
        const wsc_event *ev = NULL;
        if ((rc = wsc_context_poll_event(ctx, (int)(idle_end - now_ms()), &ev)) != WSC_RESULT_OK)
            die("poll_event", rc);
        if (ev != NULL) {
            event_print("bench: an event while idle: ", ev);
            exit(1);
        }
    }
    idle_cpu = (cpu_us_self() - idle_cpu) / ((double)idle_s * 1e6) * 100.0;
    cpu = echo_rounds(ctx, cs, ids, n, 1, SEQ_SIZE, &secs);
    printf("RESULT client=c-wsc scenario=idle%ld messages=%ld seconds=%.3f msg_per_s=%.0f "
           "cpu_us_per_msg=%.2f open_s=%.3f rss_kib_per_conn=%.1f idle_cpu_pct=%.2f\n",
           n, n, secs, (double)n / secs, cpu / (double)n, open_s, (rss1 - rss0) / 1024.0 / (double)n,
           idle_cpu);
    fflush(stdout);
    for (i = 0; i < n; i++) wsc_client_free(cs[i]);
    wsc_client_free(warm);
    wsc_context_free(ctx);
    free(cs);
    free(ids);
    return 0;
}

/* The peak resident set of this process (VmHWM), in KiB. */
static long peak_rss_kib(void)
{
    char line[256];
    long kib = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    }
    fclose(f);
    return kib;
}

/* Server push: n connections to /push/COUNT/SIZE, `total` messages in
 * all; from the connects to the last message. */
static int run_push(const char *url, long n, long size, long total, long queue_limit)
{
    wsc_context *ctx = NULL;
    wsc_client **cs = calloc((size_t)n, sizeof *cs);
    const wsc_event *evs[BATCH];
    char curl[256];
    long i, received = 0, closed = 0;
    size_t got, k;
    int64_t t0;
    double cpu0, secs;
    wsc_result rc;
    if (cs == NULL) return 1;
    if ((rc = wsc_context_new(&ctx)) != WSC_RESULT_OK) die("context_new", rc);
    if (queue_limit >= 0 && (rc = wsc_context_set_event_queue_limit(ctx, (size_t)queue_limit)) != WSC_RESULT_OK)
        die("set_event_queue_limit", rc);
    cpu0 = cpu_us_self();
    t0 = now_us();
    for (i = 0; i < n; i++) {
        long count = total / n + (i < total % n ? 1 : 0);
        snprintf(curl, sizeof curl, "%spush/%ld/%ld", url, count, size);
        if ((rc = wsc_client_new(ctx, curl, &cs[i])) != WSC_RESULT_OK) die("client_new", rc);
        if ((rc = wsc_client_connect(cs[i])) != WSC_RESULT_OK) die("connect", rc);
    }
    while (received < total) {
        if ((rc = wsc_context_poll_events(ctx, 1000, evs, BATCH, &got)) != WSC_RESULT_OK)
            die("poll_events", rc);
        for (k = 0; k < got; k++) {
            int t = (int)evs[k]->event_type;
            if (t == WSC_EVENT_TYPE_TEXT && evs[k]->data_len == (size_t)size) {
                received++;
            } else if (t == WSC_EVENT_TYPE_CLOSED && evs[k]->clean) {
                closed++; /* after its last message: the server's close frame */
            } else if (t != WSC_EVENT_TYPE_CONNECTED && t != WSC_EVENT_TYPE_OPEN &&
                       t != WSC_EVENT_TYPE_CLOSE_FRAME) {
                event_print("bench: push: ", evs[k]);
                fprintf(stderr, "bench: push: %ld of %ld messages\n", received, total);
                exit(1);
            }
        }
        wsc_events_free(evs, got);
        if (closed == n && received < total) {
            fprintf(stderr, "bench: push: every connection closed after %ld of %ld messages\n", received, total);
            exit(1);
        }
        check_run_deadline("push", received, total);
    }
    secs = (double)(now_us() - t0) / 1e6;
    printf("RESULT client=c-wsc scenario=push%ldx%ld messages=%ld seconds=%.3f msg_per_s=%.0f "
           "cpu_us_per_msg=%.3f peak_rss_kib=%ld\n",
           n, size, total, secs, (double)total / secs, (cpu_us_self() - cpu0) / (double)total, peak_rss_kib());
    fflush(stdout);
    for (i = 0; i < n; i++) wsc_client_free(cs[i]);
    wsc_context_free(ctx);
    free(cs);
    return 0;
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

    const char *scenario = NULL;
    long count = -1, conns = -1, rounds = 10, idle_s = 3, size = 100, queue_limit = -1;

    for (ai = 1; ai < argc; ai++) {
        if (strcmp(argv[ai], "--scenario") == 0 && ai + 1 < argc) {
            scenario = argv[++ai];
        } else if (strcmp(argv[ai], "--count") == 0 && ai + 1 < argc) {
            count = atol(argv[++ai]);
        } else if (strcmp(argv[ai], "--conns") == 0 && ai + 1 < argc) {
            conns = atol(argv[++ai]);
        } else if (strcmp(argv[ai], "--queue-limit") == 0 && ai + 1 < argc) {
            queue_limit = atol(argv[++ai]);
        } else if (strcmp(argv[ai], "--size") == 0 && ai + 1 < argc) {
            size = atol(argv[++ai]);
        } else if (strcmp(argv[ai], "--rounds") == 0 && ai + 1 < argc) {
            rounds = atol(argv[++ai]);
        } else if (strcmp(argv[ai], "--idle-seconds") == 0 && ai + 1 < argc) {
            idle_s = atol(argv[++ai]);
        } else if (strcmp(argv[ai], "--url") == 0 && ai + 1 < argc) {
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
    if (scenario != NULL) {
        if (url_arg == NULL || count == 0 || count < -1 || rounds < 1 || idle_s < 1 || conns == 0 ||
            conns < -1 || size < 80 || size > 65536) {
            usage();
        }
        if (strcmp(scenario, "mib1") == 0) return run_mib1(url_arg, count < 0 ? 200 : count);
        if (strcmp(scenario, "push") == 0) {
            long pn = conns < 0 ? 1 : conns, total = count < 0 ? 500000 : count;
            if (total < pn) usage();
            return run_push(url_arg, pn, size, total, queue_limit);
        }
        if (strcmp(scenario, "conns") == 0) return run_conns(url_arg, conns < 0 ? 500 : conns, rounds);
        if (strcmp(scenario, "idle") == 0) return run_idle(url_arg, conns < 0 ? 1000 : conns, idle_s);
        usage();
    }

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
