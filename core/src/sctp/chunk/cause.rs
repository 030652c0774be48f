//! ABORT and ERROR (RFC 9260 §3.3.7, §3.3.10) and the error causes they carry (§3.3.10.1-13).

use super::tlv::{Tlv, encode_list, list_len, parse_list};
use super::{Error, read_u16, read_u32};

/// RFC 9260 §3.3.7: the T bit of ABORT.
const FLAG_TAG_REFLECTED: u8 = 0x01;

/// An error cause (RFC 9260 §3.3.10). Causes whose body this codec does not interpret are
/// [`ErrorCause::Unknown`] and round-trip.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCause {
    /// 1: DATA sent to a stream that does not exist.
    InvalidStreamIdentifier(u16),
    /// 2: INIT or INIT ACK lacked mandatory parameters of these types.
    MissingMandatoryParameter(Vec<u16>),
    /// 3: a COOKIE ECHO arrived this many microseconds after the cookie expired.
    StaleCookie(u32),
    /// 4: the sender is out of resources.
    OutOfResource,
    /// 6: the chunk the sender did not recognise, quoted whole.
    UnrecognizedChunkType(Vec<u8>),
    /// 7: a mandatory parameter was invalid.
    InvalidMandatoryParameter,
    /// 8: the parameters the sender did not recognise, quoted whole.
    UnrecognizedParameters(Vec<u8>),
    /// 9: a DATA chunk with this TSN had no user data.
    NoUserData(u32),
    /// 10: a COOKIE ECHO arrived while shutting down.
    CookieReceivedWhileShuttingDown,
    /// 12: the upper layer aborted; the reason is opaque.
    UserInitiatedAbort(Vec<u8>),
    /// 13: the peer broke the protocol; the text is opaque.
    ProtocolViolation(Vec<u8>),
    /// Any other cause code (5 Unresolvable Address, 11 Restart with New Addresses, ...).
    Unknown {
        /// The cause code.
        code: u16,
        /// The cause body, without padding.
        value: Vec<u8>,
    },
}

/// Fails unless a cause body is exactly `len` bytes.
fn cause_len(what: &'static str, value: &[u8], len: usize) -> Result<(), Error> {
    if value.len() == len {
        Ok(())
    } else {
        Err(Error::InvalidLength {
            what,
            length: 4 + value.len(),
        })
    }
}

impl ErrorCause {
    /// Decodes a cause from its code and body (without header or padding).
    pub fn parse(code: u16, value: &[u8]) -> Result<Self, Error> {
        Ok(match code {
            1 => {
                cause_len("Invalid Stream Identifier cause", value, 4)?;
                Self::InvalidStreamIdentifier(read_u16(value, 0, "Invalid Stream Identifier")?)
            }
            2 => {
                let what = "Missing Mandatory Parameter cause";
                let count = read_u32(value, 0, what)?;
                let types = &value[4..];
                if types.len() % 2 != 0 || u32::try_from(types.len() / 2) != Ok(count) {
                    return Err(Error::InvalidLength {
                        what,
                        length: 4 + value.len(),
                    });
                }
                Self::MissingMandatoryParameter(
                    types
                        .chunks_exact(2)
                        .map(|b| u16::from_be_bytes([b[0], b[1]]))
                        .collect(),
                )
            }
            3 => {
                cause_len("Stale Cookie cause", value, 4)?;
                Self::StaleCookie(read_u32(value, 0, "Stale Cookie cause")?)
            }
            4 => {
                cause_len("Out of Resource cause", value, 0)?;
                Self::OutOfResource
            }
            6 => Self::UnrecognizedChunkType(value.to_vec()),
            7 => {
                cause_len("Invalid Mandatory Parameter cause", value, 0)?;
                Self::InvalidMandatoryParameter
            }
            8 => Self::UnrecognizedParameters(value.to_vec()),
            9 => {
                cause_len("No User Data cause", value, 4)?;
                Self::NoUserData(read_u32(value, 0, "No User Data cause")?)
            }
            10 => {
                cause_len("Cookie Received While Shutting Down cause", value, 0)?;
                Self::CookieReceivedWhileShuttingDown
            }
            12 => Self::UserInitiatedAbort(value.to_vec()),
            13 => Self::ProtocolViolation(value.to_vec()),
            _ => Self::Unknown {
                code,
                value: value.to_vec(),
            },
        })
    }
}

impl Tlv for ErrorCause {
    fn code(&self) -> u16 {
        match self {
            Self::InvalidStreamIdentifier(_) => 1,
            Self::MissingMandatoryParameter(_) => 2,
            Self::StaleCookie(_) => 3,
            Self::OutOfResource => 4,
            Self::UnrecognizedChunkType(_) => 6,
            Self::InvalidMandatoryParameter => 7,
            Self::UnrecognizedParameters(_) => 8,
            Self::NoUserData(_) => 9,
            Self::CookieReceivedWhileShuttingDown => 10,
            Self::UserInitiatedAbort(_) => 12,
            Self::ProtocolViolation(_) => 13,
            Self::Unknown { code, .. } => *code,
        }
    }

    fn value_len(&self) -> usize {
        match self {
            Self::InvalidStreamIdentifier(_) | Self::StaleCookie(_) | Self::NoUserData(_) => 4,
            Self::MissingMandatoryParameter(types) => 4 + 2 * types.len(),
            Self::OutOfResource
            | Self::InvalidMandatoryParameter
            | Self::CookieReceivedWhileShuttingDown => 0,
            Self::UnrecognizedChunkType(v)
            | Self::UnrecognizedParameters(v)
            | Self::UserInitiatedAbort(v)
            | Self::ProtocolViolation(v)
            | Self::Unknown { value: v, .. } => v.len(),
        }
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        match self {
            Self::InvalidStreamIdentifier(stream) => {
                out.extend_from_slice(&stream.to_be_bytes());
                // RFC 9260 §3.3.10.1: the reserved half is sent as zero.
                out.extend_from_slice(&[0, 0]);
            }
            Self::MissingMandatoryParameter(types) => {
                let count = u32::try_from(types.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&count.to_be_bytes());
                types
                    .iter()
                    .for_each(|t| out.extend_from_slice(&t.to_be_bytes()));
            }
            Self::StaleCookie(n) | Self::NoUserData(n) => out.extend_from_slice(&n.to_be_bytes()),
            Self::OutOfResource
            | Self::InvalidMandatoryParameter
            | Self::CookieReceivedWhileShuttingDown => {}
            Self::UnrecognizedChunkType(v)
            | Self::UnrecognizedParameters(v)
            | Self::UserInitiatedAbort(v)
            | Self::ProtocolViolation(v)
            | Self::Unknown { value: v, .. } => out.extend_from_slice(v),
        }
    }
}

/// Bytes a list of causes takes in a chunk.
pub(super) fn causes_len(causes: &[ErrorCause]) -> usize {
    list_len(causes)
}

/// Appends a list of causes.
pub(super) fn encode_causes(causes: &[ErrorCause], out: &mut Vec<u8>) {
    encode_list(causes, out);
}

fn parse_causes(value: &[u8]) -> Result<Vec<ErrorCause>, Error> {
    parse_list(value, "error cause", ErrorCause::parse)
}

/// An ABORT: the association is closed at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abort {
    /// T bit: the packet carries the sender's own verification tag, reflected, because it has
    /// no TCB (RFC 9260 §8.4, §8.5.1).
    pub tag_reflected: bool,
    /// Why, if the sender says.
    pub causes: Vec<ErrorCause>,
}

impl Abort {
    pub(super) fn parse(flags: u8, value: &[u8]) -> Result<Self, Error> {
        Ok(Self {
            tag_reflected: flags & FLAG_TAG_REFLECTED != 0,
            causes: parse_causes(value)?,
        })
    }
}

/// An ERROR chunk: conditions that do not close the association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationError {
    /// The conditions reported.
    pub causes: Vec<ErrorCause>,
}

impl OperationError {
    pub(super) fn parse(value: &[u8]) -> Result<Self, Error> {
        Ok(Self {
            causes: parse_causes(value)?,
        })
    }
}
