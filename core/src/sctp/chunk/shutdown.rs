//! SHUTDOWN and SHUTDOWN COMPLETE (RFC 9260 §3.3.8, §3.3.13); SHUTDOWN ACK (§3.3.9) has no
//! body.

use super::{Error, expect_len, read_u32};

/// RFC 9260 §3.3.13: the T bit.
const FLAG_TAG_REFLECTED: u8 = 0x01;

/// A SHUTDOWN: no more user data from the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    /// The last TSN the sender received in sequence.
    pub cumulative_tsn_ack: u32,
}

impl Shutdown {
    pub(super) fn parse(value: &[u8]) -> Result<Self, Error> {
        let what = "SHUTDOWN chunk";
        expect_len(what, value, 4)?;
        Ok(Self {
            cumulative_tsn_ack: read_u32(value, 0, what)?,
        })
    }
}

/// A SHUTDOWN COMPLETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownComplete {
    /// T bit: the packet carries the sender's own verification tag, reflected, because it has
    /// no TCB (RFC 9260 §8.5.1).
    pub tag_reflected: bool,
}

impl ShutdownComplete {
    pub(super) fn parse(flags: u8, value: &[u8]) -> Result<Self, Error> {
        expect_len("SHUTDOWN COMPLETE chunk", value, 0)?;
        Ok(Self {
            tag_reflected: flags & FLAG_TAG_REFLECTED != 0,
        })
    }
}
