//! Why an SRTP or SRTCP transform refused a packet.

use crate::rtp::ParseError;

/// An SRTP/SRTCP failure. Peer input never panics: it gives one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The packet is shorter than its header plus the SRTP/SRTCP trailer (index and tag).
    TooShort,
    /// RFC 3550 §5.1: the version field is not 2.
    BadVersion(u8),
    /// The authentication tag does not match (RFC 3711 §3.3 step 5, RFC 7714 §8.2).
    AuthenticationFailed,
    /// RFC 3711 §3.3.2: the index was already seen or is older than the replay window.
    Replayed,
    /// A packet from a new SSRC would exceed [`SrtpConfig::max_ssrcs`](super::SrtpConfig).
    SsrcLimit,
    /// The caller's buffer has no room for the tag (and SRTCP index) after the packet.
    BufferTooSmall {
        /// Bytes the protected packet needs.
        needed: usize,
    },
    /// RFC 3711 §9.2: the 2^48 SRTP or 2^31 SRTCP indices of this key are used up; re-key.
    KeyExhausted,
    /// The master key or salt does not have the length the profile needs.
    BadKeyLength,
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::BadVersion(v) => Self::BadVersion(v),
            _ => Self::TooShort,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooShort => f.write_str("packet too short for SRTP/SRTCP"),
            Self::BadVersion(v) => write!(f, "RTP/RTCP version {v}, expected 2"),
            Self::AuthenticationFailed => f.write_str("SRTP/SRTCP authentication failed"),
            Self::Replayed => f.write_str("SRTP/SRTCP packet replayed or too old"),
            Self::SsrcLimit => f.write_str("too many SSRCs in this SRTP session"),
            Self::BufferTooSmall { needed } => {
                write!(
                    f,
                    "buffer too small: the protected packet needs {needed} bytes"
                )
            }
            Self::KeyExhausted => f.write_str("SRTP/SRTCP index space exhausted: re-key"),
            Self::BadKeyLength => f.write_str("master key or salt length wrong for the profile"),
        }
    }
}

impl core::error::Error for Error {}
