//! Machines wired together in memory on virtual time, for the DHT's unit tests: every datagram
//! takes the same latency; arrivals and timers run in time order, arrivals first on a tie.

use std::collections::{BTreeMap, BinaryHeap};

use core::cmp::Reverse;
use core::net::SocketAddr;
use core::time::Duration;

use crate::io::{Datagram, Machine, Transmit};
use crate::time::Instant;

/// A datagram on its way: (arrival, sequence, receiver, source, destination, payload).
type InFlight = (Instant, u64, usize, SocketAddr, SocketAddr, Vec<u8>);

pub(crate) struct MemNet<M: Machine> {
    pub(crate) nodes: Vec<M>,
    pub(crate) events: Vec<Vec<M::Event>>,
    pub(crate) now: Instant,
    /// Every datagram sent, in order, when logging is on: what determinism checks compare.
    pub(crate) log: Option<Vec<Transmit>>,
    by_addr: BTreeMap<SocketAddr, usize>,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    latency: Duration,
}

impl<M: Machine> MemNet<M> {
    pub(crate) fn new(latency: Duration) -> Self {
        MemNet {
            nodes: Vec::new(),
            events: Vec::new(),
            now: Instant::ZERO,
            log: None,
            by_addr: BTreeMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            latency,
        }
    }

    /// Adds a machine reachable at `addrs`; returns its index.
    pub(crate) fn add(&mut self, machine: M, addrs: &[SocketAddr]) -> usize {
        let i = self.nodes.len();
        for addr in addrs {
            self.by_addr.insert(*addr, i);
        }
        self.nodes.push(machine);
        self.events.push(Vec::new());
        i
    }

    /// Moves node `i`'s transmits onto the wire and its events into `events[i]`.
    pub(crate) fn drain(&mut self, i: usize) {
        while let Some(t) = self.nodes[i].poll_transmit() {
            self.seq += 1;
            if let Some(&to) = self.by_addr.get(&t.destination) {
                let at = self.now + self.latency;
                let item = (at, self.seq, to, t.source, t.destination, t.payload.clone());
                self.queue.push(Reverse(item));
            }
            if let Some(log) = &mut self.log {
                log.push(t);
            }
        }
        while let Some(e) = self.nodes[i].poll_event() {
            self.events[i].push(e);
        }
    }

    /// Runs `f` on node `i` now, then drains it.
    pub(crate) fn command<R>(&mut self, i: usize, f: impl FnOnce(&mut M, Instant) -> R) -> R {
        let r = f(&mut self.nodes[i], self.now);
        self.drain(i);
        r
    }

    pub(crate) fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            let timer = (0..self.nodes.len())
                .filter_map(|i| self.nodes[i].poll_timeout().map(|t| (t, i)))
                .min();
            let arrival = self.queue.peek().map(|Reverse(d)| d.0);
            match (timer, arrival) {
                (_, Some(at)) if at <= end && timer.is_none_or(|(t, _)| at <= t) => {
                    let Some(Reverse((at, _, to, source, destination, payload))) = self.queue.pop()
                    else {
                        break;
                    };
                    self.now = self.now.max(at);
                    let datagram = Datagram {
                        source,
                        destination,
                        payload: &payload,
                    };
                    self.nodes[to].handle_datagram(self.now, datagram);
                    self.drain(to);
                }
                (Some((t, i)), _) if t <= end => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    self.nodes[i].handle_timeout(now);
                    self.drain(i);
                }
                _ => break,
            }
        }
        self.now = end;
    }
}
