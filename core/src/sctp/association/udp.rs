//! [`SctpOverUdp`]: an [`Association`] as a [`Machine`] that sends each SCTP packet in one UDP
//! datagram to a fixed peer. Real WebRTC puts DTLS in between (RFC 8261); this adapter is for
//! the simulator and tests.

use core::net::SocketAddr;

use super::{Association, Event};
use crate::{Datagram, Instant, Machine, Transmit};

/// An association speaking straight over UDP to one peer.
#[derive(Debug)]
pub struct SctpOverUdp {
    /// The association; commands (`send`, `close`, ...) go to it directly.
    pub association: Association,
    local: SocketAddr,
    remote: SocketAddr,
    /// Datagrams from other addresses, dropped.
    pub foreign_datagrams: u64,
}

impl SctpOverUdp {
    /// Wraps `association`, bound to `local`, talking to `remote`.
    pub fn new(association: Association, local: SocketAddr, remote: SocketAddr) -> SctpOverUdp {
        SctpOverUdp {
            association,
            local,
            remote,
            foreign_datagrams: 0,
        }
    }
}

impl Machine for SctpOverUdp {
    type Event = Event;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        if datagram.source != self.remote {
            self.foreign_datagrams += 1;
            return;
        }
        self.association.handle_packet(now, datagram.payload);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.association.handle_timeout(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.association.poll_packet().map(|payload| Transmit {
            source: self.local,
            destination: self.remote,
            payload,
        })
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.association.poll_event()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.association.poll_timeout()
    }
}
