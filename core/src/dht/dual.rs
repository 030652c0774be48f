//! A dual-stack node (BEP 32): one IPv4 and one IPv6 [`DhtNode`] behind one [`Machine`].
//!
//! BEP 32: a node on both families runs two DHTs, with a routing table each, and "lookups in
//! the two families are independent". What the two halves share is the node id (by default)
//! and answers: a query that asks `want: [n4, n6]` gets `nodes` from the IPv4 table and
//! `nodes6` from the IPv6 table, whichever socket it came in on.

use std::collections::{BTreeMap, VecDeque};

use core::net::SocketAddr;

use crate::dht::lookup::QueryId;
use crate::dht::node::{DhtConfig, DhtEvent, DhtNode, LookupResult};
use crate::io::{Datagram, Machine, Transmit};
use crate::time::Instant;

/// Queued events beyond which new ones are dropped (the driver is not draining).
const MAX_EVENTS: usize = 4096;

/// Index of a half: 0 is IPv4, 1 is IPv6 (the order ties are broken in).
type Family = usize;
const V4: Family = 0;
const V6: Family = 1;

/// A command running on both halves until both have answered.
struct Joint {
    /// Results so far, by family; `usize` is an announce's `stored`.
    parts: [Option<(LookupResult, Option<usize>)>; 2],
}

/// A BitTorrent DHT node on IPv4 and IPv6 at once (BEP 32), as one Sans-IO machine.
///
/// Datagrams go to the half of their source's family. Transmits, events and timeouts of
/// the two halves are merged, IPv4 first. Lookups (`find_node`, `get_peers`, `announce`) run
/// on both routing tables and end in one event with the result of both: the closest nodes
/// of each family (sorted by distance to the target together) and the peers of both.
pub struct DualStackNode {
    halves: [DhtNode; 2],
    /// Commands of ours, by id.
    joints: BTreeMap<QueryId, Joint>,
    /// The halves' query ids, mapped to ours.
    inner: BTreeMap<(Family, QueryId), QueryId>,
    /// Halves whose bootstrap has ended since the last [`bootstrap`](Self::bootstrap).
    bootstrapped: [bool; 2],
    events: VecDeque<DhtEvent>,
    next_query: u64,
}

impl DualStackNode {
    /// A node with `v4` (its `local` must be an IPv4 address) and `v6` (IPv6) halves. When
    /// `v6.id` is `None` the IPv6 half takes the IPv4 half's id, as BEP 32 suggests; set it
    /// to give the halves different ids (e.g. BEP 42 ids bound to each external IP).
    pub fn new(v4: DhtConfig, mut v6: DhtConfig, rng4: crate::Rng, rng6: crate::Rng) -> Self {
        debug_assert!(v4.local.is_ipv4() && v6.local.is_ipv6());
        let four = DhtNode::new(v4, rng4);
        v6.id = v6.id.or(Some(four.id()));
        let six = DhtNode::new(v6, rng6);
        DualStackNode {
            halves: [four, six],
            joints: BTreeMap::new(),
            inner: BTreeMap::new(),
            bootstrapped: [false; 2],
            events: VecDeque::new(),
            next_query: 1,
        }
    }

    /// The IPv4 half.
    pub fn v4(&self) -> &DhtNode {
        &self.halves[V4]
    }

    /// The IPv6 half.
    pub fn v6(&self) -> &DhtNode {
        &self.halves[V6]
    }

    /// Joins both networks: each half bootstraps from the `addrs` of its family (a half with
    /// none starts from its routing table). One [`DhtEvent::Bootstrapped`] follows, when
    /// both have ended, with the two tables' sizes summed.
    pub fn bootstrap(&mut self, now: Instant, addrs: &[SocketAddr]) {
        self.bootstrapped = [false; 2];
        for (family, half) in self.halves.iter_mut().enumerate() {
            let mine: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| a.is_ipv4() == (family == V4))
                .collect();
            half.bootstrap(now, &mine);
        }
        self.pump();
    }

    /// Looks up the k nodes of each family closest to `target`; ends with one
    /// [`DhtEvent::LookupDone`].
    pub fn find_node(&mut self, now: Instant, target: crate::dht::NodeId) -> QueryId {
        self.joint(|half| half.find_node(now, target))
    }

    /// Looks up peers for `info_hash` in both families; ends with one
    /// [`DhtEvent::LookupDone`].
    pub fn get_peers(&mut self, now: Instant, info_hash: crate::dht::NodeId) -> QueryId {
        self.joint(|half| half.get_peers(now, info_hash))
    }

    /// Announces `info_hash` on `port` (0: each socket's own port) to the closest nodes of
    /// both families; ends with one [`DhtEvent::Announced`] whose `stored` is the sum.
    pub fn announce(&mut self, now: Instant, info_hash: crate::dht::NodeId, port: u16) -> QueryId {
        self.joint(|half| half.announce(now, info_hash, port))
    }

    /// Pings `addr` from the half of its family; ends with [`DhtEvent::Pong`].
    pub fn ping(&mut self, now: Instant, addr: SocketAddr) -> QueryId {
        let query = self.new_query_id();
        let family = family_of(addr);
        let inner = self.halves[family].ping(now, addr);
        self.inner.insert((family, inner), query);
        self.pump();
        query
    }

    fn new_query_id(&mut self) -> QueryId {
        let id = QueryId(self.next_query);
        self.next_query += 1;
        id
    }

    fn joint(&mut self, mut start: impl FnMut(&mut DhtNode) -> QueryId) -> QueryId {
        let query = self.new_query_id();
        for (family, half) in self.halves.iter_mut().enumerate() {
            let inner = start(half);
            self.inner.insert((family, inner), query);
        }
        self.joints.insert(
            query,
            Joint {
                parts: [None, None],
            },
        );
        self.pump();
        query
    }

    /// Moves the halves' events to ours, IPv4 first, translating query ids.
    fn pump(&mut self) {
        for family in [V4, V6] {
            while let Some(event) = self.halves[family].poll_event() {
                self.translate(family, event);
            }
        }
    }

    fn translate(&mut self, family: Family, event: DhtEvent) {
        match event {
            DhtEvent::Bootstrapped { .. } => {
                self.bootstrapped[family] = true;
                if self.bootstrapped == [true; 2] {
                    self.bootstrapped = [false; 2];
                    let nodes = self.halves.iter().map(|h| h.routing_table().len()).sum();
                    self.push(DhtEvent::Bootstrapped { nodes });
                }
            }
            DhtEvent::Progress {
                query,
                responded,
                in_flight,
                closest,
            } => {
                if let Some(&query) = self.inner.get(&(family, query)) {
                    self.push(DhtEvent::Progress {
                        query,
                        responded,
                        in_flight,
                        closest,
                    });
                }
            }
            DhtEvent::LookupDone(result) => self.part_done(family, result, None),
            DhtEvent::Announced { result, stored } => self.part_done(family, result, Some(stored)),
            DhtEvent::Pong { query, addr, id } => {
                if let Some(query) = self.inner.remove(&(family, query)) {
                    self.push(DhtEvent::Pong { query, addr, id });
                }
            }
            event @ DhtEvent::ExternalIp { .. } => self.push(event),
            // Items are not offered on the dual node; its halves never start item lookups.
            DhtEvent::ItemFound { .. } | DhtEvent::ItemStored { .. } => {}
        }
    }

    fn part_done(&mut self, family: Family, result: LookupResult, stored: Option<usize>) {
        let Some(query) = self.inner.remove(&(family, result.query)) else {
            return;
        };
        let Some(joint) = self.joints.get_mut(&query) else {
            return;
        };
        joint.parts[family] = Some((result, stored));
        if joint.parts.iter().any(Option::is_none) {
            return;
        }
        let Some(Joint {
            parts: [Some((four, stored4)), Some((six, stored6))],
        }) = self.joints.remove(&query)
        else {
            return;
        };
        let result = merge(query, four, six);
        let event = match (stored4, stored6) {
            (None, None) => DhtEvent::LookupDone(result),
            (a, b) => DhtEvent::Announced {
                result,
                stored: a.unwrap_or(0) + b.unwrap_or(0),
            },
        };
        self.push(event);
    }

    fn push(&mut self, event: DhtEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push_back(event);
        }
    }
}

fn family_of(addr: SocketAddr) -> Family {
    if addr.is_ipv4() { V4 } else { V6 }
}

/// One result from the two families' (BEP 32: independent) lookups of the same target.
fn merge(query: QueryId, four: LookupResult, six: LookupResult) -> LookupResult {
    let target = four.target;
    let mut closest = four.closest;
    closest.extend(six.closest);
    // Stable: on equal distance (the same id on both families) the IPv4 node comes first.
    closest.sort_by(|a, b| target.cmp_distance(&a.id, &b.id));
    let mut peers = four.peers;
    for peer in six.peers {
        if !peers.contains(&peer) {
            peers.push(peer);
        }
    }
    let first_peers_after = match (four.first_peers_after, six.first_peers_after) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    LookupResult {
        query,
        target,
        closest,
        peers,
        hops: four.hops.max(six.hops),
        messages: four.messages + six.messages,
        elapsed: four.elapsed.max(six.elapsed),
        // Both families' nearest nodes are known only once both have answered.
        nearest_after: four.nearest_after.max(six.nearest_after),
        first_peers_after,
    }
}

impl Machine for DualStackNode {
    type Event = DhtEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        let family = family_of(datagram.source);
        let [four, six] = &mut self.halves;
        let (half, sibling) = if family == V4 {
            (four, &*six)
        } else {
            (six, &*four)
        };
        half.handle_datagram_with(now, datagram, Some(sibling.routing_table()));
        self.pump();
    }

    fn handle_timeout(&mut self, now: Instant) {
        for half in &mut self.halves {
            if half.poll_timeout().is_some_and(|t| t <= now) {
                half.handle_timeout(now);
            }
        }
        self.pump();
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        let [four, six] = &mut self.halves;
        four.poll_transmit().or_else(|| six.poll_transmit())
    }

    fn poll_event(&mut self) -> Option<DhtEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let [four, six] = &self.halves;
        match (four.poll_timeout(), six.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
#[path = "dual_tests.rs"]
mod tests;
