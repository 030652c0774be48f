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
//! # use pigeon::{Datagram, Instant, Machine, Transmit};
//! # use std::collections::VecDeque;
//! # use std::time::Duration;
//! # /// A stand-in machine: echoes every datagram back after 10 ms.
//! # #[derive(Default)]
//! # struct Echo { pending: VecDeque<(Instant, Transmit)>, out: VecDeque<Transmit> }
//! # impl Machine for Echo {
//! #     type Event = ();
//! #     fn handle_datagram(&mut self, now: Instant, d: Datagram<'_>) {
//! #         let t = Transmit { source: d.destination, destination: d.source, payload: d.payload.to_vec() };
//! #         self.pending.push_back((now + Duration::from_millis(10), t));
//! #     }
//! #     fn handle_timeout(&mut self, now: Instant) {
//! #         while self.pending.front().is_some_and(|(at, _)| *at <= now) {
//! #             let (_, t) = self.pending.pop_front().unwrap();
//! #             self.out.push_back(t);
//! #         }
//! #     }
//! #     fn poll_transmit(&mut self) -> Option<Transmit> { self.out.pop_front() }
//! #     fn poll_event(&mut self) -> Option<()> { None }
//! #     fn poll_timeout(&self) -> Option<Instant> { self.pending.front().map(|(at, _)| *at) }
//! # }
//! let mut machine = Echo::default();
//! let local = "127.0.0.1:3478".parse().unwrap();
//! let peer = "127.0.0.1:50000".parse().unwrap();
//! let mut now = Instant::ZERO;
//!
//! // 1. Something happened: a datagram arrived.
//! machine.handle_datagram(now, Datagram { source: peer, destination: local, payload: b"hi" });
//! loop {
//!     // 2. Drain everything the machine wants done.
//!     while let Some(transmit) = machine.poll_transmit() {
//!         // A real driver sends `transmit.payload` from the socket bound to `transmit.source`.
//!         assert_eq!(transmit.destination, peer);
//!     }
//!     while let Some(_event) = machine.poll_event() {}
//!     // 3. Sleep until the next deadline (or until a datagram arrives), then tell the machine.
//!     match machine.poll_timeout() {
//!         Some(deadline) => {
//!             now = deadline;
//!             machine.handle_timeout(now);
//!         }
//!         None => break,
//!     }
//! }
//! assert_eq!(now, Instant::from_millis(10));
//! ```
//!
//! Commands are inherent methods that take `now`; their results come back as events.
//! See `docs/architecture.md` for the layers.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod io;
pub mod time;

pub use io::{Datagram, Machine, Transmit};
pub use time::Instant;

/// The random source every machine is given at construction.
///
/// `core` never asks the operating system for randomness: drivers pass a seeded generator
/// (the simulator) or one backed by the OS (the adapters), so runs are reproducible.
pub type Rng = Box<dyn rand_core::CryptoRng + Send>;
