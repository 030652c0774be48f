//! # pigeon-tokio
//!
//! Drives any [`pigeon::Machine`] over tokio UDP sockets in a task of its own.
//!
//! [`spawn`] moves the machine and its sockets into a driver task, which waits on every socket,
//! the machine's next deadline and a command channel at once. After each datagram, timeout and
//! command it sends everything the machine queued and forwards its events, as pigeon's drive
//! loop requires. The application keeps a [`Handle`] to run commands on the machine
//! ([`Handle::command`] takes a closure and returns its result) and reads events from
//! [`Events`]. The machine and its events must be `Send + 'static`.
//!
//! ```no_run
//! use pigeon::Machine;
//! use tokio::net::UdpSocket;
//!
//! /// Runs `machine` on one socket and prints its first ten events.
//! async fn serve<M>(machine: M) -> std::io::Result<M>
//! where
//!     M: Machine + Send + 'static,
//!     M::Event: Send + std::fmt::Debug + 'static,
//! {
//!     let socket = UdpSocket::bind("127.0.0.1:3478").await?;
//!     let (handle, mut events, task) = pigeon_tokio::spawn(machine, vec![socket])?;
//!     for _ in 0..10 {
//!         let Some(event) = events.next_event().await else { break };
//!         println!("{event:?}");
//!     }
//!     let _ = handle.shutdown().await;
//!     task.await.expect("driver task panicked")
//! }
//! ```
//!
//! Outgoing datagrams leave from the socket whose local address equals
//! [`Transmit::source`](pigeon::Transmit::source), or from a socket bound to the unspecified
//! address with the same port; a transmit no socket matches is dropped, counted in
//! [`DriverStats::unroutable`] and traced. An incoming datagram's destination is the local
//! address of the socket it arrived on, which for a socket bound to `0.0.0.0` is `0.0.0.0:port`.

mod clock;
mod driver;
mod handle;
mod sockets;

pub use clock::Clock;
pub use driver::{Spawned, spawn};
pub use handle::{Closed, Events, Handle};
pub use pigeon_std::DriverStats;
