//! WebRTC data channels (RFC 8831) and the Data Channel Establishment Protocol (RFC 8832).
//!
//! - [`wire`]: DATA_CHANNEL_OPEN / DATA_CHANNEL_ACK and the payload protocol identifiers.
//! - [`DataChannels`]: every channel of one SCTP association, with the RTCDataChannel
//!   operations (open, send, close, buffered amount) and events.
//! - [`SctpTransport`]: the few things the channels need from the association beneath them.
//! - [`AssociationTransport`]: [`SctpTransport`] over the real SCTP
//!   [`Association`](crate::sctp::Association).
//! - [`DataChannelPeer`]: DTLS + SCTP + data channels on one UDP 5-tuple as a
//!   [`Machine`](crate::Machine) (RFC 8261, RFC 8831).
//!
//! `docs/datachannel.md` lists what is and is not done.
//!
//! ```
//! use pigeon::datachannel::{ChannelOptions, DataChannelConfig, DataChannelEvent, DataChannels};
//! use pigeon::datachannel::{Ppid, Reliability, SctpTransport, TransportError};
//! use pigeon::dtls::DtlsRole;
//!
//! /// A stand-in association that records what it is asked to send.
//! #[derive(Default)]
//! struct Sent(Vec<(u16, Ppid, Vec<u8>)>);
//! impl SctpTransport for Sent {
//!     fn send(&mut self, stream: u16, ppid: Ppid, data: &[u8], _: Reliability)
//!         -> Result<(), TransportError> {
//!         self.0.push((stream, ppid, data.to_vec()));
//!         Ok(())
//!     }
//!     fn reset_streams(&mut self, _: &[u16]) -> Result<(), TransportError> { Ok(()) }
//!     fn buffered_amount(&self, _: u16) -> usize { 0 }
//! }
//!
//! let mut sctp = Sent::default();
//! let mut channels = DataChannels::new(DtlsRole::Client, DataChannelConfig::default());
//! channels.handle_connected(&mut sctp);
//! let id = channels.open(&mut sctp, "chat", "", ChannelOptions::default()).unwrap();
//! assert_eq!(id.stream(), 0); // RFC 8832 §6: the DTLS client takes even ids
//! assert_eq!(sctp.0[0].1, Ppid::DCEP); // DATA_CHANNEL_OPEN went out
//! channels.handle_message(&mut sctp, 0, Ppid::DCEP, &[0x02]); // the peer's ACK
//! assert_eq!(channels.poll_event(), Some(DataChannelEvent::Open(id)));
//! channels.send_text(&mut sctp, id, "hello").unwrap();
//! assert_eq!(sctp.0[1], (0, Ppid::STRING, b"hello".to_vec()));
//! ```

mod association;
mod channel;
mod channels;
mod event;
mod peer;
mod transport;
pub mod wire;

#[cfg(test)]
mod peer_tests;
#[cfg(test)]
mod tests;

pub use association::{AssociationTransport, send_options};
pub use channel::{Channel, ChannelId, ChannelOptions, ChannelState};
pub use channels::DataChannels;
pub use event::{
    ChannelError, DEFAULT_MAX_MESSAGE_SIZE, DataChannelConfig, DataChannelError, DataChannelEvent,
    DataChannelStats, MAX_CHANNELS, MessageData,
};
pub use peer::{DataChannelPeer, DataChannelPeerConfig, PeerCloseCause, PeerEvent, PeerStats};
pub use transport::{Reliability, ReliabilityLimit, SctpTransport, TransportError};
pub use wire::{ChannelType, DataChannelOpen, DcepError, DcepMessage, Ppid};
