//! I-DATA (RFC 8260 §2.1): DATA with a 32-bit Message Identifier and a Fragment Sequence
//! Number, so that fragments of different user messages may interleave.

use super::{Error, read_u16, read_u32};

/// RFC 8260 §2.1: the E, B, U and I bits sit where DATA has them.
const FLAG_END: u8 = 0x01;
const FLAG_BEGINNING: u8 = 0x02;
const FLAG_UNORDERED: u8 = 0x04;
const FLAG_IMMEDIATE: u8 = 0x08;
/// TSN, stream identifier, reserved, MID, and PPID or FSN.
const FIXED_LEN: usize = 16;

/// An I-DATA chunk: one fragment (or all) of a user message on one stream.
///
/// RFC 8260 §2.1: the word after the MID is the Payload Protocol Identifier in the first
/// fragment (B bit set, whose Fragment Sequence Number is implicitly 0) and the Fragment
/// Sequence Number in every other one. [`Chunk::parse`](super::Chunk::parse) fills the field
/// the wire does not carry with zero, and encoding writes `ppid` when `beginning` is set and
/// `fsn` otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IData {
    /// U bit: deliver without regard to the message order on the stream.
    pub unordered: bool,
    /// B bit: the first fragment of the user message.
    pub beginning: bool,
    /// E bit: the last fragment of the user message.
    pub ending: bool,
    /// I bit (RFC 7053): the receiver should SACK at once.
    pub immediate: bool,
    /// Transmission Sequence Number.
    pub tsn: u32,
    /// The stream the message belongs to.
    pub stream_id: u16,
    /// Message Identifier: counts ordered and unordered messages of a stream separately.
    pub mid: u32,
    /// Payload Protocol Identifier (first fragment only; zero otherwise).
    pub ppid: u32,
    /// Fragment Sequence Number (0 for the first fragment).
    pub fsn: u32,
    /// The user data (RFC 8260 §2.1: never empty; the association enforces it).
    pub payload: Vec<u8>,
}

impl IData {
    pub(super) fn parse(flags: u8, value: &[u8]) -> Result<Self, Error> {
        let what = "I-DATA chunk";
        if value.len() < FIXED_LEN {
            return Err(Error::Truncated { what });
        }
        let beginning = flags & FLAG_BEGINNING != 0;
        let word = read_u32(value, 12, what)?;
        Ok(Self {
            unordered: flags & FLAG_UNORDERED != 0,
            beginning,
            ending: flags & FLAG_END != 0,
            immediate: flags & FLAG_IMMEDIATE != 0,
            tsn: read_u32(value, 0, what)?,
            stream_id: read_u16(value, 4, what)?,
            mid: read_u32(value, 8, what)?,
            ppid: if beginning { word } else { 0 },
            fsn: if beginning { 0 } else { word },
            payload: value[FIXED_LEN..].to_vec(),
        })
    }

    pub(super) fn flags(&self) -> u8 {
        let mut flags = 0;
        for (set, bit) in [
            (self.unordered, FLAG_UNORDERED),
            (self.beginning, FLAG_BEGINNING),
            (self.ending, FLAG_END),
            (self.immediate, FLAG_IMMEDIATE),
        ] {
            if set {
                flags |= bit;
            }
        }
        flags
    }

    pub(super) fn value_len(&self) -> usize {
        FIXED_LEN + self.payload.len()
    }

    pub(super) fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.tsn.to_be_bytes());
        out.extend_from_slice(&self.stream_id.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.mid.to_be_bytes());
        let word = if self.beginning { self.ppid } else { self.fsn };
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&self.payload);
    }
}
