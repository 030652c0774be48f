//! The RTCP common header (RFC 3550 §6.4) and the sender SSRC that follows it.

use super::ParseError;

/// A checked view of the first RTCP packet of a (compound) datagram: the 4-byte common header
/// and the SSRC of the sender, which SRTCP (RFC 3711 §3.4) keys its context on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpHeader<'a> {
    packet: &'a [u8],
}

impl<'a> RtcpHeader<'a> {
    /// RFC 3711 §3.4: SRTCP leaves the first 8 bytes (common header + SSRC) in the clear.
    pub const LEN: usize = 8;

    /// Checks that `packet` starts with version 2 and holds the common header and an SSRC.
    /// The length field is not checked against the buffer: an SRTCP packet carries trailer
    /// bytes after it.
    pub fn parse(packet: &'a [u8]) -> Result<Self, ParseError> {
        let first = *packet.first().ok_or(ParseError::TooShort)?;
        if first >> 6 != 2 {
            return Err(ParseError::BadVersion(first >> 6));
        }
        if packet.len() < Self::LEN {
            return Err(ParseError::TooShort);
        }
        Ok(Self { packet })
    }

    /// The version field (always 2 for a parsed header).
    pub fn version(&self) -> u8 {
        self.packet[0] >> 6
    }

    /// P: this RTCP packet ends with padding.
    pub fn padding(&self) -> bool {
        self.packet[0] & 0x20 != 0
    }

    /// The 5-bit count field (reception report count, source count or feedback type).
    pub fn count(&self) -> u8 {
        self.packet[0] & 0x1f
    }

    /// PT: the RTCP packet type (200 = SR, 201 = RR, 202 = SDES, 203 = BYE, ...).
    pub fn packet_type(&self) -> u8 {
        self.packet[1]
    }

    /// The length field: this packet's size in 32-bit words minus one.
    pub fn length_words(&self) -> u16 {
        u16::from_be_bytes([self.packet[2], self.packet[3]])
    }

    /// This RTCP packet's size in bytes as its header states it (it may exceed the buffer).
    pub fn packet_len(&self) -> usize {
        (usize::from(self.length_words()) + 1) * 4
    }

    /// The SSRC of the packet's sender.
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([
            self.packet[4],
            self.packet[5],
            self.packet[6],
            self.packet[7],
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_report_header() {
        // RFC 7714 §17 plaintext: an SR from SSRC "Mars".
        let p = [0x81, 0xc8, 0x00, 0x0d, 0x4d, 0x61, 0x72, 0x73, 0x4e];
        let h = RtcpHeader::parse(&p).unwrap();
        assert_eq!((h.version(), h.padding(), h.count()), (2, false, 1));
        assert_eq!(h.packet_type(), 200);
        assert_eq!((h.length_words(), h.packet_len()), (13, 56));
        assert_eq!(h.ssrc(), 0x4d61_7273);
    }

    #[test]
    fn short_and_bad_input_is_an_error() {
        assert_eq!(RtcpHeader::parse(&[]), Err(ParseError::TooShort));
        assert_eq!(RtcpHeader::parse(&[0x80; 7]), Err(ParseError::TooShort));
        assert_eq!(
            RtcpHeader::parse(&[0xc0; 8]),
            Err(ParseError::BadVersion(3))
        );
    }
}
