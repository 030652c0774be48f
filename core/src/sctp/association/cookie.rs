//! The State Cookie (RFC 9260 §5.1.3): everything the INIT ACK sender needs to build its TCB
//! when the COOKIE ECHO comes back, so it keeps no state between the two, protected by an
//! HMAC-SHA256 under a secret drawn from the injected random generator.

use core::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::Instant;

/// Bytes of the fields before the MAC.
const BODY_LEN: usize = 8 + 4 * 5 + 2 * 2 + 1 + 4 * 2 + 4;
/// Bytes of the HMAC-SHA256 tag.
const MAC_LEN: usize = 32;
/// Bytes of a whole cookie.
pub(crate) const COOKIE_LEN: usize = BODY_LEN + MAC_LEN;

/// What a cookie carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CookieState {
    /// When the INIT ACK was made (RFC 9260 §5.1.3: the timestamp that bounds its life).
    pub(crate) created: Instant,
    /// Our verification tag for the new association.
    pub(crate) my_tag: u32,
    /// Our initial TSN.
    pub(crate) my_initial_tsn: u32,
    /// The peer's verification tag (its Initiate Tag).
    pub(crate) peer_tag: u32,
    /// The peer's initial TSN.
    pub(crate) peer_initial_tsn: u32,
    /// The peer's advertised receiver window.
    pub(crate) peer_rwnd: u32,
    /// Streams we may send on.
    pub(crate) outbound_streams: u16,
    /// Streams the peer may send on.
    pub(crate) inbound_streams: u16,
    /// Bit 0: the peer supports FORWARD TSN (RFC 3758); bit 1: RE-CONFIG (RFC 6525); bit 2:
    /// zero checksums (RFC 9653); bits 3 and 4: I-DATA and I-FORWARD-TSN (RFC 8260).
    pub(crate) features: u8,
    /// RFC 9260 §5.2.2: the tags of the association that existed when the INIT came (zero
    /// when none), to tell a peer restart from a stale cookie.
    pub(crate) tie_tags: (u32, u32),
    /// RFC 9260 §5.1.3: extra lifetime granted at the peer's request (Cookie Preservative),
    /// in milliseconds.
    pub(crate) extra_life_ms: u32,
}

/// Makes and checks cookies.
pub(crate) struct CookieSecret {
    key: [u8; 32],
}

impl core::fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CookieSecret(..)")
    }
}

/// Why a COOKIE ECHO was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CookieError {
    /// Wrong length or MAC: not ours, or altered.
    Invalid,
    /// RFC 9260 §5.1.5 step 3: older than its lifetime. The MAC was good, so the peer's tag
    /// it carries can be trusted for the Stale Cookie ERROR.
    Stale {
        /// How much older than its lifetime.
        by: Duration,
        /// The peer's verification tag (its Initiate Tag).
        peer_tag: u32,
    },
}

impl CookieSecret {
    pub(crate) fn new(rng: &mut crate::Rng) -> CookieSecret {
        let mut key = [0; 32];
        rng.fill_bytes(&mut key);
        CookieSecret { key }
    }

    fn mac(&self, body: &[u8]) -> hmac::digest::Output<Hmac<Sha256>> {
        // NOTE(unwrap): HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("any key length");
        mac.update(body);
        mac.finalize().into_bytes()
    }

    pub(crate) fn make(&self, state: &CookieState) -> Vec<u8> {
        let mut out = Vec::with_capacity(COOKIE_LEN);
        out.extend_from_slice(&state.created.as_nanos().to_be_bytes());
        for v in [
            state.my_tag,
            state.my_initial_tsn,
            state.peer_tag,
            state.peer_initial_tsn,
            state.peer_rwnd,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&state.outbound_streams.to_be_bytes());
        out.extend_from_slice(&state.inbound_streams.to_be_bytes());
        out.push(state.features);
        out.extend_from_slice(&state.tie_tags.0.to_be_bytes());
        out.extend_from_slice(&state.tie_tags.1.to_be_bytes());
        out.extend_from_slice(&state.extra_life_ms.to_be_bytes());
        let mac = self.mac(&out);
        out.extend_from_slice(&mac);
        out
    }

    /// RFC 9260 §5.1.5 steps 1-3: checks the MAC (in constant time), then the lifetime.
    pub(crate) fn open(
        &self,
        cookie: &[u8],
        now: Instant,
        lifetime: Duration,
    ) -> Result<CookieState, CookieError> {
        if cookie.len() != COOKIE_LEN {
            return Err(CookieError::Invalid);
        }
        let (body, tag) = cookie.split_at(BODY_LEN);
        if !bool::from(self.mac(body).as_slice().ct_eq(tag)) {
            return Err(CookieError::Invalid);
        }
        let u32_at =
            |at: usize| u32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
        let u16_at = |at: usize| u16::from_be_bytes([body[at], body[at + 1]]);
        let mut nanos = [0; 8];
        nanos.copy_from_slice(&body[..8]);
        let state = CookieState {
            created: Instant::from_nanos(u64::from_be_bytes(nanos)),
            my_tag: u32_at(8),
            my_initial_tsn: u32_at(12),
            peer_tag: u32_at(16),
            peer_initial_tsn: u32_at(20),
            peer_rwnd: u32_at(24),
            outbound_streams: u16_at(28),
            inbound_streams: u16_at(30),
            features: body[32],
            tie_tags: (u32_at(33), u32_at(37)),
            extra_life_ms: u32_at(41),
        };
        let age = now.saturating_duration_since(state.created);
        let lifetime = lifetime + Duration::from_millis(u64::from(state.extra_life_ms));
        if age > lifetime {
            return Err(CookieError::Stale {
                by: age - lifetime,
                peer_tag: state.peer_tag,
            });
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    fn state() -> CookieState {
        CookieState {
            created: Instant::from_secs(5),
            my_tag: 1,
            my_initial_tsn: 2,
            peer_tag: 3,
            peer_initial_tsn: 4,
            peer_rwnd: 5,
            outbound_streams: 6,
            inbound_streams: 7,
            features: 3,
            tie_tags: (8, 9),
            extra_life_ms: 0,
        }
    }

    #[test]
    fn round_trip_tamper_and_expiry() {
        let mut rng: crate::Rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(1));
        let secret = CookieSecret::new(&mut rng);
        let cookie = secret.make(&state());
        assert_eq!(cookie.len(), COOKIE_LEN);
        let life = Duration::from_secs(60);
        assert_eq!(
            secret.open(&cookie, Instant::from_secs(6), life),
            Ok(state())
        );
        for i in 0..cookie.len() {
            let mut bad = cookie.clone();
            bad[i] ^= 0x40;
            assert_eq!(
                secret.open(&bad, Instant::from_secs(6), life),
                Err(CookieError::Invalid)
            );
        }
        assert_eq!(
            secret.open(&cookie, Instant::from_secs(66), life),
            Err(CookieError::Stale {
                by: Duration::from_secs(1),
                peer_tag: 3
            })
        );
        // A Cookie Preservative lengthens the life.
        let preserved = secret.make(&CookieState {
            extra_life_ms: 1500,
            ..state()
        });
        assert!(
            secret
                .open(&preserved, Instant::from_secs(66), life)
                .is_ok()
        );
        let other = CookieSecret::new(&mut rng);
        assert_eq!(
            other.open(&cookie, Instant::from_secs(6), life),
            Err(CookieError::Invalid)
        );
    }
}
