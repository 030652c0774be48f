//! [`SctpTransport`] over the real SCTP [`Association`]: what data channels ask of SCTP,
//! translated to the association's commands at one instant.

use core::time::Duration;

use super::transport::{Reliability, ReliabilityLimit, SctpTransport, TransportError};
use super::wire::Ppid;
use crate::Instant;
use crate::sctp::{self, Association, SendError, SendOptions};

/// The association as data channels see it at the instant `now` (the association needs the
/// time for RFC 3758 lifetimes and RFC 6525 timers; the channels keep none).
#[derive(Debug)]
pub struct AssociationTransport<'a> {
    /// The association commands go to.
    pub association: &'a mut Association,
    /// The time of the command.
    pub now: Instant,
}

impl<'a> AssociationTransport<'a> {
    /// The association at `now`.
    pub fn new(association: &'a mut Association, now: Instant) -> Self {
        Self { association, now }
    }
}

/// The association's per-message options for a channel's reliability (RFC 8831 §6.4 mapped
/// onto RFC 3758 policies).
pub fn send_options(reliability: Reliability) -> SendOptions {
    let policy = match reliability.limit {
        ReliabilityLimit::Reliable => sctp::Reliability::Reliable,
        // The association counts retransmissions in 16 bits; a larger limit saturates, which is
        // as good as reliable in practice.
        ReliabilityLimit::MaxRetransmits(n) => {
            sctp::Reliability::MaxRetransmits(u16::try_from(n).unwrap_or(u16::MAX))
        }
        ReliabilityLimit::MaxPacketLifeTime(ms) => {
            sctp::Reliability::Lifetime(Duration::from_millis(u64::from(ms)))
        }
    };
    SendOptions {
        unordered: !reliability.ordered,
        reliability: policy,
    }
}

/// What the channels are told when the association refuses.
fn transport_error(e: SendError, stream: u16) -> TransportError {
    match e {
        SendError::NotConnected => TransportError::NotConnected,
        SendError::BufferFull => TransportError::BufferFull,
        SendError::InvalidStream => TransportError::InvalidStream(stream),
        SendError::TooLarge => TransportError::MessageTooLarge,
        SendError::StreamResetting => TransportError::StreamResetting(stream),
        // `Empty` cannot come from the channels (RFC 8831 §6.6 sends one byte for an empty
        // message); `Unsupported` means the peer cannot reset streams.
        _ => TransportError::Unsupported,
    }
}

impl SctpTransport for AssociationTransport<'_> {
    fn send(
        &mut self,
        stream: u16,
        ppid: Ppid,
        data: &[u8],
        reliability: Reliability,
    ) -> Result<(), TransportError> {
        self.association
            .send(
                self.now,
                stream,
                ppid.0,
                data.to_vec(),
                send_options(reliability),
            )
            .map_err(|e| transport_error(e, stream))
    }

    fn reset_streams(&mut self, streams: &[u16]) -> Result<(), TransportError> {
        // RFC 8831 §6.7: closing a channel resets its outgoing stream (RFC 6525 §5.1.2); the
        // association sends the request once the data queued before it has gone.
        self.association
            .reset_streams(self.now, streams)
            .map_err(|e| transport_error(e, streams.first().copied().unwrap_or(0)))
    }

    fn buffered_amount(&self, stream: u16) -> usize {
        self.association.buffered_amount(stream)
    }
}
