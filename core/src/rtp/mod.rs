//! RTP and RTCP headers (RFC 3550), as far as SRTP (RFC 3711) and media tracks need them.
//!
//! Both are checked zero-copy views over a datagram: [`RtpHeader::parse`] and
//! [`RtcpHeader::parse`] validate lengths once, after which no accessor can panic.
//!
//! ```
//! use pigeon::rtp::RtpHeader;
//!
//! // V=2, no padding/extension/CSRC, M=1, PT=96, seq 7, ts 160, SSRC 0x11223344, 2 payload bytes
//! let packet = [0x80, 0xe0, 0, 7, 0, 0, 0, 160, 0x11, 0x22, 0x33, 0x44, 0xaa, 0xbb];
//! let header = RtpHeader::parse(&packet).unwrap();
//! assert_eq!((header.sequence_number(), header.ssrc()), (7, 0x1122_3344));
//! assert!(header.marker());
//! assert_eq!(header.header_len(), 12);
//! assert_eq!(header.payload(), &[0xaa, 0xbb]);
//! ```

mod header;
mod rtcp;

pub use header::{HeaderExtension, RtpHeader};
pub use rtcp::RtcpHeader;

/// Why a buffer is not an RTP or RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Fewer bytes than the fixed header, the CSRC list or the header extension needs.
    TooShort,
    /// RFC 3550 §5.1: the version field must be 2.
    BadVersion(u8),
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooShort => f.write_str("packet shorter than its RTP/RTCP header"),
            Self::BadVersion(v) => write!(f, "RTP/RTCP version {v}, expected 2"),
        }
    }
}

impl core::error::Error for ParseError {}
