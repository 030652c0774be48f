//! DATA (RFC 9260 §3.3.1).

use super::{Error, read_u16, read_u32};

/// RFC 9260 §3.3.1: the E bit, last fragment of a user message.
const FLAG_END: u8 = 0x01;
/// The B bit, first fragment of a user message.
const FLAG_BEGINNING: u8 = 0x02;
/// The U bit, unordered delivery.
const FLAG_UNORDERED: u8 = 0x04;
/// RFC 7053 §3: the I bit, asking the receiver to SACK without delay.
const FLAG_IMMEDIATE: u8 = 0x08;
/// TSN, stream identifier, stream sequence number and payload protocol identifier.
const FIXED_LEN: usize = 12;

/// A DATA chunk: one fragment (or all) of a user message on one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// U bit: deliver without regard to the stream sequence number.
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
    /// Stream Sequence Number; the same for every fragment of one message.
    pub ssn: u16,
    /// Payload Protocol Identifier (RFC 8831 §8: WebRTC string, binary, DCEP, ...).
    pub ppid: u32,
    /// The user data. RFC 9260 §6.2: an empty one is a protocol error the association
    /// answers with a "No User Data" ABORT; the codec keeps it so the association can.
    pub payload: Vec<u8>,
}

impl Data {
    pub(super) fn parse(flags: u8, value: &[u8]) -> Result<Self, Error> {
        let what = "DATA chunk";
        if value.len() < FIXED_LEN {
            return Err(Error::Truncated { what });
        }
        Ok(Self {
            unordered: flags & FLAG_UNORDERED != 0,
            beginning: flags & FLAG_BEGINNING != 0,
            ending: flags & FLAG_END != 0,
            immediate: flags & FLAG_IMMEDIATE != 0,
            tsn: read_u32(value, 0, what)?,
            stream_id: read_u16(value, 4, what)?,
            ssn: read_u16(value, 6, what)?,
            ppid: read_u32(value, 8, what)?,
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
        out.extend_from_slice(&self.ssn.to_be_bytes());
        out.extend_from_slice(&self.ppid.to_be_bytes());
        out.extend_from_slice(&self.payload);
    }
}
