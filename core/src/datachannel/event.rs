//! What data channels report: events for the application, errors for local misuse, the
//! configuration and the counters of dropped peer input.

use core::fmt;

use super::channel::ChannelId;
use super::transport::TransportError;

/// RFC 8841 §6.1: the maximum message size when SDP does not say otherwise.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 65_536;

/// The most channels one association can carry: RFC 9260 §3.3.2 counts streams in 16 bits, so
/// stream ids run from 0 to 65534.
pub const MAX_CHANNELS: usize = 65_535;

/// Settings of a [`DataChannels`](super::DataChannels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataChannelConfig {
    /// The largest message the peer takes (its SDP `a=max-message-size`, RFC 8841 §6); larger
    /// sends are refused. 0 means the peer takes any size (RFC 8841 §6.1).
    pub max_message_size: usize,
    /// The most channels alive at once, ours and the peer's; the peer's OPENs past it are
    /// refused. Capped at [`MAX_CHANNELS`].
    pub max_channels: usize,
}

impl Default for DataChannelConfig {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_channels: MAX_CHANNELS - 1,
        }
    }
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageData {
    /// A string message (PPID 51, or 56 when empty).
    Text(String),
    /// A binary message (PPID 53, or 57 when empty).
    Binary(Vec<u8>),
}

/// What the application learns from [`DataChannels::poll_event`](super::DataChannels::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataChannelEvent {
    /// The channel is open. A channel the peer opened first appears here.
    Open(ChannelId),
    /// A message arrived on the channel.
    Message {
        /// The channel it came on.
        channel: ChannelId,
        /// Its content.
        data: MessageData,
    },
    /// The buffered amount fell to the channel's low-water threshold or below.
    BufferedAmountLow(ChannelId),
    /// Something went wrong on the channel; it stays as it was unless a `Close` follows.
    Error {
        /// The channel.
        channel: ChannelId,
        /// What went wrong.
        error: ChannelError,
    },
    /// The channel is closed and its id free again.
    Close(ChannelId),
}

/// What went wrong on a channel, for [`DataChannelEvent::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelError {
    /// A string message was not UTF-8 (RFC 8831 §6.6); it was dropped.
    InvalidUtf8,
    /// RFC 8832 §6: the peer reset the stream before acknowledging our OPEN, so it refused
    /// the channel.
    OpenRefused,
    /// DATA_CHANNEL_OPEN could not be sent when the association connected; the channel
    /// closes.
    OpenFailed(DataChannelError),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUtf8 => f.write_str("a string message was not UTF-8"),
            Self::OpenRefused => f.write_str("the peer refused the channel"),
            Self::OpenFailed(e) => write!(f, "DATA_CHANNEL_OPEN could not be sent: {e}"),
        }
    }
}

impl std::error::Error for ChannelError {}

/// Local misuse or a refusal of the association, returned by the commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataChannelError {
    /// No such channel (never opened, or closed).
    UnknownChannel(ChannelId),
    /// The channel is not open (still connecting, or closing).
    NotOpen(ChannelId),
    /// The message is larger than the peer's maximum message size (RFC 8841).
    MessageTooLarge {
        /// Bytes of the message.
        size: usize,
        /// The peer's limit.
        max: usize,
    },
    /// [`DataChannelConfig::max_channels`] channels are alive already, or every stream id of
    /// our parity is taken.
    TooManyChannels,
    /// The negotiated id is in use already.
    IdInUse(u16),
    /// The negotiated id is 65535, which no SCTP stream can have (RFC 9260 §3.3.2).
    InvalidId(u16),
    /// The label or protocol does not fit DATA_CHANNEL_OPEN's 16-bit length (RFC 8832 §5.1).
    TooLong {
        /// `"label"` or `"protocol"`.
        what: &'static str,
    },
    /// The association refused.
    Transport(TransportError),
}

impl fmt::Display for DataChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownChannel(id) => write!(f, "{id} does not exist"),
            Self::NotOpen(id) => write!(f, "{id} is not open"),
            Self::MessageTooLarge { size, max } => write!(
                f,
                "a message of {size} bytes exceeds the peer's maximum message size of {max}"
            ),
            Self::TooManyChannels => f.write_str("no stream id is free for another channel"),
            Self::IdInUse(id) => write!(f, "stream id {id} is in use already"),
            Self::InvalidId(id) => write!(f, "stream id {id} is not a valid SCTP stream"),
            Self::TooLong { what } => write!(f, "the {what} is longer than 65535 bytes"),
            Self::Transport(e) => write!(f, "SCTP: {e}"),
        }
    }
}

impl std::error::Error for DataChannelError {}

impl From<TransportError> for DataChannelError {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

/// Counters of what [`DataChannels`](super::DataChannels) did and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataChannelStats {
    /// User messages handed to the association.
    pub messages_sent: u64,
    /// User messages delivered to the application.
    pub messages_received: u64,
    /// DCEP messages that did not parse (dropped).
    pub dcep_malformed: u64,
    /// Well-formed DCEP messages that made no sense where they came (an ACK nobody waited
    /// for); dropped.
    pub dcep_unexpected: u64,
    /// The peer's DATA_CHANNEL_OPENs refused by RFC 8832 §6 (stream in use, wrong parity,
    /// unknown channel type, too many channels, malformed).
    pub opens_refused: u64,
    /// String messages that were not UTF-8 (dropped, reported as an error event).
    pub invalid_utf8: u64,
    /// Messages with a PPID data channels do not use (or the deprecated partial ones); dropped.
    pub unknown_ppid: u64,
    /// Messages on a stream no channel uses; dropped.
    pub unknown_stream: u64,
}
