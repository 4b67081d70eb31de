/*
 * test_tls: the TLS settings of the C API against a real TLS WebSocket
 * server (tests/servers/tls_ws_server.py: Python's ssl module, OpenSSL)
 * with certificates made by openssl for this run
 * (tests/servers/make-test-pki.sh, in a temporary folder removed at the
 * end): argument checks of each setting; a pinned fingerprint that matches
 * opens and one that does not fails with WSC_RESULT_TLS; capath; the TLS
 * versions and SNI as the server saw them (/info); ciphers and the
 * security level refused by the handshake; a reconnect that resumes the
 * TLS session (wsc_client_tls_session_resumed).
 */
#include "common.h"

#define PKI_SCRIPT "tests/servers/make-test-pki.sh"
#define SERVER_SCRIPT "tests/servers/tls_ws_server.py"

static char pki[128];

static void pki_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", pki, name);
}

/* The sha256 fingerprint of a PKI certificate, "AB:CD:..." (openssl x509). */
static int fingerprint_of(const char *name, char *out, size_t len)
{
    char cmd[512], line[512];
    FILE *p;
    char *eq;
    snprintf(cmd, sizeof cmd, "openssl x509 -noout -fingerprint -sha256 -in %s/%s", pki, name);
    p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    if (fgets(line, sizeof line, p) == NULL) {
        pclose(p);
        return -1;
    }
    pclose(p);
    eq = strchr(line, '=');
    if (eq == NULL) {
        return -1;
    }
    snprintf(out, len, "%s", eq + 1);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int tls_server_start(echo_server *s)
{
    char python[] = "/usr/bin/python3", script[] = SERVER_SCRIPT, fcert[] = "--cert", fkey[] = "--key",
         flife[] = "--lifetime", secs[] = "120";
    char cert[192], key[192];
    char *argv[] = {python, script, fcert, cert, fkey, key, flife, secs, NULL};
    int r;
    pki_path(cert, sizeof cert, "server.pem");
    pki_path(key, sizeof key, "server.key");
    r = server_spawn(s, argv, "TLS server", 20000,
                     " (exit 3: python3-websockets missing, scripts/install-deps.sh test)");
    if (s->pid > 0) {
        t_server_pid = s->pid;
    }
    return r;
}

/* A client of wss://localhost:PORT<path> trusting the test CA. */
static wsc_client *tls_client(wsc_context *ctx, int port, const char *path)
{
    char url[128], ca[192];
    wsc_client *c = NULL;
    snprintf(url, sizeof url, "wss://localhost:%d%s", port, path);
    pki_path(ca, sizeof ca, "ca.pem");
    CHECK_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    if (c != NULL) {
        CHECK_RC(wsc_client_set_tls_ca_file(c, ca), WSC_RESULT_OK);
    }
    return c;
}

/* Connects and expects CONNECTED then OPEN; returns 1 when it opened. */
static int expect_open(wsc_context *ctx, wsc_client *c)
{
    const wsc_event *ev;
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, 10000);
    if (ev == NULL) {
        return 0;
    }
    FREE_EVENT(ev);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, 10000);
    if (ev == NULL) {
        return 0;
    }
    FREE_EVENT(ev);
    return 1;
}

/* Connects and expects ERROR(TLS) with `needle` in its text, then CLOSED. */
static void expect_tls_error(wsc_context *ctx, wsc_client *c, const char *needle)
{
    const wsc_event *ev;
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_ERROR, 10000);
    if (ev != NULL) {
        CHECK_RC(ev->error, WSC_RESULT_TLS);
        fprintf(stderr, "   message: %s\n", ev->data ? (const char *)ev->data : "(none)");
        CHECK_MSG(ev->data != NULL && strstr((const char *)ev->data, needle) != NULL,
                  "the TLS error does not say '%s'", needle);
        CHECK_MSG(ev->data == NULL || strstr((const char *)ev->data, ".c:") == NULL,
                  "OpenSSL's source file in the message");
        FREE_EVENT(ev);
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CLOSED, 10000);
    if (ev != NULL) {
        FREE_EVENT(ev);
    }
}

/* Opens /info and returns 1 when its first message contains `needle`. */
static int info_contains(wsc_context *ctx, wsc_client *c, const char *needle)
{
    const wsc_event *ev;
    int found = 0;
    if (!expect_open(ctx, c)) {
        return 0;
    }
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 10000);
    if (ev != NULL) {
        fprintf(stderr, "   /info: %.*s\n", (int)ev->data_len, (const char *)ev->data);
        found = strstr((const char *)ev->data, needle) != NULL;
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_abort(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_CLOSED, 10000);
    CHECK(ev != NULL);
    if (ev != NULL) {
        FREE_EVENT(ev);
    }
    return found;
}

static void test_arguments(wsc_context *ctx)
{
    wsc_client *c = NULL;
    bool resumed = true;
    char missing[192];
    fprintf(stderr, "-- argument checks\n");
    CHECK_RC(wsc_client_set_tls_ca_path(NULL, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_ciphers(NULL, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_security_level(NULL, 1), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_sni(NULL, true), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_versions(NULL, 0, 0), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(NULL, NULL, "aa"), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_clear_tls_peer_fingerprints(NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_session_resumption(NULL, true), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_tls_session_resumed(NULL, &resumed), WSC_RESULT_NULL_ARGUMENT);

    CHECK_RC(wsc_client_new(ctx, "wss://localhost:1/", &c), WSC_RESULT_OK);
    REQUIRE(c != NULL);
    CHECK_RC(wsc_client_tls_session_resumed(c, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_tls_session_resumed(c, &resumed), WSC_RESULT_OK);
    CHECK(!resumed);
    CHECK_RC(wsc_client_set_tls_security_level(c, 6), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_security_level(c, -2), WSC_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(wsc_last_error(), "security level") != NULL);
    CHECK_RC(wsc_client_set_tls_security_level(c, -1), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_security_level(c, 0), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_versions(c, 14, 0), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_versions(c, 1, 0), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_set_tls_versions(c, WSC_TLS_VERSION_TLS13, WSC_TLS_VERSION_TLS12),
             WSC_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(wsc_last_error(), "above") != NULL);
    CHECK_RC(wsc_client_set_tls_versions(c, WSC_TLS_VERSION_TLS12, WSC_TLS_VERSION_DEFAULT),
             WSC_RESULT_OK);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(c, NULL, NULL), WSC_RESULT_NULL_ARGUMENT);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(c, NULL, "abcdef"), WSC_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(wsc_last_error(), "md5 (32 hex digits)") != NULL);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(c, "sha256", "abcdef"), WSC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(c, "no-such-digest", "ab"), WSC_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(wsc_last_error(), "no-such-digest") != NULL);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(c, "md5", "\xff\xfe"), WSC_RESULT_INVALID_UTF8);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(c, NULL, "0123456789abcdef0123456789ABCDEF"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_clear_tls_peer_fingerprints(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_ciphers(c, "NO-SUCH-CIPHER"), WSC_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(wsc_last_error(), "NO-SUCH-CIPHER") != NULL);
    CHECK(strstr(wsc_last_error(), ".c:") == NULL);
    CHECK_RC(wsc_client_set_tls_ciphers(c, "ECDHE-ECDSA-AES128-GCM-SHA256"), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_ciphers(c, NULL), WSC_RESULT_OK);
    pki_path(missing, sizeof missing, "no-such-folder");
    CHECK_RC(wsc_client_set_tls_ca_path(c, missing), WSC_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(wsc_last_error(), "no-such-folder") != NULL);
    CHECK_RC(wsc_client_set_tls_ca_path(c, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_sni(c, false), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_session_resumption(c, false), WSC_RESULT_OK);
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_sni(c, true), WSC_RESULT_INVALID_HANDLE);
    CHECK_RC(wsc_client_tls_session_resumed(c, &resumed), WSC_RESULT_INVALID_HANDLE);
}

static void test_fingerprints(wsc_context *ctx, int port)
{
    char fp[256], other[256];
    wsc_client *c;
    bool resumed = true;
    fprintf(stderr, "-- peer fingerprints and resumption\n");
    REQUIRE(fingerprint_of("server.pem", fp, sizeof fp) == 0);
    REQUIRE(fingerprint_of("other-server.pem", other, sizeof other) == 0);

    c = tls_client(ctx, port, "/");
    REQUIRE(c != NULL);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(c, "sha256", other), WSC_RESULT_OK);
    expect_tls_error(ctx, c, "fingerprint mismatch");
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    c = tls_client(ctx, port, "/");
    REQUIRE(c != NULL);
    CHECK_RC(wsc_client_add_tls_peer_fingerprint(c, "sha256", fp), WSC_RESULT_OK);
    /* A level no other client here uses: a TLS configuration of its own,
     * so the first handshake is a full one. */
    CHECK_RC(wsc_client_set_tls_security_level(c, 2), WSC_RESULT_OK);
    if (expect_open(ctx, c)) {
        const wsc_event *ev;
        CHECK_RC(wsc_client_tls_session_resumed(c, &resumed), WSC_RESULT_OK);
        CHECK_MSG(!resumed, "the first connection resumed");
        /* One echo: the session ticket comes before it. */
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"x", 1, NULL), WSC_RESULT_OK);
        ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 10000);
        if (ev) FREE_EVENT(ev);
        CHECK_RC(wsc_client_reconnect(c, 0), WSC_RESULT_OK);
        ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 10000);
        CHECK(ev != NULL);
        if (ev) FREE_EVENT(ev);
        CHECK_RC(wsc_client_tls_session_resumed(c, &resumed), WSC_RESULT_OK);
        CHECK_MSG(resumed, "the reconnect did not resume the TLS session");
        CHECK_RC(wsc_client_abort(c), WSC_RESULT_OK);
        ev = wait_event(ctx, WSC_EVENT_TYPE_CLOSED, 10000);
        CHECK(ev != NULL);
        if (ev) FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
}

static void test_settings(wsc_context *ctx, int port)
{
    char capath[192];
    wsc_client *c;
    fprintf(stderr, "-- capath\n");
    c = tls_client(ctx, port, "/info");
    REQUIRE(c != NULL);
    pki_path(capath, sizeof capath, "capath");
    CHECK_RC(wsc_client_set_tls_ca_file(c, NULL), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_ca_path(c, capath), WSC_RESULT_OK);
    CHECK(info_contains(ctx, c, "TLSv1.3"));
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    fprintf(stderr, "-- TLS 1.2 only, no SNI\n");
    c = tls_client(ctx, port, "/info");
    REQUIRE(c != NULL);
    CHECK_RC(wsc_client_set_tls_versions(c, WSC_TLS_VERSION_TLS12, WSC_TLS_VERSION_TLS12), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_sni(c, false), WSC_RESULT_OK);
    CHECK(info_contains(ctx, c, "\"tls_version\": \"TLSv1.2\""));
    CHECK_RC(wsc_client_set_tls_versions(c, 0, 0), WSC_RESULT_OK);
    CHECK(info_contains(ctx, c, "\"sni\": null"));
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    fprintf(stderr, "-- ciphers of another key type, TLS 1.2\n");
    c = tls_client(ctx, port, "/");
    REQUIRE(c != NULL);
    CHECK_RC(wsc_client_set_tls_versions(c, WSC_TLS_VERSION_TLS12, WSC_TLS_VERSION_TLS12), WSC_RESULT_OK);
    CHECK_RC(wsc_client_set_tls_ciphers(c, "ECDHE-RSA-AES128-GCM-SHA256"), WSC_RESULT_OK);
    expect_tls_error(ctx, c, "handshake failure");
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);

    /* Level 4 offers no signature algorithm the server's P-256 key can make. */
    fprintf(stderr, "-- security level 4 (the server's P-256 key is too weak)\n");
    c = tls_client(ctx, port, "/");
    REQUIRE(c != NULL);
    CHECK_RC(wsc_client_set_tls_security_level(c, 4), WSC_RESULT_OK);
    expect_tls_error(ctx, c, "handshake failure");
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
}

int main(void)
{
    wsc_context *ctx = NULL;
    echo_server server;
    char cmd[256];

    snprintf(pki, sizeof pki, "/tmp/wsc-c-tls-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "sh %s %s >/dev/null", PKI_SCRIPT, pki);
    REQUIRE(system(cmd) == 0);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    test_arguments(ctx);
    if (tls_server_start(&server) == 0) {
        test_fingerprints(ctx, server.port);
        test_settings(ctx, server.port);
    } else {
        CHECK_MSG(0, "the TLS server did not start");
    }
    echo_server_stop(&server);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    snprintf(cmd, sizeof cmd, "rm -rf %s", pki);
    CHECK(system(cmd) == 0);
    finish();
    return 0;
}
