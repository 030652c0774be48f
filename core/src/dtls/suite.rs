//! The cipher suites (RFC 5289, RFC 7905) and DTLS-SRTP protection profiles (RFC 5764 §4.1.2,
//! RFC 7714 §14.2) pigeon negotiates. Everything else is refused: no NULL cipher, no RSA key
//! exchange, no CBC (RFC 7457 lists why).

use crate::dtls::prf::PrfHash;

/// A cipher suite pigeon implements. All three use ECDHE key exchange with ECDSA signatures
/// and an AEAD record protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xC02B, RFC 5289), the one WebRTC requires
    /// (RFC 8827 §6.5).
    EcdheEcdsaAes128GcmSha256,
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (0xC02C, RFC 5289).
    EcdheEcdsaAes256GcmSha384,
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (0xCCA9, RFC 7905).
    EcdheEcdsaChacha20Poly1305Sha256,
}

impl CipherSuite {
    /// Every suite, in pigeon's order of preference.
    pub const ALL: [CipherSuite; 3] = [
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        CipherSuite::EcdheEcdsaAes256GcmSha384,
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
    ];

    /// The IANA code point.
    pub fn id(self) -> u16 {
        match self {
            CipherSuite::EcdheEcdsaAes128GcmSha256 => 0xC02B,
            CipherSuite::EcdheEcdsaAes256GcmSha384 => 0xC02C,
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => 0xCCA9,
        }
    }

    /// The suite with this code point, if pigeon implements it.
    pub fn from_id(id: u16) -> Option<CipherSuite> {
        CipherSuite::ALL.into_iter().find(|suite| suite.id() == id)
    }

    /// The PRF hash (RFC 5289 §3: SHA-384 for the AES-256 suite; RFC 7905 §2: SHA-256).
    pub fn prf_hash(self) -> PrfHash {
        match self {
            CipherSuite::EcdheEcdsaAes256GcmSha384 => PrfHash::Sha384,
            _ => PrfHash::Sha256,
        }
    }

    /// Length of the write key.
    pub fn key_len(self) -> usize {
        match self {
            CipherSuite::EcdheEcdsaAes128GcmSha256 => 16,
            _ => 32,
        }
    }

    /// Length of the implicit write IV: the 4-byte salt of RFC 5288 §3 for GCM, the 12-byte IV
    /// of RFC 7905 §2 for ChaCha20-Poly1305.
    pub fn fixed_iv_len(self) -> usize {
        match self {
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => 12,
            _ => 4,
        }
    }

    /// Length of the explicit nonce carried in each record: 8 for GCM (RFC 5288 §3), none for
    /// ChaCha20-Poly1305 (RFC 7905 §2).
    pub fn explicit_nonce_len(self) -> usize {
        match self {
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => 0,
            _ => 8,
        }
    }

    /// Bytes a protected record adds to its plaintext (explicit nonce and 16-byte tag).
    pub fn record_overhead(self) -> usize {
        self.explicit_nonce_len() + 16
    }
}

/// A DTLS-SRTP protection profile (RFC 5764 §4.1.2, RFC 7714 §14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (0x0001).
    Aes128CmHmacSha1_80,
    /// SRTP_AES128_CM_HMAC_SHA1_32 (0x0002).
    Aes128CmHmacSha1_32,
    /// SRTP_AEAD_AES_128_GCM (0x0007).
    AeadAes128Gcm,
    /// SRTP_AEAD_AES_256_GCM (0x0008).
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// Every profile, in pigeon's order of preference.
    pub const ALL: [SrtpProfile; 4] = [
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
    ];

    /// The IANA code point.
    pub fn id(self) -> u16 {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => 0x0001,
            SrtpProfile::Aes128CmHmacSha1_32 => 0x0002,
            SrtpProfile::AeadAes128Gcm => 0x0007,
            SrtpProfile::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile with this code point, if pigeon implements it.
    pub fn from_id(id: u16) -> Option<SrtpProfile> {
        SrtpProfile::ALL.into_iter().find(|p| p.id() == id)
    }

    /// The name OpenSSL and the IANA registry use.
    pub fn name(self) -> &'static str {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_SHA1_80",
            SrtpProfile::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_SHA1_32",
            SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    /// SRTP master key length (RFC 5764 §4.1.2; RFC 7714 §12).
    pub fn master_key_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// SRTP master salt length: 14 for AES-CM (RFC 3711 §8.2), 12 for AEAD (RFC 7714 §12).
    pub fn master_salt_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 | SrtpProfile::Aes128CmHmacSha1_32 => 14,
            _ => 12,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_points_round_trip() {
        for suite in CipherSuite::ALL {
            assert_eq!(CipherSuite::from_id(suite.id()), Some(suite));
        }
        for profile in SrtpProfile::ALL {
            assert_eq!(SrtpProfile::from_id(profile.id()), Some(profile));
        }
        // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 and TLS_NULL_WITH_NULL_NULL are refused.
        assert_eq!(CipherSuite::from_id(0xC02F), None);
        assert_eq!(CipherSuite::from_id(0x0000), None);
        assert_eq!(SrtpProfile::from_id(0x0005), None);
    }
}
