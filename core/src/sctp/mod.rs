//! SCTP (RFC 9260) as WebRTC data channels use it over DTLS (RFC 8261).
//!
//! This first slice is the wire codec only: the common header with its CRC32c checksum
//! ([`packet`]) and every chunk a data-channel association exchanges ([`chunk`]), including
//! RFC 3758 FORWARD TSN and RFC 6525 RE-CONFIG. There is no association state machine yet;
//! `docs/sctp.md` lists what is and is not done.

pub mod chunk;
mod error;
pub mod packet;

pub use chunk::{Chunk, ChunkType, UnknownAction};
pub use error::Error;
pub use packet::{CommonHeader, Packet, PacketView, RawChunk};
