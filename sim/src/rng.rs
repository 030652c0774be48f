//! The one random source the simulator draws from, and the generators it hands to machines.
//!
//! Every random choice the simulator makes (loss, jitter, duplication, reordering, NAT port
//! choice) comes from one ChaCha8 stream seeded by [`Sim::new`](crate::Sim::new), in the order the
//! events are processed. Machines get their own ChaCha20 generators derived from the seed and a
//! label, so adding a node does not shift the stream another node sees.

use rand_chacha::{ChaCha8Rng, ChaCha20Rng};
use rand_core::{Rng, SeedableRng};

/// The simulator's own random stream.
pub(crate) struct SimRng {
    inner: ChaCha8Rng,
}

impl SimRng {
    pub(crate) fn new(seed: u64) -> SimRng {
        SimRng {
            inner: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// True with probability `p`. Draws nothing when `p` is 0 or 1, so a perfect link consumes
    /// no randomness and adding one does not perturb the rest of the run.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        // 53 random bits make a uniform f64 in [0, 1).
        let unit = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        unit < p
    }

    /// A uniform integer in `0..n` (`n > 0`), by the multiply-shift method; the bias is below
    /// 2^-32 for every `n` the simulator uses.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform number of nanoseconds in `0..=max`.
    #[inline]
    pub(crate) fn upto(&mut self, max: u64) -> u64 {
        if max == 0 {
            0
        } else {
            self.below(max.saturating_add(1))
        }
    }
}

/// 64-bit finaliser (SplitMix64's): spreads every input bit over the output.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A generator for a machine: a function of the simulator seed and `label` only.
pub(crate) fn fork(seed: u64, label: &str) -> pigeon::Rng {
    // FNV-1a over the label, then mixed with the seed: stable across platforms and releases.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_exact_mut(8).enumerate() {
        let word = mix64(seed ^ mix64(h.wrapping_add(i as u64)));
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    Box::new(ChaCha20Rng::from_seed(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chance_extremes_draw_nothing() {
        let mut a = SimRng::new(1);
        let mut b = SimRng::new(1);
        assert!(!a.chance(0.0));
        assert!(a.chance(1.0));
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = SimRng::new(9);
        for n in [1u64, 2, 3, 1000, u64::MAX] {
            for _ in 0..100 {
                assert!(r.below(n) < n);
            }
        }
        assert_eq!(r.upto(0), 0);
    }

    #[test]
    fn forks_depend_on_seed_and_label() {
        let draw = |seed, label| fork(seed, label).next_u64();
        assert_eq!(draw(1, "a"), draw(1, "a"));
        assert_ne!(draw(1, "a"), draw(1, "b"));
        assert_ne!(draw(1, "a"), draw(2, "a"));
    }
}
