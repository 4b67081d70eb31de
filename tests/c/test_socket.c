/*
 * test_socket: the socket options of issue 17 through the C API, seen on
 * the client's real socket (getsockopt on the fd bound to the address
 * wsc_client_address reports) and by the echo server (/peer-address sends
 * the client's address as it sees it):
 * - TCP keepalive on by default with Workerman 5's values (55 s idle,
 *   55 s interval, 1 probe) and TCP_NODELAY on; both settable, keepalive
 *   off with idle 0;
 * - wsc_client_set_bind_address: the server sees the bound address;
 * - wsc_client_set_connect_to with a black-holed first address (a
 *   listener on 127.0.0.2 whose accept queue is full): Happy Eyeballs
 *   opens on the second address after about 250 ms, not after the connect
 *   timeout, and the URL's host stays in the Host header;
 * - argument checks: NULL, out of range, malformed, freed handle.
 */
#include "common.h"

#include <netinet/tcp.h>

/* The fd of this process's connected TCP socket whose local address,
 * formatted as wsc does ("IP:PORT"), is `local`; -1 when none. */
static int fd_of(const char *local)
{
    for (int fd = 3; fd < 4096; fd++) {
        struct sockaddr_storage a;
        socklen_t len = sizeof a;
        char ip[INET6_ADDRSTRLEN];
        char text[64];
        int port;
        if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
            continue;
        }
        if (a.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&a;
            inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
            port = ntohs(in->sin_port);
            snprintf(text, sizeof text, "%s:%d", ip, port);
        } else if (a.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
            port = ntohs(in6->sin6_port);
            snprintf(text, sizeof text, "[%s]:%d", ip, port);
        } else {
            continue;
        }
        len = sizeof a;
        if (strcmp(text, local) == 0 && getpeername(fd, (struct sockaddr *)&a, &len) == 0) {
            return fd;
        }
    }
    return -1;
}

static int int_opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) != 0) {
        return -1;
    }
    return v;
}

/* Checks the options of the socket bound to `local` (getsockopt). */
static void expect_options(const char *local, int keepalive, int idle, int interval, int count,
                           int nodelay)
{
    int fd = fd_of(local);
    CHECK_MSG(fd >= 0, "no socket bound to %s", local);
    if (fd < 0) {
        return;
    }
    CHECK(int_opt(fd, SOL_SOCKET, SO_KEEPALIVE) == keepalive);
    if (keepalive) {
        CHECK(int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE) == idle);
        CHECK(int_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL) == interval);
        CHECK(int_opt(fd, IPPROTO_TCP, TCP_KEEPCNT) == count);
    }
    CHECK(int_opt(fd, IPPROTO_TCP, TCP_NODELAY) == nodelay);
}

/* Waits for OPEN, then for the /peer-address text: checks that the server
 * saw the client's local address, and that it starts with `want_ip`
 * (NULL: any). Copies the local address into `local`. */
static void expect_peer_address(wsc_context *ctx, wsc_client *c, const char *want_ip,
                                char *local, size_t local_len)
{
    const wsc_event *ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 10000);
    local[0] = '\0';
    CHECK_MSG(ev != NULL, "no OPEN");
    if (ev == NULL) {
        return;
    }
    FREE_EVENT(ev);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 5000);
    if (ev == NULL) {
        return;
    }
    CHECK_RC(wsc_client_address(c, true, local, local_len), WSC_RESULT_OK);
    CHECK_MSG(data_is(ev, local, strlen(local)), "the server saw %.*s, the client is %s",
              (int)ev->data_len, (const char *)ev->data, local);
    if (want_ip != NULL) {
        CHECK_MSG(strncmp(local, want_ip, strlen(want_ip)) == 0, "bound to %s, not %s", local,
                  want_ip);
    }
    FREE_EVENT(ev);
}

/* A black-holed address: a listener on 127.0.0.2 with backlog 0 whose
 * accept queue is filled (at most 8 tries), so further SYNs are dropped.
 * Returns its port; the listener and the queued sockets go into fds[]
 * (closed by the caller). */
static int black_hole(int fds[8], int *nfds)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    *nfds = 0;
    if (l < 0) {
        return -1;
    }
    fds[(*nfds)++] = l;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 0) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0) {
        return -1;
    }
    while (*nfds < 8) {
        struct pollfd p;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s < 0) {
            return -1;
        }
        if (connect(s, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
            close(s);
            return -1;
        }
        p.fd = s;
        p.events = POLLOUT;
        p.revents = 0;
        if (poll(&p, 1, 300) == 0) {
            /* Not connected within 300 ms: the queue is full. */
            close(s);
            return ntohs(a.sin_port);
        }
        fds[(*nfds)++] = s;
    }
    return -1;
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    char url[160];
    char local[64];
    char to[128];

    REQUIRE(echo_server_start(&srv) == 0);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);

    /* 1. Defaults: keepalive 55/55/1 and TCP_NODELAY on. */
    echo_url(url, sizeof url, &srv, "/peer-address");
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    expect_peer_address(ctx, c, "127.0.0.1:", local, sizeof local);
    expect_options(local, 1, 55, 55, 1, 1);

    /* 2. Settable: keepalive 20/7/3, Nagle on, bound to 127.0.0.4. */
    CHECK_RC(wsc_client_set_tcp_keepalive(c, 20, 7, 3), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tcp_nodelay(c, false), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_bind_address(c, "127.0.0.4:0"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_reconnect(c, 0), WSC_RESULT_OK);
    expect_peer_address(ctx, c, "127.0.0.4:", local, sizeof local);
    expect_options(local, 1, 20, 7, 3, 0);

    /* 3. Keepalive off; the bind address back to the kernel's choice. */
    CHECK_RC(wsc_client_set_tcp_keepalive(c, 0, 0, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_bind_address(c, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_reconnect(c, 0), WSC_RESULT_OK);
    expect_peer_address(ctx, c, "127.0.0.1:", local, sizeof local);
    expect_options(local, 0, 0, 0, 0, 0); /* TCP_NODELAY still off (step 2) */

    /* 4. Argument checks. */
    CHECK_RC(wsc_client_set_tcp_nodelay(NULL, true), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tcp_keepalive(NULL, 1, 1, 1), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_bind_address(NULL, "127.0.0.1:0"), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_connect_to(NULL, "127.0.0.1:1"), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tcp_keepalive(c, 1, 0, 1), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_tcp_keepalive(c, 40000, 1, 1), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_tcp_keepalive(c, 1, 1, 200), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_bind_address(c, "localhost:0"), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_MSG(strstr(wsc_last_error(), "localhost:0") != NULL, "last error: %s",
              wsc_last_error());
    CHECK_RC(wsc_client_set_connect_to(c, "a.example,b.example"), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_connect_to(c, "127.0.0.1:0"), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_connect_to(c, "\xff"), WSC_RESULT_INVALID_UTF8);
    CHECK_RC(wsc_client_set_connect_to(c, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tcp_nodelay(c, true), WSC_RESULT_INVALID_HANDLE);
    CHECK_RC(wsc_client_set_connect_to(c, "127.0.0.1"), WSC_RESULT_INVALID_HANDLE);
    c = NULL;

    /* 5. Happy Eyeballs through connect-to: a black-holed 127.0.0.2 first. */
    {
        int fds[8];
        int nfds = 0;
        int hole = black_hole(fds, &nfds);
        const wsc_event *ev;
        int64_t t0, took;
        CHECK_MSG(hole > 0, "could not fill the backlog of a listener on 127.0.0.2");
        if (hole > 0) {
            snprintf(url, sizeof url, "ws://wsc-c-test.invalid:%d/headers", srv.port);
            snprintf(to, sizeof to, "127.0.0.2:%d,127.0.0.1:%d", hole, srv.port);
            REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
            CHECK_RC(wsc_client_set_timeouts(c, 20000, 0), WSC_RESULT_OK);
            CHECK_RC(wsc_client_set_connect_to(c, to), WSC_RESULT_OK);
            t0 = now_ms();
            CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
            ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 25000);
            took = now_ms() - t0;
            CHECK_MSG(ev != NULL, "no OPEN");
            if (ev) FREE_EVENT(ev);
            fprintf(stderr, "   opened on the second address after %lld ms\n", (long long)took);
            /* 250 ms attempt delay; 5 s: a margin for a busy machine, far
             * below the 20 s connect timeout. */
            CHECK_MSG(took >= 240 && took < 5000, "opened after %lld ms", (long long)took);
            CHECK_RC(wsc_client_address(c, false, local, sizeof local), WSC_RESULT_OK);
            snprintf(to, sizeof to, "127.0.0.1:%d", srv.port);
            CHECK_MSG(strcmp(local, to) == 0, "connected to %s", local);
            ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 5000);
            if (ev) {
                snprintf(to, sizeof to, "\"host\":\"wsc-c-test.invalid:%d\"", srv.port);
                CHECK_MSG(memmem(ev->data, ev->data_len, to, strlen(to)) != NULL,
                          "Host is not the URL's: %.*s", (int)ev->data_len,
                          (const char *)ev->data);
                FREE_EVENT(ev);
            }
            CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
        }
        for (int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
    }

    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
