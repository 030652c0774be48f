//! HelloVerifyRequest (RFC 6347 §4.2.1).

use crate::dtls::message::codec::{DecodeError, Reader, put_vec8};

/// ```text
/// struct {
///   ProtocolVersion server_version;
///   opaque cookie<0..2^8-1>;
/// } HelloVerifyRequest;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    /// RFC 6347 §4.2.1: servers SHOULD use DTLS 1.0 here regardless of the version
    /// negotiated, and clients accept either.
    pub server_version: u16,
    /// The cookie the client must echo.
    pub cookie: Vec<u8>,
}

impl HelloVerifyRequest {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<HelloVerifyRequest, DecodeError> {
        let mut r = Reader::new(body);
        let server_version = r.u16()?;
        let cookie = r.vec8()?.to_vec();
        r.finish()?;
        Ok(HelloVerifyRequest {
            server_version,
            cookie,
        })
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.server_version.to_be_bytes());
        put_vec8(out, &self.cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let hvr = HelloVerifyRequest {
            server_version: 0xfeff,
            cookie: vec![0xaa; 20],
        };
        let mut out = Vec::new();
        hvr.emit(&mut out);
        assert_eq!(&out[..3], [0xfe, 0xff, 20]);
        assert_eq!(HelloVerifyRequest::parse(&out), Ok(hvr));
        assert!(HelloVerifyRequest::parse(&out[..10]).is_err());
    }
}
