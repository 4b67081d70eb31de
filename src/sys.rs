//! Every call into the operating system (libc) and into OpenSSL's C API
//! that the safe crates do not wrap: the only `unsafe` of the crate outside
//! the C ABI (`src/ffi/`). Each block carries its SAFETY argument.
//!
//! Global side effects, process-wide: [`raise_open_files_limit`] raises the
//! `RLIMIT_NOFILE` soft limit once; [`on_fork_child`] registers a
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
