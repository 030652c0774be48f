//! What data channels need from the SCTP association beneath them.
//!
//! [`DataChannels`](super::DataChannels) never owns the association: every call that may send
//! takes it as `&mut impl SctpTransport`, and the association's events are handed in through
//! plain methods (`handle_connected`, `handle_message`, `handle_stream_reset`,
//! `handle_closed`). Whoever owns both (a PeerConnection, a test) wires them together; the
//! trait is small enough that the association can implement it directly.

use core::fmt;

use super::wire::Ppid;

/// How an SCTP message is delivered: ordering plus the RFC 3758 partial reliability policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reliability {
    /// Ordered delivery on the stream (SCTP "U" bit clear).
    pub ordered: bool,
    /// When the association may give up on the message.
    pub limit: ReliabilityLimit,
}

impl Reliability {
    /// Reliable and ordered: how every DCEP message goes (RFC 8832 §6).
    pub const RELIABLE_ORDERED: Self = Self {
        ordered: true,
        limit: ReliabilityLimit::Reliable,
    };
}

/// The partial reliability policy of a message (RFC 3758, RFC 8831 §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReliabilityLimit {
    /// Retransmit until acknowledged.
    #[default]
    Reliable,
    /// Abandon after this many retransmissions.
    MaxRetransmits(u32),
    /// Abandon once the message is this many milliseconds old.
    MaxPacketLifeTime(u32),
}

/// Why the association refused a send or a stream reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The association is not established (or no longer).
    NotConnected,
    /// The association has no room to queue this message now.
    BufferFull,
    /// The stream id is beyond the streams negotiated in INIT / INIT ACK.
    InvalidStream(u16),
    /// The message is larger than the association takes.
    MessageTooLarge,
    /// The stream is being reset (RFC 6525), so it takes no new message.
    StreamResetting(u16),
    /// The peer does not support what was asked (stream reset without RE-CONFIG).
    Unsupported,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConnected => f.write_str("the SCTP association is not connected"),
            Self::BufferFull => f.write_str("the SCTP send buffer is full"),
            Self::InvalidStream(id) => write!(f, "SCTP stream {id} was not negotiated"),
            Self::MessageTooLarge => f.write_str("the message is larger than SCTP takes"),
            Self::StreamResetting(id) => write!(f, "SCTP stream {id} is being reset"),
            Self::Unsupported => f.write_str("the SCTP peer does not support this"),
        }
    }
}

impl std::error::Error for TransportError {}

/// The SCTP association as data channels use it.
pub trait SctpTransport {
    /// Queues one whole message on outgoing `stream` with payload protocol identifier `ppid`.
    fn send(
        &mut self,
        stream: u16,
        ppid: Ppid,
        data: &[u8],
        reliability: Reliability,
    ) -> Result<(), TransportError>;

    /// Resets the outgoing side of `streams` (RFC 6525 §5.1.2 Outgoing SSN Reset Request), after
    /// what was queued on them before has been sent.
    fn reset_streams(&mut self, streams: &[u16]) -> Result<(), TransportError>;

    /// Bytes of user data queued on outgoing `stream` and not yet handed to the network (the
    /// RTCDataChannel `bufferedAmount`).
    fn buffered_amount(&self, stream: u16) -> usize;
}
