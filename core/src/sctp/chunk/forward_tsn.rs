//! FORWARD TSN (RFC 3758 §3.2).

use super::{Error, read_u32};

/// RFC 3758 §3.2: a stream and the highest SSN skipped on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedStream {
    /// The stream.
    pub stream_id: u16,
    /// The largest stream sequence number skipped on it.
    pub ssn: u16,
}

/// A FORWARD TSN: the receiver moves its cumulative TSN to `new_cumulative_tsn` as if every
/// abandoned TSN before it had arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardTsn {
    /// The new cumulative TSN.
    pub new_cumulative_tsn: u32,
    /// Ordered streams with skipped messages, so they stop waiting for them.
    pub streams: Vec<SkippedStream>,
}

impl ForwardTsn {
    pub(super) fn parse(value: &[u8]) -> Result<Self, Error> {
        let what = "FORWARD TSN chunk";
        let new_cumulative_tsn = read_u32(value, 0, what)?;
        let rest = &value[4..];
        if rest.len() % 4 != 0 {
            return Err(Error::InvalidLength {
                what,
                length: 4 + value.len(),
            });
        }
        Ok(Self {
            new_cumulative_tsn,
            streams: rest
                .chunks_exact(4)
                .map(|b| SkippedStream {
                    stream_id: u16::from_be_bytes([b[0], b[1]]),
                    ssn: u16::from_be_bytes([b[2], b[3]]),
                })
                .collect(),
        })
    }

    pub(super) fn value_len(&self) -> usize {
        4 + 4 * self.streams.len()
    }

    pub(super) fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.new_cumulative_tsn.to_be_bytes());
        for s in &self.streams {
            out.extend_from_slice(&s.stream_id.to_be_bytes());
            out.extend_from_slice(&s.ssn.to_be_bytes());
        }
    }
}
