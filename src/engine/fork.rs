//! Fork detection. After `fork()` the child has none of a context's threads
//! (fallback, resolver), and a lock may be held by a thread that does not
//! exist there: a context created before the fork cannot work in the child.
//! A `pthread_atfork` child handler bumps a process-wide generation; a
//! context remembers the generation it was made in, and is refused in a
//! child (`Error::Forked`) before any lock is touched.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The fork generation of this process: 0 in the process that loaded wsc,
/// one more in each `fork()` child (and its children).
pub(crate) fn generation() -> u64 {
    INSTALL.call_once(|| {
        // The handler only touches an atomic, which is async-signal-safe
        // as a fork child handler must be.
        crate::sys::on_fork_child(in_child);
    });
    GENERATION.load(Ordering::SeqCst)
}
