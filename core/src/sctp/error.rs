//! Why SCTP bytes did not decode.

/// A malformed SCTP packet, chunk, parameter or error cause. Peer input never panics: it gives
/// one of these, and the caller drops the packet and counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before the named field did.
    Truncated {
        /// The structure being read.
        what: &'static str,
    },
    /// A length field is impossible for the named structure (too small, or not matching the
    /// fixed fields and counts it must hold).
    InvalidLength {
        /// The structure being read.
        what: &'static str,
        /// The length the peer claimed (or the length of what was left).
        length: usize,
    },
    /// RFC 9260 §6.8: the CRC32c in the common header does not match the packet.
    ChecksumMismatch {
        /// The checksum the packet carries.
        stored: u32,
        /// The checksum computed over the packet.
        computed: u32,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Truncated { what } => write!(f, "SCTP {what} is truncated"),
            Self::InvalidLength { what, length } => {
                write!(f, "SCTP {what} has an invalid length {length}")
            }
            Self::ChecksumMismatch { stored, computed } => write!(
                f,
                "SCTP checksum mismatch: packet carries {stored:#010x}, computed {computed:#010x}"
            ),
        }
    }
}

impl std::error::Error for Error {}
