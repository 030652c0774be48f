//! ClientKeyExchange for ECDHE (RFC 8422 §5.7).

use crate::dtls::message::codec::{DecodeError, Reader, put_vec8};

/// ClientKeyExchange with an ephemeral ECDH public key: `opaque point <1..2^8-1>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeyExchange {
    /// The client's ephemeral public key.
    pub public: Vec<u8>,
}

impl ClientKeyExchange {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<ClientKeyExchange, DecodeError> {
        let mut r = Reader::new(body);
        let public = r.vec8()?.to_vec();
        r.finish()?;
        if public.is_empty() {
            return Err(DecodeError::Invalid("empty ECDH public key"));
        }
        Ok(ClientKeyExchange { public })
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        put_vec8(out, &self.public);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let cke = ClientKeyExchange {
            public: vec![4; 65],
        };
        let mut out = Vec::new();
        cke.emit(&mut out);
        assert_eq!(out[0], 65);
        assert_eq!(ClientKeyExchange::parse(&out), Ok(cke));
        assert!(ClientKeyExchange::parse(&[0]).is_err());
    }
}
