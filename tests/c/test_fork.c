/*
 * test_fork: a context made before fork() (Workerman forks its workers
 * after start-up) is refused in the child with WSC_RESULT_FORKED, never a
 * hang or a crash: polling, sending and making a client on it. Its handles
 * can be freed there (OK: their memory is left alone, as the parent's
 * threads and locks do not exist in the child). A context of the child's
 * own works; the parent's context goes on working after the fork.
 */
#include "common.h"

#include <sys/wait.h>

/* The child's checks; returns its exit code (0 = all held). */
static int child(wsc_context *old_ctx, wsc_client *old_client, const char *url)
{
    const wsc_event *ev = NULL;
    wsc_client *c = NULL;
    wsc_client *other = NULL;
    wsc_context *ctx = NULL;
    static const char msg[] = "from the child";

    CHECK_RC(wsc_context_poll_event(old_ctx, 0, &ev), WSC_RESULT_FORKED);
    CHECK(ev == NULL);
    CHECK_RC(wsc_client_send(old_client, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)"x", 1, NULL),
             WSC_RESULT_FORKED);
    CHECK_RC(wsc_client_new(old_ctx, url, &other), WSC_RESULT_FORKED);
    CHECK(other == NULL);
    {
        const wsc_batch_record *batch = NULL;
        size_t len = 0;
        int fd = -1;
        CHECK_RC(wsc_context_poll_batch(old_ctx, 0, 8, &batch, &len, NULL), WSC_RESULT_FORKED);
        CHECK(batch == NULL && len == 0);
        CHECK_RC(wsc_context_fd(old_ctx, &fd), WSC_RESULT_FORKED);
        CHECK(fd == -1);
    }
    CHECK_MSG(strstr(wsc_result_str(WSC_RESULT_FORKED), "fork") != NULL,
              "the FORKED sentence names fork(): %s", wsc_result_str(WSC_RESULT_FORKED));
    /* Freeing the parent's handles here is allowed and safe. */
    CHECK_RC(wsc_client_free(old_client), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(old_ctx), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(old_ctx), WSC_RESULT_INVALID_HANDLE);

    /* A context of the child's own works. */
    CHECK_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    CHECK_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    CHECK_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    CHECK_MSG(ev != NULL, "the child's own connection opened");
    if (ev != NULL) {
        wsc_event_free(ev);
        CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)msg, strlen(msg), NULL),
                 WSC_RESULT_OK);
        ev = wait_event(ctx, WSC_EVENT_TYPE_TEXT, 5000);
        CHECK_MSG(ev != NULL && data_is(ev, msg, strlen(msg)), "the child's message echoed");
        if (ev != NULL) {
            wsc_event_free(ev);
        }
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    fprintf(stderr, "child: %d checks passed, %d failed\n", t_passed, t_failed);
    return t_failed == 0 ? 0 : 1;
}

int main(void)
{
    echo_server srv;
    wsc_context *ctx = NULL;
    wsc_client *c = NULL;
    const wsc_event *ev;
    char url[128];
    pid_t pid;
    int status = 0, exited = 0;
    static const char msg[] = "from the parent";

    REQUIRE(echo_server_start(&srv) == 0);
    echo_url(url, sizeof url, &srv, "/");
    REQUIRE_RC(wsc_context_new(&ctx), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_new(ctx, url, &c), WSC_RESULT_OK);
    REQUIRE_RC(wsc_client_connect(c), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_OPEN, 5000);
    REQUIRE(ev != NULL);
    wsc_event_free(ev);

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        /* _exit: the parent's atexit handlers and summary are not ours. */
        _exit(child(ctx, c, url));
    }
    /* Bounded: the child either exits or is killed after 30 s. */
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            break;
        }
        sleep_ms(100);
    }
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK_MSG(exited, "the child hung (killed after 30 s)");
    CHECK_MSG(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the child's checks failed (status %d)", status);

    /* The parent's context goes on. */
    CHECK_RC(wsc_client_send(c, WSC_MESSAGE_TYPE_TEXT, (const uint8_t *)msg, strlen(msg), NULL),
             WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_TEXT, 5000);
    CHECK_MSG(ev != NULL && data_is(ev, msg, strlen(msg)), "the parent's message echoed");
    if (ev != NULL) {
        wsc_event_free(ev);
    }
    CHECK_RC(wsc_client_close(c, 1000, NULL, 0), WSC_RESULT_OK);
    ev = wait_event(ctx, WSC_EVENT_TYPE_CLOSED, 5000);
    CHECK(ev != NULL);
    if (ev != NULL) {
        wsc_event_free(ev);
    }
    CHECK_RC(wsc_client_free(c), WSC_RESULT_OK);
    CHECK_RC(wsc_context_free(ctx), WSC_RESULT_OK);
    echo_server_stop(&srv);
    finish();
    return 0;
}
