//! ChannelData messages (RFC 8656 §12.4): a 4-byte header (channel number, length) and the
//! application data, sent between a TURN client and its server once a channel is bound.

use core::fmt;

/// Lowest channel number a client may bind (RFC 8656 §12: 0x4000 through 0x4FFF).
pub const MIN_CHANNEL: u16 = 0x4000;
/// Highest channel number a client may bind.
pub const MAX_CHANNEL: u16 = 0x4FFF;
/// Highest channel number of RFC 5766, which RFC 8656 §12 narrowed to 0x4FFF; deployed
/// clients (coturn's among them) still pick numbers up to 0x7FFF.
pub const RFC5766_MAX_CHANNEL: u16 = 0x7FFF;
/// Length of the ChannelData header.
pub const CHANNEL_HEADER_LEN: usize = 4;

/// Whether `number` lies in the range RFC 8656 §12 allows for channel bindings.
pub fn is_valid_channel(number: u16) -> bool {
    (MIN_CHANNEL..=MAX_CHANNEL).contains(&number)
}

/// RFC 7983 §7 / RFC 8656 §12: the first byte of a ChannelData message lies in 64..=79 (the
/// top two bits are 01), which tells it apart from STUN (0..=3) on the same 5-tuple.
pub fn is_channel_data(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| (0x40..=0x4F).contains(b))
}

/// Why bytes are not a ChannelData message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelDataError {
    /// Shorter than the header, or than the length field says.
    Truncated,
    /// The channel number is outside 0x4000..=0x4FFF.
    BadChannel(u16),
}

impl fmt::Display for ChannelDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated ChannelData message"),
            Self::BadChannel(n) => write!(f, "channel number {n:#06x} outside 0x4000..=0x4FFF"),
        }
    }
}

impl std::error::Error for ChannelDataError {}

/// A borrowed, checked ChannelData message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    /// The channel number.
    pub channel: u16,
    /// The application data (without padding).
    pub data: &'a [u8],
}

impl fmt::Debug for ChannelData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ChannelData({:#06x}, {} bytes)",
            self.channel,
            self.data.len()
        )
    }
}

impl<'a> ChannelData<'a> {
    /// Checks one ChannelData message.
    ///
    /// RFC 8656 §12.6: over UDP the datagram may be longer than the length field says
    /// (padding, or a sender that pads anyway); the excess is ignored. It may never be shorter.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ChannelDataError> {
        Self::parse_up_to(bytes, MAX_CHANNEL)
    }

    /// [`parse`](Self::parse) accepting channel numbers 0x4000..=`max_channel`
    /// ([`RFC5766_MAX_CHANNEL`] for peers that follow RFC 5766).
    pub fn parse_up_to(bytes: &'a [u8], max_channel: u16) -> Result<Self, ChannelDataError> {
        let [a, b, c, d, rest @ ..] = bytes else {
            return Err(ChannelDataError::Truncated);
        };
        let channel = u16::from_be_bytes([*a, *b]);
        if !(MIN_CHANNEL..=max_channel).contains(&channel) {
            return Err(ChannelDataError::BadChannel(channel));
        }
        let len = usize::from(u16::from_be_bytes([*c, *d]));
        let data = rest.get(..len).ok_or(ChannelDataError::Truncated)?;
        Ok(Self { channel, data })
    }

    /// Bytes this message occupies on a stream: header, data and padding to a multiple of 4
    /// (RFC 8656 §12.5: over TCP and TLS-over-TCP the message MUST be padded).
    pub fn stream_len(&self) -> usize {
        padded(CHANNEL_HEADER_LEN + self.data.len())
    }

    /// Appends the message to `out`; `pad` adds the zero padding a stream transport needs.
    ///
    /// Data longer than 65535 bytes cannot be framed: it is truncated to what fits in the
    /// 16-bit length field, so callers check the length first (TURN data never exceeds it
    /// over UDP).
    pub fn encode(&self, pad: bool, out: &mut Vec<u8>) {
        let len = self.data.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&self.channel.to_be_bytes());
        // NOTE(unwrap): `len` was clamped to u16::MAX above.
        out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(&self.data[..len]);
        if pad {
            out.resize(padded(out.len()), 0);
        }
    }

    /// The message as a new buffer, unpadded (as sent over UDP).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CHANNEL_HEADER_LEN + self.data.len());
        self.encode(false, &mut out);
        out
    }
}

/// `len` rounded up to a multiple of 4.
pub(crate) fn padded(len: usize) -> usize {
    len.saturating_add(3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_without_padding() {
        let msg = ChannelData {
            channel: 0x4001,
            data: b"hello",
        };
        let bytes = msg.to_vec();
        assert_eq!(
            bytes,
            [0x40, 0x01, 0x00, 0x05, b'h', b'e', b'l', b'l', b'o']
        );
        assert_eq!(ChannelData::parse(&bytes), Ok(msg));
    }

    #[test]
    fn pads_for_streams_and_ignores_padding_on_parse() {
        let msg = ChannelData {
            channel: 0x4FFF,
            data: b"hello",
        };
        let mut bytes = Vec::new();
        msg.encode(true, &mut bytes);
        assert_eq!(bytes.len(), 12);
        assert_eq!(msg.stream_len(), 12);
        assert_eq!(&bytes[9..], &[0, 0, 0]);
        assert_eq!(ChannelData::parse(&bytes), Ok(msg));
    }

    #[test]
    fn empty_data_is_allowed() {
        let msg = ChannelData {
            channel: 0x4000,
            data: b"",
        };
        assert_eq!(msg.to_vec(), [0x40, 0, 0, 0]);
        assert_eq!(ChannelData::parse(&[0x40, 0, 0, 0]), Ok(msg));
    }

    #[test]
    fn rejects_bad_channels_and_truncation() {
        assert_eq!(
            ChannelData::parse(&[0x50, 0, 0, 0]),
            Err(ChannelDataError::BadChannel(0x5000))
        );
        assert_eq!(
            ChannelData::parse(&[0x3F, 0xFF, 0, 0]),
            Err(ChannelDataError::BadChannel(0x3FFF))
        );
        assert_eq!(
            ChannelData::parse(&[0x40, 0]),
            Err(ChannelDataError::Truncated)
        );
        assert_eq!(
            ChannelData::parse(&[0x40, 0, 0, 4, 1, 2, 3]),
            Err(ChannelDataError::Truncated)
        );
    }

    #[test]
    fn demultiplexes_by_first_byte() {
        assert!(is_channel_data(&[0x40]));
        assert!(is_channel_data(&[0x4F]));
        assert!(!is_channel_data(&[0x00]));
        assert!(!is_channel_data(&[0x50]));
        assert!(!is_channel_data(&[]));
        assert!(is_valid_channel(0x4000) && is_valid_channel(0x4FFF));
        let legacy = [0x7B, 0x70, 0, 1, 9];
        assert!(ChannelData::parse(&legacy).is_err());
        assert_eq!(
            ChannelData::parse_up_to(&legacy, RFC5766_MAX_CHANNEL).map(|m| m.channel),
            Ok(0x7B70)
        );
        assert!(!is_valid_channel(0x3FFF) && !is_valid_channel(0x5000));
    }
}
