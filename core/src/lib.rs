//! # pigeon
//!
//! A Sans-IO protocol core for peer-to-peer networking. Every protocol is a [`Machine`]: a pure
//! state machine that takes timestamps and datagrams in and gives datagrams and events out. It
//! never touches a socket, a clock, a thread or the operating system's randomness, so the same
//! seed and the same inputs give byte-identical outputs, in a real event loop, in the
//! deterministic simulator (`pigeon-sim`), or under a fuzzer.
//!
//! ## The drive loop
//!
//! Whoever owns the sockets and the clock (an adapter, the simulator, a test) drives a machine
//! like this: hand it what happened, then drain what it wants done until only a timeout is left.
//!
//! ```
//! use pigeon::stun::{BindingServer, ClientConfig, ClientEvent, ServerConfig, StunClient};
//! use pigeon::{Instant, Machine};
//! use rand_core::SeedableRng;
//!
//! let server_addr = "192.0.2.1:3478".parse().unwrap();
//! let local = "198.51.100.7:50000".parse().unwrap();
//! let mut server = BindingServer::new(ServerConfig::new(server_addr)).expect("one address");
//! let rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let mut client = StunClient::new(ClientConfig::default(), Box::new(rng));
//! let mut now = Instant::ZERO;
//!
//! // 1. A command: ask the server for our mapped address.
//! client.binding(now, local, server_addr).unwrap();
//! let mut lose_next = true; // this toy network loses the first request
//! let mapped = loop {
//!     // 2. Drain everything the machines want done. A real driver sends `payload` from the
//!     //    socket bound to `source`; here the network hands it straight to the other side.
//!     while let Some(request) = client.poll_transmit() {
//!         if std::mem::take(&mut lose_next) {
//!             continue;
//!         }
//!         server.handle_datagram(now, request.as_datagram());
//!         while let Some(response) = server.poll_transmit() {
//!             client.handle_datagram(now, response.as_datagram());
//!         }
//!     }
//!     if let Some(ClientEvent::Response { mapped, .. }) = client.poll_event() {
//!         break mapped;
//!     }
//!     // 3. Sleep until the next deadline (or until a datagram arrives), then tell the machine.
//!     now = client.poll_timeout().expect("the transaction is still running");
//!     client.handle_timeout(now);
//! };
//! assert_eq!(mapped, Some(local));
//! assert_eq!(now, Instant::from_millis(500)); // RFC 8489 §6.2.1: first retransmission
//! ```
//!
//! Commands are inherent methods that take `now`; their results come back as events.
//! See `docs/architecture.md` for the layers.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod datachannel;
pub mod dht;
pub mod dtls;
mod gcm;
pub mod ice;
pub mod io;
pub mod rtp;
pub mod sctp;
pub mod srtp;
pub mod stun;
pub mod time;
pub mod turn;

pub use io::{Datagram, Machine, Transmit};
pub use time::Instant;

/// The random source every machine is given at construction.
///
/// `core` never asks the operating system for randomness: drivers pass a seeded generator
/// (the simulator) or one backed by the OS (the adapters), so runs are reproducible.
pub type Rng = Box<dyn rand_core::CryptoRng + Send>;
