//! The event loop's inner workings: delivering, timing out, sending, and routing through NATs.
//!
//! A datagram's path has two phases. Going *up* (at send time): after the sender's link, each
//! network on the way checks whether it owns the destination IP; if not, the network's NAT
//! translates the source (RFC 4787 §4) and passes it to its parent. Where the destination is
//! owned is the turning point. Coming *down* (at arrival time): each NAT that owns the
//! destination filters (RFC 4787 §5) and translates it to the internal endpoint, until a host
//! is reached. Hairpinning (RFC 4787 §6) turns around inside the NAT itself.

use core::net::SocketAddr;

use pigeon::{Datagram, Instant, Transmit};

use super::{Event, Flight, NEVER, NodeId, Owner, Sim};
use crate::link::Carried;
use crate::node::Hosted;
use crate::trace::DropReason;

impl Sim {
    pub(super) fn dispatch(&mut self, event: Event) {
        match event {
            Event::Timer(i) => self.fire_timer(i),
            Event::Deliver(flight) => self.deliver(flight),
        }
    }

    fn fire_timer(&mut self, i: u32) {
        let now = self.now;
        let slot = &mut self.nodes[i as usize];
        if slot.armed != now {
            // Superseded by an earlier entry for the same node.
            return;
        }
        slot.armed = NEVER;
        let Some(mut host) = slot.host.take() else {
            return;
        };
        if host.poll_timeout().is_some_and(|d| d.as_nanos() <= now) {
            host.handle_timeout(Instant::from_nanos(now));
            self.stats.timers += 1;
        }
        self.after_call(i, host);
    }

    fn deliver(&mut self, flight: Flight) {
        let Flight {
            owner,
            partition,
            source,
            destination,
            payload,
        } = flight;

        let routed = self.route_down(owner, source, destination, &payload);
        let (node, destination) = match routed {
            Ok(v) => v,
            Err(reason) => {
                self.drop_datagram(reason, source, destination, payload.len());
                return;
            }
        };
        let slot = &mut self.nodes[node as usize];
        if !slot.up {
            self.drop_datagram(DropReason::LinkDown, source, destination, payload.len());
            return;
        }
        if slot.partition != partition {
            self.drop_datagram(DropReason::Partition, source, destination, payload.len());
            return;
        }
        let now = Instant::from_nanos(self.now);
        self.stats.delivered += 1;
        self.trace
            .deliver(now, NodeId(node), source, destination, &payload);
        let Some(mut host) = self.nodes[node as usize].host.take() else {
            return;
        };
        host.handle_datagram(
            now,
            Datagram {
                source,
                destination,
                payload: &payload,
            },
        );
        self.after_call(node, host);
    }

    /// Drains a machine after a call into it, then puts it back in its slot.
    pub(super) fn after_call(&mut self, i: u32, mut host: Box<dyn Hosted>) {
        while let Some(transmit) = host.poll_transmit() {
            self.send(i, transmit);
        }
        let now = Instant::from_nanos(self.now);
        self.stats.events += host.drain_events(now, NodeId(i), &mut self.trace);
        let next = host.poll_timeout();
        let slot = &mut self.nodes[i as usize];
        slot.host = Some(host);
        if let Some(deadline) = next {
            // A deadline in the past means "now"; it still runs after what is already queued.
            let at = deadline.as_nanos().max(self.now);
            if at < slot.armed {
                slot.armed = at;
                self.queue.push(at, Event::Timer(i));
            }
        }
    }

    fn send(&mut self, i: u32, transmit: Transmit) {
        self.stats.sent += 1;
        let Transmit {
            source,
            destination,
            payload,
        } = transmit;
        if source.is_ipv4() != destination.is_ipv4() {
            self.drop_datagram(
                DropReason::FamilyMismatch,
                source,
                destination,
                payload.len(),
            );
            return;
        }
        let slot = &mut self.nodes[i as usize];
        if !slot.bound(&source) {
            self.drop_datagram(
                DropReason::UnboundSource,
                source,
                destination,
                payload.len(),
            );
            return;
        }
        if !slot.up {
            self.drop_datagram(DropReason::LinkDown, source, destination, payload.len());
            return;
        }
        let network = slot.network;
        let partition = slot.partition;
        let carried =
            match slot
                .link
                .carry(self.now, payload.len(), source.is_ipv6(), &mut self.rng)
            {
                Ok(c) => c,
                Err(reason) => {
                    self.drop_datagram(reason, source, destination, payload.len());
                    return;
                }
            };
        self.capture(source, destination, &payload);
        let (owner, source, destination) =
            match self.route_up(network, source, destination, &payload) {
                Ok(v) => v,
                Err(reason) => {
                    self.drop_datagram(reason, source, destination, payload.len());
                    return;
                }
            };
        // The per-pair share is known only now: it keys on the addresses at the turning point.
        let extra = self.pair.map_or(0, |p| {
            p.one_way_nanos(self.seed, source.ip(), destination.ip())
        });
        let carried = Carried {
            arrival: carried.arrival.saturating_add(extra),
            duplicate: carried.duplicate.map(|d| d.saturating_add(extra)),
        };
        if let Some(at) = carried.duplicate {
            self.stats.duplicated += 1;
            let copy = payload.clone();
            self.schedule(at, owner, partition, source, destination, copy);
        }
        self.schedule(
            carried.arrival,
            owner,
            partition,
            source,
            destination,
            payload,
        );
    }

    #[inline]
    fn schedule(
        &mut self,
        at: u64,
        owner: Owner,
        partition: u16,
        source: SocketAddr,
        destination: SocketAddr,
        payload: Vec<u8>,
    ) {
        let flight = Flight {
            owner,
            partition,
            source,
            destination,
            payload,
        };
        self.queue.push(at, Event::Deliver(flight));
    }

    /// The up phase: from the sender's network to the turning point.
    fn route_up(
        &mut self,
        mut network: u32,
        mut source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) -> Result<(Owner, SocketAddr, SocketAddr), DropReason> {
        loop {
            if let Some(owner) = self.owners.owner(network, destination.ip()) {
                return Ok((owner, source, destination));
            }
            let nat = self.networks[network as usize]
                .nat
                .ok_or(DropReason::NoRoute)?;
            let hairpin = self.nats[nat as usize].table.owns(destination.ip());
            if hairpin && !self.nats[nat as usize].table.config.hairpinning {
                return Err(DropReason::HairpinOff);
            }
            let slot = &mut self.nats[nat as usize];
            let out = slot
                .table
                .outbound(self.now, source, destination, &mut self.rng)?;
            if out.created {
                self.trace.mapping(
                    Instant::from_nanos(self.now),
                    nat,
                    source,
                    out.external,
                    destination,
                );
            }
            source = out.external;
            if hairpin {
                // RFC 4787 §6, REQ-9: loop back to the owner of the mapping with the sender's
                // external mapping as the source. NAT.md: the looped-back datagram never crossed
                // the outside, so the owner's filter is not consulted.
                let slot = &mut self.nats[nat as usize];
                let internal = slot.table.inbound(self.now, destination, source, false)?;
                let realm = slot.realm;
                self.capture(source, internal, payload);
                let owner = self
                    .owners
                    .owner(realm, internal.ip())
                    .ok_or(DropReason::NoRoute)?;
                return Ok((owner, source, internal));
            }
            network = slot.parent;
            self.capture(source, destination, payload);
        }
    }

    /// The down phase: from the turning point through NATs to the receiving host.
    fn route_down(
        &mut self,
        mut owner: Owner,
        source: SocketAddr,
        mut destination: SocketAddr,
        payload: &[u8],
    ) -> Result<(u32, SocketAddr), DropReason> {
        loop {
            match owner {
                Owner::Node(n) => {
                    return if self.nodes[n as usize].bound(&destination) {
                        Ok((n, destination))
                    } else {
                        Err(DropReason::PortUnreachable)
                    };
                }
                Owner::Nat(k) => {
                    let slot = &mut self.nats[k as usize];
                    destination = slot.table.inbound(self.now, destination, source, true)?;
                    let realm = slot.realm;
                    self.capture(source, destination, payload);
                    owner = self
                        .owners
                        .owner(realm, destination.ip())
                        .ok_or(DropReason::NoRoute)?;
                }
            }
        }
    }

    #[inline]
    fn capture(&mut self, source: SocketAddr, destination: SocketAddr, payload: &[u8]) {
        if let Some(pcap) = &mut self.pcap {
            if pcap
                .write_udp(Instant::from_nanos(self.now), source, destination, payload)
                .is_err()
            {
                // A failing capture writer loses the capture, not the run.
                self.pcap = None;
            }
        }
    }

    fn drop_datagram(
        &mut self,
        reason: DropReason,
        source: SocketAddr,
        destination: SocketAddr,
        len: usize,
    ) {
        self.stats.dropped[reason.index()] += 1;
        self.trace.drop(
            Instant::from_nanos(self.now),
            reason,
            source,
            destination,
            len,
        );
    }
}
