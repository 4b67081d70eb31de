/*
 * Helpers shared by the C test programs (tests/c/test_*.c) and the C
 * benchmark (bench/c/bench.c): start and stop the echo server by PID, wait
 * for events under a deadline, and CHECK macros that print file:line and
 * wsc_result_str.
 *
 * Include this file first: it selects the POSIX API.
 *
 * Every test prints one final line "N passed, M failed" (finish()) and
 * exits 0 only when M is 0.
 */
#ifndef WSC_TEST_COMMON_H
#define WSC_TEST_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "wsc.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* Counting checks                                                     */
/* ------------------------------------------------------------------ */

static int t_passed;
static int t_failed;
/* The PID of the echo server this program started, stopped by finish(). */
static pid_t t_server_pid;

static inline void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    t_failed++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* CHECK(cond): count one check. */
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            t_passed++;                                                    \
        } else {                                                           \
            t_fail(__FILE__, __LINE__, "%s", #cond);                       \
        }                                                                  \
    } while (0)

/* CHECK_MSG(cond, fmt, args...): count one check, print a formatted
 * explanation on failure. */
#define CHECK_MSG(cond, ...)                                               \
    do {                                                                   \
        if (cond) {                                                        \
            t_passed++;                                                    \
        } else {                                                           \
            t_fail(__FILE__, __LINE__, __VA_ARGS__);                       \
        }                                                                  \
    } while (0)

/* CHECK_RC(expr, expected): expr returns a wsc_result; prints both codes
 * with their sentences on failure. Evaluates to nothing. */
#define CHECK_RC(expr, expected)                                           \
    do {                                                                   \
        int rc_got_ = (int)(expr);                                         \
        int rc_want_ = (int)(expected);                                    \
        if (rc_got_ == rc_want_) {                                         \
            t_passed++;                                                    \
        } else {                                                           \
            t_fail(__FILE__, __LINE__,                                     \
                   "%s: got %d (%s), expected %s = %d (%s)", #expr,        \
                   rc_got_, wsc_result_str(rc_got_), #expected, rc_want_,  \
                   wsc_result_str(rc_want_));                              \
        }                                                                  \
    } while (0)

static inline void finish(void);

/* REQUIRE(cond): like CHECK, but the rest of the program cannot run
 * without it: print the summary and exit 1. */
#define REQUIRE(cond)                                                      \
    do {                                                                   \
        if (cond) {                                                        \
            t_passed++;                                                    \
        } else {                                                           \
            t_fail(__FILE__, __LINE__, "required: %s", #cond);             \
            finish();                                                      \
        }                                                                  \
    } while (0)

#define REQUIRE_RC(expr, expected)                                         \
    do {                                                                   \
        int before_ = t_failed;                                            \
        CHECK_RC(expr, expected);                                          \
        if (t_failed != before_) {                                         \
            finish();                                                      \
        }                                                                  \
    } while (0)

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

static inline int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t now_ms(void) { return now_us() / 1000; }

static inline void sleep_ms(int ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------ */
/* The echo server (target/release/wsc-echo-server), started by PID     */
/* ------------------------------------------------------------------ */

typedef struct {
    pid_t pid;
    int port;
    int out_fd; /* read end of its stdout, kept open until stop */
} echo_server;

/* The server binary: $WSC_ECHO_SERVER, else target/release/wsc-echo-server
 * relative to the working directory (the repository root). */
static inline const char *echo_server_path(void)
{
    const char *p = getenv("WSC_ECHO_SERVER");
    return (p && *p) ? p : "target/release/wsc-echo-server";
}

/* Starts a test server (`argv[0]` is the program) with its stdout on a
 * pipe and reads its first line "listening on 127.0.0.1:PORT" (at most
 * `timeout_ms`); `what` names it in messages, `exit_hint` says why it may
 * exit early. Returns 0 with s->pid and s->port set; the caller decides
 * whether finish() stops it (t_server_pid). */
static inline int server_spawn(echo_server *s, char *const argv[], const char *what,
                               int timeout_ms, const char *exit_hint)
{
    int pipefd[2];
    posix_spawn_file_actions_t fa;
    char line[256];
    size_t used = 0;
    int64_t deadline;

    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->out_fd = -1;
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        perror("pipe2");
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    if (posix_spawn(&s->pid, argv[0], &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "cannot start the %s %s: %s\n", what, argv[0], strerror(errno));
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[0]);
        close(pipefd[1]);
        s->pid = -1;
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    s->out_fd = pipefd[0];

    deadline = now_ms() + timeout_ms;
    while (used < sizeof line - 1) {
        struct pollfd p;
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            fprintf(stderr, "%s: no 'listening on' line within %d ms\n", what, timeout_ms);
            return -1;
        }
        p.fd = s->out_fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, (int)left) <= 0) {
            continue;
        }
        if (read(s->out_fd, line + used, 1) <= 0) {
            fprintf(stderr, "%s exited before it was ready%s\n", what, exit_hint);
            return -1;
        }
        if (line[used] == '\n') {
            break;
        }
        used++;
    }
    line[used] = '\0';
    if (strncmp(line, "listening on 127.0.0.1:", 23) != 0) {
        fprintf(stderr, "%s: unexpected first line '%s'\n", what, line);
        return -1;
    }
    s->port = atoi(line + 23);
    return s->port > 0 ? 0 : -1;
}

/* Starts `wsc-echo-server --addr 127.0.0.1:0` and reads its first line
 * "listening on 127.0.0.1:PORT" (at most 10 s). Returns 0 on success. */
static inline int echo_server_start(echo_server *s)
{
    char addr[] = "127.0.0.1:0";
    char flag[] = "--addr";
    char *argv[] = {(char *)echo_server_path(), flag, addr, NULL};
    int r = server_spawn(s, argv, "echo server", 10000, "");
    if (s->pid > 0 && t_server_pid == 0) {
        t_server_pid = s->pid;
    }
    return r;
}

/* Stops the server by its PID: SIGTERM, then SIGKILL after 2 s. */
static inline void echo_server_stop(echo_server *s)
{
    int64_t deadline;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        deadline = now_ms() + 2000;
        for (;;) {
            pid_t r = waitpid(s->pid, NULL, WNOHANG);
            if (r == s->pid || (r < 0 && errno != EINTR)) {
                break;
            }
            if (now_ms() > deadline) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, NULL, 0);
                break;
            }
            sleep_ms(5);
        }
        if (t_server_pid == s->pid) {
            t_server_pid = 0;
        }
        s->pid = -1;
    }
    if (s->out_fd >= 0) {
        close(s->out_fd);
        s->out_fd = -1;
    }
}

/* Writes "ws://127.0.0.1:PORT<path>" into buf. */
static inline void echo_url(char *buf, size_t len, const echo_server *s,
                            const char *path)
{
    snprintf(buf, len, "ws://127.0.0.1:%d%s", s->port, path);
}

/* A loopback port that refuses connections: a socket bound to
 * 127.0.0.1:0 that never listens (kept open, so the port is not reused).
 * Returns the port; *fd_out receives the socket to close afterwards. */
static inline int refused_port(int *fd_out)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    *fd_out = fd;
    if (fd < 0) {
        return -1;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        return -1;
    }
    return ntohs(a.sin_port);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static inline const char *event_name(int t)
{
    switch (t) {
    case WSC_EVENT_TYPE_CONNECTED: return "CONNECTED";
    case WSC_EVENT_TYPE_OPEN: return "OPEN";
    case WSC_EVENT_TYPE_TEXT: return "TEXT";
    case WSC_EVENT_TYPE_BINARY: return "BINARY";
    case WSC_EVENT_TYPE_PING: return "PING";
    case WSC_EVENT_TYPE_PONG: return "PONG";
    case WSC_EVENT_TYPE_ERROR: return "ERROR";
    case WSC_EVENT_TYPE_CLOSED: return "CLOSED";
    case WSC_EVENT_TYPE_UNDELIVERED: return "UNDELIVERED";
    case WSC_EVENT_TYPE_CLOSE_FRAME: return "CLOSE_FRAME";
    case WSC_EVENT_TYPE_BUFFER_FULL: return "BUFFER_FULL";
    case WSC_EVENT_TYPE_BUFFER_DRAIN: return "BUFFER_DRAIN";
    case WSC_EVENT_TYPE_RECONNECT: return "RECONNECT";
    default: return "?";
    }
}

/* Prints one event to stderr (for diagnosis on failure). */
static inline void event_print(const char *prefix, const wsc_event *ev)
{
    size_t i, n = ev->data_len < 80 ? ev->data_len : 80;
    fprintf(stderr, "%s%s client=%llu len=%zu err=%d code=%u clean=%d data='",
            prefix, event_name((int)ev->event_type),
            (unsigned long long)ev->client_id, ev->data_len, (int)ev->error,
            (unsigned)ev->close_code, (int)ev->clean);
    for (i = 0; i < n; i++) {
        unsigned char c = ev->data[i];
        if (c >= 0x20 && c < 0x7f) {
            fputc(c, stderr);
        } else {
            fprintf(stderr, "\\x%02x", c);
        }
    }
    fprintf(stderr, "%s'\n", ev->data_len > n ? "..." : "");
}

/* The next event of any type within timeout_ms (polled in slices, bounded
 * by a deadline), or NULL. The caller frees it. A poll error counts as a
 * failed check. */
static inline const wsc_event *next_event(wsc_context *ctx, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        const wsc_event *ev = NULL;
        int64_t left = deadline - now_ms();
        wsc_result rc;
        if (left < 0) {
            return NULL;
        }
        rc = wsc_context_poll_event(ctx, (int32_t)(left < 100 ? left : 100), &ev);
        if (rc != WSC_RESULT_OK) {
            t_fail(__FILE__, __LINE__, "wsc_context_poll_event: %d (%s)",
                   (int)rc, wsc_result_str((int)rc));
            return NULL;
        }
        if (ev != NULL) {
            return ev;
        }
    }
}

/* Waits up to timeout_ms for an event of `type`, freeing (and printing)
 * the events of other types it passes. Returns it (the caller frees it)
 * or NULL. */
static inline const wsc_event *wait_event(wsc_context *ctx, int type,
                                          int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        const wsc_event *ev;
        if (left < 0) {
            fprintf(stderr, "  (no %s event within %d ms)\n", event_name(type),
                    timeout_ms);
            return NULL;
        }
        ev = next_event(ctx, (int)left);
        if (ev == NULL) {
            continue;
        }
        if ((int)ev->event_type == type) {
            return ev;
        }
        event_print("  (skipped) ", ev);
        wsc_event_free(ev);
    }
}

/* Expects the next event (within timeout_ms) to be of `type`; counts one
 * check. Returns it (the caller frees it) or NULL. */
#define EXPECT_EVENT(ctx, type, timeout_ms)                                \
    expect_event_at(__FILE__, __LINE__, (ctx), (type), (timeout_ms))

static inline const wsc_event *expect_event_at(const char *file, int line,
                                               wsc_context *ctx, int type,
                                               int timeout_ms)
{
    const wsc_event *ev = next_event(ctx, timeout_ms);
    if (ev == NULL) {
        t_fail(file, line, "expected %s, got no event within %d ms",
               event_name(type), timeout_ms);
        return NULL;
    }
    if ((int)ev->event_type != type) {
        t_fail(file, line, "expected %s, got:", event_name(type));
        event_print("  ", ev);
        wsc_event_free(ev);
        return NULL;
    }
    t_passed++;
    return ev;
}

/* Starts a Python test server of tests/servers/ (`script`, e.g.
 * "tests/servers/deflate_ws_server.py", run with Debian's /usr/bin/python3,
 * which has python3-websockets) like echo_server_start starts the echo
 * server: its "listening on 127.0.0.1:PORT" line gives the port. */
static inline int py_server_start(echo_server *s, const char *script)
{
    char python[] = "/usr/bin/python3", flag[] = "--lifetime", secs[] = "120";
    char path[256];
    char *argv[] = {python, path, flag, secs, NULL};
    snprintf(path, sizeof path, "%s", script);
    return server_spawn(s, argv, script, 20000,
                        " (exit 3: python3-websockets missing, scripts/install-deps.sh test)");
}

/* The number after `"key": ` in the JSON text of ev (as the Python test
 * servers write it), or -1. */
static inline long json_number(const wsc_event *ev, const char *key)
{
    char text[512], pat[64];
    size_t n = ev->data_len < sizeof text - 1 ? ev->data_len : sizeof text - 1;
    const char *at;
    memcpy(text, ev->data, n);
    text[n] = 0;
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    at = strstr(text, pat);
    return at ? strtol(at + strlen(pat), NULL, 10) : -1;
}

/* True when the event's data equals the len bytes at p. */
static inline int data_is(const wsc_event *ev, const void *p, size_t len)
{
    if (ev->data_len != len) {
        return 0;
    }
    return len == 0 ? ev->data == NULL : memcmp(ev->data, p, len) == 0;
}

/* Frees the event and counts a check that it was a live handle. */
#define FREE_EVENT(ev) CHECK_RC(wsc_event_free(ev), WSC_RESULT_OK)

/* A closing handshake as the caller sees it: CLOSE_FRAME with the server's
 * code (`code`), then CLOSED, which is returned (the caller frees it). */
#define EXPECT_CLOSE(ctx, code, timeout_ms) \
    expect_close_at(__FILE__, __LINE__, (ctx), (code), (timeout_ms))

static inline const wsc_event *expect_close_at(const char *file, int line, wsc_context *ctx,
                                               unsigned code, int timeout_ms)
{
    const wsc_event *ev =
        expect_event_at(file, line, ctx, WSC_EVENT_TYPE_CLOSE_FRAME, timeout_ms);
    if (ev != NULL) {
        if (ev->close_code != code) {
            t_fail(file, line, "close frame code %u, expected %u", (unsigned)ev->close_code, code);
        }
        wsc_event_free(ev);
    }
    return expect_event_at(file, line, ctx, WSC_EVENT_TYPE_CLOSED, timeout_ms);
}

/* Prints the summary line and exits (0 only without failures). Stops the
 * echo server if this program started one. */
static inline void finish(void)
{
    if (t_server_pid > 0) {
        echo_server s;
        s.pid = t_server_pid;
        s.out_fd = -1;
        s.port = 0;
        echo_server_stop(&s);
    }
    printf("%d passed, %d failed\n", t_passed, t_failed);
    fflush(stdout);
    exit(t_failed == 0 ? 0 : 1);
}

#endif /* WSC_TEST_COMMON_H */
