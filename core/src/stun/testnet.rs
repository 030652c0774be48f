//! A tiny in-memory network for machine tests: it moves [`Transmit`]s between machines on
//! virtual time, with a fixed one-way latency, an optional middlebox (a NAT) and an optional
//! loss of the first N datagrams.

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::BTreeMap;

use crate::{Datagram, Instant, Machine, Transmit};

/// A machine plugged into the [`Net`] on some addresses, with the events it reported.
pub(crate) struct Host<M: Machine> {
    pub(crate) machine: M,
    pub(crate) addrs: Vec<SocketAddr>,
    pub(crate) events: Vec<(Instant, M::Event)>,
}

impl<M: Machine> Host<M> {
    pub(crate) fn new(machine: M, addrs: Vec<SocketAddr>) -> Self {
        Self {
            machine,
            addrs,
            events: Vec::new(),
        }
    }
}

/// What the [`Net`] needs of a host, whatever its event type.
pub(crate) trait Node {
    fn owns(&self, addr: SocketAddr) -> bool;
    fn datagram(&mut self, now: Instant, datagram: Datagram<'_>);
    fn timeout(&mut self, now: Instant);
    fn deadline(&self) -> Option<Instant>;
    /// Moves events into the host's log and returns the next transmit, if any.
    fn drain(&mut self, now: Instant) -> Option<Transmit>;
}

impl<M: Machine> Node for Host<M> {
    fn owns(&self, addr: SocketAddr) -> bool {
        self.addrs.contains(&addr)
    }

    fn datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        self.machine.handle_datagram(now, datagram);
    }

    fn timeout(&mut self, now: Instant) {
        self.machine.handle_timeout(now);
    }

    fn deadline(&self) -> Option<Instant> {
        self.machine.poll_timeout()
    }

    fn drain(&mut self, now: Instant) -> Option<Transmit> {
        while let Some(event) = self.machine.poll_event() {
            self.events.push((now, event));
        }
        self.machine.poll_transmit()
    }
}

/// Rewrites (or drops) a datagram as it leaves its sender: a NAT sits here.
pub(crate) type Middlebox = Box<dyn FnMut(Instant, Transmit) -> Option<Transmit>>;

/// The network: a queue of datagrams in flight ordered by arrival time.
pub(crate) struct Net {
    pub(crate) now: Instant,
    latency: Duration,
    queue: BTreeMap<(Instant, u64), Transmit>,
    seq: u64,
    /// Datagrams still to be lost, counted from the next one sent.
    pub(crate) drop_first: usize,
    /// Every datagram as sent (before the middlebox), with its time.
    pub(crate) sent: Vec<(Instant, Transmit)>,
    /// Datagrams delivered to nobody (no host owns the destination, or dropped on purpose).
    pub(crate) lost: usize,
    middlebox: Option<Middlebox>,
}

impl Net {
    pub(crate) fn new(latency: Duration) -> Self {
        Self {
            now: Instant::ZERO,
            latency,
            queue: BTreeMap::new(),
            seq: 0,
            drop_first: 0,
            sent: Vec::new(),
            lost: 0,
            middlebox: None,
        }
    }

    pub(crate) fn with_middlebox(mut self, middlebox: Middlebox) -> Self {
        self.middlebox = Some(middlebox);
        self
    }

    fn send(&mut self, transmit: Transmit) {
        self.sent.push((self.now, transmit.clone()));
        if self.drop_first > 0 {
            self.drop_first -= 1;
            self.lost += 1;
            return;
        }
        let transmit = match &mut self.middlebox {
            Some(middlebox) => match middlebox(self.now, transmit) {
                Some(t) => t,
                None => {
                    self.lost += 1;
                    return;
                }
            },
            None => transmit,
        };
        self.seq += 1;
        self.queue
            .insert((self.now + self.latency, self.seq), transmit);
    }

    /// Collects every host's output until all are quiet.
    fn flush(&mut self, hosts: &mut [&mut dyn Node]) {
        for host in hosts.iter_mut() {
            while let Some(transmit) = host.drain(self.now) {
                self.send(transmit);
            }
        }
    }

    /// Runs until nothing is left to do or the next thing would happen after `until`.
    pub(crate) fn run(&mut self, hosts: &mut [&mut dyn Node], until: Instant) {
        for _ in 0..1_000_000 {
            self.flush(hosts);
            let arrival = self.queue.keys().next().map(|(at, _)| *at);
            let deadline = hosts.iter().filter_map(|h| h.deadline()).min();
            let next = match (arrival, deadline) {
                (Some(a), Some(d)) => a.min(d),
                (a, d) => match a.or(d) {
                    Some(next) => next,
                    None => return,
                },
            };
            if next > until {
                return;
            }
            self.now = self.now.max(next);
            while let Some(entry) = self.queue.first_entry() {
                if entry.key().0 > self.now {
                    break;
                }
                let transmit = entry.remove();
                match hosts.iter_mut().find(|h| h.owns(transmit.destination)) {
                    Some(host) => host.datagram(self.now, transmit.as_datagram()),
                    None => self.lost += 1,
                }
                self.flush(hosts);
            }
            for host in hosts.iter_mut() {
                if host.deadline().is_some_and(|d| d <= self.now) {
                    host.timeout(self.now);
                }
            }
        }
        panic!("test network did not settle");
    }
}
