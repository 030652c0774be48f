//! The Data Channel Establishment Protocol messages (RFC 8832 §5) and the SCTP payload protocol
//! identifiers data channels use (RFC 8831 §8, RFC 8832 §8.1).
//!
//! Parsing borrows the label and protocol from the input; every length is checked against the
//! input before use, so no byte sequence can make it panic.

use core::fmt;

/// An SCTP payload protocol identifier (RFC 9260 §3.3.1) as data channels use them. Open: an
/// unknown value is kept, so the caller can count and drop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ppid(pub u32);

impl Ppid {
    /// RFC 8832 §8.1: a DCEP message (DATA_CHANNEL_OPEN or DATA_CHANNEL_ACK).
    pub const DCEP: Self = Self(50);
    /// RFC 8831 §8: a whole UTF-8 string message.
    pub const STRING: Self = Self(51);
    /// RFC 8831 §8: deprecated, one part of a string message sent in pieces.
    pub const STRING_PARTIAL: Self = Self(52);
    /// RFC 8831 §8: a whole binary message.
    pub const BINARY: Self = Self(53);
    /// RFC 8831 §8: deprecated, one part of a binary message sent in pieces.
    pub const BINARY_PARTIAL: Self = Self(54);
    /// RFC 8831 §8: an empty string message (carried as a single zero byte, §6.6).
    pub const STRING_EMPTY: Self = Self(56);
    /// RFC 8831 §8: an empty binary message (carried as a single zero byte, §6.6).
    pub const BINARY_EMPTY: Self = Self(57);
}

/// The first byte of a DCEP message (RFC 8832 §8.2.1). Open, so any byte is representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    /// RFC 8832 §5.2.
    pub const DATA_CHANNEL_ACK: Self = Self(0x02);
    /// RFC 8832 §5.1.
    pub const DATA_CHANNEL_OPEN: Self = Self(0x03);
}

/// The channel type byte of DATA_CHANNEL_OPEN (RFC 8832 §5.1, §8.2.2). The high bit selects
/// unordered delivery, the low bits the reliability; unknown values are kept so that they
/// round-trip, and the receiver rejects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChannelType(pub u8);

impl ChannelType {
    /// Reliable, ordered.
    pub const RELIABLE: Self = Self(0x00);
    /// Reliable, unordered.
    pub const RELIABLE_UNORDERED: Self = Self(0x80);
    /// Partially reliable by a number of retransmissions, ordered.
    pub const PARTIAL_RELIABLE_REXMIT: Self = Self(0x01);
    /// Partially reliable by a number of retransmissions, unordered.
    pub const PARTIAL_RELIABLE_REXMIT_UNORDERED: Self = Self(0x81);
    /// Partially reliable by a lifetime in milliseconds, ordered.
    pub const PARTIAL_RELIABLE_TIMED: Self = Self(0x02);
    /// Partially reliable by a lifetime in milliseconds, unordered.
    pub const PARTIAL_RELIABLE_TIMED_UNORDERED: Self = Self(0x82);

    /// RFC 8832 §5.1: the high bit asks for unordered delivery.
    const UNORDERED_BIT: u8 = 0x80;

    /// The channel type for an ordering and a reliability kind.
    pub fn new(ordered: bool, kind: ReliabilityKind) -> Self {
        let low = match kind {
            ReliabilityKind::Reliable => 0x00,
            ReliabilityKind::Rexmit => 0x01,
            ReliabilityKind::Timed => 0x02,
        };
        Self(if ordered {
            low
        } else {
            low | Self::UNORDERED_BIT
        })
    }

    /// Whether messages keep their order; meaningful only when [`Self::kind`] is `Some`.
    pub fn is_ordered(self) -> bool {
        self.0 & Self::UNORDERED_BIT == 0
    }

    /// How reliable the channel is, or `None` for a value RFC 8832 §8.2.2 does not assign.
    pub fn kind(self) -> Option<ReliabilityKind> {
        match self.0 & !Self::UNORDERED_BIT {
            0x00 => Some(ReliabilityKind::Reliable),
            0x01 => Some(ReliabilityKind::Rexmit),
            0x02 => Some(ReliabilityKind::Timed),
            _ => None,
        }
    }
}

/// What the reliability parameter of DATA_CHANNEL_OPEN means (RFC 8832 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReliabilityKind {
    /// Fully reliable: the parameter is 0 on send and ignored on receipt.
    Reliable,
    /// The parameter is the number of retransmissions.
    Rexmit,
    /// The parameter is the lifetime in milliseconds.
    Timed,
}

/// RFC 8832 §5.1 priority values, as the WebRTC priority levels map onto them.
pub mod priority {
    /// "below normal" (RFC 8832 §5.1).
    pub const BELOW_NORMAL: u16 = 128;
    /// "normal" (RFC 8832 §5.1), what a channel gets unless told otherwise.
    pub const NORMAL: u16 = 256;
    /// "high" (RFC 8832 §5.1).
    pub const HIGH: u16 = 512;
    /// "extra high" (RFC 8832 §5.1).
    pub const EXTRA_HIGH: u16 = 1024;
}

/// A DATA_CHANNEL_OPEN message (RFC 8832 §5.1), borrowing label and protocol from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataChannelOpen<'a> {
    /// Ordering and reliability of the channel.
    pub channel_type: ChannelType,
    /// The channel's priority (see [`priority`]).
    pub priority: u16,
    /// Retransmissions or lifetime in milliseconds, by [`ChannelType::kind`].
    pub reliability_parameter: u32,
    /// The channel's name, UTF-8, possibly empty.
    pub label: &'a str,
    /// The subprotocol, UTF-8, possibly empty.
    pub protocol: &'a str,
}

/// A DCEP message (RFC 8832 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DcepMessage<'a> {
    /// DATA_CHANNEL_OPEN.
    Open(DataChannelOpen<'a>),
    /// DATA_CHANNEL_ACK.
    Ack,
}

/// Why a DCEP message did not parse or cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DcepError {
    /// The message is empty.
    Empty,
    /// RFC 8832 §8.2.1: a message type that is not OPEN or ACK.
    UnknownMessageType(u8),
    /// The input ended before the named field did.
    Truncated {
        /// The field being read.
        what: &'static str,
    },
    /// The label or protocol is not UTF-8 (RFC 8832 §5.1).
    InvalidUtf8 {
        /// `"label"` or `"protocol"`.
        what: &'static str,
    },
    /// A label or protocol longer than its 16-bit length field can say (writing only).
    TooLong {
        /// `"label"` or `"protocol"`.
        what: &'static str,
        /// Its length in bytes.
        length: usize,
    },
}

impl fmt::Display for DcepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("DCEP message is empty"),
            Self::UnknownMessageType(t) => write!(f, "unknown DCEP message type {t:#04x}"),
            Self::Truncated { what } => write!(f, "DCEP message truncated in {what}"),
            Self::InvalidUtf8 { what } => write!(f, "DCEP {what} is not UTF-8"),
            Self::TooLong { what, length } => {
                write!(f, "DCEP {what} of {length} bytes exceeds 65535")
            }
        }
    }
}

impl std::error::Error for DcepError {}

/// Bytes of DATA_CHANNEL_OPEN before the label (RFC 8832 §5.1).
pub const OPEN_HEADER_LEN: usize = 12;

impl<'a> DcepMessage<'a> {
    /// Parses one DCEP message (the whole user data of an SCTP message with PPID 50). Bytes
    /// after an OPEN's protocol or after an ACK's type are ignored: RFC 8832 gives them no
    /// meaning and rejecting them would buy nothing.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DcepError> {
        let message_type = MessageType(*bytes.first().ok_or(DcepError::Empty)?);
        match message_type {
            MessageType::DATA_CHANNEL_ACK => Ok(Self::Ack),
            MessageType::DATA_CHANNEL_OPEN => DataChannelOpen::parse(bytes).map(Self::Open),
            MessageType(other) => Err(DcepError::UnknownMessageType(other)),
        }
    }

    /// Bytes [`Self::encode`] appends.
    pub fn encoded_len(&self) -> usize {
        match self {
            Self::Open(open) => OPEN_HEADER_LEN + open.label.len() + open.protocol.len(),
            Self::Ack => 1,
        }
    }

    /// Appends the message to `out`; on error nothing is appended.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), DcepError> {
        match self {
            Self::Open(open) => open.encode(out),
            Self::Ack => {
                out.push(MessageType::DATA_CHANNEL_ACK.0);
                Ok(())
            }
        }
    }

    /// The message as a new buffer.
    pub fn to_vec(&self) -> Result<Vec<u8>, DcepError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out)?;
        Ok(out)
    }
}

impl<'a> DataChannelOpen<'a> {
    /// Parses DATA_CHANNEL_OPEN; `bytes` starts with the message type.
    fn parse(bytes: &'a [u8]) -> Result<Self, DcepError> {
        let header: &[u8; OPEN_HEADER_LEN] = bytes
            .get(..OPEN_HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(DcepError::Truncated { what: "header" })?;
        let [_, channel_type, p0, p1, r0, r1, r2, r3, l0, l1, q0, q1] = *header;
        let label_len = usize::from(u16::from_be_bytes([l0, l1]));
        let protocol_len = usize::from(u16::from_be_bytes([q0, q1]));
        let rest = bytes.get(OPEN_HEADER_LEN..).unwrap_or_default();
        let label = rest
            .get(..label_len)
            .ok_or(DcepError::Truncated { what: "label" })?;
        let protocol = rest
            .get(label_len..label_len + protocol_len)
            .ok_or(DcepError::Truncated { what: "protocol" })?;
        Ok(Self {
            channel_type: ChannelType(channel_type),
            priority: u16::from_be_bytes([p0, p1]),
            reliability_parameter: u32::from_be_bytes([r0, r1, r2, r3]),
            label: core::str::from_utf8(label)
                .map_err(|_| DcepError::InvalidUtf8 { what: "label" })?,
            protocol: core::str::from_utf8(protocol)
                .map_err(|_| DcepError::InvalidUtf8 { what: "protocol" })?,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), DcepError> {
        let too_long = |what, length| DcepError::TooLong { what, length };
        let label_len =
            u16::try_from(self.label.len()).map_err(|_| too_long("label", self.label.len()))?;
        let protocol_len = u16::try_from(self.protocol.len())
            .map_err(|_| too_long("protocol", self.protocol.len()))?;
        out.push(MessageType::DATA_CHANNEL_OPEN.0);
        out.push(self.channel_type.0);
        out.extend_from_slice(&self.priority.to_be_bytes());
        out.extend_from_slice(&self.reliability_parameter.to_be_bytes());
        out.extend_from_slice(&label_len.to_be_bytes());
        out.extend_from_slice(&protocol_len.to_be_bytes());
        // RFC 8832 §5.1: label and protocol follow without padding.
        out.extend_from_slice(self.label.as_bytes());
        out.extend_from_slice(self.protocol.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8832 §5.1 layout, by hand: an unordered, timed channel of priority "high", lifetime
    /// 3000 ms, label "chat", protocol "xmpp".
    const OPEN_TIMED: [u8; 20] = [
        0x03, 0x82, 0x02, 0x00, // type, channel type, priority 512
        0x00, 0x00, 0x0b, 0xb8, // reliability parameter 3000
        0x00, 0x04, 0x00, 0x04, // label length, protocol length
        b'c', b'h', b'a', b't', b'x', b'm', b'p', b'p',
    ];

    fn open_timed() -> DataChannelOpen<'static> {
        DataChannelOpen {
            channel_type: ChannelType::PARTIAL_RELIABLE_TIMED_UNORDERED,
            priority: priority::HIGH,
            reliability_parameter: 3000,
            label: "chat",
            protocol: "xmpp",
        }
    }

    #[test]
    fn open_vector_parses_and_writes() {
        let parsed = DcepMessage::parse(&OPEN_TIMED).unwrap();
        assert_eq!(parsed, DcepMessage::Open(open_timed()));
        assert_eq!(parsed.to_vec().unwrap(), OPEN_TIMED);
        assert_eq!(parsed.encoded_len(), OPEN_TIMED.len());
    }

    #[test]
    fn open_with_empty_label_and_protocol_is_the_header_alone() {
        let open = DataChannelOpen {
            channel_type: ChannelType::RELIABLE,
            priority: priority::NORMAL,
            reliability_parameter: 0,
            label: "",
            protocol: "",
        };
        let bytes = DcepMessage::Open(open).to_vec().unwrap();
        assert_eq!(bytes, [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(DcepMessage::parse(&bytes), Ok(DcepMessage::Open(open)));
    }

    #[test]
    fn ack_is_one_byte() {
        assert_eq!(DcepMessage::Ack.to_vec().unwrap(), [0x02]);
        assert_eq!(DcepMessage::parse(&[0x02]), Ok(DcepMessage::Ack));
    }

    #[test]
    fn every_assigned_channel_type_round_trips() {
        let types = [
            (0x00, true, ReliabilityKind::Reliable),
            (0x80, false, ReliabilityKind::Reliable),
            (0x01, true, ReliabilityKind::Rexmit),
            (0x81, false, ReliabilityKind::Rexmit),
            (0x02, true, ReliabilityKind::Timed),
            (0x82, false, ReliabilityKind::Timed),
        ];
        for (byte, ordered, kind) in types {
            let channel_type = ChannelType::new(ordered, kind);
            assert_eq!(channel_type, ChannelType(byte));
            assert_eq!(channel_type.is_ordered(), ordered);
            assert_eq!(channel_type.kind(), Some(kind));
            let mut open = open_timed();
            open.channel_type = channel_type;
            let bytes = DcepMessage::Open(open).to_vec().unwrap();
            assert_eq!(bytes[1], byte);
            assert_eq!(DcepMessage::parse(&bytes), Ok(DcepMessage::Open(open)));
        }
        assert_eq!(ChannelType(0x03).kind(), None);
        assert_eq!(ChannelType(0x7f).kind(), None);
    }

    #[test]
    fn unknown_channel_type_round_trips_in_the_codec() {
        let mut bytes = OPEN_TIMED;
        bytes[1] = 0x05;
        let DcepMessage::Open(open) = DcepMessage::parse(&bytes).unwrap() else {
            panic!("an OPEN");
        };
        assert_eq!(open.channel_type, ChannelType(0x05));
        assert_eq!(DcepMessage::Open(open).to_vec().unwrap(), bytes);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 1..OPEN_TIMED.len() {
            let result = DcepMessage::parse(&OPEN_TIMED[..len]);
            assert!(
                matches!(result, Err(DcepError::Truncated { .. })),
                "{len}: {result:?}"
            );
        }
        assert_eq!(DcepMessage::parse(&[]), Err(DcepError::Empty));
    }

    #[test]
    fn lengths_past_the_input_are_rejected() {
        let mut bytes = OPEN_TIMED;
        bytes[8..10].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            DcepMessage::parse(&bytes),
            Err(DcepError::Truncated { what: "label" })
        );
        let mut bytes = OPEN_TIMED;
        bytes[10..12].copy_from_slice(&5u16.to_be_bytes());
        assert_eq!(
            DcepMessage::parse(&bytes),
            Err(DcepError::Truncated { what: "protocol" })
        );
    }

    #[test]
    fn trailing_bytes_are_ignored() {
        let mut bytes = OPEN_TIMED.to_vec();
        bytes.extend_from_slice(b"junk");
        assert_eq!(
            DcepMessage::parse(&bytes),
            Ok(DcepMessage::Open(open_timed()))
        );
        assert_eq!(DcepMessage::parse(&[0x02, 0xff]), Ok(DcepMessage::Ack));
    }

    #[test]
    fn invalid_utf8_and_unknown_types_are_errors() {
        let mut bytes = OPEN_TIMED;
        bytes[12] = 0xff;
        assert_eq!(
            DcepMessage::parse(&bytes),
            Err(DcepError::InvalidUtf8 { what: "label" })
        );
        let mut bytes = OPEN_TIMED;
        bytes[19] = 0xc0;
        assert_eq!(
            DcepMessage::parse(&bytes),
            Err(DcepError::InvalidUtf8 { what: "protocol" })
        );
        for t in [0x00, 0x01, 0x04, 0xfe, 0xff] {
            assert_eq!(
                DcepMessage::parse(&[t, 0, 0]),
                Err(DcepError::UnknownMessageType(t))
            );
        }
    }

    #[test]
    fn label_longer_than_u16_cannot_be_written() {
        let label = "x".repeat(65_536);
        let mut open = open_timed();
        open.label = &label;
        let mut out = vec![7];
        assert_eq!(
            DcepMessage::Open(open).encode(&mut out),
            Err(DcepError::TooLong {
                what: "label",
                length: 65_536
            })
        );
        assert_eq!(out, [7], "nothing appended on error");
        let label = "x".repeat(65_535);
        open.label = &label;
        let bytes = DcepMessage::Open(open).to_vec().unwrap();
        assert_eq!(DcepMessage::parse(&bytes), Ok(DcepMessage::Open(open)));
    }
}
