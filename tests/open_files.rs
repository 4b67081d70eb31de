//! Many connections need many fds: a context raises the open-files soft
//! limit to the hard limit, and running out of fds gives an error that
//! says what to do.

mod common;
use common::*;
use wsc::{Context, Error, EventKind};

fn limits() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (lim.rlim_cur, lim.rlim_max)
}

/// One test: using up every fd must not race with other tests of this
/// binary (they run on parallel threads).
#[test]
fn the_soft_limit_is_raised_and_running_out_of_fds_says_how_to_raise_it() {
    let (_, hard) = limits();
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    assert_eq!(limits().0, hard, "the soft limit is raised to the hard one");
    let client = ctx.client(&server.url("/")).unwrap();
    // Use up every fd of this process (bounded by the limit), then connect.
    let (soft, _) = limits();
    let mut hog = Vec::new();
    for _ in 0..soft.min(1 << 20) {
        match std::fs::File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(_) => break,
        }
    }
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    drop(hog);
    let msg = seen
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Error(Error::Io(m)) => Some(m.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no I/O error: {seen:?}"));
    assert!(
        msg.contains("too many open files") && msg.contains("ulimit"),
        "{msg}"
    );
}
