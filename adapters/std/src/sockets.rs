//! The driver's UDP sockets: routing a [`Transmit`] to the socket it names, receiving into one
//! reused buffer, and telling fatal socket errors from the ones UDP shrugs off.
//!
//! Nothing here depends on how the driver waits, so `pigeon-mio` reuses [`SocketSet`] over its
//! own socket type and `pigeon-tokio` reuses [`route`], [`is_transient`] and [`DriverStats`].

use std::io;
use std::net::{SocketAddr, UdpSocket};

use pigeon::{Datagram, Transmit};

/// The receive buffer: large enough for any UDP payload over IPv4 or IPv6 (without jumbograms).
const RECV_BUFFER: usize = 64 * 1024;

/// Counters the driver keeps about its sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriverStats {
    /// Datagrams received and handed to the machine.
    pub received: u64,
    /// Datagrams the OS accepted for sending.
    pub sent: u64,
    /// Transmits dropped because no socket is bound to their source address.
    pub unroutable: u64,
    /// Sends the OS refused (unreachable network, buffer full, ...); the datagram is lost.
    pub send_errors: u64,
    /// Receive errors that did not stop the driver (ICMP-induced refusals, interrupts).
    pub recv_errors: u64,
}

impl DriverStats {
    /// Counts and traces a transmit that [`route`] found no socket for.
    pub fn record_unroutable(&mut self, transmit: &Transmit) {
        self.unroutable += 1;
        tracing::warn!(?transmit, "no socket bound to the source address; dropped");
    }

    /// Counts the outcome of sending `transmit`. UDP promises nothing, so a failed send is
    /// counted and traced, never returned.
    pub fn record_send(&mut self, transmit: &Transmit, result: io::Result<usize>) {
        match result {
            Ok(_) => self.sent += 1,
            Err(e) => {
                self.send_errors += 1;
                tracing::debug!(?transmit, error = %e, "send failed; dropped");
            }
        }
    }

    /// Counts and traces a receive error that [`is_transient`] accepted.
    pub fn record_recv_error(&mut self, local: SocketAddr, error: &io::Error) {
        self.recv_errors += 1;
        tracing::debug!(%local, %error, "receive error ignored");
    }
}

/// A bound UDP socket a [`SocketSet`] can read and write without blocking the caller for
/// longer than the socket's own settings allow.
pub trait DatagramSocket {
    /// The address the socket is bound to.
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// Reads one datagram into `buf`.
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>;
    /// Sends one datagram.
    fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize>;
}

impl DatagramSocket for UdpSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        UdpSocket::local_addr(self)
    }

    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        UdpSocket::recv_from(self, buf)
    }

    fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        UdpSocket::send_to(self, buf, target)
    }
}

/// mio's socket is non-blocking, so a receive with nothing queued is [`Recv::Empty`].
#[cfg(feature = "mio")]
impl DatagramSocket for mio::net::UdpSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        mio::net::UdpSocket::local_addr(self)
    }

    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        mio::net::UdpSocket::recv_from(self, buf)
    }

    fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        mio::net::UdpSocket::send_to(self, buf, target)
    }
}

/// What one receive attempt produced.
#[derive(Debug)]
pub enum Recv<'a> {
    /// A datagram, borrowing the shared buffer.
    Datagram(Datagram<'a>),
    /// Nothing to read (would block, or the read timeout passed).
    Empty,
    /// A harmless error, already counted and traced; try again.
    Transient,
}

/// The sockets a driver owns, keyed by their local address, with one shared receive buffer.
#[derive(Debug)]
pub struct SocketSet<S> {
    sockets: Vec<S>,
    /// `addrs[i]` is the local address of `sockets[i]`.
    addrs: Vec<SocketAddr>,
    buf: Box<[u8]>,
    stats: DriverStats,
}

impl<S: DatagramSocket> SocketSet<S> {
    /// Takes the sockets (already bound) and reads their local addresses.
    pub fn new(sockets: Vec<S>) -> io::Result<Self> {
        let addrs = sockets
            .iter()
            .map(S::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self {
            sockets,
            addrs,
            buf: vec![0; RECV_BUFFER].into_boxed_slice(),
            stats: DriverStats::default(),
        })
    }

    /// How many sockets there are.
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    /// True when there is no socket at all.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// The sockets, in the order they were given.
    pub fn sockets(&self) -> &[S] {
        &self.sockets
    }

    /// The sockets, for registering them with an event loop.
    pub fn sockets_mut(&mut self) -> &mut [S] {
        &mut self.sockets
    }

    /// The local addresses, in the order of [`sockets`](SocketSet::sockets).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The counters so far.
    pub fn stats(&self) -> DriverStats {
        self.stats
    }

    /// Receives one datagram from socket `index` (which must exist); `Err` only for errors that
    /// should stop the driver.
    pub fn recv(&mut self, index: usize) -> io::Result<Recv<'_>> {
        let local = self.addrs[index];
        match self.sockets[index].recv_from(&mut self.buf) {
            Ok((len, peer)) => {
                self.stats.received += 1;
                Ok(Recv::Datagram(Datagram {
                    source: peer,
                    destination: local,
                    // recv_from never reports more bytes than the buffer holds.
                    payload: &self.buf[..len],
                }))
            }
            // A read timeout shows up as WouldBlock on Unix and TimedOut on Windows.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(Recv::Empty)
            }
            Err(e) if is_transient(&e) => {
                self.stats.record_recv_error(local, &e);
                Ok(Recv::Transient)
            }
            Err(e) => Err(e),
        }
    }

    /// Sends `transmit` from the socket bound to its source; failures are only counted (see
    /// [`DriverStats::record_send`]).
    pub fn send(&mut self, transmit: &Transmit) {
        let Some(index) = route(&self.addrs, transmit.source) else {
            self.stats.record_unroutable(transmit);
            return;
        };
        let result = self.sockets[index].send_to(&transmit.payload, transmit.destination);
        self.stats.record_send(transmit, result);
    }
}

/// The index of the socket to send from: the one bound exactly to `source`, else one bound to
/// the unspecified address of the same family with the same port (a socket on 0.0.0.0:p can
/// send as 192.0.2.1:p).
pub fn route(locals: &[SocketAddr], source: SocketAddr) -> Option<usize> {
    locals.iter().position(|a| *a == source).or_else(|| {
        locals.iter().position(|a| {
            a.ip().is_unspecified() && a.port() == source.port() && a.is_ipv4() == source.is_ipv4()
        })
    })
}

/// Receive errors that say something about one datagram or one peer, not about the socket.
///
/// Linux reports an ICMP port unreachable on a later receive as `ECONNREFUSED`, Windows as
/// `WSAECONNRESET`; neither means the socket is unusable.
pub fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn routes_exact_address_first() {
        let locals = addrs(&["0.0.0.0:3478", "192.0.2.1:3478"]);
        let source = "192.0.2.1:3478".parse().unwrap();
        assert_eq!(route(&locals, source), Some(1));
    }

    #[test]
    fn falls_back_to_unspecified_with_same_port_and_family() {
        let locals = addrs(&["[::]:3478", "0.0.0.0:3479", "0.0.0.0:3478"]);
        let source = "192.0.2.1:3478".parse().unwrap();
        assert_eq!(route(&locals, source), Some(2));
        let v6 = "[2001:db8::1]:3478".parse().unwrap();
        assert_eq!(route(&locals, v6), Some(0));
    }

    #[test]
    fn unknown_source_has_no_route() {
        let locals = addrs(&["127.0.0.1:1000", "0.0.0.0:2000"]);
        let source = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(route(&locals, source), None);
    }

    #[test]
    fn transient_errors_are_per_datagram_only() {
        assert!(is_transient(&io::ErrorKind::ConnectionRefused.into()));
        assert!(is_transient(&io::ErrorKind::Interrupted.into()));
        assert!(!is_transient(&io::ErrorKind::PermissionDenied.into()));
        assert!(!is_transient(&io::ErrorKind::InvalidInput.into()));
    }
}
