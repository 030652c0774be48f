//! The driver's UDP sockets: routing a [`Transmit`] to the socket it names, receiving into one
//! reused buffer, and telling fatal socket errors from the ones UDP shrugs off.

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

/// What one receive attempt produced.
pub(crate) enum Recv<'a> {
    /// A datagram, borrowing the shared buffer.
    Datagram(Datagram<'a>),
    /// Nothing to read (would block, or the read timeout passed).
    Empty,
    /// A harmless error, already counted and traced; try again.
    Transient,
}

/// The sockets a driver owns, keyed by their local address.
pub(crate) struct SocketSet {
    sockets: Vec<UdpSocket>,
    /// `addrs[i]` is the local address of `sockets[i]`.
    addrs: Vec<SocketAddr>,
    buf: Box<[u8]>,
    pub(crate) stats: DriverStats,
}

impl SocketSet {
    pub(crate) fn new(sockets: Vec<UdpSocket>) -> io::Result<Self> {
        let addrs = sockets
            .iter()
            .map(UdpSocket::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self {
            sockets,
            addrs,
            buf: vec![0; RECV_BUFFER].into_boxed_slice(),
            stats: DriverStats::default(),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.sockets.len()
    }

    pub(crate) fn socket(&self, index: usize) -> &UdpSocket {
        &self.sockets[index]
    }

    pub(crate) fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Receives one datagram from socket `index`; `Err` only for errors that should stop the
    /// driver.
    pub(crate) fn recv(&mut self, index: usize) -> io::Result<Recv<'_>> {
        let local = self.addrs[index];
        match self.sockets[index].recv_from(&mut self.buf) {
            Ok((len, peer)) => {
                self.stats.received += 1;
                Ok(Recv::Datagram(Datagram {
                    source: peer,
                    destination: local,
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
                self.stats.recv_errors += 1;
                tracing::debug!(%local, error = %e, "receive error ignored");
                Ok(Recv::Transient)
            }
            Err(e) => Err(e),
        }
    }

    /// Sends `transmit` from the socket bound to its source. UDP promises nothing, so a failed
    /// send is counted and traced, never returned.
    pub(crate) fn send(&mut self, transmit: &Transmit) {
        let Some(index) = route(self.local_addrs(), transmit.source) else {
            self.stats.unroutable += 1;
            tracing::warn!(?transmit, "no socket bound to the source address; dropped");
            return;
        };
        match self.sockets[index].send_to(&transmit.payload, transmit.destination) {
            Ok(_) => self.stats.sent += 1,
            Err(e) => {
                self.stats.send_errors += 1;
                tracing::debug!(?transmit, error = %e, "send failed; dropped");
            }
        }
    }
}

/// The index of the socket to send from: the one bound exactly to `source`, else one bound to
/// the unspecified address of the same family with the same port (a socket on 0.0.0.0:p can
/// send as 192.0.2.1:p).
pub(crate) fn route(locals: &[SocketAddr], source: SocketAddr) -> Option<usize> {
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
pub(crate) fn is_transient(e: &io::Error) -> bool {
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
}
