//! Errors of the STUN codec: what was wrong with bytes a peer sent, and why a message did not
//! authenticate.

use core::fmt;

use super::AttributeType;

/// Why bytes could not be read as a STUN message or attribute.
///
/// Every variant is the peer's fault (or not STUN at all); none is a bug in the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than a field needs (header, attribute header or attribute value).
    Truncated,
    /// RFC 8489 §5: the two most significant bits of a STUN message are zero.
    NotStun,
    /// RFC 8489 §5: the magic cookie field must hold 0x2112A442.
    BadMagicCookie(u32),
    /// RFC 8489 §5: the message length is always a multiple of 4.
    UnalignedLength(u16),
    /// The header's message length does not match the bytes that follow it.
    LengthMismatch {
        /// Length announced by the header (attributes only, without the 20-byte header).
        header: usize,
        /// Bytes actually present after the header.
        actual: usize,
    },
    /// Larger than [`MAX_MESSAGE_SIZE`](super::MAX_MESSAGE_SIZE).
    TooLarge(usize),
    /// An attribute's declared length runs past the end of the message.
    AttributeOverrun {
        /// Type of the attribute that overran.
        ty: AttributeType,
        /// Its declared value length.
        len: u16,
    },
    /// More attributes than [`MAX_ATTRIBUTES`](super::MAX_ATTRIBUTES).
    TooManyAttributes,
    /// An attribute's value has a length its definition does not allow.
    BadAttributeLength {
        /// Type of the attribute.
        ty: AttributeType,
        /// Its value length.
        len: usize,
    },
    /// An address attribute carries a family other than 0x01 (IPv4) or 0x02 (IPv6).
    BadAddressFamily {
        /// Type of the attribute.
        ty: AttributeType,
        /// The family byte found.
        family: u8,
    },
    /// A text attribute is not valid UTF-8.
    InvalidUtf8(AttributeType),
    /// A field holds a value its definition forbids (e.g. an ERROR-CODE class outside 3..=6).
    BadValue {
        /// Type of the attribute.
        ty: AttributeType,
        /// What was wrong.
        what: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated STUN message"),
            Self::NotStun => f.write_str("not a STUN message (leading bits set)"),
            Self::BadMagicCookie(c) => write!(f, "bad magic cookie {c:#010x}"),
            Self::UnalignedLength(l) => write!(f, "message length {l} is not a multiple of 4"),
            Self::LengthMismatch { header, actual } => {
                write!(
                    f,
                    "header announces {header} bytes of attributes, {actual} present"
                )
            }
            Self::TooLarge(n) => write!(f, "message of {n} bytes is too large"),
            Self::AttributeOverrun { ty, len } => {
                write!(f, "attribute {ty:?} of length {len} overruns the message")
            }
            Self::TooManyAttributes => f.write_str("too many attributes"),
            Self::BadAttributeLength { ty, len } => {
                write!(f, "attribute {ty:?} has invalid length {len}")
            }
            Self::BadAddressFamily { ty, family } => {
                write!(
                    f,
                    "attribute {ty:?} has unknown address family {family:#04x}"
                )
            }
            Self::InvalidUtf8(ty) => write!(f, "attribute {ty:?} is not valid UTF-8"),
            Self::BadValue { ty, what } => write!(f, "attribute {ty:?}: {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 or FINGERPRINT did not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IntegrityError {
    /// The message carries no such attribute (or only in a position where it is ignored).
    Missing,
    /// The attribute's value has the wrong length for its kind.
    Malformed,
    /// The value does not match the one computed over the message.
    Mismatch,
}

impl fmt::Display for IntegrityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "integrity attribute missing",
            Self::Malformed => "integrity attribute malformed",
            Self::Mismatch => "integrity check failed",
        })
    }
}

impl std::error::Error for IntegrityError {}
