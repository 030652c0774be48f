//! ServerHelloDone (RFC 5246 §7.4.5).

use crate::dtls::message::codec::{DecodeError, Reader};

/// ServerHelloDone: an empty body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerHelloDone;

impl ServerHelloDone {
    /// Parses a body, which must be empty.
    pub fn parse(body: &[u8]) -> Result<ServerHelloDone, DecodeError> {
        Reader::new(body).finish()?;
        Ok(ServerHelloDone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(ServerHelloDone::parse(&[]), Ok(ServerHelloDone));
        assert!(ServerHelloDone::parse(&[0]).is_err());
    }
}
