//! CertificateRequest (RFC 5246 §7.4.4).

use crate::dtls::message::codec::{DecodeError, Reader, put_u16_list, put_vec8, put_vec16};

/// ClientCertificateType ecdsa_sign (RFC 8422 §5.5).
pub const CERT_TYPE_ECDSA_SIGN: u8 = 64;

/// ```text
/// struct {
///     ClientCertificateType certificate_types<1..2^8-1>;
///     SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;
///     DistinguishedName certificate_authorities<0..2^16-1>;
/// } CertificateRequest;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// Acceptable certificate types.
    pub certificate_types: Vec<u8>,
    /// Acceptable signature algorithms.
    pub supported_signature_algorithms: Vec<u16>,
    /// The raw certificate_authorities list (pigeon sends it empty and ignores it: WebRTC
    /// authenticates by fingerprint, RFC 8827 §6.5).
    pub certificate_authorities: Vec<u8>,
}

impl CertificateRequest {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<CertificateRequest, DecodeError> {
        let mut r = Reader::new(body);
        let certificate_types = r.vec8()?.to_vec();
        if certificate_types.is_empty() {
            return Err(DecodeError::Invalid("no certificate types"));
        }
        let supported_signature_algorithms = r.u16_list()?;
        let certificate_authorities = r.vec16()?.to_vec();
        r.finish()?;
        Ok(CertificateRequest {
            certificate_types,
            supported_signature_algorithms,
            certificate_authorities,
        })
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        put_vec8(out, &self.certificate_types);
        put_u16_list(out, &self.supported_signature_algorithms);
        put_vec16(out, &self.certificate_authorities);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let req = CertificateRequest {
            certificate_types: vec![CERT_TYPE_ECDSA_SIGN],
            supported_signature_algorithms: vec![0x0403],
            certificate_authorities: vec![],
        };
        let mut out = Vec::new();
        req.emit(&mut out);
        assert_eq!(out, [1, 64, 0, 2, 4, 3, 0, 0]);
        assert_eq!(CertificateRequest::parse(&out), Ok(req));
        assert!(CertificateRequest::parse(&[0, 0, 0, 0, 0]).is_err());
    }
}
