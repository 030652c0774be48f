//! What a [`TurnClient`](super::TurnClient) reports, its errors and counters.

use core::fmt;
use core::net::{IpAddr, SocketAddr};

use crate::turn::StreamError;

/// The request a failure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Allocate (RFC 8656 §7.1).
    Allocate,
    /// Refresh (RFC 8656 §8.1).
    Refresh,
    /// CreatePermission (RFC 8656 §10.1).
    CreatePermission,
    /// ChannelBind (RFC 8656 §12.1).
    ChannelBind,
}

/// What a [`TurnClient`](super::TurnClient) tells its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnEvent {
    /// The server granted an allocation.
    Allocated {
        /// XOR-RELAYED-ADDRESS: where peers send to reach this client.
        relayed: SocketAddr,
        /// XOR-MAPPED-ADDRESS: this client as the server sees it (a server-reflexive address).
        mapped: Option<SocketAddr>,
        /// Seconds the allocation lives unless refreshed (the client refreshes it itself).
        lifetime: u32,
    },
    /// A peer sent data through the relay (Data indication or ChannelData).
    Data {
        /// The peer's address as seen by the server.
        peer: SocketAddr,
        /// The application data.
        data: Vec<u8>,
    },
    /// The server installed (or refreshed for the first time) a permission for `peer`.
    PermissionCreated {
        /// The peer's IP address (permissions ignore ports, RFC 8656 §9).
        peer: IpAddr,
    },
    /// A channel is bound: data to and from `peer` now travels as ChannelData.
    ChannelBound {
        /// The peer.
        peer: SocketAddr,
        /// The channel number.
        channel: u16,
    },
    /// A request failed. After a failed Allocate or Refresh the allocation is gone.
    Failed {
        /// Which request.
        operation: Operation,
        /// The error code from the server, or `None` when it did not answer (or its answer
        /// could not be authenticated).
        code: Option<u16>,
    },
    /// The allocation was released (after [`deallocate`](super::TurnClient::deallocate)).
    Deallocated,
    /// Over a stream transport, the bytes from the server can no longer be split into
    /// messages (RFC 8656 §12.6 gives no way to resynchronise). The client is closed; the
    /// caller MUST close the connection. Outstanding requests are abandoned silently.
    FramingLost {
        /// What broke the framing.
        error: StreamError,
    },
}

/// A command the client refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnError {
    /// No allocation exists (yet, or any more).
    NotAllocated,
    /// [`allocate`](super::TurnClient::allocate) was called twice.
    AlreadyStarted,
    /// The peer's address family differs from the relayed address's (RFC 8656 §10.2 error 443).
    FamilyMismatch,
    /// All 4096 channel numbers (or the configured limit) are in use.
    NoFreeChannel,
    /// Too many packets queued while waiting for a permission.
    QueueFull,
    /// Data longer than a ChannelData or DATA attribute can carry.
    TooLarge,
    /// The STUN transaction layer refused the request (too many in flight).
    Busy,
}

impl fmt::Display for TurnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAllocated => "no TURN allocation",
            Self::AlreadyStarted => "allocation already requested",
            Self::FamilyMismatch => "peer address family differs from the relayed address",
            Self::NoFreeChannel => "no free channel number",
            Self::QueueFull => "too many packets waiting for a permission",
            Self::TooLarge => "data too large for one TURN message",
            Self::Busy => "too many STUN transactions in flight",
        })
    }
}

impl std::error::Error for TurnError {}

/// Counters of a [`TurnClient`](super::TurnClient).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TurnClientStats {
    /// Send indications sent.
    pub send_indications: u64,
    /// ChannelData messages sent.
    pub channel_data_sent: u64,
    /// Data indications received and delivered.
    pub data_indications: u64,
    /// ChannelData messages received and delivered.
    pub channel_data_received: u64,
    /// Datagrams dropped: malformed, from elsewhere, unknown channel, no permission.
    pub dropped: u64,
    /// Refresh requests sent (allocation, permissions and channels).
    pub refreshes: u64,
}
