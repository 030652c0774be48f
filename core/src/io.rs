//! The Sans-IO contract: what goes into a machine, what comes out, and the [`Machine`] trait.

use core::fmt;
use core::net::SocketAddr;

use crate::time::Instant;

/// A datagram handed to a machine by its driver.
///
/// `destination` is the local address it arrived on: a machine with several sockets (an RFC 5780
/// STUN server with two addresses, an ICE agent with one socket per interface) tells them apart by it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The remote address it came from.
    pub source: SocketAddr,
    /// The local address it arrived on.
    pub destination: SocketAddr,
    /// The bytes of the UDP payload.
    pub payload: &'a [u8],
}

impl fmt::Debug for Datagram<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Datagram({} -> {}, {} bytes)",
            self.source,
            self.destination,
            self.payload.len()
        )
    }
}

/// A datagram a machine wants sent.
///
/// `source` names the local socket to send it from; the driver owns that socket.
#[derive(Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local address to send from.
    pub source: SocketAddr,
    /// The remote address to send to.
    pub destination: SocketAddr,
    /// The bytes of the UDP payload.
    pub payload: Vec<u8>,
}

impl Transmit {
    /// This transmit seen as the datagram its receiver gets.
    pub fn as_datagram(&self) -> Datagram<'_> {
        Datagram {
            source: self.source,
            destination: self.destination,
            payload: &self.payload,
        }
    }
}

impl fmt::Debug for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Transmit({} -> {}, {} bytes)",
            self.source,
            self.destination,
            self.payload.len()
        )
    }
}

/// A protocol state machine that performs no I/O.
///
/// The driver (an adapter, the simulator, or a test) owns the sockets and the clock. After every
/// call that mutates the machine (the two `handle_*` methods and any inherent command method), it
/// drains [`poll_transmit`](Machine::poll_transmit) and [`poll_event`](Machine::poll_event)
/// until both return `None`, then reads [`poll_timeout`](Machine::poll_timeout) and calls
/// [`handle_timeout`](Machine::handle_timeout) no later than that instant.
///
/// Implementations never panic on peer input: a malformed datagram is dropped and counted.
pub trait Machine {
    /// What the application learns from this machine.
    type Event;

    /// A datagram arrived. Bad input never panics: it is dropped and counted.
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>);

    /// Time passed. Calling it early, or more than once for the same instant, is harmless.
    fn handle_timeout(&mut self, now: Instant);

    /// The next datagram to send (its source address chooses the local socket).
    fn poll_transmit(&mut self) -> Option<Transmit>;

    /// The next thing the application should know.
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// When [`handle_timeout`](Machine::handle_timeout) must be called next; `None` means nothing
    /// is scheduled.
    fn poll_timeout(&self) -> Option<Instant>;
}

impl<M: Machine + ?Sized> Machine for Box<M> {
    type Event = M::Event;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        (**self).handle_datagram(now, datagram);
    }

    fn handle_timeout(&mut self, now: Instant) {
        (**self).handle_timeout(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        (**self).poll_transmit()
    }

    fn poll_event(&mut self) -> Option<Self::Event> {
        (**self).poll_event()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        (**self).poll_timeout()
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn seeded_generator_is_an_rng() {
        let mut rng: crate::Rng = Box::new(ChaCha20Rng::seed_from_u64(7));
        let mut other: crate::Rng = Box::new(ChaCha20Rng::seed_from_u64(7));
        assert_eq!(rng.next_u64(), other.next_u64());
    }
}
