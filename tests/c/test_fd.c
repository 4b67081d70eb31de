/*
 * test_fd: an outer event loop (epoll) waits on wsc_context_fd and, after
 * each wake, drains wsc_context_poll_event(ctx, 0) until it returns no
 * event (never a blocking poll_event): connect, echo a text and a binary
 * message, close; the fd wakes for each step and does not spin once
 * everything is drained.
 */
#include "common.h"

#include <sys/epoll.h>

enum stage { ST_CONNECTING, ST_OPEN, ST_CLOSING, ST_DONE };

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    uint64_t id = 0;
    char url[128];
    int fd = -1, ep, wakes = 0, empty_wakes = 0, events = 0, echoes = 0;
    int saw_connected = 0, saw_open = 0;
    enum stage stage = ST_CONNECTING;
    int64_t deadline;
    struct epoll_event reg;
    static const uint8_t bin[] = {0, 0xff, 1, 0, 2};

    REQUIRE(echo_server_start(&srv) == 0);
    echo_url(url, sizeof url, &srv, "/");
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_context_fd(ctx, &fd), WSC_RESULT_OK);
    CHECK(fd >= 0);
    {
        int fd2 = -1;
        CHECK_RC(wsc_context_fd(ctx, &fd2), WSC_RESULT_OK);
        CHECK_MSG(fd2 == fd, "wsc_context_fd changed: %d then %d", fd, fd2);
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    REQUIRE(ep >= 0);
    memset(&reg, 0, sizeof reg);
    reg.events = EPOLLIN;
    reg.data.fd = fd;
    REQUIRE(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &reg) == 0);

    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);

    deadline = now_ms() + 10000;
    while (stage != ST_DONE && wakes < 10000) {
        struct epoll_event got;
        int64_t left = deadline - now_ms();
        int n, drained = 0, k;
        if (left <= 0) {
            break;
        }
        n = epoll_wait(ep, &got, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            perror("epoll_wait");
            break;
        }
        if (n == 0) {
            continue;
        }
        wakes++;
        /* Drain: timeout 0 until no event (bounded). */
        for (k = 0; k < 1000; k++) {
            const wsc_event *ev = NULL;
            wsc_result rc = wsc_context_poll_event(ctx, 0, &ev);
            if (rc != WSC_RESULT_OK) {
                CHECK_RC(rc, WSC_RESULT_OK);
                break;
            }
            if (ev == NULL) {
                break;
            }
            drained++;
            events++;
            CHECK(ev->client_id == id);
            switch ((int)ev->event_type) {
            case WSC_EVENT_TYPE_CONNECTED:
                CHECK(stage == ST_CONNECTING && !saw_connected);
                saw_connected = 1;
                break;
            case WSC_EVENT_TYPE_OPEN:
                CHECK(stage == ST_CONNECTING && saw_connected);
                CHECK(ev->data_len >= 12 && memcmp(ev->data, "HTTP/1.1 101", 12) == 0);
                saw_open = 1;
                stage = ST_OPEN;
                CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT,
                                         (const uint8_t *)"via fd", 6, NULL),
                         WSC_RESULT_OK);
                CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_BINARY, bin, sizeof bin, NULL),
                         WSC_RESULT_OK);
                break;
            case WSC_EVENT_TYPE_TEXT:
                CHECK(stage == ST_OPEN && echoes == 0);
                CHECK(data_is(ev, "via fd", 6));
                echoes++;
                break;
            case WSC_EVENT_TYPE_BINARY:
                CHECK(stage == ST_OPEN && echoes == 1);
                CHECK(data_is(ev, bin, sizeof bin));
                echoes++;
                stage = ST_CLOSING;
                CHECK_RC(wsc_client_close(c, 1000, (const uint8_t *)"done", 4), WSC_RESULT_OK);
                break;
            case WSC_EVENT_TYPE_CLOSE_FRAME:
                CHECK(stage == ST_CLOSING);
                CHECK_MSG(ev->close_code == 1000, "close frame code %u", (unsigned)ev->close_code);
                break;
            case WSC_EVENT_TYPE_CLOSED:
                CHECK(stage == ST_CLOSING);
                CHECK_MSG(ev->close_code == 1000, "close code %u", (unsigned)ev->close_code);
                CHECK(ev->clean);
                stage = ST_DONE;
                break;
            default:
                event_print("  unexpected: ", ev);
                CHECK_MSG(0, "unexpected event");
            }
            FREE_EVENT(ev);
        }
        if (drained == 0) {
            empty_wakes++;
        }
    }
    fprintf(stderr, "   %d wakes (%d without an event), %d events\n", wakes, empty_wakes,
            events);
    CHECK_MSG(stage == ST_DONE, "stopped at stage %d (connected %d, open %d, echoes %d)",
              (int)stage, saw_connected, saw_open, echoes);
    CHECK(events == 6); /* CONNECTED, OPEN, TEXT, BINARY, CLOSE_FRAME, CLOSED */
    /* A level-triggered fd that stays readable after a drain would spin. */
    CHECK_MSG(empty_wakes <= 50, "%d wakes found no event (the fd spins)", empty_wakes);

    /* Once drained and idle, the fd stays quiet (a wake with nothing to do
     * is tolerated once, then it must settle). */
    {
        struct epoll_event got;
        int quiet = 0, k;
        for (k = 0; k < 5 && !quiet; k++) {
            const wsc_event *ev = NULL;
            if (epoll_wait(ep, &got, 1, 200) == 0) {
                quiet = 1;
                break;
            }
            CHECK_RC(wsc_context_poll_event(ctx, 0, &ev), WSC_RESULT_OK);
            CHECK_MSG(ev == NULL, "an event after CLOSED");
            if (ev) {
                event_print("  ", ev);
                wsc_event_free(ev);
            }
        }
        CHECK_MSG(quiet, "the fd stays readable while there is nothing to do");
    }

    close(ep);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
