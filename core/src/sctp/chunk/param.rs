//! Parameters of INIT, INIT ACK (RFC 9260 §3.3.2.1, §3.3.3.1; RFC 3758 §3.1) and RE-CONFIG
//! (RFC 6525 §4).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::reconfig::ReconfigResult;
use super::tlv::Tlv;
use super::{ChunkType, Error, UnknownAction, read_u16, read_u32};

/// A parameter type: an open code point, so an unknown value is kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParameterType(pub u16);

impl ParameterType {
    /// RFC 9260 §3.3.2.1.1: IPv4 Address.
    pub const IPV4_ADDRESS: Self = Self(5);
    /// RFC 9260 §3.3.2.1.2: IPv6 Address.
    pub const IPV6_ADDRESS: Self = Self(6);
    /// RFC 9260 §3.3.3.1: State Cookie.
    pub const STATE_COOKIE: Self = Self(7);
    /// RFC 9260 §3.3.3.1: Unrecognized Parameter.
    pub const UNRECOGNIZED_PARAMETER: Self = Self(8);
    /// RFC 9260 §3.3.2.1.3: Cookie Preservative.
    pub const COOKIE_PRESERVATIVE: Self = Self(9);
    /// RFC 9260 §3.3.2.1.5: Supported Address Types.
    pub const SUPPORTED_ADDRESS_TYPES: Self = Self(12);
    /// RFC 6525 §4.1: Outgoing SSN Reset Request.
    pub const OUTGOING_SSN_RESET_REQUEST: Self = Self(13);
    /// RFC 6525 §4.2: Incoming SSN Reset Request.
    pub const INCOMING_SSN_RESET_REQUEST: Self = Self(14);
    /// RFC 6525 §4.3: SSN/TSN Reset Request.
    pub const SSN_TSN_RESET_REQUEST: Self = Self(15);
    /// RFC 6525 §4.4: Re-configuration Response.
    pub const RECONFIG_RESPONSE: Self = Self(16);
    /// RFC 6525 §4.5: Add Outgoing Streams Request.
    pub const ADD_OUTGOING_STREAMS: Self = Self(17);
    /// RFC 6525 §4.6: Add Incoming Streams Request.
    pub const ADD_INCOMING_STREAMS: Self = Self(18);
    /// RFC 5061 §4.2.7: Supported Extensions.
    pub const SUPPORTED_EXTENSIONS: Self = Self(0x8008);
    /// RFC 3758 §3.1: Forward-TSN-Supported.
    pub const FORWARD_TSN_SUPPORTED: Self = Self(0xC000);

    /// RFC 9260 §3.2.1: what a receiver does with this type when it does not recognise it.
    pub fn unknown_action(self) -> UnknownAction {
        UnknownAction::from_high_bits((self.0 >> 14) as u8)
    }
}

/// One parameter of an INIT, INIT ACK or RE-CONFIG chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Parameter {
    /// An IPv4 address of the sender.
    Ipv4Address(Ipv4Addr),
    /// An IPv6 address of the sender.
    Ipv6Address(Ipv6Addr),
    /// The state cookie an INIT ACK carries, opaque to its receiver.
    StateCookie(Vec<u8>),
    /// An INIT parameter the sender of the INIT ACK did not recognise, quoted whole.
    UnrecognizedParameter(Vec<u8>),
    /// Suggested extra cookie lifetime, in milliseconds.
    CookiePreservative(u32),
    /// The address types (parameter types) the sender can use.
    SupportedAddressTypes(Vec<u16>),
    /// RFC 6525 §4.1: reset the sender's outgoing streams (all if `streams` is empty).
    OutgoingSsnResetRequest {
        /// Re-configuration Request Sequence Number of this request.
        request_seq: u32,
        /// The peer's request this one answers.
        response_seq: u32,
        /// The last TSN the sender assigned.
        last_tsn: u32,
        /// The streams to reset.
        streams: Vec<u16>,
    },
    /// RFC 6525 §4.2: ask the peer to reset its outgoing streams (all if `streams` is empty).
    IncomingSsnResetRequest {
        /// Re-configuration Request Sequence Number of this request.
        request_seq: u32,
        /// The streams to reset.
        streams: Vec<u16>,
    },
    /// RFC 6525 §4.3: reset every stream and the TSN.
    SsnTsnResetRequest {
        /// Re-configuration Request Sequence Number of this request.
        request_seq: u32,
    },
    /// RFC 6525 §4.4: the answer to a request.
    ReconfigResponse {
        /// The request answered.
        response_seq: u32,
        /// The outcome.
        result: ReconfigResult,
        /// After an SSN/TSN reset: (sender's next TSN, receiver's next TSN).
        next_tsns: Option<(u32, u32)>,
    },
    /// RFC 6525 §4.5: the sender adds outgoing streams.
    AddOutgoingStreams {
        /// Re-configuration Request Sequence Number of this request.
        request_seq: u32,
        /// How many streams to add.
        new_streams: u16,
    },
    /// RFC 6525 §4.6: ask the peer to add outgoing streams.
    AddIncomingStreams {
        /// Re-configuration Request Sequence Number of this request.
        request_seq: u32,
        /// How many streams to add.
        new_streams: u16,
    },
    /// RFC 5061 §4.2.7: chunk types the sender supports beyond RFC 9260.
    SupportedExtensions(Vec<ChunkType>),
    /// RFC 3758 §3.1: the sender supports FORWARD TSN.
    ForwardTsnSupported,
    /// Any other type, kept so it round-trips or can be reported.
    Unknown {
        /// The type; [`ParameterType::unknown_action`] says what to do with it.
        param_type: ParameterType,
        /// The value, without padding.
        value: Vec<u8>,
    },
}

/// A list of 16-bit values filling `value` (stream numbers, address types).
fn u16_list(value: &[u8], what: &'static str) -> Result<Vec<u16>, Error> {
    if value.len() % 2 != 0 {
        return Err(Error::InvalidLength {
            what,
            length: 4 + value.len(),
        });
    }
    Ok(value
        .chunks_exact(2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .collect())
}

/// Fails unless a parameter value is exactly `len` bytes (or at least, if `at_least`).
fn check_len(what: &'static str, value: &[u8], len: usize, at_least: bool) -> Result<(), Error> {
    let ok = if at_least {
        value.len() >= len
    } else {
        value.len() == len
    };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidLength {
            what,
            length: 4 + value.len(),
        })
    }
}

impl Parameter {
    /// Decodes a parameter from its type and value (without header or padding).
    pub fn parse(param_type: ParameterType, value: &[u8]) -> Result<Self, Error> {
        Ok(match param_type {
            ParameterType::IPV4_ADDRESS => {
                let octets: [u8; 4] = value.try_into().map_err(|_| Error::InvalidLength {
                    what: "IPv4 Address parameter",
                    length: 4 + value.len(),
                })?;
                Self::Ipv4Address(Ipv4Addr::from(octets))
            }
            ParameterType::IPV6_ADDRESS => {
                let octets: [u8; 16] = value.try_into().map_err(|_| Error::InvalidLength {
                    what: "IPv6 Address parameter",
                    length: 4 + value.len(),
                })?;
                Self::Ipv6Address(Ipv6Addr::from(octets))
            }
            ParameterType::STATE_COOKIE => Self::StateCookie(value.to_vec()),
            ParameterType::UNRECOGNIZED_PARAMETER => Self::UnrecognizedParameter(value.to_vec()),
            ParameterType::COOKIE_PRESERVATIVE => {
                check_len("Cookie Preservative parameter", value, 4, false)?;
                Self::CookiePreservative(read_u32(value, 0, "Cookie Preservative")?)
            }
            ParameterType::SUPPORTED_ADDRESS_TYPES => {
                Self::SupportedAddressTypes(u16_list(value, "Supported Address Types parameter")?)
            }
            ParameterType::OUTGOING_SSN_RESET_REQUEST => {
                let what = "Outgoing SSN Reset Request parameter";
                check_len(what, value, 12, true)?;
                Self::OutgoingSsnResetRequest {
                    request_seq: read_u32(value, 0, what)?,
                    response_seq: read_u32(value, 4, what)?,
                    last_tsn: read_u32(value, 8, what)?,
                    streams: u16_list(&value[12..], what)?,
                }
            }
            ParameterType::INCOMING_SSN_RESET_REQUEST => {
                let what = "Incoming SSN Reset Request parameter";
                check_len(what, value, 4, true)?;
                Self::IncomingSsnResetRequest {
                    request_seq: read_u32(value, 0, what)?,
                    streams: u16_list(&value[4..], what)?,
                }
            }
            ParameterType::SSN_TSN_RESET_REQUEST => {
                let what = "SSN/TSN Reset Request parameter";
                check_len(what, value, 4, false)?;
                Self::SsnTsnResetRequest {
                    request_seq: read_u32(value, 0, what)?,
                }
            }
            ParameterType::RECONFIG_RESPONSE => {
                let what = "Re-configuration Response parameter";
                // RFC 6525 §4.4: the two next-TSN fields come together or not at all.
                let next_tsns = match value.len() {
                    8 => None,
                    16 => Some((read_u32(value, 8, what)?, read_u32(value, 12, what)?)),
                    length => return Err(Error::InvalidLength { what, length }),
                };
                Self::ReconfigResponse {
                    response_seq: read_u32(value, 0, what)?,
                    result: ReconfigResult(read_u32(value, 4, what)?),
                    next_tsns,
                }
            }
            ParameterType::ADD_OUTGOING_STREAMS | ParameterType::ADD_INCOMING_STREAMS => {
                let what = "Add Streams Request parameter";
                check_len(what, value, 8, false)?;
                let request_seq = read_u32(value, 0, what)?;
                let new_streams = read_u16(value, 4, what)?;
                if param_type == ParameterType::ADD_OUTGOING_STREAMS {
                    Self::AddOutgoingStreams {
                        request_seq,
                        new_streams,
                    }
                } else {
                    Self::AddIncomingStreams {
                        request_seq,
                        new_streams,
                    }
                }
            }
            ParameterType::SUPPORTED_EXTENSIONS => {
                Self::SupportedExtensions(value.iter().map(|&t| ChunkType(t)).collect())
            }
            ParameterType::FORWARD_TSN_SUPPORTED => {
                check_len("Forward-TSN-Supported parameter", value, 0, false)?;
                Self::ForwardTsnSupported
            }
            _ => Self::Unknown {
                param_type,
                value: value.to_vec(),
            },
        })
    }

    /// The parameter type on the wire.
    pub fn param_type(&self) -> ParameterType {
        match self {
            Self::Ipv4Address(_) => ParameterType::IPV4_ADDRESS,
            Self::Ipv6Address(_) => ParameterType::IPV6_ADDRESS,
            Self::StateCookie(_) => ParameterType::STATE_COOKIE,
            Self::UnrecognizedParameter(_) => ParameterType::UNRECOGNIZED_PARAMETER,
            Self::CookiePreservative(_) => ParameterType::COOKIE_PRESERVATIVE,
            Self::SupportedAddressTypes(_) => ParameterType::SUPPORTED_ADDRESS_TYPES,
            Self::OutgoingSsnResetRequest { .. } => ParameterType::OUTGOING_SSN_RESET_REQUEST,
            Self::IncomingSsnResetRequest { .. } => ParameterType::INCOMING_SSN_RESET_REQUEST,
            Self::SsnTsnResetRequest { .. } => ParameterType::SSN_TSN_RESET_REQUEST,
            Self::ReconfigResponse { .. } => ParameterType::RECONFIG_RESPONSE,
            Self::AddOutgoingStreams { .. } => ParameterType::ADD_OUTGOING_STREAMS,
            Self::AddIncomingStreams { .. } => ParameterType::ADD_INCOMING_STREAMS,
            Self::SupportedExtensions(_) => ParameterType::SUPPORTED_EXTENSIONS,
            Self::ForwardTsnSupported => ParameterType::FORWARD_TSN_SUPPORTED,
            Self::Unknown { param_type, .. } => *param_type,
        }
    }
}

impl Tlv for Parameter {
    fn code(&self) -> u16 {
        self.param_type().0
    }

    fn value_len(&self) -> usize {
        match self {
            Self::Ipv4Address(_) | Self::CookiePreservative(_) => 4,
            Self::Ipv6Address(_) => 16,
            Self::StateCookie(v) | Self::UnrecognizedParameter(v) => v.len(),
            Self::SupportedAddressTypes(types) => 2 * types.len(),
            Self::OutgoingSsnResetRequest { streams, .. } => 12 + 2 * streams.len(),
            Self::IncomingSsnResetRequest { streams, .. } => 4 + 2 * streams.len(),
            Self::SsnTsnResetRequest { .. } => 4,
            Self::ReconfigResponse { next_tsns, .. } => 8 + if next_tsns.is_some() { 8 } else { 0 },
            Self::AddOutgoingStreams { .. } | Self::AddIncomingStreams { .. } => 8,
            Self::SupportedExtensions(types) => types.len(),
            Self::ForwardTsnSupported => 0,
            Self::Unknown { value, .. } => value.len(),
        }
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        match self {
            Self::Ipv4Address(a) => out.extend_from_slice(&a.octets()),
            Self::Ipv6Address(a) => out.extend_from_slice(&a.octets()),
            Self::StateCookie(v) | Self::UnrecognizedParameter(v) => out.extend_from_slice(v),
            Self::CookiePreservative(ms) => out.extend_from_slice(&ms.to_be_bytes()),
            Self::SupportedAddressTypes(list) => {
                list.iter()
                    .for_each(|t| out.extend_from_slice(&t.to_be_bytes()));
            }
            Self::OutgoingSsnResetRequest {
                request_seq,
                response_seq,
                last_tsn,
                streams,
            } => {
                out.extend_from_slice(&request_seq.to_be_bytes());
                out.extend_from_slice(&response_seq.to_be_bytes());
                out.extend_from_slice(&last_tsn.to_be_bytes());
                streams
                    .iter()
                    .for_each(|s| out.extend_from_slice(&s.to_be_bytes()));
            }
            Self::IncomingSsnResetRequest {
                request_seq,
                streams,
            } => {
                out.extend_from_slice(&request_seq.to_be_bytes());
                streams
                    .iter()
                    .for_each(|s| out.extend_from_slice(&s.to_be_bytes()));
            }
            Self::SsnTsnResetRequest { request_seq } => {
                out.extend_from_slice(&request_seq.to_be_bytes());
            }
            Self::ReconfigResponse {
                response_seq,
                result,
                next_tsns,
            } => {
                out.extend_from_slice(&response_seq.to_be_bytes());
                out.extend_from_slice(&result.0.to_be_bytes());
                if let Some((sender, receiver)) = next_tsns {
                    out.extend_from_slice(&sender.to_be_bytes());
                    out.extend_from_slice(&receiver.to_be_bytes());
                }
            }
            Self::AddOutgoingStreams {
                request_seq,
                new_streams,
            }
            | Self::AddIncomingStreams {
                request_seq,
                new_streams,
            } => {
                out.extend_from_slice(&request_seq.to_be_bytes());
                out.extend_from_slice(&new_streams.to_be_bytes());
                // RFC 6525 §4.5: the reserved field is sent as zero.
                out.extend_from_slice(&[0, 0]);
            }
            Self::SupportedExtensions(types) => out.extend(types.iter().map(|t| t.0)),
            Self::ForwardTsnSupported => {}
            Self::Unknown { value, .. } => out.extend_from_slice(value),
        }
    }
}
