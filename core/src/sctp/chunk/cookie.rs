//! COOKIE ECHO (RFC 9260 §3.3.11); COOKIE ACK (§3.3.12) has no body.

/// A COOKIE ECHO: the State Cookie of the INIT ACK, returned byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieEcho {
    /// The cookie, opaque to everyone but the endpoint that made it.
    pub cookie: Vec<u8>,
}

impl CookieEcho {
    pub(super) fn parse(value: &[u8]) -> Self {
        Self {
            cookie: value.to_vec(),
        }
    }
}
