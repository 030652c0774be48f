//! # pigeon-std
//!
//! Drives any [`pigeon::Machine`] over `std::net::UdpSocket`s on the calling thread: no async
//! runtime, no extra threads.
//!
//! The [`Driver`] owns the machine, its sockets and a [`Clock`] whose epoch is the driver's
//! creation. It follows the drive loop of pigeon's design: after every datagram, timeout and
//! command it sends everything the machine queued, collects its events, and then blocks until
//! the next datagram or the machine's next deadline.
//!
//! ```no_run
//! use std::net::UdpSocket;
//! use std::ops::ControlFlow;
//! use std::time::Duration;
//!
//! use pigeon::Machine;
//! use pigeon_std::Driver;
//!
//! /// Runs `machine` on one socket and prints its events for ten seconds.
//! fn serve<M: Machine>(machine: M) -> std::io::Result<()>
//! where
//!     M::Event: std::fmt::Debug,
//! {
//!     let socket = UdpSocket::bind("127.0.0.1:3478")?;
//!     let mut driver = Driver::new(machine, vec![socket])?;
//!     driver.run_for(Duration::from_secs(10), |event| {
//!         println!("{event:?}");
//!         ControlFlow::<()>::Continue(())
//!     })?;
//!     Ok(())
//! }
//! ```
//!
//! Outgoing datagrams leave from the socket whose local address equals
//! [`Transmit::source`](pigeon::Transmit::source), or from a socket bound to the unspecified
//! address with the same port; a transmit no socket matches is dropped, counted in
//! [`DriverStats::unroutable`] and traced. An incoming datagram's destination is the local
//! address of the socket it arrived on, which for a socket bound to `0.0.0.0` is `0.0.0.0:port`.
//!
//! The pieces that do not depend on how a driver waits are public so the other adapters share
//! them: [`SocketSet`] and the [`Wait`] trait ([`Driver`] is a [`BlockingDriver`] with the
//! [`Blocking`] waiter, pigeon-mio's `MioDriver` the same with a waiter of its own), and
//! [`route`], [`is_transient`] and [`DriverStats`] (pigeon-tokio).

mod clock;
mod driver;
mod sockets;
mod wait;

pub use clock::Clock;
pub use driver::{BlockingDriver, Driver, Engine, Received};
pub use sockets::{DatagramSocket, DriverStats, Recv, SocketSet, is_transient, route};
pub use wait::{Blocking, RECV_BUDGET, Wait};
