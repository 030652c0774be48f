//! SRTP and SRTCP (RFC 3711) with the AEAD AES-GCM profiles of RFC 7714, keyed directly or
//! from DTLS-SRTP (RFC 5764). Plain transforms over caller buffers, not a [`Machine`]: the
//! layer around them (a PeerConnection) hands packets in and out.
//!
//! [`Machine`]: crate::Machine
//!
//! ```
//! use pigeon::srtp::{Profile, SrtpConfig, SrtpSession};
//!
//! let (key, salt) = ([7u8; 16], [9u8; 14]);
//! let profile = Profile::Aes128CmHmacSha1_80;
//! let mut sender = SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap();
//! let mut receiver = SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap();
//!
//! let rtp = [0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42, b'h', b'i'];
//! let mut packet = Vec::with_capacity(rtp.len() + profile.srtp_overhead());
//! packet.extend_from_slice(&rtp);
//! sender.protect_rtp_vec(&mut packet).unwrap();
//! assert_eq!(packet.len(), rtp.len() + 10);
//!
//! let replay = packet.clone();
//! receiver.unprotect_rtp_vec(&mut packet).unwrap();
//! assert_eq!(packet, rtp);
//! assert_eq!(
//!     receiver.unprotect_rtp_vec(&mut replay.clone()),
//!     Err(pigeon::srtp::Error::Replayed)
//! );
//! ```

mod dtls;
mod error;
mod kdf;
mod profile;
mod replay;
mod session;
mod transform;

#[cfg(test)]
mod tests;

pub use dtls::{DtlsRole, DtlsSrtpSessions};
pub use error::Error;
pub use profile::Profile;
pub use session::{DEFAULT_MAX_SSRCS, DEFAULT_REPLAY_WINDOW, SrtpConfig, SrtpSession, SrtpStats};
