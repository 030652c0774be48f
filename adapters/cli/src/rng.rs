//! Randomness for the machines the CLI drives: pigeon's core never reads the OS itself.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// A ChaCha20 generator seeded by the OS, for transaction ids, keys and certificates.
pub(crate) fn os_seeded_rng() -> Result<pigeon::Rng, String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no OS randomness: {e}"))?;
    Ok(Box::new(ChaCha20Rng::from_seed(seed)))
}
