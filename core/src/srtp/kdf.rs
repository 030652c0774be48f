//! The SRTP key derivation function (RFC 3711 §4.3) with key derivation rate 0.

use aes::cipher::{KeyIvInit, StreamCipher};
use aes::{Aes128, Aes256};

use super::{Error, Profile};

/// RFC 3711 §4.3.2 labels.
const LABEL_RTP_ENCRYPTION: u8 = 0x00;
const LABEL_RTP_AUTH: u8 = 0x01;
const LABEL_RTP_SALT: u8 = 0x02;
const LABEL_RTCP_ENCRYPTION: u8 = 0x03;
const LABEL_RTCP_AUTH: u8 = 0x04;
const LABEL_RTCP_SALT: u8 = 0x05;

/// RFC 3711 §4.2.1: n_a = 160 bits for HMAC-SHA1.
pub(crate) const AUTH_KEY_LEN: usize = 20;

/// The session keys of one direction for SRTP or SRTCP. Lengths follow the profile: the
/// encryption key is 16 or 32 bytes, the salt 14 (AES-CM) or 12 (GCM).
#[derive(Clone)]
pub(crate) struct SessionKeys {
    pub(crate) encryption: [u8; 32],
    pub(crate) salt: [u8; 14],
    pub(crate) auth: [u8; AUTH_KEY_LEN],
}

impl SessionKeys {
    /// Derives the SRTP (`rtcp == false`) or SRTCP session keys from a master key and salt.
    pub(crate) fn derive(
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
        rtcp: bool,
    ) -> Result<Self, Error> {
        if master_key.len() != profile.master_key_len()
            || master_salt.len() != profile.master_salt_len()
        {
            return Err(Error::BadKeyLength);
        }
        let (enc, auth, salt) = if rtcp {
            (LABEL_RTCP_ENCRYPTION, LABEL_RTCP_AUTH, LABEL_RTCP_SALT)
        } else {
            (LABEL_RTP_ENCRYPTION, LABEL_RTP_AUTH, LABEL_RTP_SALT)
        };
        let mut keys = Self {
            encryption: [0; 32],
            salt: [0; 14],
            auth: [0; AUTH_KEY_LEN],
        };
        let key_len = profile.master_key_len();
        let salt_len = profile.master_salt_len();
        prf(
            master_key,
            master_salt,
            enc,
            &mut keys.encryption[..key_len],
        );
        prf(master_key, master_salt, salt, &mut keys.salt[..salt_len]);
        // RFC 7714 §12: the AEAD profiles have no separate authentication key.
        if !profile.is_aead() {
            prf(master_key, master_salt, auth, &mut keys.auth);
        }
        Ok(keys)
    }
}

/// RFC 3711 §4.3.1 with kdr = 0 (so r = index DIV kdr = 0): key_id = label || 0^48,
/// x = key_id XOR master_salt, and the output is the AES-CM keystream under the master key
/// with IV = x * 2^16. RFC 7714 §11: the GCM profiles use the same PRF with the AES key size
/// of the master key; their 96-bit master salt is extended with zero bits on the right, as
/// libsrtp does, so the label still lands on octet 7.
fn prf(master_key: &[u8], master_salt: &[u8], label: u8, out: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..master_salt.len()].copy_from_slice(master_salt);
    iv[7] ^= label;
    out.fill(0);
    match master_key.len() {
        // NOTE(unwrap): the caller checked the key length against the profile.
        32 => ctr::Ctr128BE::<Aes256>::new_from_slices(master_key, &iv)
            .unwrap()
            .apply_keystream(out),
        _ => ctr::Ctr128BE::<Aes128>::new_from_slices(master_key, &iv)
            .unwrap()
            .apply_keystream(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3711 Appendix B.3 (`shared/vectors/rfc3711_B.3_key_derivation.txt`).
    #[test]
    fn rfc3711_b3_key_derivation() {
        let key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
        let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
        let keys = SessionKeys::derive(Profile::Aes128CmHmacSha1_80, &key, &salt, false).unwrap();
        assert_eq!(
            keys.encryption[..16],
            hex("C61E7A93744F39EE10734AFE3FF7A087")
        );
        assert_eq!(keys.salt[..], hex("30CBBC08863D8C85D49DB34A9AE1"));
        // The RFC lists 94 octets of label-1 keystream; HMAC-SHA1 uses the first 20.
        let mut long = [0u8; 94];
        prf(&key, &salt, LABEL_RTP_AUTH, &mut long);
        let expected = hex(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2",
        );
        assert_eq!(long[..], expected);
        assert_eq!(keys.auth[..], expected[..20]);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let p = Profile::AeadAes256Gcm;
        assert!(SessionKeys::derive(p, &[0; 16], &[0; 12], false).is_err());
        assert!(SessionKeys::derive(p, &[0; 32], &[0; 14], false).is_err());
        assert!(SessionKeys::derive(p, &[0; 32], &[0; 12], true).is_ok());
    }
}
