//! ServerHello (RFC 5246 §7.4.1.3, unchanged in DTLS).

use crate::dtls::message::codec::{DecodeError, Reader, put_vec8};
use crate::dtls::message::extensions::Extensions;

/// ```text
/// struct {
///   ProtocolVersion server_version;
///   Random random;
///   SessionID session_id;
///   CipherSuite cipher_suite;
///   CompressionMethod compression_method;
///   select (extensions_present) { case true: Extension extensions<0..2^16-1>; };
/// } ServerHello;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// server_version.
    pub server_version: u16,
    /// random.
    pub random: [u8; 32],
    /// session_id.
    pub session_id: Vec<u8>,
    /// The chosen cipher suite.
    pub cipher_suite: u16,
    /// The chosen compression method (pigeon accepts only null).
    pub compression_method: u8,
    /// Extensions.
    pub extensions: Extensions,
}

impl ServerHello {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<ServerHello, DecodeError> {
        let mut r = Reader::new(body);
        let server_version = r.u16()?;
        let random = r.array()?;
        let session_id = r.vec8()?.to_vec();
        if session_id.len() > 32 {
            return Err(DecodeError::Invalid("session_id longer than 32"));
        }
        let cipher_suite = r.u16()?;
        let compression_method = r.u8()?;
        let extensions = if r.remaining() > 0 {
            Extensions::parse(r.vec16()?)?
        } else {
            Extensions::default()
        };
        r.finish()?;
        Ok(ServerHello {
            server_version,
            random,
            session_id,
            cipher_suite,
            compression_method,
            extensions,
        })
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.server_version.to_be_bytes());
        out.extend_from_slice(&self.random);
        put_vec8(out, &self.session_id);
        out.extend_from_slice(&self.cipher_suite.to_be_bytes());
        out.push(self.compression_method);
        self.extensions.emit(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let hello = ServerHello {
            server_version: 0xfefd,
            random: [3; 32],
            session_id: vec![9; 32],
            cipher_suite: 0xc02c,
            compression_method: 0,
            extensions: Extensions {
                extended_master_secret: true,
                renegotiation_info: Some(vec![]),
                ..Extensions::default()
            },
        };
        let mut out = Vec::new();
        hello.emit(&mut out);
        assert_eq!(ServerHello::parse(&out), Ok(hello));
        assert!(ServerHello::parse(&out[..out.len() - 1]).is_err());
    }
}
