//! SCTP (RFC 9260) as WebRTC data channels use it over DTLS (RFC 8261).
//!
//! The wire codec: the common header with its CRC32c checksum ([`packet`]) and every chunk a
//! data-channel association exchanges ([`chunk`]), including RFC 3758 FORWARD TSN and RFC 6525
//! RE-CONFIG. On top of it, the [`Association`] ([`association`]): a Sans-IO machine over
//! whole SCTP packets with setup, teardown, reliable and partially reliable delivery,
//! congestion control and stream reset. `docs/sctp.md` lists what is and is not done.

pub mod association;
pub mod chunk;
mod error;
pub mod packet;

pub use association::{
    Association, CloseReason, Config, Event, Reliability, SctpOverUdp, SendError, SendOptions,
    State, Stats,
};
pub use chunk::{Chunk, ChunkType, UnknownAction};
pub use error::Error;
pub use packet::{CommonHeader, Packet, PacketView, RawChunk};
