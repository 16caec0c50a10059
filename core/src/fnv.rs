//! FNV-1a, for hash tables keyed by short, fixed, compiled-in keys (word lists, n-grams), where
//! SipHash's resistance to chosen keys buys nothing and costs several times the lookup.

use std::hash::{BuildHasherDefault, Hasher};

/// The FNV-1a hasher for bytes; a `u64` key takes one multiply and fold instead.
#[derive(Default)]
pub(crate) struct Fnv(u64);

/// Builds [`Fnv`] hashers, for `HashMap` and `HashSet`.
pub(crate) type BuildFnv = BuildHasherDefault<Fnv>;

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    /// Integer keys (packed words, n-grams) take one multiply and fold, not eight byte steps.
    fn write_u64(&mut self, n: u64) {
        let h = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 32);
    }
}
