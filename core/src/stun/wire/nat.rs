//! CHANGE-REQUEST (RFC 5780 §7.2), the one RFC 5780 attribute whose value is neither an
//! address nor an integer.

use crate::stun::{AttributeType, DecodeError};

/// Asks the server to answer from its other IP address and/or port (RFC 5780 §7.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChangeRequest {
    /// Flag A: answer from the alternate IP address.
    pub change_ip: bool,
    /// Flag B: answer from the alternate port.
    pub change_port: bool,
}

const CHANGE_IP: u32 = 0x4;
const CHANGE_PORT: u32 = 0x2;

impl ChangeRequest {
    pub(crate) fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let bytes: [u8; 4] = value
            .try_into()
            .map_err(|_| DecodeError::BadAttributeLength {
                ty: AttributeType::CHANGE_REQUEST,
                len: value.len(),
            })?;
        let flags = u32::from_be_bytes(bytes);
        Ok(Self {
            change_ip: flags & CHANGE_IP != 0,
            change_port: flags & CHANGE_PORT != 0,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut flags = 0;
        if self.change_ip {
            flags |= CHANGE_IP;
        }
        if self.change_port {
            flags |= CHANGE_PORT;
        }
        out.extend_from_slice(&flags.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        for (ip, port, wire) in [
            (true, true, 6u8),
            (true, false, 4),
            (false, true, 2),
            (false, false, 0),
        ] {
            let cr = ChangeRequest {
                change_ip: ip,
                change_port: port,
            };
            let mut out = Vec::new();
            cr.encode(&mut out);
            assert_eq!(out, [0, 0, 0, wire]);
            assert_eq!(ChangeRequest::decode(&out), Ok(cr));
        }
        assert!(ChangeRequest::decode(&[0, 0, 6]).is_err());
    }
}
