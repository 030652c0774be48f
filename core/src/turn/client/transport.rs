//! How a [`TurnClient`](super::TurnClient) reaches its server: datagrams over UDP, or one
//! byte stream (TCP, or TLS-over-TCP terminated by the caller) carrying framed STUN and
//! ChannelData messages (RFC 8656 §3.1, §12.5, §12.6).
//!
//! Over a stream the caller hands every chunk of bytes it read to
//! [`handle_datagram`](crate::Machine::handle_datagram) (source = the server, destination =
//! the local address; chunks may split or glue messages anyhow) and writes every
//! [`Transmit`](crate::Transmit) payload to the stream in the order polled.

use core::time::Duration;

use crate::stun::ClientConfig;

/// The transport between a TURN client and its server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnTransport {
    /// One datagram per message; requests are retransmitted (RFC 8489 §6.2.1).
    #[default]
    Udp,
    /// A reliable byte stream to the server: TCP, or TLS over TCP with the TLS layer outside
    /// this machine. Messages are framed (ChannelData padded to 4 bytes, RFC 8656 §12.5);
    /// requests are never retransmitted.
    Stream,
}

/// RFC 8489 §6.2.2: over a reliable transport the client does not retransmit and gives up on
/// a transaction after 39.5 seconds (the UDP timeout with the default RTO).
pub const STREAM_TRANSACTION_TIMEOUT: Duration = Duration::from_millis(39_500);

/// The STUN transaction parameters for `transport`, starting from the configured ones.
pub(super) fn transaction_config(transport: TurnTransport, base: &ClientConfig) -> ClientConfig {
    match transport {
        TurnTransport::Udp => base.clone(),
        // One send, then one wait of rto * rm: 39.5 s with no retransmission.
        TurnTransport::Stream => ClientConfig {
            rto: STREAM_TRANSACTION_TIMEOUT,
            rc: 1,
            rm: 1,
            ..base.clone()
        },
    }
}
