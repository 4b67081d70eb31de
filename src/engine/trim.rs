//! Gives the memory of finished opening handshakes back to the system
//! (issue 16: RSS per idle connection).
//!
//! While a client waits for the server's handshake response, tungstenite
//! holds about 8 KiB of read buffers for it (a 4 KiB chunk and a 4 KiB
//! store), beside the request and the recorded head; all of it is freed
//! once the connection opens or fails. When many connections open at
//! once (a start-up, a reconnect storm), these buffers are interleaved with
//! the connections' long-lived allocations, so glibc's `malloc` cannot
//! return the freed pages by shrinking the heap: the process keeps the
//! peak of the burst as RSS (about 3 KiB more per idle connection in
//! `bench/run.sh`'s idle scenarios). `malloc_trim(0)` gives every free page
//! back (`madvise(MADV_DONTNEED)`, glibc 2.8 and later), wherever it is.
//!
//! [`HandshakeBuffers`] counts the handshakes holding such buffers, in the
//! whole process (the heap is the process's). When the last one ends and
//! at least [`TRIM_AFTER`] handshakes ended since the last trim, the heap
//! is trimmed: once at the end of a burst, at most once per `TRIM_AFTER`
//! handshakes when they come one by one. A trim takes milliseconds for a
//! heap of tens of MiB (measured: 25 ms with 10,000 open connections,
//! 12 ms when repeated), on the thread that ended the handshake, under its
//! context's lock. Only with glibc; elsewhere nothing is trimmed.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Handshakes holding tungstenite's read buffers now.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Handshakes that ended (opened or failed) since the last trim.
static ENDED: AtomicUsize = AtomicUsize::new(0);

/// The fewest handshakes ended since the last trim that make the next
/// one worth its cost (about 2 MiB of buffers freed).
pub(crate) const TRIM_AFTER: usize = 256;

/// One opening handshake under way, from the request until it opened or
/// failed (held by the connection; dropping it ends it). See the module
/// docs.
pub(crate) struct HandshakeBuffers(());

impl HandshakeBuffers {
    /// A handshake starts.
    pub(crate) fn start() -> HandshakeBuffers {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        HandshakeBuffers(())
    }
}

impl Drop for HandshakeBuffers {
    /// The handshake ended (its buffers are freed by now): trims the heap
    /// when it was the last one under way and enough ended since the last
    /// trim.
    fn drop(&mut self) {
        let ended = ENDED.fetch_add(1, Ordering::SeqCst) + 1;
        let left = IN_FLIGHT.fetch_sub(1, Ordering::SeqCst) - 1;
        if left == 0
            && ended >= TRIM_AFTER
            && ENDED
                .compare_exchange(ended, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            trim();
        }
    }
}

/// Returns the free pages of the heap to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim takes the allocator's own locks; it only returns
    // pages of free chunks to the system and touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
