//! Ephemeral ECDH key shares for the ECDHE key exchange (RFC 8422 §5.4, §5.10): P-256 with
//! uncompressed points and X25519 (RFC 8422 §5.11).

use p256::elliptic_curve::Generate;

use crate::dtls::message::extensions::{GROUP_SECP256R1, GROUP_X25519};

/// A named group pigeon implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedGroup {
    /// secp256r1 (23).
    Secp256r1,
    /// x25519 (29).
    X25519,
}

impl NamedGroup {
    /// The IANA code point.
    pub fn id(self) -> u16 {
        match self {
            NamedGroup::Secp256r1 => GROUP_SECP256R1,
            NamedGroup::X25519 => GROUP_X25519,
        }
    }

    /// The group with this code point, if pigeon implements it.
    pub fn from_id(id: u16) -> Option<NamedGroup> {
        match id {
            GROUP_SECP256R1 => Some(NamedGroup::Secp256r1),
            GROUP_X25519 => Some(NamedGroup::X25519),
            _ => None,
        }
    }
}

/// One side's ephemeral secret, used once.
pub enum KeyShare {
    /// P-256.
    Secp256r1(p256::ecdh::EphemeralSecret),
    /// X25519.
    X25519(x25519_dalek::EphemeralSecret),
}

impl core::fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            KeyShare::Secp256r1(_) => "KeyShare(secp256r1)",
            KeyShare::X25519(_) => "KeyShare(x25519)",
        })
    }
}

impl KeyShare {
    /// A fresh secret for `group`.
    pub fn generate(group: NamedGroup, rng: &mut crate::Rng) -> KeyShare {
        match group {
            NamedGroup::Secp256r1 => {
                KeyShare::Secp256r1(p256::ecdh::EphemeralSecret::generate_from_rng(&mut **rng))
            }
            NamedGroup::X25519 => {
                KeyShare::X25519(x25519_dalek::EphemeralSecret::random_from_rng(&mut **rng))
            }
        }
    }

    /// The group of this share.
    pub fn group(&self) -> NamedGroup {
        match self {
            KeyShare::Secp256r1(_) => NamedGroup::Secp256r1,
            KeyShare::X25519(_) => NamedGroup::X25519,
        }
    }

    /// The public value as sent on the wire: an uncompressed SEC1 point (RFC 8422 §5.4, the
    /// only format pigeon negotiates) or the 32-byte X25519 u-coordinate.
    pub fn public(&self) -> Vec<u8> {
        match self {
            KeyShare::Secp256r1(secret) => secret.public_key().to_sec1_bytes().to_vec(),
            KeyShare::X25519(secret) => x25519_dalek::PublicKey::from(secret).as_bytes().to_vec(),
        }
    }

    /// The premaster secret with the peer's public value; `None` if the value is not a valid
    /// point or, for X25519, gives the all-zero secret (RFC 8422 §5.11 MUST check).
    pub fn agree(self, peer_public: &[u8]) -> Option<Vec<u8>> {
        match self {
            KeyShare::Secp256r1(secret) => {
                // RFC 8422 §5.1.2: only the uncompressed form was negotiated.
                if peer_public.first() != Some(&4) {
                    return None;
                }
                let peer = p256::PublicKey::from_sec1_bytes(peer_public).ok()?;
                // RFC 8422 §5.10: the premaster secret is the x-coordinate.
                Some(secret.diffie_hellman(&peer).raw_secret_bytes().to_vec())
            }
            KeyShare::X25519(secret) => {
                let bytes: [u8; 32] = peer_public.try_into().ok()?;
                let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(bytes));
                shared
                    .was_contributory()
                    .then(|| shared.as_bytes().to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn both_groups_agree() {
        let mut rng: crate::Rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(3));
        for group in [NamedGroup::Secp256r1, NamedGroup::X25519] {
            let a = KeyShare::generate(group, &mut rng);
            let b = KeyShare::generate(group, &mut rng);
            let (pa, pb) = (a.public(), b.public());
            assert_eq!(pa.len(), if group == NamedGroup::X25519 { 32 } else { 65 });
            let sa = a.agree(&pb).unwrap();
            let sb = b.agree(&pa).unwrap();
            assert_eq!(sa, sb);
            assert_eq!(sa.len(), 32);
            assert_eq!(NamedGroup::from_id(group.id()), Some(group));
        }
    }

    #[test]
    fn bad_points_refused() {
        let mut rng: crate::Rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(4));
        let p = KeyShare::generate(NamedGroup::Secp256r1, &mut rng);
        assert!(p.agree(&[4; 65]).is_none());
        let x = KeyShare::generate(NamedGroup::X25519, &mut rng);
        assert!(
            x.agree(&[0; 32]).is_none(),
            "low-order point gives a zero secret"
        );
        let x = KeyShare::generate(NamedGroup::X25519, &mut rng);
        assert!(x.agree(&[1; 31]).is_none());
    }
}
