/*
 * epoll_client: wsc driven by the program's own epoll loop.
 *
 * The loop watches two fds: wsc_context_fd (readable whenever wsc has
 * events; then wsc_context_poll_event is called with timeout 0 until it
 * returns no event) and a timerfd of its own that ticks every 100 ms once
 * the connection is open; a tick sends the next message when the previous
 * one has been echoed. It prints each echo, closes with
 * 1000 once every message came back, and frees everything. The whole run
 * has a 10 s deadline (the epoll_wait timeout).
 *
 * usage: epoll_client URL [MESSAGE...]     (default messages: hello, epoll)
 * exit:  0 when every message was echoed and the close was clean, 1 otherwise
 *
 * Build (from the repository root, after `cargo build --release`):
 *   cc -std=c11 -Wall -Wextra -Werror -Wpedantic -I include examples/epoll_client.c \
 *      -L target/release -lwsc -Wl,-rpath,$PWD/target/release -o epoll_client
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "wsc.h"

#define DEADLINE_MS 10000
#define SEND_EVERY_MS 100
/* The most events handled per wake before epoll gets a turn again; the
 * context fd stays readable while more are waiting. */
#define DRAIN_LIMIT 1024

struct app {
    wsc_context *ctx;
    wsc_client *client;
    int timer_fd;
    char **messages;
    int count;     /* messages to send */
    int sent;      /* sent so far */
    int echoed;    /* echoes received so far */
    int failed;    /* an ERROR event or a wrong echo */
    int closed;    /* CLOSED arrived */
    int clean;     /* ... after a completed closing handshake with 1000 */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Arms the timerfd to fire every `ms` milliseconds (0 disarms it). */
static int arm_timer(int fd, long ms)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000L;
    its.it_interval = its.it_value;
    return timerfd_settime(fd, 0, &its, NULL);
}

/* The first line of a response head (up to CR or LF), for printing. */
static int first_line_len(const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len && data[i] != '\r' && data[i] != '\n') {
        i++;
    }
    return (int)i;
}

static void send_next(struct app *app)
{
    const char *msg = app->messages[app->sent];
    wsc_result rc = wsc_client_send(app->client, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)msg,
                                    strlen(msg), NULL);
    if (rc != WSC_RESULT_OK) {
        fprintf(stderr, "send: %s: %s\n", wsc_result_str((int)rc), wsc_last_error());
        app->failed = 1;
        return;
    }
    printf("sent: %s\n", msg);
    app->sent++;
    if (app->sent == app->count) {
        arm_timer(app->timer_fd, 0);
    }
}

/* Handles one event; the caller frees it. */
static void on_event(struct app *app, const wsc_event *ev)
{
    switch (ev->event_type) {
    case WSC_EVENT_TYPE_CONNECTED:
        printf("connected\n");
        break;
    case WSC_EVENT_TYPE_OPEN:
        printf("open: %.*s\n", first_line_len(ev->data, ev->data_len), (const char *)ev->data);
        if (app->count == 0 || arm_timer(app->timer_fd, SEND_EVERY_MS) != 0) {
            wsc_client_close(app->client, 1000, NULL, 0);
        }
        break;
    case WSC_EVENT_TYPE_TEXT:
    case WSC_EVENT_TYPE_BINARY: {
        const char *want = app->echoed < app->sent ? app->messages[app->echoed] : "";
        printf("echo: %.*s\n", (int)ev->data_len, ev->data_len ? (const char *)ev->data : "");
        if (ev->data_len != strlen(want) || memcmp(ev->data, want, ev->data_len) != 0) {
            fprintf(stderr, "unexpected echo (wanted \"%s\")\n", want);
            app->failed = 1;
        }
        if (++app->echoed == app->count) {
            printf("closing\n");
            wsc_client_close(app->client, 1000, (const uint8_t *)"bye", 3);
        }
        break;
    }
    case WSC_EVENT_TYPE_ERROR:
        /* data is NUL-terminated text for ERROR events */
        printf("error: %s (%s)\n", ev->data ? (const char *)ev->data : "",
               wsc_result_str((int)ev->error));
        app->failed = 1;
        break;
    case WSC_EVENT_TYPE_CLOSED:
        printf("closed: %u %s\n", (unsigned)ev->close_code, ev->clean ? "clean" : "not clean");
        app->closed = 1;
        app->clean = ev->clean && ev->close_code == 1000;
        break;
    default: /* PING, PONG, CLOSE_FRAME, UNDELIVERED, BUFFER_*: nothing to do */
        break;
    }
}

int main(int argc, char **argv)
{
    static char *default_messages[] = {"hello", "epoll"};
    struct app app;
    int ctx_fd = -1, ep = -1, status = 1;
    int64_t deadline;
    struct epoll_event reg;
    wsc_result rc;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: %s URL [MESSAGE...]\n", argv[0]);
        return 2;
    }
    memset(&app, 0, sizeof app);
    app.timer_fd = -1;
    app.messages = argc > 2 ? argv + 2 : default_messages;
    app.count = argc > 2 ? argc - 2 : 2;

    printf("wsc %s\n", wsc_version());
    rc = wsc_context_new(&app.ctx);
    if (rc != WSC_RESULT_OK) {
        fprintf(stderr, "wsc_context_new: %s\n", wsc_result_str((int)rc));
        return 1;
    }
    rc = wsc_client_new(app.ctx, argv[1], &app.client);
    if (rc != WSC_RESULT_OK) {
        fprintf(stderr, "wsc_client_new(%s): %s: %s\n", argv[1], wsc_result_str((int)rc),
                wsc_last_error());
        goto out;
    }
    if (wsc_context_fd(app.ctx, &ctx_fd) != WSC_RESULT_OK) {
        fprintf(stderr, "wsc_context_fd failed\n");
        goto out;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    app.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || app.timer_fd < 0) {
        perror("epoll_create1/timerfd_create");
        goto out;
    }
    memset(&reg, 0, sizeof reg);
    reg.events = EPOLLIN; /* level-triggered: stays readable while events wait */
    reg.data.fd = ctx_fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ctx_fd, &reg) != 0) {
        perror("epoll_ctl(context fd)");
        goto out;
    }
    reg.data.fd = app.timer_fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, app.timer_fd, &reg) != 0) {
        perror("epoll_ctl(timerfd)");
        goto out;
    }

    if (wsc_client_connect(app.client) != WSC_RESULT_OK) {
        fprintf(stderr, "wsc_client_connect failed\n");
        goto out;
    }
    deadline = now_ms() + DEADLINE_MS;
    while (!app.closed) {
        struct epoll_event ready[2];
        int64_t left = deadline - now_ms();
        int n, i;
        if (left <= 0) {
            fprintf(stderr, "timed out after %d ms\n", DEADLINE_MS);
            break;
        }
        n = epoll_wait(ep, ready, 2, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            perror("epoll_wait");
            break;
        }
        for (i = 0; i < n; i++) {
            if (ready[i].data.fd == app.timer_fd) {
                uint64_t expirations;
                /* One message in flight at a time: the next one goes
                 * once the previous echo came back. */
                if (read(app.timer_fd, &expirations, sizeof expirations) > 0 &&
                    app.sent < app.count && app.echoed == app.sent) {
                    send_next(&app);
                }
            } else {
                /* The context fd: drain with timeout 0 until no event. */
                int k;
                for (k = 0; k < DRAIN_LIMIT && !app.closed; k++) {
                    const wsc_event *ev = NULL;
                    rc = wsc_context_poll_event(app.ctx, 0, &ev);
                    if (rc != WSC_RESULT_OK) {
                        fprintf(stderr, "wsc_context_poll_event: %s\n", wsc_result_str((int)rc));
                        app.failed = 1;
                        app.closed = 1;
                        break;
                    }
                    if (ev == NULL) {
                        break;
                    }
                    on_event(&app, ev);
                    wsc_event_free(ev);
                }
            }
        }
    }
    if (app.closed && app.clean && !app.failed && app.echoed == app.count) {
        status = 0;
    }

out:
    if (ep >= 0) {
        close(ep);
    }
    if (app.timer_fd >= 0) {
        close(app.timer_fd);
    }
    wsc_client_free(app.client);   /* NULL is a no-op */
    wsc_context_free(app.ctx);
    printf("%s\n", status == 0 ? "ok" : "failed");
    return status;
}
