//! Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): an HMAC over the client's
//! address and the parameters of its ClientHello, under a secret only the server knows.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::dtls::message::ClientHello;

/// Cookie length: a truncated HMAC-SHA256, well within the 255-byte limit.
pub const COOKIE_LEN: usize = 20;

/// The server's cookie secret.
#[derive(Clone)]
pub struct CookieKey([u8; 32]);

impl core::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CookieKey(..)")
    }
}

impl CookieKey {
    /// A fresh secret.
    pub fn generate(rng: &mut crate::Rng) -> CookieKey {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        CookieKey(key)
    }

    /// RFC 6347 §4.2.1 suggests Cookie = HMAC(Secret, Client-IP, Client-Parameters); the
    /// parameters are those a second ClientHello repeats (random, session id, suites,
    /// compression methods), so the cookie binds the hello to the address.
    pub fn cookie(&self, peer: &[u8], hello: &ClientHello) -> [u8; COOKIE_LEN] {
        // NOTE(unwrap): HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("any key length");
        mac.update(&(peer.len() as u64).to_be_bytes());
        mac.update(peer);
        mac.update(&hello.client_version.to_be_bytes());
        mac.update(&hello.random);
        mac.update(&[hello.session_id.len() as u8]);
        mac.update(&hello.session_id);
        for suite in &hello.cipher_suites {
            mac.update(&suite.to_be_bytes());
        }
        mac.update(&hello.compression_methods);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; COOKIE_LEN];
        out.copy_from_slice(&full[..COOKIE_LEN]);
        out
    }

    /// Whether `hello` carries the cookie this server would give `peer`; constant time.
    pub fn verify(&self, peer: &[u8], hello: &ClientHello) -> bool {
        let expected = self.cookie(peer, hello);
        hello.cookie.len() == COOKIE_LEN && bool::from(expected.ct_eq(&hello.cookie[..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::message::Extensions;

    #[test]
    fn cookie_binds_address_and_hello() {
        let key = CookieKey([9; 32]);
        let mut hello = ClientHello {
            client_version: 0xfefd,
            random: [1; 32],
            session_id: vec![],
            cookie: vec![],
            cipher_suites: vec![0xc02b],
            compression_methods: vec![0],
            extensions: Extensions::default(),
        };
        assert!(!key.verify(b"peer", &hello));
        hello.cookie = key.cookie(b"peer", &hello).to_vec();
        assert!(key.verify(b"peer", &hello));
        assert!(!key.verify(b"other", &hello));
        hello.random[0] ^= 1;
        assert!(!key.verify(b"peer", &hello));
        assert!(!CookieKey([8; 32]).verify(b"peer", &hello));
    }
}
