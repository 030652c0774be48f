//! SACK (RFC 9260 §3.3.4).

use super::{Error, read_u16, read_u32};

/// Cumulative TSN ack, a_rwnd, and the two counts.
const FIXED_LEN: usize = 12;

/// RFC 9260 §3.3.4: a run of TSNs received after a gap, as offsets from the cumulative TSN ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapAckBlock {
    /// First TSN of the block is `cumulative_tsn_ack + start`.
    pub start: u16,
    /// Last TSN of the block is `cumulative_tsn_ack + end`.
    pub end: u16,
}

/// A selective acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sack {
    /// The last TSN received in sequence before a gap.
    pub cumulative_tsn_ack: u32,
    /// Advertised receiver window credit, in bytes.
    pub a_rwnd: u32,
    /// Runs received beyond the cumulative TSN ack.
    pub gap_ack_blocks: Vec<GapAckBlock>,
    /// TSNs received more than once since the last SACK.
    pub duplicate_tsns: Vec<u32>,
}

impl Sack {
    pub(super) fn parse(value: &[u8]) -> Result<Self, Error> {
        let what = "SACK chunk";
        let cumulative_tsn_ack = read_u32(value, 0, what)?;
        let a_rwnd = read_u32(value, 4, what)?;
        let gaps = usize::from(read_u16(value, 8, what)?);
        let dups = usize::from(read_u16(value, 10, what)?);
        // The counts are trusted only once the length agrees with them, so nothing is
        // allocated beyond what the packet holds.
        if value.len() != FIXED_LEN + 4 * gaps + 4 * dups {
            return Err(Error::InvalidLength {
                what,
                length: 4 + value.len(),
            });
        }
        let blocks = &value[FIXED_LEN..FIXED_LEN + 4 * gaps];
        let dup_bytes = &value[FIXED_LEN + 4 * gaps..];
        Ok(Self {
            cumulative_tsn_ack,
            a_rwnd,
            gap_ack_blocks: blocks
                .chunks_exact(4)
                .map(|b| GapAckBlock {
                    start: u16::from_be_bytes([b[0], b[1]]),
                    end: u16::from_be_bytes([b[2], b[3]]),
                })
                .collect(),
            duplicate_tsns: dup_bytes
                .chunks_exact(4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        })
    }

    pub(super) fn value_len(&self) -> usize {
        FIXED_LEN + 4 * self.gap_ack_blocks.len() + 4 * self.duplicate_tsns.len()
    }

    /// Appends the value. The counts are 16-bit: the association never builds a SACK with more
    /// blocks than fit in one packet, and the counts saturate rather than wrap if it did.
    pub(super) fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.cumulative_tsn_ack.to_be_bytes());
        out.extend_from_slice(&self.a_rwnd.to_be_bytes());
        let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
        out.extend_from_slice(&count(self.gap_ack_blocks.len()));
        out.extend_from_slice(&count(self.duplicate_tsns.len()));
        for block in &self.gap_ack_blocks {
            out.extend_from_slice(&block.start.to_be_bytes());
            out.extend_from_slice(&block.end.to_be_bytes());
        }
        for tsn in &self.duplicate_tsns {
            out.extend_from_slice(&tsn.to_be_bytes());
        }
    }
}
