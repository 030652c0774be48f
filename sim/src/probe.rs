//! A tiny machine for probing the network: it sends what it is told and records what arrives.
//! As a *reflector* it answers every datagram with the text of the source address it saw (a
//! STUN server in miniature), which makes NAT mappings visible in tests.

use core::convert::Infallible;
use core::net::SocketAddr;
use std::collections::VecDeque;

use pigeon::{Datagram, Instant, Machine, Transmit};

/// One datagram a [`Probe`] received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// The source address as seen by the receiver (after any NAT).
    pub source: SocketAddr,
    /// The local socket it arrived on.
    pub destination: SocketAddr,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Sends on command, records arrivals, optionally reflects.
#[derive(Default, Debug)]
pub struct Probe {
    outbox: VecDeque<Transmit>,
    received: Vec<Received>,
    reflect: bool,
}

impl Probe {
    /// A probe that answers each datagram, from the socket it arrived on, with the source
    /// address it saw, written as text (`"198.51.100.1:5000"`).
    pub fn reflector() -> Probe {
        Probe {
            reflect: true,
            ..Probe::default()
        }
    }

    /// Queues a datagram from local socket `from` to `to`.
    pub fn send(&mut self, from: SocketAddr, to: SocketAddr, payload: Vec<u8>) {
        self.outbox.push_back(Transmit {
            source: from,
            destination: to,
            payload,
        });
    }

    /// Everything received so far.
    pub fn received(&self) -> &[Received] {
        &self.received
    }

    /// Takes everything received so far.
    pub fn take_received(&mut self) -> Vec<Received> {
        core::mem::take(&mut self.received)
    }

    /// The source addresses a reflector reported back, in arrival order (payloads that are not
    /// socket addresses are skipped).
    pub fn reflected(&self) -> Vec<SocketAddr> {
        self.received
            .iter()
            .filter_map(|r| core::str::from_utf8(&r.payload).ok()?.parse().ok())
            .collect()
    }
}

impl Machine for Probe {
    type Event = Infallible;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        if self.reflect {
            self.outbox.push_back(Transmit {
                source: datagram.destination,
                destination: datagram.source,
                payload: datagram.source.to_string().into_bytes(),
            });
        }
        self.received.push(Received {
            at: now,
            source: datagram.source,
            destination: datagram.destination,
            payload: datagram.payload.to_vec(),
        });
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop_front()
    }

    fn poll_event(&mut self) -> Option<Infallible> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}
