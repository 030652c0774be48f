//! One data channel: its id, how it was asked for, and where it is in its life.

use super::transport::{Reliability, ReliabilityLimit};
use super::wire::{ChannelType, ReliabilityKind, priority};

/// A data channel, named by its SCTP stream identifier (RFC 8831 §6.4: a channel uses the
/// incoming and outgoing stream with the same id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u16);

impl ChannelId {
    /// The SCTP stream identifier.
    pub fn stream(self) -> u16 {
        self.0
    }
}

impl core::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "channel {}", self.0)
    }
}

/// What [`DataChannels::open`](super::DataChannels::open) is asked for (the RTCDataChannelInit
/// dictionary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelOptions {
    /// Messages arrive in the order they were sent.
    pub ordered: bool,
    /// Partial reliability: a retransmission count or a lifetime (RFC 8831 §6.4).
    pub limit: ReliabilityLimit,
    /// `Some(id)`: the application on both sides agreed on this stream id out of band; no DCEP
    /// is exchanged and the channel opens when the association does (RFC 8831 §6.5).
    pub negotiated: Option<u16>,
    /// The DCEP priority (RFC 8832 §5.1).
    pub priority: u16,
}

impl Default for ChannelOptions {
    fn default() -> Self {
        Self {
            ordered: true,
            limit: ReliabilityLimit::Reliable,
            negotiated: None,
            priority: priority::NORMAL,
        }
    }
}

/// The RTCDataChannel ready state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// Waiting for the association, or for the peer's DATA_CHANNEL_ACK.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// Our outgoing stream is being reset; waiting for the peer to reset its own.
    Closing,
}

/// A data channel as the application sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub(super) id: ChannelId,
    pub(super) label: String,
    pub(super) protocol: String,
    pub(super) reliability: Reliability,
    pub(super) priority: u16,
    pub(super) negotiated: bool,
    pub(super) state: ChannelState,
    /// We sent (or will send) DATA_CHANNEL_OPEN and wait for the ACK.
    pub(super) awaiting_ack: bool,
    /// The association was not connected when the channel was made: the OPEN (or, for a
    /// negotiated channel, the Open event) waits for `handle_connected`.
    pub(super) pending_connect: bool,
    pub(super) buffered_amount_low_threshold: usize,
    /// The buffered amount when last looked at, to see it fall below the threshold.
    pub(super) last_buffered: usize,
}

impl Channel {
    /// The channel's id (its stream identifier).
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The label it was opened with.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The subprotocol it was opened with.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// Ordering and partial reliability of its messages.
    pub fn reliability(&self) -> Reliability {
        self.reliability
    }

    /// The DCEP priority.
    pub fn priority(&self) -> u16 {
        self.priority
    }

    /// Whether it was agreed out of band (no DCEP).
    pub fn negotiated(&self) -> bool {
        self.negotiated
    }

    /// Its ready state (a closed channel is gone: the manager forgets it).
    pub fn state(&self) -> ChannelState {
        self.state
    }

    /// Below or at this many buffered bytes, a falling buffered amount raises
    /// [`DataChannelEvent::BufferedAmountLow`](super::DataChannelEvent::BufferedAmountLow).
    pub fn buffered_amount_low_threshold(&self) -> usize {
        self.buffered_amount_low_threshold
    }

    /// The channel type and reliability parameter its DATA_CHANNEL_OPEN carries (RFC 8832 §5.1).
    pub(super) fn channel_type(&self) -> (ChannelType, u32) {
        let (kind, parameter) = match self.reliability.limit {
            // RFC 8832 §5.1: for reliable channels the parameter MUST be 0 on send.
            ReliabilityLimit::Reliable => (ReliabilityKind::Reliable, 0),
            ReliabilityLimit::MaxRetransmits(n) => (ReliabilityKind::Rexmit, n),
            ReliabilityLimit::MaxPacketLifeTime(ms) => (ReliabilityKind::Timed, ms),
        };
        (ChannelType::new(self.reliability.ordered, kind), parameter)
    }
}

/// The reliability a received channel type and parameter ask for, or `None` for a channel type
/// RFC 8832 §8.2.2 does not assign.
pub(super) fn reliability_of(channel_type: ChannelType, parameter: u32) -> Option<Reliability> {
    let limit = match channel_type.kind()? {
        // RFC 8832 §5.1: the parameter MUST be ignored on receipt for reliable channels.
        ReliabilityKind::Reliable => ReliabilityLimit::Reliable,
        ReliabilityKind::Rexmit => ReliabilityLimit::MaxRetransmits(parameter),
        ReliabilityKind::Timed => ReliabilityLimit::MaxPacketLifeTime(parameter),
    };
    Some(Reliability {
        ordered: channel_type.is_ordered(),
        limit,
    })
}
