//! The DTLS handshake message header (RFC 6347 §4.2.2) and handshake types.

use crate::dtls::message::codec::{DecodeError, Reader, put_u24};

/// Length of the handshake header.
pub const HANDSHAKE_HEADER_LEN: usize = 12;

/// A handshake message type (RFC 5246 §7.4, RFC 6347 §4.3.2); unknown values kept as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandshakeType(pub u8);

impl HandshakeType {
    /// hello_request(0).
    pub const HELLO_REQUEST: HandshakeType = HandshakeType(0);
    /// client_hello(1).
    pub const CLIENT_HELLO: HandshakeType = HandshakeType(1);
    /// server_hello(2).
    pub const SERVER_HELLO: HandshakeType = HandshakeType(2);
    /// hello_verify_request(3).
    pub const HELLO_VERIFY_REQUEST: HandshakeType = HandshakeType(3);
    /// certificate(11).
    pub const CERTIFICATE: HandshakeType = HandshakeType(11);
    /// server_key_exchange(12).
    pub const SERVER_KEY_EXCHANGE: HandshakeType = HandshakeType(12);
    /// certificate_request(13).
    pub const CERTIFICATE_REQUEST: HandshakeType = HandshakeType(13);
    /// server_hello_done(14).
    pub const SERVER_HELLO_DONE: HandshakeType = HandshakeType(14);
    /// certificate_verify(15).
    pub const CERTIFICATE_VERIFY: HandshakeType = HandshakeType(15);
    /// client_key_exchange(16).
    pub const CLIENT_KEY_EXCHANGE: HandshakeType = HandshakeType(16);
    /// finished(20).
    pub const FINISHED: HandshakeType = HandshakeType(20);
}

/// ```text
/// struct {
///     HandshakeType msg_type;
///     uint24 length;
///     uint16 message_seq;
///     uint24 fragment_offset;
///     uint24 fragment_length;
///     ...
/// } Handshake;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeHeader {
    /// Message type.
    pub msg_type: HandshakeType,
    /// Length of the whole message body.
    pub length: u32,
    /// RFC 6347 §4.2.2: counts messages of a handshake, retransmissions keep theirs.
    pub message_seq: u16,
    /// Where this fragment starts in the body.
    pub fragment_offset: u32,
    /// How many body bytes this fragment carries.
    pub fragment_length: u32,
}

impl HandshakeHeader {
    /// Parses a header and returns it with the fragment bytes that follow, checking that
    /// the fragment lies within the message (RFC 6347 §4.2.3).
    pub fn parse(bytes: &[u8]) -> Result<(HandshakeHeader, &[u8], &[u8]), DecodeError> {
        let mut r = Reader::new(bytes);
        let header = HandshakeHeader {
            msg_type: HandshakeType(r.u8()?),
            length: r.u24()?,
            message_seq: r.u16()?,
            fragment_offset: r.u24()?,
            fragment_length: r.u24()?,
        };
        if u64::from(header.fragment_offset) + u64::from(header.fragment_length)
            > u64::from(header.length)
        {
            return Err(DecodeError::Invalid("fragment beyond message length"));
        }
        let len = usize::try_from(header.fragment_length).map_err(|_| DecodeError::Truncated)?;
        let fragment = r.take(len)?;
        let rest = &bytes[HANDSHAKE_HEADER_LEN + len..];
        Ok((header, fragment, rest))
    }

    /// Appends the 12-byte header.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.msg_type.0);
        put_u24(out, self.length);
        out.extend_from_slice(&self.message_seq.to_be_bytes());
        put_u24(out, self.fragment_offset);
        put_u24(out, self.fragment_length);
    }

    /// The header of a whole, unfragmented message: the form that goes into the handshake
    /// hash (RFC 6347 §4.2.6).
    pub fn whole(msg_type: HandshakeType, message_seq: u16, length: u32) -> HandshakeHeader {
        HandshakeHeader {
            msg_type,
            length,
            message_seq,
            fragment_offset: 0,
            fragment_length: length,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_bounds() {
        let header = HandshakeHeader {
            msg_type: HandshakeType::CERTIFICATE,
            length: 1000,
            message_seq: 3,
            fragment_offset: 500,
            fragment_length: 4,
        };
        let mut out = Vec::new();
        header.emit(&mut out);
        assert_eq!(out, [11, 0, 3, 0xe8, 0, 3, 0, 1, 0xf4, 0, 0, 4]);
        out.extend_from_slice(&[1, 2, 3, 4, 9]);
        let (parsed, fragment, rest) = HandshakeHeader::parse(&out).unwrap();
        assert_eq!(parsed, header);
        assert_eq!(fragment, [1, 2, 3, 4]);
        assert_eq!(rest, [9]);

        let mut beyond = Vec::new();
        HandshakeHeader {
            fragment_offset: 999,
            ..header
        }
        .emit(&mut beyond);
        beyond.extend_from_slice(&[0; 4]);
        assert!(HandshakeHeader::parse(&beyond).is_err());
        assert_eq!(
            HandshakeHeader::parse(&out[..14]).map(|_| ()),
            Err(DecodeError::Truncated)
        );
    }
}
