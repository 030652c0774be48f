//! I-FORWARD-TSN (RFC 8260 §2.3.1): FORWARD TSN for associations that use I-DATA, naming
//! skipped messages by stream, U bit and 32-bit Message Identifier.

use super::{Error, read_u32};

/// RFC 8260 §2.3.1: the U bit, lowest bit of the 16 bits after the stream identifier.
const FLAG_UNORDERED: u16 = 0x0001;

/// RFC 8260 §2.3.1: a stream, whether its ordered or unordered messages are meant, and the
/// largest Message Identifier skipped among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedMessage {
    /// The stream.
    pub stream_id: u16,
    /// The U bit: unordered messages.
    pub unordered: bool,
    /// The largest MID skipped.
    pub mid: u32,
}

/// An I-FORWARD-TSN: the receiver moves its cumulative TSN to `new_cumulative_tsn` and stops
/// waiting for the listed messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IForwardTsn {
    /// The new cumulative TSN.
    pub new_cumulative_tsn: u32,
    /// The messages skipped, per stream and U bit.
    pub skipped: Vec<SkippedMessage>,
}

impl IForwardTsn {
    pub(super) fn parse(value: &[u8]) -> Result<Self, Error> {
        let what = "I-FORWARD-TSN chunk";
        let new_cumulative_tsn = read_u32(value, 0, what)?;
        let rest = &value[4..];
        if rest.len() % 8 != 0 {
            return Err(Error::InvalidLength {
                what,
                length: 4 + value.len(),
            });
        }
        Ok(Self {
            new_cumulative_tsn,
            skipped: rest
                .chunks_exact(8)
                .map(|b| SkippedMessage {
                    stream_id: u16::from_be_bytes([b[0], b[1]]),
                    // RFC 8260 §2.3.1: the 15 reserved bits are ignored on receipt.
                    unordered: u16::from_be_bytes([b[2], b[3]]) & FLAG_UNORDERED != 0,
                    mid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                })
                .collect(),
        })
    }

    pub(super) fn value_len(&self) -> usize {
        4 + 8 * self.skipped.len()
    }

    pub(super) fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.new_cumulative_tsn.to_be_bytes());
        for s in &self.skipped {
            out.extend_from_slice(&s.stream_id.to_be_bytes());
            let flags = if s.unordered { FLAG_UNORDERED } else { 0 };
            out.extend_from_slice(&flags.to_be_bytes());
            out.extend_from_slice(&s.mid.to_be_bytes());
        }
    }
}
