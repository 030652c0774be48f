//! CertificateVerify (RFC 5246 §7.4.8).

use crate::dtls::message::codec::{DecodeError, Reader, put_vec16};

/// CertificateVerify: `digitally-signed struct { opaque handshake_messages[..] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateVerify {
    /// SignatureAndHashAlgorithm.
    pub signature_scheme: u16,
    /// The signature.
    pub signature: Vec<u8>,
}

impl CertificateVerify {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<CertificateVerify, DecodeError> {
        let mut r = Reader::new(body);
        let signature_scheme = r.u16()?;
        let signature = r.vec16()?.to_vec();
        r.finish()?;
        Ok(CertificateVerify {
            signature_scheme,
            signature,
        })
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.signature_scheme.to_be_bytes());
        put_vec16(out, &self.signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let cv = CertificateVerify {
            signature_scheme: 0x0403,
            signature: vec![1, 2, 3],
        };
        let mut out = Vec::new();
        cv.emit(&mut out);
        assert_eq!(out, [4, 3, 0, 3, 1, 2, 3]);
        assert_eq!(CertificateVerify::parse(&out), Ok(cv));
    }
}
