//! Finished (RFC 5246 §7.4.9).

use crate::dtls::message::codec::{DecodeError, Reader};
use crate::dtls::prf::VERIFY_DATA_LEN;

/// Finished: verify_data, 12 bytes for every suite pigeon offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// verify_data.
    pub verify_data: [u8; VERIFY_DATA_LEN],
}

impl Finished {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<Finished, DecodeError> {
        let mut r = Reader::new(body);
        let verify_data = r.array()?;
        r.finish()?;
        Ok(Finished { verify_data })
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.verify_data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let fin = Finished {
            verify_data: [9; 12],
        };
        let mut out = Vec::new();
        fin.emit(&mut out);
        assert_eq!(Finished::parse(&out), Ok(fin));
        assert!(Finished::parse(&out[..11]).is_err());
        assert!(Finished::parse(&[0; 13]).is_err());
    }
}
