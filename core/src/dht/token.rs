//! announce_peer tokens (BEP 5): a hash of the querier's IP and a secret that rotates.

use core::net::IpAddr;
use core::time::Duration;

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::time::Instant;

/// BEP 5: "a secret that changes every five minutes".
pub const ROTATE_EVERY: Duration = Duration::from_secs(300);
/// Bytes of token sent on the wire.
pub const TOKEN_LEN: usize = 8;

/// Issues and checks tokens. BEP 5: "tokens up to ten minutes old are accepted", so the
/// current and the previous secret are both honoured.
pub struct TokenSecrets {
    current: [u8; 20],
    previous: [u8; 20],
    rotated_at: Instant,
}

impl TokenSecrets {
    /// Fresh secrets from `rng`, first rotated at `now`.
    pub fn new(now: Instant, rng: &mut dyn rand_core::CryptoRng) -> TokenSecrets {
        let mut current = [0; 20];
        let mut previous = [0; 20];
        rng.fill_bytes(&mut current);
        rng.fill_bytes(&mut previous);
        TokenSecrets {
            current,
            previous,
            rotated_at: now,
        }
    }

    /// Rotates if five minutes have passed since the last rotation.
    pub fn maybe_rotate(&mut self, now: Instant, rng: &mut dyn rand_core::CryptoRng) {
        if now.saturating_duration_since(self.rotated_at) >= ROTATE_EVERY {
            self.previous = self.current;
            rng.fill_bytes(&mut self.current);
            self.rotated_at = now;
        }
    }

    /// When [`maybe_rotate`](Self::maybe_rotate) next has work.
    pub fn next_rotation(&self) -> Instant {
        self.rotated_at + ROTATE_EVERY
    }

    /// The token for a querier at `ip`.
    pub fn issue(&self, ip: IpAddr) -> [u8; TOKEN_LEN] {
        token(&self.current, ip)
    }

    /// Whether `presented` is a token issued to `ip` under the current or previous secret.
    pub fn check(&self, ip: IpAddr, presented: &[u8]) -> bool {
        let now = token(&self.current, ip);
        let before = token(&self.previous, ip);
        bool::from(presented.ct_eq(&now[..]) | presented.ct_eq(&before[..]))
    }
}

fn token(secret: &[u8; 20], ip: IpAddr) -> [u8; TOKEN_LEN] {
    let mut hash = Sha1::new();
    hash.update(secret);
    match ip {
        IpAddr::V4(v4) => hash.update(v4.octets()),
        IpAddr::V6(v6) => hash.update(v6.octets()),
    }
    let digest = hash.finalize();
    let mut out = [0; TOKEN_LEN];
    out.copy_from_slice(&digest[..TOKEN_LEN]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn tokens_bind_ip_and_survive_one_rotation() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        let mut secrets = TokenSecrets::new(Instant::ZERO, &mut rng);
        let t = secrets.issue(a);
        assert!(secrets.check(a, &t));
        assert!(!secrets.check(b, &t));
        assert!(!secrets.check(a, &t[..7]));
        secrets.maybe_rotate(Instant::from_secs(299), &mut rng);
        assert_eq!(secrets.issue(a), t);
        secrets.maybe_rotate(Instant::from_secs(300), &mut rng);
        assert_ne!(secrets.issue(a), t);
        assert!(secrets.check(a, &t), "previous secret still accepted");
        secrets.maybe_rotate(Instant::from_secs(600), &mut rng);
        assert!(!secrets.check(a, &t), "two rotations later it is refused");
        assert_eq!(secrets.next_rotation(), Instant::from_secs(900));
    }
}
