//! Certificate (RFC 5246 §7.4.2 and §7.4.6).

use crate::dtls::message::codec::{DecodeError, Reader, put_vec24, with_len24};

/// A certificate_list of DER certificates, the sender's own first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Certificate {
    /// DER-encoded certificates.
    pub certificate_list: Vec<Vec<u8>>,
}

/// Most certificates pigeon accepts in a chain; WebRTC peers send one.
pub const MAX_CERTIFICATES: usize = 16;

impl Certificate {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<Certificate, DecodeError> {
        let mut r = Reader::new(body);
        let list = r.vec24()?;
        r.finish()?;
        let mut r = Reader::new(list);
        let mut certificate_list = Vec::new();
        while r.remaining() > 0 {
            if certificate_list.len() == MAX_CERTIFICATES {
                return Err(DecodeError::Invalid("too many certificates"));
            }
            let cert = r.vec24()?;
            if cert.is_empty() {
                return Err(DecodeError::Invalid("empty certificate"));
            }
            certificate_list.push(cert.to_vec());
        }
        Ok(Certificate { certificate_list })
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        with_len24(out, |out| {
            for cert in &self.certificate_list {
                put_vec24(out, cert);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_empty_list() {
        let cert = Certificate {
            certificate_list: vec![vec![0x30, 1, 2], vec![0x30; 300]],
        };
        let mut out = Vec::new();
        cert.emit(&mut out);
        assert_eq!(&out[..6], [0, 1, 0x35, 0, 0, 3]);
        assert_eq!(Certificate::parse(&out), Ok(cert));
        let empty = Certificate::default();
        let mut out = Vec::new();
        empty.emit(&mut out);
        assert_eq!(out, [0, 0, 0]);
        assert_eq!(Certificate::parse(&out), Ok(empty));
        assert!(Certificate::parse(&[0, 0, 3, 0, 0, 0]).is_err());
    }
}
