//! SCTP chunks (RFC 9260 §3.2, §3.3; RFC 3758 §3.2; RFC 6525 §3.1; RFC 8260 §2.1, §2.3.1).
//!
//! A chunk on the wire is a type, flags, a length that counts the 4-byte header and the value
//! but not the padding to a multiple of four, then the value. [`Chunk`] is the typed form with
//! [`Chunk::parse`], [`Chunk::encode`] and [`Chunk::encoded_len`]; a type this codec does not
//! know becomes [`Chunk::Unknown`] and round-trips byte for byte.

mod cause;
mod cookie;
mod data;
mod forward_tsn;
mod heartbeat;
mod idata;
mod iforward_tsn;
mod init;
mod param;
mod reconfig;
mod sack;
mod shutdown;
mod tlv;

pub use cause::{Abort, ErrorCause, OperationError};
pub use cookie::CookieEcho;
pub use data::Data;
pub use forward_tsn::{ForwardTsn, SkippedStream};
pub use heartbeat::Heartbeat;
pub use idata::IData;
pub use iforward_tsn::{IForwardTsn, SkippedMessage};
pub use init::Init;
pub use param::{Parameter, ParameterType};
pub use reconfig::{Reconfig, ReconfigResult};
pub use sack::{GapAckBlock, Sack};
pub use shutdown::{Shutdown, ShutdownComplete};

use super::Error;

/// Bytes of the chunk header: type, flags, length.
pub const CHUNK_HEADER_LEN: usize = 4;

/// A chunk type: an open code point, so an unknown value is kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkType(pub u8);

impl ChunkType {
    /// RFC 9260 §3.3.1: Payload Data.
    pub const DATA: Self = Self(0);
    /// RFC 9260 §3.3.2: Initiation.
    pub const INIT: Self = Self(1);
    /// RFC 9260 §3.3.3: Initiation Acknowledgement.
    pub const INIT_ACK: Self = Self(2);
    /// RFC 9260 §3.3.4: Selective Acknowledgement.
    pub const SACK: Self = Self(3);
    /// RFC 9260 §3.3.5: Heartbeat Request.
    pub const HEARTBEAT: Self = Self(4);
    /// RFC 9260 §3.3.6: Heartbeat Acknowledgement.
    pub const HEARTBEAT_ACK: Self = Self(5);
    /// RFC 9260 §3.3.7: Abort.
    pub const ABORT: Self = Self(6);
    /// RFC 9260 §3.3.8: Shutdown.
    pub const SHUTDOWN: Self = Self(7);
    /// RFC 9260 §3.3.9: Shutdown Acknowledgement.
    pub const SHUTDOWN_ACK: Self = Self(8);
    /// RFC 9260 §3.3.10: Operation Error.
    pub const ERROR: Self = Self(9);
    /// RFC 9260 §3.3.11: State Cookie.
    pub const COOKIE_ECHO: Self = Self(10);
    /// RFC 9260 §3.3.12: Cookie Acknowledgement.
    pub const COOKIE_ACK: Self = Self(11);
    /// RFC 9260 §3.3.13: Shutdown Complete.
    pub const SHUTDOWN_COMPLETE: Self = Self(14);
    /// RFC 8260 §2.1: Payload Data supporting user message interleaving.
    pub const I_DATA: Self = Self(64);
    /// RFC 6525 §3.1: Re-configuration.
    pub const RECONFIG: Self = Self(130);
    /// RFC 3758 §3.2: Forward Cumulative TSN.
    pub const FORWARD_TSN: Self = Self(192);
    /// RFC 8260 §2.3.1: Forward Cumulative TSN for I-DATA.
    pub const I_FORWARD_TSN: Self = Self(194);

    /// What a receiver does with this type when it does not recognise it.
    pub fn unknown_action(self) -> UnknownAction {
        UnknownAction::from_high_bits(self.0 >> 6)
    }
}

/// RFC 9260 §3.2 (chunks) and §3.2.1 (parameters): the two highest bits of an unrecognised type
/// say whether to process the rest and whether to tell the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownAction {
    /// `00`: stop processing this packet (or chunk) and discard it.
    Stop,
    /// `01`: stop and discard, and report it (ERROR "Unrecognized Chunk Type" or an
    /// "Unrecognized Parameter").
    StopAndReport,
    /// `10`: skip it and continue.
    Skip,
    /// `11`: skip it, continue, and report it.
    SkipAndReport,
}

impl UnknownAction {
    fn from_high_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Self::Stop,
            0b01 => Self::StopAndReport,
            0b10 => Self::Skip,
            _ => Self::SkipAndReport,
        }
    }

    /// Whether the rest of the packet (or chunk) is still processed.
    pub fn continues(self) -> bool {
        matches!(self, Self::Skip | Self::SkipAndReport)
    }

    /// Whether the peer is told.
    pub fn reports(self) -> bool {
        matches!(self, Self::StopAndReport | Self::SkipAndReport)
    }
}

/// A chunk of a type this codec does not decode, kept whole so that it round-trips and can be
/// quoted in an "Unrecognized Chunk Type" error cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownChunk {
    /// The chunk type; [`ChunkType::unknown_action`] says what to do with it.
    pub chunk_type: ChunkType,
    /// The flags byte, as received.
    pub flags: u8,
    /// The value after the chunk header, without padding.
    pub value: Vec<u8>,
}

/// One SCTP chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunk {
    /// DATA (type 0).
    Data(Data),
    /// INIT (type 1).
    Init(Init),
    /// INIT ACK (type 2): the same fields as INIT, with a State Cookie parameter.
    InitAck(Init),
    /// SACK (type 3).
    Sack(Sack),
    /// HEARTBEAT (type 4).
    Heartbeat(Heartbeat),
    /// HEARTBEAT ACK (type 5): echoes the request's Heartbeat Information.
    HeartbeatAck(Heartbeat),
    /// ABORT (type 6).
    Abort(Abort),
    /// SHUTDOWN (type 7).
    Shutdown(Shutdown),
    /// SHUTDOWN ACK (type 8).
    ShutdownAck,
    /// ERROR (type 9).
    Error(OperationError),
    /// COOKIE ECHO (type 10).
    CookieEcho(CookieEcho),
    /// COOKIE ACK (type 11).
    CookieAck,
    /// SHUTDOWN COMPLETE (type 14).
    ShutdownComplete(ShutdownComplete),
    /// RE-CONFIG (type 130, RFC 6525).
    Reconfig(Reconfig),
    /// FORWARD TSN (type 192, RFC 3758).
    ForwardTsn(ForwardTsn),
    /// I-DATA (type 64, RFC 8260).
    IData(IData),
    /// I-FORWARD-TSN (type 194, RFC 8260).
    IForwardTsn(IForwardTsn),
    /// Any other type.
    Unknown(UnknownChunk),
}

impl Chunk {
    /// Decodes one chunk from its type, flags and value (the bytes the length covers after
    /// the header, without padding).
    pub fn parse(chunk_type: ChunkType, flags: u8, value: &[u8]) -> Result<Self, Error> {
        Ok(match chunk_type {
            ChunkType::DATA => Self::Data(Data::parse(flags, value)?),
            ChunkType::INIT => Self::Init(Init::parse(value)?),
            ChunkType::INIT_ACK => Self::InitAck(Init::parse(value)?),
            ChunkType::SACK => Self::Sack(Sack::parse(value)?),
            ChunkType::HEARTBEAT => Self::Heartbeat(Heartbeat::parse(value)?),
            ChunkType::HEARTBEAT_ACK => Self::HeartbeatAck(Heartbeat::parse(value)?),
            ChunkType::ABORT => Self::Abort(Abort::parse(flags, value)?),
            ChunkType::SHUTDOWN => Self::Shutdown(Shutdown::parse(value)?),
            ChunkType::SHUTDOWN_ACK => {
                expect_empty("SHUTDOWN ACK", value)?;
                Self::ShutdownAck
            }
            ChunkType::ERROR => Self::Error(OperationError::parse(value)?),
            ChunkType::COOKIE_ECHO => Self::CookieEcho(CookieEcho::parse(value)),
            ChunkType::COOKIE_ACK => {
                expect_empty("COOKIE ACK", value)?;
                Self::CookieAck
            }
            ChunkType::SHUTDOWN_COMPLETE => {
                Self::ShutdownComplete(ShutdownComplete::parse(flags, value)?)
            }
            ChunkType::RECONFIG => Self::Reconfig(Reconfig::parse(value)?),
            ChunkType::FORWARD_TSN => Self::ForwardTsn(ForwardTsn::parse(value)?),
            ChunkType::I_DATA => Self::IData(IData::parse(flags, value)?),
            ChunkType::I_FORWARD_TSN => Self::IForwardTsn(IForwardTsn::parse(value)?),
            _ => Self::Unknown(UnknownChunk {
                chunk_type,
                flags,
                value: value.to_vec(),
            }),
        })
    }

    /// The chunk type on the wire.
    pub fn chunk_type(&self) -> ChunkType {
        match self {
            Self::Data(_) => ChunkType::DATA,
            Self::Init(_) => ChunkType::INIT,
            Self::InitAck(_) => ChunkType::INIT_ACK,
            Self::Sack(_) => ChunkType::SACK,
            Self::Heartbeat(_) => ChunkType::HEARTBEAT,
            Self::HeartbeatAck(_) => ChunkType::HEARTBEAT_ACK,
            Self::Abort(_) => ChunkType::ABORT,
            Self::Shutdown(_) => ChunkType::SHUTDOWN,
            Self::ShutdownAck => ChunkType::SHUTDOWN_ACK,
            Self::Error(_) => ChunkType::ERROR,
            Self::CookieEcho(_) => ChunkType::COOKIE_ECHO,
            Self::CookieAck => ChunkType::COOKIE_ACK,
            Self::ShutdownComplete(_) => ChunkType::SHUTDOWN_COMPLETE,
            Self::Reconfig(_) => ChunkType::RECONFIG,
            Self::ForwardTsn(_) => ChunkType::FORWARD_TSN,
            Self::IData(_) => ChunkType::I_DATA,
            Self::IForwardTsn(_) => ChunkType::I_FORWARD_TSN,
            Self::Unknown(u) => u.chunk_type,
        }
    }

    /// The flags byte this chunk is sent with. RFC 9260 §3.2: flags a chunk does not define
    /// are sent as zero and ignored on receipt.
    fn flags(&self) -> u8 {
        match self {
            Self::Data(d) => d.flags(),
            Self::IData(d) => d.flags(),
            Self::Abort(a) => u8::from(a.tag_reflected),
            Self::ShutdownComplete(s) => u8::from(s.tag_reflected),
            Self::Unknown(u) => u.flags,
            _ => 0,
        }
    }

    /// Bytes of the value, without the chunk header and without trailing padding.
    fn value_len(&self) -> usize {
        match self {
            Self::Data(d) => d.value_len(),
            Self::Init(i) | Self::InitAck(i) => i.value_len(),
            Self::Sack(s) => s.value_len(),
            Self::Heartbeat(h) | Self::HeartbeatAck(h) => h.value_len(),
            Self::Abort(a) => cause::causes_len(&a.causes),
            Self::Shutdown(_) => 4,
            Self::ShutdownAck | Self::CookieAck | Self::ShutdownComplete(_) => 0,
            Self::Error(e) => cause::causes_len(&e.causes),
            Self::CookieEcho(c) => c.cookie.len(),
            Self::Reconfig(r) => r.value_len(),
            Self::ForwardTsn(f) => f.value_len(),
            Self::IData(d) => d.value_len(),
            Self::IForwardTsn(f) => f.value_len(),
            Self::Unknown(u) => u.value.len(),
        }
    }

    /// Bytes [`Chunk::encode`] appends: header, value and padding to a multiple of four.
    pub fn encoded_len(&self) -> usize {
        padded(CHUNK_HEADER_LEN + self.value_len())
    }

    /// Appends the chunk, padded to a multiple of four bytes (RFC 9260 §3.2).
    ///
    /// A value longer than the 16-bit length field allows cannot be sent in one chunk; the
    /// length field then saturates, and the caller (which fragments user messages to the path
    /// MTU) is expected never to build one.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let length = CHUNK_HEADER_LEN + self.value_len();
        out.push(self.chunk_type().0);
        out.push(self.flags());
        out.extend_from_slice(&u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes());
        match self {
            Self::Data(d) => d.encode_value(out),
            Self::Init(i) | Self::InitAck(i) => i.encode_value(out),
            Self::Sack(s) => s.encode_value(out),
            Self::Heartbeat(h) | Self::HeartbeatAck(h) => h.encode_value(out),
            Self::Abort(a) => cause::encode_causes(&a.causes, out),
            Self::Shutdown(s) => out.extend_from_slice(&s.cumulative_tsn_ack.to_be_bytes()),
            Self::ShutdownAck | Self::CookieAck | Self::ShutdownComplete(_) => {}
            Self::Error(e) => cause::encode_causes(&e.causes, out),
            Self::CookieEcho(c) => out.extend_from_slice(&c.cookie),
            Self::Reconfig(r) => r.encode_value(out),
            Self::ForwardTsn(f) => f.encode_value(out),
            Self::IData(d) => d.encode_value(out),
            Self::IForwardTsn(f) => f.encode_value(out),
            Self::Unknown(u) => out.extend_from_slice(&u.value),
        }
        debug_assert_eq!(out.len() - start, length);
        out.resize(start + padded(length), 0);
    }
}

/// `len` rounded up to a multiple of four.
pub(crate) fn padded(len: usize) -> usize {
    len.div_ceil(4) * 4
}

/// The big-endian `u16` at `at`.
fn read_u16(bytes: &[u8], at: usize, what: &'static str) -> Result<u16, Error> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or(Error::Truncated { what })
}

/// The big-endian `u32` at `at`.
fn read_u32(bytes: &[u8], at: usize, what: &'static str) -> Result<u32, Error> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(Error::Truncated { what })
}

/// RFC 9260 §3.3.9, §3.3.12: chunks made of the header alone.
fn expect_empty(what: &'static str, value: &[u8]) -> Result<(), Error> {
    if value.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidLength {
            what,
            length: CHUNK_HEADER_LEN + value.len(),
        })
    }
}

/// Fails unless `value` is exactly `len` bytes.
fn expect_len(what: &'static str, value: &[u8], len: usize) -> Result<(), Error> {
    if value.len() == len {
        Ok(())
    } else {
        Err(Error::InvalidLength {
            what,
            length: CHUNK_HEADER_LEN + value.len(),
        })
    }
}

#[cfg(test)]
mod tests;
