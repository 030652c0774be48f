//! BEP 44 items: immutable values addressed by their hash, and mutable values signed with an
//! ed25519 key, addressed by the key (and a salt).

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha1::{Digest, Sha1};

use crate::dht::bencode::{self, Value};
use crate::dht::id::NodeId;

/// BEP 44: "Storing nodes MAY reject put requests where the bencoded form of v is longer than
/// 1000 bytes".
pub const MAX_VALUE_LEN: usize = 1000;
/// BEP 44: the salt "must not be longer than 64 bytes".
pub const MAX_SALT_LEN: usize = 64;

/// BEP 44 error 205: "message (v field) too big".
pub const ERROR_VALUE_TOO_BIG: i64 = 205;
/// BEP 44 error 206: "invalid signature".
pub const ERROR_INVALID_SIGNATURE: i64 = 206;
/// BEP 44 error 207: "salt (salt field) too big".
pub const ERROR_SALT_TOO_BIG: i64 = 207;
/// BEP 44 error 301: "the CAS hash mismatched, re-read value and try again".
pub const ERROR_CAS_MISMATCH: i64 = 301;
/// BEP 44 error 302: "sequence number less than current".
pub const ERROR_SEQ_LESS_THAN_CURRENT: i64 = 302;

/// BEP 44: an immutable item's target is "the SHA-1 hash of the bencoded v".
pub fn immutable_target(value: &[u8]) -> NodeId {
    NodeId(Sha1::digest(value).into())
}

/// BEP 44: a mutable item's target is the SHA-1 of the public key followed by the salt.
pub fn mutable_target(key: &[u8; 32], salt: &[u8]) -> NodeId {
    let mut hash = Sha1::new();
    hash.update(key);
    hash.update(salt);
    NodeId(hash.finalize().into())
}

/// BEP 44: the signature covers the bencoded dictionary entries `salt` (when not empty), `seq`
/// and `v`, without the enclosing `d` and `e`: `4:salt6:foobar3:seqi1e1:v12:Hello World!`.
pub fn signing_buffer(salt: &[u8], seq: i64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + salt.len() + 32);
    if !salt.is_empty() {
        out.extend_from_slice(b"4:salt");
        bencode::encode(&Value::Bytes(salt), &mut out);
    }
    out.extend_from_slice(b"3:seq");
    bencode::encode(&Value::Int(seq), &mut out);
    out.extend_from_slice(b"1:v");
    out.extend_from_slice(value);
    out
}

/// Whether `value` is one complete, canonical bencoded document (what `v` must be).
pub fn is_bencoded(value: &[u8]) -> bool {
    bencode::decode(value).is_ok()
}

/// Why a local item could not be built or put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ItemError {
    /// `v` is longer than [`MAX_VALUE_LEN`] once bencoded.
    ValueTooBig,
    /// `salt` is longer than [`MAX_SALT_LEN`].
    SaltTooBig,
    /// `v` is not one canonical bencoded value.
    NotBencoded,
    /// The signature does not verify with the key.
    InvalidSignature,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemError::ValueTooBig => write!(f, "value over {MAX_VALUE_LEN} bytes bencoded"),
            ItemError::SaltTooBig => write!(f, "salt over {MAX_SALT_LEN} bytes"),
            ItemError::NotBencoded => write!(f, "value is not canonical bencode"),
            ItemError::InvalidSignature => write!(f, "signature does not verify"),
        }
    }
}

impl core::error::Error for ItemError {}

/// A mutable item (BEP 44): a value signed by an ed25519 key, versioned by `seq`.
#[derive(Clone, PartialEq, Eq)]
pub struct MutableItem {
    /// `k`: the ed25519 public key.
    pub key: [u8; 32],
    /// `salt`: lets one key publish many items (empty = none).
    pub salt: Vec<u8>,
    /// `seq`: newer versions carry higher numbers.
    pub seq: i64,
    /// `v`, bencoded.
    pub value: Vec<u8>,
    /// `sig`: ed25519 over [`signing_buffer`].
    pub signature: [u8; 64],
}

impl fmt::Debug for MutableItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutableItem")
            .field("key", &Hex(&self.key))
            .field("salt", &String::from_utf8_lossy(&self.salt))
            .field("seq", &self.seq)
            .field("value", &String::from_utf8_lossy(&self.value))
            .finish_non_exhaustive()
    }
}

struct Hex<'a>(&'a [u8]);

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl MutableItem {
    /// Signs `value` (already bencoded) under `salt` and `seq` with `signing_key`.
    pub fn sign(
        signing_key: &SigningKey,
        salt: &[u8],
        seq: i64,
        value: Vec<u8>,
    ) -> Result<MutableItem, ItemError> {
        check_value(&value)?;
        if salt.len() > MAX_SALT_LEN {
            return Err(ItemError::SaltTooBig);
        }
        let signature = signing_key.sign(&signing_buffer(salt, seq, &value));
        Ok(MutableItem {
            key: signing_key.verifying_key().to_bytes(),
            salt: salt.to_vec(),
            seq,
            value,
            signature: signature.to_bytes(),
        })
    }

    /// [`sign`](Self::sign) with the key whose 32-byte ed25519 seed (RFC 8032 private key)
    /// is `seed`.
    pub fn sign_with_seed(
        seed: &[u8; 32],
        salt: &[u8],
        seq: i64,
        value: Vec<u8>,
    ) -> Result<MutableItem, ItemError> {
        MutableItem::sign(&SigningKey::from_bytes(seed), salt, seq, value)
    }

    /// The DHT key it is stored under.
    pub fn target(&self) -> NodeId {
        mutable_target(&self.key, &self.salt)
    }

    /// Whether the signature verifies (BEP 44: storing nodes and readers both check it).
    pub fn verify(&self) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.key) else {
            return false;
        };
        let signature = Signature::from_bytes(&self.signature);
        key.verify(
            &signing_buffer(&self.salt, self.seq, &self.value),
            &signature,
        )
        .is_ok()
    }
}

/// Checks a local value: canonical bencode within [`MAX_VALUE_LEN`].
pub fn check_value(value: &[u8]) -> Result<(), ItemError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(ItemError::ValueTooBig);
    }
    if !is_bencoded(value) {
        return Err(ItemError::NotBencoded);
    }
    Ok(())
}

/// An item found by a `get` lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The bencoded value of an immutable item (its SHA-1 is the target).
    Immutable(Vec<u8>),
    /// A mutable item whose signature verified.
    Mutable(MutableItem),
}

impl Item {
    /// The bencoded `v`.
    pub fn value(&self) -> &[u8] {
        match self {
            Item::Immutable(v) => v,
            Item::Mutable(m) => &m.value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // BEP 44 "Test vectors": the key pair is given as the public key and the 64-byte expanded
    // secret key (ref10 layout), not as a seed.
    const PUBLIC: &str = "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548";
    const SECRET: &str = "e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d\
                          b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d";
    const SIG_1: &str = "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff\
                         1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01";
    const SIG_2: &str = "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d\
                         df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08";

    fn bep44_sign(salt: &[u8]) -> [u8; 64] {
        let secret: [u8; 64] = hex(SECRET).try_into().unwrap();
        let public: [u8; 32] = hex(PUBLIC).try_into().unwrap();
        let esk = ExpandedSecretKey::from_bytes(&secret);
        let vk = VerifyingKey::from_bytes(&public).unwrap();
        raw_sign::<sha2::Sha512>(&esk, &signing_buffer(salt, 1, b"12:Hello World!"), &vk).to_bytes()
    }

    fn vector(salt: &[u8], sig: &str) -> MutableItem {
        MutableItem {
            key: hex(PUBLIC).try_into().unwrap(),
            salt: salt.to_vec(),
            seq: 1,
            value: b"12:Hello World!".to_vec(),
            signature: hex(sig).try_into().unwrap(),
        }
    }

    #[test]
    fn bep44_test_1_mutable() {
        assert_eq!(
            signing_buffer(b"", 1, b"12:Hello World!"),
            b"3:seqi1e1:v12:Hello World!"
        );
        assert_eq!(bep44_sign(b"").to_vec(), hex(SIG_1));
        let item = vector(b"", SIG_1);
        assert!(item.verify());
        assert_eq!(
            item.target().0.to_vec(),
            hex("4a533d47ec9c7d95b1ad75f576cffc641853b750")
        );
    }

    #[test]
    fn bep44_test_2_mutable_with_salt() {
        assert_eq!(
            signing_buffer(b"foobar", 1, b"12:Hello World!"),
            b"4:salt6:foobar3:seqi1e1:v12:Hello World!"
        );
        assert_eq!(bep44_sign(b"foobar").to_vec(), hex(SIG_2));
        let item = vector(b"foobar", SIG_2);
        assert!(item.verify());
        assert_eq!(
            item.target().0.to_vec(),
            hex("411eba73b6f087ca51a3795d9c8c938d365e32c1")
        );
        // The same signature under another salt or seq does not verify.
        let mut other = item.clone();
        other.salt = b"foobaz".to_vec();
        assert!(!other.verify());
        let mut other = item;
        other.seq = 2;
        assert!(!other.verify());
    }

    #[test]
    fn bep44_test_3_immutable() {
        // BEP 44 test 3: the target is the SHA-1 of the bencoded value "12:Hello World!".
        assert_eq!(
            immutable_target(b"12:Hello World!").0.to_vec(),
            hex("e5f96f6f38320f0f33959cb4d3d656452117aadb")
        );
    }

    #[test]
    fn sign_checks_bounds_and_verifies() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let item = MutableItem::sign(&key, b"s", 5, b"3:abc".to_vec()).unwrap();
        assert!(item.verify());
        assert_eq!(
            MutableItem::sign(&key, &[0; 65], 1, b"1:a".to_vec()),
            Err(ItemError::SaltTooBig)
        );
        assert_eq!(
            MutableItem::sign(&key, b"", 1, b"abc".to_vec()),
            Err(ItemError::NotBencoded)
        );
        let mut big = b"1000:".to_vec();
        big.extend([b'x'; 1000]);
        assert_eq!(check_value(&big), Err(ItemError::ValueTooBig));
    }
}
