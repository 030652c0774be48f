//! HEARTBEAT and HEARTBEAT ACK (RFC 9260 §3.3.5, §3.3.6).

use super::Error;
use super::tlv::parse_list;

/// RFC 9260 §3.3.5: the type of the Heartbeat Information parameter.
const HEARTBEAT_INFO: u16 = 1;

/// The body of a HEARTBEAT or HEARTBEAT ACK: one Heartbeat Information parameter, opaque to
/// the receiver, which echoes it unchanged in the ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The sender-specific information (the sender puts its clock and path there).
    pub info: Vec<u8>,
}

impl Heartbeat {
    pub(super) fn parse(value: &[u8]) -> Result<Self, Error> {
        let what = "Heartbeat Information parameter";
        let mut params = parse_list(value, what, |t, v| Ok((t, v)))?;
        match params.pop() {
            Some((HEARTBEAT_INFO, info)) if params.is_empty() => Ok(Self {
                info: info.to_vec(),
            }),
            _ => Err(Error::InvalidLength {
                what,
                length: 4 + value.len(),
            }),
        }
    }

    pub(super) fn value_len(&self) -> usize {
        4 + self.info.len()
    }

    pub(super) fn encode_value(&self, out: &mut Vec<u8>) {
        let length = u16::try_from(self.value_len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&HEARTBEAT_INFO.to_be_bytes());
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&self.info);
    }
}
