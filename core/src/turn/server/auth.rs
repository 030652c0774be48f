//! The server half of the long-term credential mechanism (RFC 8489 §9.2.4) for TURN: users,
//! nonces with an expiry, and the checks every TURN request goes through.
//!
//! Nonces are stateless: `expiry (16 hex digits) || HMAC-SHA1(secret, expiry) (16 hex digits)`.
//! The server remembers nothing per nonce, so a flood of unauthenticated requests costs no
//! memory, and a nonce past its expiry is answered with 438 Stale Nonce (RFC 8489 §9.2.4).

use core::time::Duration;
use std::collections::BTreeMap;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::Instant;
use crate::stun::{Message, PasswordAlgorithm, long_term_key};

/// Length of a nonce this server issues.
const NONCE_LEN: usize = 32;

/// Users and nonces of a TURN server.
pub(super) struct Authenticator {
    realm: String,
    /// username -> long-term key (RFC 8489 §9.2.2, MD5).
    keys: BTreeMap<String, Vec<u8>>,
    secret: [u8; 20],
    nonce_lifetime: Duration,
}

/// The outcome of checking a request's credentials.
pub(super) enum Verdict {
    /// RFC 8489 §9.2.4: no MESSAGE-INTEGRITY (answer 401 with REALM and NONCE), or an unknown
    /// user or bad MAC (also 401).
    Unauthenticated,
    /// Missing USERNAME, REALM or NONCE next to MESSAGE-INTEGRITY: 400.
    BadRequest,
    /// RFC 8489 §9.2.4: the nonce is no longer valid: 438 with a new one.
    StaleNonce,
    /// Authenticated as this user, whose key protects the response.
    Ok { username: String, key: Vec<u8> },
}

impl Authenticator {
    pub(super) fn new(
        realm: &str,
        users: &[(String, String)],
        secret: [u8; 20],
        nonce_lifetime: Duration,
    ) -> Self {
        let keys = users
            .iter()
            .map(|(user, pass)| {
                let key = long_term_key(PasswordAlgorithm::Md5, user, realm, pass);
                (user.clone(), key)
            })
            .collect();
        Self {
            realm: realm.to_owned(),
            keys,
            secret,
            nonce_lifetime,
        }
    }

    pub(super) fn realm(&self) -> &str {
        &self.realm
    }

    fn mac(&self, expiry: u64) -> [u8; 8] {
        // NOTE(unwrap): HMAC accepts keys of any length.
        let mut mac =
            <Hmac<Sha1> as KeyInit>::new_from_slice(&self.secret).expect("any key length");
        mac.update(&expiry.to_be_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = [0; 8];
        out.copy_from_slice(&tag[..8]);
        out
    }

    /// A fresh nonce valid for the configured lifetime from `now`.
    pub(super) fn nonce(&self, now: Instant) -> String {
        let expiry = (now + self.nonce_lifetime).as_nanos() / 1_000_000_000;
        let mut out = format!("{expiry:016x}");
        for b in self.mac(expiry) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// Whether `nonce` was issued by this server and has not expired.
    fn nonce_valid(&self, nonce: &str, now: Instant) -> bool {
        if nonce.len() != NONCE_LEN || !nonce.is_ascii() {
            return false;
        }
        let (expiry, tag) = nonce.split_at(16);
        let Ok(expiry) = u64::from_str_radix(expiry, 16) else {
            return false;
        };
        let mut given = [0u8; 8];
        for (i, out) in given.iter_mut().enumerate() {
            let Some(Ok(b)) = tag.get(2 * i..2 * i + 2).map(|h| u8::from_str_radix(h, 16)) else {
                return false;
            };
            *out = b;
        }
        let expected = self.mac(expiry);
        bool::from(given.ct_eq(&expected)) && now.as_nanos() / 1_000_000_000 < expiry
    }

    /// RFC 8489 §9.2.4: the checks in order.
    pub(super) fn check(&self, msg: &Message<'_>, now: Instant) -> Verdict {
        if !msg.has_integrity() {
            return Verdict::Unauthenticated;
        }
        let (Some(username), Some(realm), Some(nonce)) = (msg.username(), msg.realm(), msg.nonce())
        else {
            return Verdict::BadRequest;
        };
        if !self.nonce_valid(nonce, now) {
            return Verdict::StaleNonce;
        }
        let Some(key) = self.keys.get(username) else {
            return Verdict::Unauthenticated;
        };
        if realm != self.realm || msg.verify_integrity(key).is_err() {
            return Verdict::Unauthenticated;
        }
        Verdict::Ok {
            username: username.to_owned(),
            key: key.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authenticator {
        let users = [("alice".to_owned(), "secret".to_owned())];
        Authenticator::new("example.org", &users, [9; 20], Duration::from_secs(600))
    }

    #[test]
    fn nonces_expire_and_cannot_be_forged() {
        let a = auth();
        let nonce = a.nonce(Instant::from_secs(100));
        assert_eq!(nonce.len(), NONCE_LEN);
        assert!(a.nonce_valid(&nonce, Instant::from_secs(100)));
        assert!(a.nonce_valid(&nonce, Instant::from_secs(699)));
        assert!(!a.nonce_valid(&nonce, Instant::from_secs(700)));
        let mut forged = nonce.clone().into_bytes();
        forged[15] = if forged[15] == b'f' { b'e' } else { b'f' };
        let forged = String::from_utf8(forged).unwrap();
        assert!(!a.nonce_valid(&forged, Instant::from_secs(100)));
        assert!(!a.nonce_valid("short", Instant::ZERO));
        assert!(!a.nonce_valid("ééééééééééééééééé", Instant::ZERO));
    }
}
