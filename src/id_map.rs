//! The hash of the maps keyed by numbers the library hands out itself:
//! the engine's client ids (in sequence) and the FFI registry's handle
//! addresses (its own allocations). No caller chooses them, so SipHash's
//! protection against chosen keys buys nothing, and it cost ~100
//! instructions per lookup: every message looks its client up at least
//! twice (the send, the readiness of its socket) and takes four registry
//! lookups (send, poll, register, free). A 64x64-bit multiply folded to 64
//! bits spreads sequential ids and aligned addresses over the buckets and
//! the top bits hashbrown uses as tags.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by client id.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// The multiply-fold hasher (see the module docs).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let p = u128::from(n ^ self.0) * u128::from(MIX);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::IdMap;

    #[test]
    fn sequential_ids_spread_and_are_found() {
        let mut m = IdMap::default();
        for id in 1..=10_000u64 {
            m.insert(id, id * 2);
        }
        for id in 1..=10_000u64 {
            assert_eq!(m.get(&id), Some(&(id * 2)));
        }
        assert_eq!(m.get(&0), None);
        assert_eq!(m.get(&10_001), None);
        // The low bits index the buckets: sequential ids must not share them.
        let h = |id: u64| {
            use std::hash::{BuildHasher, BuildHasherDefault};
            BuildHasherDefault::<super::IdHasher>::default().hash_one(id)
        };
        let buckets: std::collections::HashSet<u64> = (1..=1024u64).map(|i| h(i) & 1023).collect();
        assert!(
            buckets.len() > 550,
            "{} of 1024 buckets used",
            buckets.len()
        );
    }
}
