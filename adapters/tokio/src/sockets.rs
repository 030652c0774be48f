//! The driver's UDP sockets: waiting on all of them at once, routing a [`Transmit`] to the
//! socket it names, and telling fatal socket errors from the ones UDP shrugs off (with
//! pigeon-std's [`route`] and [`is_transient`]).

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use pigeon::{Datagram, Transmit};
use pigeon_std::{DriverStats, is_transient, route};
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;

/// The receive buffer: large enough for any UDP payload over IPv4 or IPv6 (without jumbograms).
const RECV_BUFFER: usize = 64 * 1024;

/// Where the last received datagram sits in the shared buffer.
#[derive(Clone, Copy)]
pub(crate) struct Received {
    index: usize,
    peer: SocketAddr,
    len: usize,
}

/// The sockets a driver owns, keyed by their local address.
pub(crate) struct SocketSet {
    sockets: Vec<UdpSocket>,
    /// `addrs[i]` is the local address of `sockets[i]`.
    addrs: Vec<SocketAddr>,
    buf: Box<[u8]>,
    /// The socket polled first next time, so a busy socket cannot starve the others.
    next: usize,
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
            next: 0,
            stats: DriverStats::default(),
        })
    }

    /// Waits for a datagram on any socket; `Err` only for errors that should stop the driver.
    /// With no socket it never completes.
    pub(crate) async fn recv(&mut self) -> io::Result<Received> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The datagram [`recv`](SocketSet::recv) stored.
    pub(crate) fn datagram(&self, received: Received) -> Datagram<'_> {
        Datagram {
            source: received.peer,
            destination: self.addrs[received.index],
            payload: &self.buf[..received.len],
        }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Received>> {
        let count = self.sockets.len();
        for offset in 0..count {
            let index = (self.next + offset) % count;
            let mut buf = ReadBuf::new(&mut self.buf);
            match self.sockets[index].poll_recv_from(cx, &mut buf) {
                Poll::Ready(Ok(peer)) => {
                    self.next = (index + 1) % count;
                    self.stats.received += 1;
                    let len = buf.filled().len();
                    return Poll::Ready(Ok(Received { index, peer, len }));
                }
                Poll::Ready(Err(e)) if is_transient(&e) => {
                    self.stats.record_recv_error(self.addrs[index], &e);
                    // The socket is still readable and registered no waker: poll again soon.
                    cx.waker().wake_by_ref();
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }

    /// Sends `transmit` from the socket bound to its source. UDP promises nothing, so a failed
    /// send is counted and traced, never returned.
    pub(crate) async fn send(&mut self, transmit: &Transmit) {
        let Some(index) = route(&self.addrs, transmit.source) else {
            self.stats.record_unroutable(transmit);
            return;
        };
        let result = self.sockets[index]
            .send_to(&transmit.payload, transmit.destination)
            .await;
        self.stats.record_send(transmit, result);
    }
}
