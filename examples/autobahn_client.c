/*
 * The Autobahn TestSuite testee on wsc's C API: for each case of the
 * fuzzing server, connect to /runCase?case=N&agent=AGENT and echo every
 * message with its type until the server closes; then /updateReports.
 *
 * With a third argument `deflate` it offers permessage-deflate (RFC 7692)
 * in every case, with the parameters the case expects: the default offer,
 * or for the cases 13.2-13.7 the client offers of the suite's Case13_x_x
 * (server_no_context_takeover and/or server_max_window_bits 9 or 15; for
 * 13.7, which lists three offers, the first of them); the case id comes
 * from /getCaseInfo. It compresses with zlib level 1 (see offer_for).
 *
 * usage: autobahn_client URL AGENT [deflate]   (URL like ws://127.0.0.1:9001)
 * Build: cc -std=c11 -Wall -Wextra -Werror -I include examples/autobahn_client.c \
 *           -L target/release -lwsc -Wl,-rpath,$PWD/target/release
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsc.h"

/* Case limits: section 9 sends messages of up to 16 MiB. */
#define MAX_MESSAGE (64u << 20)
#define MAX_SEND_BUFFER (256u << 20)
/* The suite ends every case by itself: it closes a case after the case's own
 * limit (WAITSECS: up to 480 s in 9.7.x, 12.x and 13.x, 1000 s in 9.5.1 and
 * 9.6.1; cases that take 45 s on an idle machine have 480 s). The testee
 * waits longer than the longest of them, plus a minute for the closing
 * handshake, so that a busy machine makes a case slow, never cut short; this
 * limit only ends a case the server has stopped serving. */
#define CASE_TIMEOUT_MS ((1000 + 60) * 1000)

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one connection to `url` until CLOSED; echoes messages when `echo`;
 * copies the first text message into `first_text` if given. Returns 0 when
 * CLOSED arrived in time. */
static int run(wsc_context *ctx, const char *url, int echo, char *first_text, size_t cap,
               const wsc_compression_options *deflate) {
    wsc_client *c = NULL;
    uint64_t id = 0;
    int r = wsc_client_new(ctx, url, &c);
    if (r != WSC_RESULT_OK) {
        fprintf(stderr, "client_new(%s): %s\n", url, wsc_result_str(r));
        return -1;
    }
    wsc_client_id(c, &id);
    wsc_client_set_limits(c, MAX_MESSAGE, MAX_SEND_BUFFER);
    if (deflate && wsc_client_set_compression(c, deflate) != WSC_RESULT_OK) {
        fprintf(stderr, "set_compression: %s\n", wsc_last_error());
    }
    wsc_client_connect(c);
    long long deadline = now_ms() + CASE_TIMEOUT_MS;
    int done = 0;
    while (!done && now_ms() < deadline) {
        const wsc_event *ev = NULL;
        r = wsc_context_poll_event(ctx, (int32_t)(deadline - now_ms()), &ev);
        if (r != WSC_RESULT_OK) {
            fprintf(stderr, "poll_event: %s\n", wsc_result_str(r));
            break;
        }
        if (ev == NULL || ev->client_id != id) {
            wsc_event_free(ev);
            continue;
        }
        switch (ev->event_type) {
        case WSC_EVENT_TYPE_TEXT:
        case WSC_EVENT_TYPE_BINARY:
            if (first_text && ev->event_type == WSC_EVENT_TYPE_TEXT && first_text[0] == 0) {
                size_t n = ev->data_len < cap - 1 ? ev->data_len : cap - 1;
                memcpy(first_text, ev->data, n);
                first_text[n] = 0;
            }
            if (echo) {
                wsc_client_send(c, ev->event_type == WSC_EVENT_TYPE_TEXT ? WSC_MESSAGE_TYPE_TEXT
                                                                          : WSC_MESSAGE_TYPE_BINARY,
                                ev->data, ev->data_len, NULL);
            }
            break;
        case WSC_EVENT_TYPE_ERROR:
            fprintf(stderr, "%s: error: %.*s\n", url, (int)ev->data_len, (const char *)ev->data);
            break;
        case WSC_EVENT_TYPE_CLOSED:
            done = 1;
            break;
        default:
            break;
        }
        wsc_event_free(ev);
    }
    wsc_client_free(c);
    return done ? 0 : -1;
}

/* The offer the suite's case `id` ("13.5.2") expects (see the header). */
static wsc_compression_options offer_for(const char *id) {
    wsc_compression_options o;
    memset(&o, 0, sizeof o);
    /* zlib level 1: the cases check what comes back, not the ratio, and
     * the echo of 1000 messages of 128 KiB per case is CPU-bound (level 6
     * costs the gate minutes). */
    o.level = 1;
    int section = 0, group = 0;
    if (sscanf(id, "%d.%d", &section, &group) != 2 || section != 13) return o;
    switch (group) {
    case 2: o.server_no_context_takeover = true; break;
    case 3: o.server_max_window_bits = 9; break;
    case 4: o.server_max_window_bits = 15; break;
    case 5:
    case 7: o.server_no_context_takeover = true; o.server_max_window_bits = 9; break;
    case 6: o.server_no_context_takeover = true; o.server_max_window_bits = 15; break;
    default: break;
    }
    return o;
}

int main(int argc, char **argv) {
    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "deflate") == 0)) {
        fprintf(stderr, "usage: %s URL AGENT [deflate]\n", argv[0]);
        return 2;
    }
    const char *base = argv[1], *agent = argv[2];
    int deflate = argc == 4;
    wsc_context *ctx = NULL;
    if (wsc_context_new(&ctx) != WSC_RESULT_OK) return 1;
    char url[1024], text[64] = {0};
    snprintf(url, sizeof url, "%s/getCaseCount", base);
    int count = 0;
    if (run(ctx, url, 0, text, sizeof text, NULL) == 0) count = atoi(text);
    if (count <= 0 && getenv("AUTOBAHN_CASE_COUNT")) count = atoi(getenv("AUTOBAHN_CASE_COUNT"));
    if (count <= 0) {
        fprintf(stderr, "no case count\n");
        wsc_context_free(ctx);
        return 1;
    }
    printf("running %d cases\n", count);
    for (int i = 1; i <= count; i++) {
        wsc_compression_options offer;
        if (deflate) {
            char info[4096] = {0};
            snprintf(url, sizeof url, "%s/getCaseInfo?case=%d", base, i);
            run(ctx, url, 0, info, sizeof info, NULL);
            const char *id = strstr(info, "\"id\"");
            id = id ? strchr(id + 4, '"') : NULL;
            offer = offer_for(id ? id + 1 : "");
        }
        snprintf(url, sizeof url, "%s/runCase?case=%d&agent=%s", base, i, agent);
        if (run(ctx, url, 1, NULL, 0, deflate ? &offer : NULL) != 0)
            fprintf(stderr, "case %d did not close in time\n", i);
    }
    snprintf(url, sizeof url, "%s/updateReports?agent=%s", base, agent);
    run(ctx, url, 0, NULL, 0, NULL);
    wsc_context_free(ctx);
    return 0;
}
