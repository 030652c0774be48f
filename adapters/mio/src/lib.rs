//! # pigeon-mio
//!
//! Drives any [`pigeon::Machine`] over [mio](https://docs.rs/mio) UDP sockets: every socket is
//! registered with one `mio::Poll`, and the machine's
//! [`poll_timeout`](pigeon::Machine::poll_timeout) becomes the poll timeout, so the thread
//! sleeps until a datagram arrives or a timer is due, however many sockets the machine has.
//!
//! The [`MioDriver`] owns the machine, its sockets and a [`Clock`] whose epoch is the driver's
//! creation. It is pigeon-std's `BlockingDriver` with a waiter of its own ([`MioWait`]), so
//! the drive loop, socket routing and counters are pigeon-std's. After every datagram, timeout
//! and command it sends everything the machine queued and collects its events, as pigeon's
//! drive loop requires.
//!
//! ```no_run
//! use std::ops::ControlFlow;
//!
//! use mio::net::UdpSocket;
//! use pigeon::Machine;
//! use pigeon_mio::MioDriver;
//!
//! /// Runs `machine` on two sockets until it reports an event `done` accepts.
//! fn serve<M: Machine>(machine: M, done: impl Fn(&M::Event) -> bool) -> std::io::Result<()> {
//!     let sockets = vec![
//!         UdpSocket::bind("127.0.0.1:3478".parse().unwrap())?,
//!         UdpSocket::bind("127.0.0.1:3479".parse().unwrap())?,
//!     ];
//!     let mut driver = MioDriver::new(machine, sockets)?;
//!     driver.run_until(|event| {
//!         if done(&event) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
//!     })
//! }
//! ```
//!
//! Outgoing datagrams leave from the socket whose local address equals
//! [`Transmit::source`](pigeon::Transmit::source), or from a socket bound to the unspecified
//! address with the same port; a transmit no socket matches is dropped, counted in
//! [`DriverStats::unroutable`] and traced. An incoming datagram's destination is the local
//! address of the socket it arrived on, which for a socket bound to `0.0.0.0` is `0.0.0.0:port`.

mod driver;

pub use driver::{MioDriver, MioWait};
pub use pigeon_std::{Clock, DriverStats};
