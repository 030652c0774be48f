//! Keying SRTP from a DTLS-SRTP handshake (RFC 5764 §4.2).

use super::{Error, Profile, SrtpConfig, SrtpSession};

/// Which side of the DTLS handshake this endpoint was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtlsRole {
    /// The DTLS client (sent ClientHello).
    Client,
    /// The DTLS server.
    Server,
}

/// The two sessions of a DTLS-SRTP association.
#[derive(Debug)]
pub struct DtlsSrtpSessions {
    /// Protects what this endpoint sends (keyed with its own write key).
    pub local: SrtpSession,
    /// Unprotects what the peer sends (keyed with the peer's write key).
    pub remote: SrtpSession,
}

impl SrtpSession {
    /// Builds both sessions from the keying material exported with the label
    /// "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2), laid out as client_write_SRTP_master_key |
    /// server_write_SRTP_master_key | client_write_SRTP_master_salt |
    /// server_write_SRTP_master_salt, [`Profile::keying_material_len`] bytes in all.
    pub fn from_dtls(
        profile: Profile,
        keying_material: &[u8],
        role: DtlsRole,
        config: SrtpConfig,
    ) -> Result<DtlsSrtpSessions, Error> {
        if keying_material.len() != profile.keying_material_len() {
            return Err(Error::BadKeyLength);
        }
        let (key_len, salt_len) = (profile.master_key_len(), profile.master_salt_len());
        let (keys, salts) = keying_material.split_at(2 * key_len);
        let (client_key, server_key) = keys.split_at(key_len);
        let (client_salt, server_salt) = salts.split_at(salt_len);
        let client = SrtpSession::new(profile, client_key, client_salt, config)?;
        let server = SrtpSession::new(profile, server_key, server_salt, config)?;
        Ok(match role {
            DtlsRole::Client => DtlsSrtpSessions {
                local: client,
                remote: server,
            },
            DtlsRole::Server => DtlsSrtpSessions {
                local: server,
                remote: client,
            },
        })
    }
}
