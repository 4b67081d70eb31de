//! The handle registry: how a C pointer becomes a Rust object again.
//!
//! A handle given to C (`wsc_context *`, `wsc_client *`, `const wsc_event
//! *`) is a key into the registry; the library never dereferences a
//! pointer it receives, it looks it up. A freed handle is no longer in the
//! registry, so a double free or a use after free returns
//! `WSC_RESULT_INVALID_HANDLE` instead of touching freed memory. (An address
//! can be reused by a later object of the same kind; a stale handle then
//! names that object, which is memory-safe.)
//!
//! The registry is [`SHARDS`] maps, each behind its own lock, a handle
//! going to the shard its address picks: registering and freeing events
//! (two write locks per event on the `wsc_context_poll_event(s)` path) no
//! longer serialises every thread and context of the process on one lock.
//! (`wsc_event_free` gets only the event's address, so the registry cannot
//! be per context; `wsc_context_poll_batch` needs no event handles at all.)

use super::batch::Batches;
use super::event::{EventBox, wsc_event};
use crate::engine::{Client, Context};
use crate::id_map::IdHasher;
use parking_lot::{RwLock, RwLockWriteGuard};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, LazyLock};

/// A context as C holds it: the engine's context and what the C API keeps
/// for it (the packed batches of `wsc_context_poll_batch`).
pub(crate) struct ContextEntry {
    pub(crate) ctx: Context,
    pub(crate) batches: Batches,
}

impl std::ops::Deref for ContextEntry {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.ctx
    }
}

/// What a registered C handle owns.
pub(crate) enum Handle {
    Context(Arc<ContextEntry>),
    Client(Arc<Client>),
    /// Held only to keep the event alive until `wsc_event_free`.
    Event(#[allow(dead_code)] Box<EventBox>),
}

/// One shard of the registry: keyed by the addresses of the library's own
/// allocations (hashed as [`IdHasher`] documents).
type Map = HashMap<usize, Handle, BuildHasherDefault<IdHasher>>;

/// How many shards the registry has (a power of two).
const SHARDS: usize = 64;

static REGISTRY: LazyLock<[RwLock<Map>; SHARDS]> = LazyLock::new(|| {
    // SAFETY: the handlers take and release every shard's lock around
    // fork() so that a child never inherits one locked by a thread it lacks.
    unsafe {
        libc::pthread_atfork(
            Some(lock_for_fork),
            Some(unlock_after_fork),
            Some(unlock_after_fork),
        );
    }
    std::array::from_fn(|_| RwLock::new(Map::default()))
});

/// The shard of `key`: allocations are at least 8-byte aligned, so the
/// bits above the alignment pick it.
fn shard(key: usize) -> &'static RwLock<Map> {
    &REGISTRY[(key >> 4) % SHARDS]
}

thread_local! {
    /// The shards' write guards, held by the thread that calls fork() from
    /// the prepare handler until the parent or child handler. (In the
    /// child, the only thread is the copy of that thread.)
    static FORK_GUARD: std::cell::RefCell<Vec<RwLockWriteGuard<'static, Map>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

extern "C" fn lock_for_fork() {
    // Always in the same order, so two forking threads cannot deadlock.
    FORK_GUARD.with(|g| g.borrow_mut().extend(REGISTRY.iter().map(|s| s.write())));
}

extern "C" fn unlock_after_fork() {
    FORK_GUARD.with(|g| g.borrow_mut().clear());
}

/// Registers a context and returns its C handle.
pub(crate) fn register_context(ctx: Context) -> usize {
    // The Arc's heap address is unique while the registry holds it.
    let arc = Arc::new(ContextEntry {
        ctx,
        batches: Batches::default(),
    });
    let key = Arc::as_ptr(&arc) as usize;
    shard(key).write().insert(key, Handle::Context(arc));
    key
}

/// Registers a client and returns its C handle.
pub(crate) fn register_client(client: Client) -> usize {
    let arc = Arc::new(client);
    let key = Arc::as_ptr(&arc) as usize;
    shard(key).write().insert(key, Handle::Client(arc));
    key
}

/// Registers an event and returns its C pointer.
pub(crate) fn register_event(ev: Box<EventBox>) -> *const wsc_event {
    let ptr = &ev.raw as *const wsc_event;
    shard(ptr as usize)
        .write()
        .insert(ptr as usize, Handle::Event(ev));
    ptr
}

/// Registers a batch of events and passes each C pointer, in order, to
/// `out`.
pub(crate) fn register_events(
    evs: impl ExactSizeIterator<Item = Box<EventBox>>,
    mut out: impl FnMut(usize, *const wsc_event),
) {
    for (i, ev) in evs.enumerate() {
        out(i, register_event(ev));
    }
}

/// Frees the events behind `keys` (0 is skipped); false when one of them
/// was not a live event (the others are freed). An event owns only memory
/// (no lock is taken when it is dropped), so it is dropped under its
/// shard's lock.
pub(crate) fn remove_events(keys: impl Iterator<Item = usize>) -> bool {
    let mut all_live = true;
    for key in keys.filter(|&k| k != 0) {
        all_live &= remove(key, Kind::Event).is_some();
    }
    all_live
}

/// The live context behind `key`, if any.
pub(crate) fn context(key: usize) -> Option<Arc<ContextEntry>> {
    match shard(key).read().get(&key) {
        Some(Handle::Context(c)) => Some(c.clone()),
        _ => None,
    }
}

/// The live client behind `key`, if any.
pub(crate) fn client(key: usize) -> Option<Arc<Client>> {
    match shard(key).read().get(&key) {
        Some(Handle::Client(c)) => Some(c.clone()),
        _ => None,
    }
}

/// Which kind of handle `remove` takes out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Context,
    Client,
    Event,
}

/// Takes a handle of the given kind out of the registry; `None` when the
/// key is not a live handle of that kind (never registered, already freed,
/// or another kind). The object is dropped by the caller, outside the lock.
pub(crate) fn remove(key: usize, kind: Kind) -> Option<Handle> {
    let mut reg = shard(key).write();
    let matches = match reg.get(&key) {
        Some(Handle::Context(_)) => kind == Kind::Context,
        Some(Handle::Client(_)) => kind == Kind::Client,
        Some(Handle::Event(_)) => kind == Kind::Event,
        None => false,
    };
    if matches { reg.remove(&key) } else { None }
}
