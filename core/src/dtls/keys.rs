//! Key expansion (RFC 5246 §6.3) into the AEAD write keys and IVs, and the DTLS-SRTP split of
//! exported keying material (RFC 5764 §4.2).

use crate::dtls::prf::{PrfHash, export_keying_material, prf};
use crate::dtls::suite::{CipherSuite, SrtpProfile};

/// The write keys and implicit IVs of both directions.
///
/// AEAD suites have no MAC keys (RFC 5246 §6.3 with mac_key_length = 0).
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBlock {
    /// client_write_key.
    pub client_write_key: Vec<u8>,
    /// server_write_key.
    pub server_write_key: Vec<u8>,
    /// client_write_IV (4-byte salt for GCM, 12-byte IV for ChaCha20-Poly1305).
    pub client_write_iv: Vec<u8>,
    /// server_write_IV.
    pub server_write_iv: Vec<u8>,
}

impl core::fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KeyBlock(..)")
    }
}

/// RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random +
/// client_random), cut into client_write_key, server_write_key, client_write_IV,
/// server_write_IV in that order.
pub fn expand_keys(
    suite: CipherSuite,
    master_secret: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> KeyBlock {
    let key_len = suite.key_len();
    let iv_len = suite.fixed_iv_len();
    let mut block = vec![0u8; 2 * (key_len + iv_len)];
    prf(
        suite.prf_hash(),
        master_secret,
        b"key expansion",
        &[server_random, client_random],
        &mut block,
    );
    let (client_write_key, rest) = block.split_at(key_len);
    let (server_write_key, rest) = rest.split_at(key_len);
    let (client_write_iv, server_write_iv) = rest.split_at(iv_len);
    KeyBlock {
        client_write_key: client_write_key.to_vec(),
        server_write_key: server_write_key.to_vec(),
        client_write_iv: client_write_iv.to_vec(),
        server_write_iv: server_write_iv.to_vec(),
    }
}

/// The exporter label of DTLS-SRTP (RFC 5764 §4.2).
pub const SRTP_EXPORTER_LABEL: &[u8] = b"EXTRACTOR-dtls_srtp";

/// SRTP master keys and salts for both directions.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    /// The negotiated profile.
    pub profile: SrtpProfile,
    /// The client's master key (protects what the DTLS client sends).
    pub client_write_key: Vec<u8>,
    /// The server's master key.
    pub server_write_key: Vec<u8>,
    /// The client's master salt.
    pub client_write_salt: Vec<u8>,
    /// The server's master salt.
    pub server_write_salt: Vec<u8>,
}

impl core::fmt::Debug for SrtpKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SrtpKeys({:?}, ..)", self.profile)
    }
}

impl SrtpKeys {
    /// Length of the keying material a profile needs: 2 * (key + salt).
    pub fn material_len(profile: SrtpProfile) -> usize {
        2 * (profile.master_key_len() + profile.master_salt_len())
    }

    /// RFC 5764 §4.2: the exported material is client_write_SRTP_master_key,
    /// server_write_SRTP_master_key, client_write_SRTP_master_salt,
    /// server_write_SRTP_master_salt, in that order. `None` when `material` is too short.
    pub fn split(profile: SrtpProfile, material: &[u8]) -> Option<SrtpKeys> {
        let key = profile.master_key_len();
        let salt = profile.master_salt_len();
        if material.len() < SrtpKeys::material_len(profile) {
            return None;
        }
        Some(SrtpKeys {
            profile,
            client_write_key: material[..key].to_vec(),
            server_write_key: material[key..2 * key].to_vec(),
            client_write_salt: material[2 * key..2 * key + salt].to_vec(),
            server_write_salt: material[2 * key + salt..2 * (key + salt)].to_vec(),
        })
    }

    /// Exports and splits the SRTP keys of a session.
    pub fn derive(
        profile: SrtpProfile,
        hash: PrfHash,
        master_secret: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> SrtpKeys {
        let mut material = vec![0u8; SrtpKeys::material_len(profile)];
        export_keying_material(
            hash,
            master_secret,
            SRTP_EXPORTER_LABEL,
            client_random,
            server_random,
            None,
            &mut material,
        );
        // NOTE(unwrap): `material` has exactly the length the profile needs.
        SrtpKeys::split(profile, &material).expect("material sized for the profile")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_block_layout_per_suite() {
        let ms = [9u8; 48];
        let cr = [1u8; 32];
        let sr = [2u8; 32];
        for suite in CipherSuite::ALL {
            let keys = expand_keys(suite, &ms, &cr, &sr);
            let mut raw = vec![0u8; 2 * (suite.key_len() + suite.fixed_iv_len())];
            prf(
                suite.prf_hash(),
                &ms,
                b"key expansion",
                &[&sr, &cr],
                &mut raw,
            );
            let k = suite.key_len();
            let i = suite.fixed_iv_len();
            assert_eq!(keys.client_write_key, raw[..k]);
            assert_eq!(keys.server_write_key, raw[k..2 * k]);
            assert_eq!(keys.client_write_iv, raw[2 * k..2 * k + i]);
            assert_eq!(keys.server_write_iv, raw[2 * k + i..]);
        }
        let gcm = expand_keys(CipherSuite::EcdheEcdsaAes128GcmSha256, &ms, &cr, &sr);
        assert_eq!(
            (gcm.client_write_key.len(), gcm.client_write_iv.len()),
            (16, 4)
        );
        let chacha = expand_keys(CipherSuite::EcdheEcdsaChacha20Poly1305Sha256, &ms, &cr, &sr);
        assert_eq!(
            (chacha.server_write_key.len(), chacha.server_write_iv.len()),
            (32, 12)
        );
    }

    #[test]
    fn srtp_split_order() {
        let material: Vec<u8> = (0u8..60).collect();
        let keys = SrtpKeys::split(SrtpProfile::Aes128CmHmacSha1_80, &material).unwrap();
        assert_eq!(keys.client_write_key, (0u8..16).collect::<Vec<_>>());
        assert_eq!(keys.server_write_key, (16u8..32).collect::<Vec<_>>());
        assert_eq!(keys.client_write_salt, (32u8..46).collect::<Vec<_>>());
        assert_eq!(keys.server_write_salt, (46u8..60).collect::<Vec<_>>());
        assert!(SrtpKeys::split(SrtpProfile::AeadAes256Gcm, &material).is_none());
        assert_eq!(SrtpKeys::material_len(SrtpProfile::AeadAes256Gcm), 88);
        assert_eq!(SrtpKeys::material_len(SrtpProfile::AeadAes128Gcm), 56);
    }
}
