//! ClientHello (RFC 6347 §4.2.1: the TLS 1.2 ClientHello with a cookie after the session id).

use crate::dtls::message::codec::{DecodeError, Reader, put_u16_list, put_vec8};
use crate::dtls::message::extensions::Extensions;

/// ```text
/// struct {
///   ProtocolVersion client_version;
///   Random random;
///   SessionID session_id;
///   opaque cookie<0..2^8-1>;
///   CipherSuite cipher_suites<2..2^16-1>;
///   CompressionMethod compression_methods<1..2^8-1>;
///   select (extensions_present) { case true: Extension extensions<0..2^16-1>; };
/// } ClientHello;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// client_version.
    pub client_version: u16,
    /// random.
    pub random: [u8; 32],
    /// session_id (at most 32 bytes).
    pub session_id: Vec<u8>,
    /// The cookie of a HelloVerifyRequest, empty in the first ClientHello.
    pub cookie: Vec<u8>,
    /// Offered cipher suite code points.
    pub cipher_suites: Vec<u16>,
    /// Offered compression methods; pigeon sends only null(0).
    pub compression_methods: Vec<u8>,
    /// Extensions.
    pub extensions: Extensions,
}

impl ClientHello {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<ClientHello, DecodeError> {
        let mut r = Reader::new(body);
        let client_version = r.u16()?;
        let random = r.array()?;
        let session_id = r.vec8()?.to_vec();
        if session_id.len() > 32 {
            return Err(DecodeError::Invalid("session_id longer than 32"));
        }
        let cookie = r.vec8()?.to_vec();
        let cipher_suites = r.u16_list()?;
        if cipher_suites.is_empty() {
            return Err(DecodeError::Invalid("no cipher suites"));
        }
        let compression_methods = r.vec8()?.to_vec();
        if compression_methods.is_empty() {
            return Err(DecodeError::Invalid("no compression methods"));
        }
        let extensions = if r.remaining() > 0 {
            Extensions::parse(r.vec16()?)?
        } else {
            Extensions::default()
        };
        r.finish()?;
        Ok(ClientHello {
            client_version,
            random,
            session_id,
            cookie,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.client_version.to_be_bytes());
        out.extend_from_slice(&self.random);
        put_vec8(out, &self.session_id);
        put_vec8(out, &self.cookie);
        put_u16_list(out, &self.cipher_suites);
        put_vec8(out, &self.compression_methods);
        self.extensions.emit(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::message::extensions::{GROUP_SECP256R1, UseSrtp};

    #[test]
    fn round_trip() {
        let hello = ClientHello {
            client_version: 0xfefd,
            random: [7; 32],
            session_id: vec![],
            cookie: vec![1, 2, 3],
            cipher_suites: vec![0xc02b, 0xcca9],
            compression_methods: vec![0],
            extensions: Extensions {
                supported_groups: Some(vec![GROUP_SECP256R1]),
                use_srtp: Some(UseSrtp {
                    profiles: vec![1],
                    mki: vec![],
                }),
                extended_master_secret: true,
                ..Extensions::default()
            },
        };
        let mut out = Vec::new();
        hello.emit(&mut out);
        assert_eq!(&out[..2], [0xfe, 0xfd]);
        assert_eq!(&out[34..39], [0, 3, 1, 2, 3]);
        assert_eq!(ClientHello::parse(&out), Ok(hello.clone()));
        let mut ext = Vec::new();
        hello.extensions.emit(&mut ext);
        let ext_start = out.len() - ext.len();
        for cut in 0..out.len() {
            // Cut exactly before the extensions block is a valid extension-less hello.
            if cut == ext_start {
                continue;
            }
            assert!(ClientHello::parse(&out[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn without_extensions_block() {
        let mut body = vec![0xfe, 0xfd];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 0, 2, 0xc0, 0x2b, 1, 0]);
        let hello = ClientHello::parse(&body).unwrap();
        assert!(hello.extensions.is_empty());
        assert_eq!(hello.cipher_suites, [0xc02b]);
    }
}
