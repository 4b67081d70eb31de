//! Every call into the operating system (libc) and into OpenSSL's C API
//! that the safe crates do not wrap: the only `unsafe` of the crate outside
//! the C ABI (`src/ffi/`). Each block carries its SAFETY argument.
//!
//! Global side effects, process-wide: [`raise_open_files_limit`] raises the
//! `RLIMIT_NOFILE` soft limit once; [`presize_fd_table`] grows the
//! process's file descriptor table once; [`on_fork_child`] registers a
//! `pthread_atfork` child handler.

#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

use std::os::fd::RawFd;
use std::time::Duration;

/// Raises the process's open-files soft limit to its hard limit, once: one
/// process holds thousands of connections, one fd each, and the usual soft
/// limit is 1024. Where the hard limit is lower than needed, opening a
/// socket fails with a message saying how to raise it
/// ([`open_files_limit`]).
pub(crate) fn raise_open_files_limit() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit fill or read the struct we pass.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
    });
}

/// File descriptors the table is grown to by [`presize_fd_table`]: 1024
/// (8 KiB of kernel memory for the table; select()'s `FD_SETSIZE`).
pub(crate) const PRESIZED_FDS: i32 = 1024;

/// Grows the process's file descriptor table to [`PRESIZED_FDS`] slots (or
/// the open-files soft limit, when lower), once, while the process has a
/// single thread; does nothing in a process that already has more (or
/// when `/proc/self/stat` cannot be read).
///
/// Why: the kernel grows the table by doubling (at fd 64, 128, 256, 512...)
/// and, in a process with more than one thread, each growth waits for an
/// RCU grace period (`synchronize_rcu` in `expand_fdtable`): the
/// `socket()` call that crosses the size blocks for several milliseconds
/// (measured 8-15 ms at fd 256 on a busy 2-core machine, conns500). A
/// context starts the fallback thread, so every later growth would pay
/// that; growing the table before, while single-threaded (PHP's case),
/// costs one `fcntl(F_DUPFD_CLOEXEC)` and one `close`. The table never
/// shrinks.
pub(crate) fn presize_fd_table() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if threads() != Some(1) {
            return;
        }
        let want = (open_files_limit().min(PRESIZED_FDS as u64) as i32) - 1;
        if want < 64 {
            return;
        }
        // SAFETY: F_DUPFD_CLOEXEC duplicates fd 0..2 (or fails) into a new
        // fd of ours at or above `want`, closed at once; no other fd is
        // touched.
        unsafe {
            for fd in 0..3 {
                let dup = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, want);
                if dup >= 0 {
                    libc::close(dup);
                    return;
                }
            }
        }
    });
}

/// The number of threads of this process (field 20 of `/proc/self/stat`).
fn threads() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(17)?.parse().ok()
}

/// The open-files soft limit now, for error messages.
pub(crate) fn open_files_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct we pass.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    lim.rlim_cur
}

/// Registers `handler` to run in the child after `fork()`
/// (`pthread_atfork`). The handler must be async-signal-safe (touch
/// atomics only).
pub(crate) fn on_fork_child(handler: extern "C" fn()) {
    // SAFETY: registers a handler; the caller's contract is that it only
    // does what a fork child handler may (async-signal-safe work).
    unsafe {
        libc::pthread_atfork(None, None, Some(handler));
    }
}

/// An epoll instance watching one fd (level-triggered): readable while that
/// fd is, without consuming its events. The fallback thread waits on the
/// context's poller this way.
pub(crate) struct EpollWatch(RawFd);

impl EpollWatch {
    /// Watches `fd` for readability.
    ///
    /// Errors: the OS error of `epoll_create1` or `epoll_ctl`.
    pub(crate) fn new(fd: RawFd) -> std::io::Result<EpollWatch> {
        // SAFETY: plain syscalls on fds we own; results checked.
        unsafe {
            let epfd = libc::epoll_create1(libc::EPOLL_CLOEXEC);
            if epfd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: 0,
            };
            if libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) < 0 {
                let e = std::io::Error::last_os_error();
                libc::close(epfd);
                return Err(e);
            }
            Ok(EpollWatch(epfd))
        }
    }

    /// Waits up to `timeout` until the watched fd is readable.
    pub(crate) fn wait(&self, timeout: Duration) {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: one writable epoll_event, our own epoll fd.
        unsafe {
            libc::epoll_wait(self.0, &mut ev, 1, ms);
        }
    }
}

impl Drop for EpollWatch {
    fn drop(&mut self) {
        // SAFETY: our own fd, closed once.
        unsafe {
            libc::close(self.0);
        }
    }
}

/// True when `fd` is readable now (poll(2) with a zero timeout).
#[cfg(test)]
pub(crate) fn readable(fd: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd on the stack, a zero timeout.
    unsafe { libc::poll(&mut p, 1, 0) == 1 }
}

/// OpenSSL's compiled-in default CA file (`X509_get_default_cert_file`).
pub(crate) fn openssl_default_cert_file() -> std::path::PathBuf {
    // SAFETY: X509_get_default_cert_file returns a static C string.
    let p = unsafe { std::ffi::CStr::from_ptr(openssl_sys::X509_get_default_cert_file()) };
    std::path::PathBuf::from(p.to_string_lossy().into_owned())
}

/// OpenSSL's compiled-in default CA folder (`X509_get_default_cert_dir`).
pub(crate) fn openssl_default_cert_dir() -> String {
    // SAFETY: X509_get_default_cert_dir returns a static C string.
    let p = unsafe { std::ffi::CStr::from_ptr(openssl_sys::X509_get_default_cert_dir()) };
    p.to_string_lossy().into_owned()
}

/// Offers `session` for resumption on `ssl` (`SSL_set_session`).
///
/// The caller guarantees that `session` was made by the same `SslContext`
/// as `ssl` (the openssl crate's safety condition): wsc keeps one session
/// cache per configuration.
pub(crate) fn set_session_of_same_context(
    ssl: &mut openssl::ssl::SslRef,
    session: &openssl::ssl::SslSessionRef,
) -> Result<(), openssl::error::ErrorStack> {
    // SAFETY: the caller's contract above (same SslContext).
    unsafe { ssl.set_session(session) }
}

#[cfg(test)]
mod tests {
    /// The test harness runs tests on threads of its own: at least the
    /// main thread and this one.
    #[test]
    fn threads_reads_the_count_from_proc() {
        let n = super::threads().expect("/proc/self/stat is readable");
        assert!(n >= 2, "{n} threads");
    }

    /// In a process that already has threads the table is left alone, and
    /// the call is harmless either way: fds keep being handed out from the
    /// lowest free number.
    #[test]
    fn presizing_leaves_fd_numbering_alone() {
        super::presize_fd_table();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        assert!(a.as_raw_fd() < 1023 && b.as_raw_fd() < 1023);
    }
}
