//! A context made before `fork()` is refused in the child with
//! `Error::Forked` (never a hang or a crash), can be dropped there, and a
//! new context made in the child works; the parent's context goes on.

mod common;
use common::*;
use std::time::Duration;
use wsc::{Context, Error, MessageType};

/// Runs `child` in a fork()ed child and returns its exit code (0 = every
/// assertion held). The child exits without unwinding into the test harness.
fn in_child(child: impl FnOnce() -> bool) -> i32 {
    // SAFETY: the child only runs `child` (our library and std) and exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(false);
        // SAFETY: _exit skips the parent's atexit handlers and test harness.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // Bounded: the child either finishes or is killed after 20 s.
    for _ in 0..200 {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    panic!("the child hung (killed after 20 s)");
}

#[test]
fn a_context_from_before_fork_is_refused_in_the_child_and_a_new_one_works() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    let url = server.url("/");
    let code = in_child(move || {
        let refused = matches!(ctx.poll_event(Some(Duration::ZERO)), Err(Error::Forked))
            && matches!(client.send(MessageType::Text, b"x"), Err(Error::Forked))
            && matches!(ctx.client(&url), Err(Error::Forked));
        drop(client);
        drop(ctx);
        // A context of the child's own works.
        let (ctx2, client2, _) = open(&url);
        client2.send(MessageType::Text, b"from the child").is_ok()
            && text_of(&wait_event(&ctx2, WAIT, is_message)) == "from the child"
            && refused
    });
    assert_eq!(code, 0, "the child's checks failed");
}

#[test]
fn the_parent_context_goes_on_after_a_fork() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    assert_eq!(in_child(|| true), 0);
    client.send(MessageType::Text, b"still here").unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "still here");
}

#[test]
fn fork_while_another_thread_polls_does_not_hang_the_child() {
    let server = EchoServer::start();
    let (ctx, _client, _) = open(&server.url("/"));
    let ctx = std::sync::Arc::new(ctx);
    let poller = {
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = ctx.poll_event(Some(Duration::from_millis(800)));
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    // The poller holds the context lock (in epoll_wait) at the fork.
    let code = in_child(|| {
        matches!(
            Context::new().map(|c| c.poll_event(Some(Duration::ZERO))),
            Ok(Ok(None))
        )
    });
    assert_eq!(code, 0);
    poller.join().unwrap();
}
