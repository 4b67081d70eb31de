/*
 * test_echo: connect to the echo server, CONNECTED then OPEN (with the raw
 * response head), text and binary round trips (payloads with NUL bytes, an
 * empty one, 1 MiB), then the closing handshake: close(1000, "bye") gives a
 * clean CLOSED with code 1000.
 */
#include "common.h"

#define BIG_LEN (1024 * 1024)

/* Sends one message and expects the same type and bytes back. */
static void round_trip(wsc_context *ctx, wsc_client *c, uint64_t id,
                       uint32_t type, const uint8_t *p, size_t len)
{
    wsc_send_status st = (wsc_send_status)99;
    int ev_type = type == WSC_MESSAGE_TYPE_TEXT ? WSC_EVENT_TYPE_TEXT
                                                : WSC_EVENT_TYPE_BINARY;
    const wsc_event *ev;

    CHECK_RC(wsc_client_send(c, type, p, len, &st), WSC_RESULT_OK);
    CHECK_MSG(st == WSC_SEND_STATUS_WRITTEN || st == WSC_SEND_STATUS_QUEUED,
              "send status %d", (int)st);
    ev = EXPECT_EVENT(ctx, ev_type, 5000);
    if (ev != NULL) {
        CHECK(ev->client_id == id);
        CHECK((uint32_t)ev->message_type == type);
        CHECK_MSG(data_is(ev, p, len), "echo of %zu bytes differs (got %zu)",
                  len, ev->data_len);
        FREE_EVENT(ev);
    }
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    uint64_t id = 0;
    wsc_status status = (wsc_status)99;
    wsc_send_status st = (wsc_send_status)99;
    const wsc_event *ev;
    char url[128];
    uint8_t *big;
    size_t i;
    static const uint8_t text_nul[] = {'a', 0, 'b', 0, 0, 'c'};
    static const uint8_t bin[] = {0, 1, 2, 0, 0xff, 0xfe, 0x80, 0};
    static const char utf8[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80";

    REQUIRE(echo_server_start(&srv) == 0);
    echo_url(url, sizeof url, &srv, "/");

    REQUIRE(wsc_version() != NULL);
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_id(c, &id), WSC_RESULT_OK);
    CHECK(id != 0);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_INITIAL);

    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK_MSG(status == WSC_STATUS_CONNECTING, "status %d", (int)status);
    /* A second connect while connecting is ignored. */
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);

    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_CONNECTED, 5000);
    REQUIRE(ev != NULL);
    CHECK(ev->struct_size == sizeof(wsc_event));
    CHECK(ev->client_id == id);
    CHECK(ev->data_len == 0 && ev->data == NULL);
    CHECK(ev->error == WSC_RESULT_OK);
    CHECK(ev->close_code == 0);
    FREE_EVENT(ev);

    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    REQUIRE(ev != NULL);
    CHECK(ev->client_id == id);
    CHECK_MSG(ev->data_len >= 12 && memcmp(ev->data, "HTTP/1.1 101", 12) == 0,
              "OPEN data does not start with HTTP/1.1 101");
    CHECK_MSG(ev->data_len >= 4 &&
                  memcmp(ev->data + ev->data_len - 4, "\r\n\r\n", 4) == 0,
              "OPEN data is not a whole head ending in CRLF CRLF");
    FREE_EVENT(ev);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_ESTABLISHED);
    /* connect on an open client is ignored. */
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);

    /* A small message on an open, idle connection is written at once. */
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"hello",
                             5, &st),
             WSC_RESULT_OK);
    CHECK(st == WSC_SEND_STATUS_WRITTEN);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_TEXT, 5000);
    if (ev != NULL) {
        CHECK(data_is(ev, "hello", 5));
        CHECK(ev->message_type == WSC_MESSAGE_TYPE_TEXT);
        FREE_EVENT(ev);
    }

    round_trip(ctx, c, id, WSC_MESSAGE_TYPE_TEXT, text_nul, sizeof text_nul);
    round_trip(ctx, c, id, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)utf8,
               strlen(utf8));
    round_trip(ctx, c, id, WSC_MESSAGE_TYPE_BINARY, bin, sizeof bin);
    /* Empty messages: NULL data with length 0; the echo has data NULL. */
    round_trip(ctx, c, id, WSC_MESSAGE_TYPE_TEXT, NULL, 0);
    round_trip(ctx, c, id, WSC_MESSAGE_TYPE_BINARY, NULL, 0);

    big = malloc(BIG_LEN);
    REQUIRE(big != NULL);
    for (i = 0; i < BIG_LEN; i++) {
        big[i] = (uint8_t)(i * 7 + (i >> 13));
    }
    round_trip(ctx, c, id, WSC_MESSAGE_TYPE_BINARY, big, BIG_LEN);
    free(big);

    /* Ping with a payload: the server's pong comes back as PONG. */
    CHECK_RC(wsc_client_ping(c, (const uint8_t *)"p1", 2), WSC_RESULT_OK);
    ev = EXPECT_EVENT(ctx, WSC_EVENT_TYPE_PONG, 5000);
    if (ev != NULL) {
        CHECK(data_is(ev, "p1", 2));
        FREE_EVENT(ev);
    }

    /* The closing handshake. */
    CHECK_RC(wsc_client_close(c, 1000, (const uint8_t *)"bye", 3), WSC_RESULT_OK);
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK_MSG(status == WSC_STATUS_CLOSING || status == WSC_STATUS_CLOSED,
              "status after close %d", (int)status);
    /* close while closing is ignored. */
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    ev = EXPECT_CLOSE(ctx, 1000, 7000);
    if (ev != NULL) {
        CHECK(ev->client_id == id);
        CHECK_MSG(ev->close_code == 1000, "close code %u", (unsigned)ev->close_code);
        CHECK(ev->clean);
        CHECK(ev->error == WSC_RESULT_OK);
        /* CLOSED text is NUL-terminated; the echo server echoes "bye". */
        CHECK(ev->data_len == 0 || ev->data[ev->data_len] == '\0');
        CHECK_MSG(data_is(ev, "bye", 3), "close reason not echoed");
        FREE_EVENT(ev);
    }
    CHECK_RC(wsc_client_status(c, &status), WSC_RESULT_OK);
    CHECK(status == WSC_STATUS_CLOSED);

    /* Nothing follows CLOSED. */
    ev = next_event(ctx, 300);
    CHECK_MSG(ev == NULL, "an event after CLOSED");
    if (ev != NULL) {
        event_print("  ", ev);
        wsc_event_free(ev);
    }

    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
