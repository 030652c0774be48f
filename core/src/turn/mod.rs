//! TURN (RFC 8656): relaying data through a server when no direct path exists.
//!
//! - [`ChannelData`] and the stream framing ([`StreamDecoder`], [`encode_frame`]) are the
//!   wire formats TURN adds to STUN.
pub mod channel_data;
pub mod stream;

pub use channel_data::{
    CHANNEL_HEADER_LEN, ChannelData, ChannelDataError, MAX_CHANNEL, MIN_CHANNEL,
    RFC5766_MAX_CHANNEL, is_channel_data, is_valid_channel,
};
pub use stream::{Frame, StreamDecoder, StreamError, encode_frame};
pub mod client;

pub use client::{
    Operation, STREAM_TRANSACTION_TIMEOUT, TRANSPORT_UDP, TurnClient, TurnClientConfig,
    TurnClientStats, TurnError, TurnEvent, TurnTransport,
};
pub mod server;

pub use server::{TurnServer, TurnServerConfig, TurnServerEvent, TurnServerStats};
