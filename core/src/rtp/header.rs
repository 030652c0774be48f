//! The RTP fixed header, CSRC list and header extension (RFC 3550 §5.1, §5.3.1).

use super::ParseError;

/// RFC 3550 §5.1: the fixed part of every RTP header.
const FIXED_LEN: usize = 12;

/// A checked view of an RTP packet: the fixed header, the CSRC list and the header extension
/// all lie within the buffer, so every accessor is infallible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    packet: &'a [u8],
    header_len: usize,
}

/// The RTP header extension (RFC 3550 §5.3.1): a 16-bit profile-defined value and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderExtension<'a> {
    /// "defined by profile": 0xBEDE for RFC 8285 one-byte elements, 0x100x for two-byte ones.
    pub profile: u16,
    /// The extension data, `length` 32-bit words of it.
    pub data: &'a [u8],
}

impl<'a> RtpHeader<'a> {
    /// Checks that `packet` starts with a complete RTP header (version 2, CSRC list and header
    /// extension inside the buffer). Padding is not checked: SRTP encrypts the padding count.
    pub fn parse(packet: &'a [u8]) -> Result<Self, ParseError> {
        let first = *packet.first().ok_or(ParseError::TooShort)?;
        // RFC 3550 §5.1: V is the top two bits and is 2.
        if first >> 6 != 2 {
            return Err(ParseError::BadVersion(first >> 6));
        }
        if packet.len() < FIXED_LEN {
            return Err(ParseError::TooShort);
        }
        let csrc_count = usize::from(first & 0x0f);
        let mut header_len = FIXED_LEN + 4 * csrc_count;
        if first & 0x10 != 0 {
            // RFC 3550 §5.3.1: a 4-byte extension header whose length counts 32-bit words
            // after it.
            let ext = packet
                .get(header_len..header_len + 4)
                .ok_or(ParseError::TooShort)?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            header_len += 4 + 4 * words;
        }
        if packet.len() < header_len {
            return Err(ParseError::TooShort);
        }
        Ok(Self { packet, header_len })
    }

    fn byte(&self, at: usize) -> u8 {
        self.packet[at]
    }

    fn u16_at(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.packet[at], self.packet[at + 1]])
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_be_bytes([
            self.packet[at],
            self.packet[at + 1],
            self.packet[at + 2],
            self.packet[at + 3],
        ])
    }

    /// The version field (always 2 for a parsed header).
    pub fn version(&self) -> u8 {
        self.byte(0) >> 6
    }

    /// P: the payload ends with padding whose count is its last octet.
    pub fn padding(&self) -> bool {
        self.byte(0) & 0x20 != 0
    }

    /// X: a header extension follows the CSRC list.
    pub fn has_extension(&self) -> bool {
        self.byte(0) & 0x10 != 0
    }

    /// CC: the number of CSRC identifiers.
    pub fn csrc_count(&self) -> u8 {
        self.byte(0) & 0x0f
    }

    /// M: the marker bit.
    pub fn marker(&self) -> bool {
        self.byte(1) & 0x80 != 0
    }

    /// PT: the payload type.
    pub fn payload_type(&self) -> u8 {
        self.byte(1) & 0x7f
    }

    /// The 16-bit sequence number.
    pub fn sequence_number(&self) -> u16 {
        self.u16_at(2)
    }

    /// The 32-bit timestamp.
    pub fn timestamp(&self) -> u32 {
        self.u32_at(4)
    }

    /// The synchronization source.
    pub fn ssrc(&self) -> u32 {
        self.u32_at(8)
    }

    /// The contributing sources, in order.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        (0..usize::from(self.csrc_count())).map(|i| self.u32_at(FIXED_LEN + 4 * i))
    }

    /// The header extension, when X is set.
    pub fn extension(&self) -> Option<HeaderExtension<'a>> {
        if !self.has_extension() {
            return None;
        }
        let at = FIXED_LEN + 4 * usize::from(self.csrc_count());
        Some(HeaderExtension {
            profile: self.u16_at(at),
            data: &self.packet[at + 4..self.header_len],
        })
    }

    /// Bytes from the start of the packet to the payload: fixed header, CSRCs and extension.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Everything after the header (payload and any padding).
    pub fn payload(&self) -> &'a [u8] {
        &self.packet[self.header_len..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_csrcs_and_extension() {
        let mut p = vec![0xb2, 0x7f, 0xff, 0xff, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]); // two CSRCs
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]); // one-word extension
        p.extend_from_slice(b"payload");
        let h = RtpHeader::parse(&p).unwrap();
        assert_eq!(h.version(), 2);
        assert!(h.padding() && h.has_extension() && !h.marker());
        assert_eq!(h.payload_type(), 0x7f);
        assert_eq!(h.sequence_number(), 0xffff);
        assert_eq!(h.timestamp(), 0x0102_0304);
        assert_eq!(h.ssrc(), 0xdead_beef);
        assert_eq!(h.csrcs().collect::<Vec<_>>(), [1, 2]);
        let ext = h.extension().unwrap();
        assert_eq!((ext.profile, ext.data), (0xbede, &[0x10, 0xaa, 0, 0][..]));
        assert_eq!(h.header_len(), 28);
        assert_eq!(h.payload(), b"payload");
    }

    #[test]
    fn short_and_bad_input_is_an_error() {
        assert_eq!(RtpHeader::parse(&[]), Err(ParseError::TooShort));
        assert_eq!(RtpHeader::parse(&[0x80; 11]), Err(ParseError::TooShort));
        assert_eq!(
            RtpHeader::parse(&[0x40; 12]),
            Err(ParseError::BadVersion(1))
        );
        // CC = 15 needs 72 bytes.
        assert_eq!(RtpHeader::parse(&[0x8f; 71]), Err(ParseError::TooShort));
        // X set but the extension header is cut, then its length runs past the end.
        let mut p = vec![0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde];
        assert_eq!(RtpHeader::parse(&p), Err(ParseError::TooShort));
        p.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
        assert_eq!(RtpHeader::parse(&p), Err(ParseError::TooShort));
        // Every prefix of a valid packet either parses or is an error, never a panic.
        for len in 0..p.len() {
            let _ = RtpHeader::parse(&p[..len]);
        }
    }
}
