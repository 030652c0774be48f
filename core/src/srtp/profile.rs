//! The four SRTP protection profiles WebRTC uses and their parameters.

/// An SRTP protection profile (RFC 5764 §4.1.2, RFC 7714 §14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1.2): AES-128 counter mode, 80-bit HMAC-SHA1 tag.
    Aes128CmHmacSha1_80,
    /// SRTP_AES128_CM_HMAC_SHA1_32: as `_80` but a 32-bit SRTP tag (SRTCP keeps 80 bits).
    Aes128CmHmacSha1_32,
    /// SRTP_AEAD_AES_128_GCM (RFC 7714): AES-128-GCM with a 16-byte tag.
    AeadAes128Gcm,
    /// SRTP_AEAD_AES_256_GCM (RFC 7714): AES-256-GCM with a 16-byte tag.
    AeadAes256Gcm,
}

impl Profile {
    /// Every profile, in the order of their DTLS-SRTP identifiers.
    pub const ALL: [Profile; 4] = [
        Self::Aes128CmHmacSha1_80,
        Self::Aes128CmHmacSha1_32,
        Self::AeadAes128Gcm,
        Self::AeadAes256Gcm,
    ];

    /// The DTLS `use_srtp` SRTPProtectionProfile value (RFC 5764 §4.1.2, RFC 7714 §14.2).
    pub fn protection_profile_id(self) -> u16 {
        match self {
            Self::Aes128CmHmacSha1_80 => 0x0001,
            Self::Aes128CmHmacSha1_32 => 0x0002,
            Self::AeadAes128Gcm => 0x0007,
            Self::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile for a DTLS `use_srtp` value, if pigeon supports it.
    pub fn from_protection_profile_id(id: u16) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.protection_profile_id() == id)
    }

    /// Master key length in bytes (also the session encryption key length).
    pub fn master_key_len(self) -> usize {
        match self {
            Self::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master salt length in bytes: 112 bits for AES-CM (RFC 3711 §8.2), 96 for GCM
    /// (RFC 7714 §12).
    pub fn master_salt_len(self) -> usize {
        if self.is_aead() { 12 } else { 14 }
    }

    /// The authentication tag appended to SRTP packets.
    pub fn srtp_tag_len(self) -> usize {
        match self {
            Self::Aes128CmHmacSha1_80 => 10,
            Self::Aes128CmHmacSha1_32 => 4,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// The authentication tag appended to SRTCP packets. RFC 5764 §4.1.2: the `_32` profile
    /// still uses an 80-bit SRTCP tag.
    pub fn srtcp_tag_len(self) -> usize {
        if self.is_aead() { 16 } else { 10 }
    }

    /// Bytes of DTLS exported keying material this profile needs (RFC 5764 §4.2):
    /// two master keys and two master salts.
    pub fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }

    /// Bytes SRTP adds to an RTP packet.
    pub fn srtp_overhead(self) -> usize {
        self.srtp_tag_len()
    }

    /// Bytes SRTCP adds to an RTCP packet: the E flag + index word and the tag.
    pub fn srtcp_overhead(self) -> usize {
        4 + self.srtcp_tag_len()
    }

    pub(crate) fn is_aead(self) -> bool {
        matches!(self, Self::AeadAes128Gcm | Self::AeadAes256Gcm)
    }
}
