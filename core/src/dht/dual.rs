//! A dual-stack node (BEP 32): one IPv4 and one IPv6 [`DhtNode`] behind one [`Machine`].
//!
//! BEP 32: a node on both families runs two DHTs, with a routing table each, and "lookups in
//! the two families are independent". What the two halves share is the node id (by default)
//! and answers: a query that asks `want: [n4, n6]` gets `nodes` from the IPv4 table and
//! `nodes6` from the IPv6 table, whichever socket it came in on. BEP 44 items and saving /
//! restoring the tables are in `dual_items.rs`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use core::net::SocketAddr;

use crate::dht::item::Item;
use crate::dht::lookup::QueryId;
use crate::dht::node::{DhtConfig, DhtEvent, DhtNode, LookupResult};
use crate::io::{Datagram, Machine, Transmit};
use crate::time::Instant;

/// Queued events beyond which new ones are dropped (the driver is not draining).
const MAX_EVENTS: usize = 4096;

/// Index of a half: 0 is IPv4, 1 is IPv6 (the order ties are broken in).
pub(crate) type Family = usize;
pub(crate) const V4: Family = 0;
pub(crate) const V6: Family = 1;

/// How one half's part of a command ended, besides its lookup result.
pub(crate) enum Outcome {
    /// `find_node` / `get_peers`.
    Lookup,
    /// `announce`: acknowledgements.
    Announced(usize),
    /// BEP 44 `get`: the item found, if any.
    Item(Option<Item>),
    /// BEP 44 `put`: acknowledgements.
    Stored(usize),
}

/// A command running on both halves until both have answered.
pub(crate) struct Joint {
    /// Results so far, by family.
    parts: [Option<(LookupResult, Outcome)>; 2],
}

/// A BitTorrent DHT node on IPv4 and IPv6 at once (BEP 32), as one Sans-IO machine.
///
/// Datagrams go to the half of their source's family. Transmits, events and timeouts of
/// the two halves are merged, IPv4 first. Lookups (`find_node`, `get_peers`, `announce`) run
/// on both routing tables and end in one event with the result of both: the closest nodes
/// of each family (sorted by distance to the target together) and the peers of both.
pub struct DualStackNode {
    pub(crate) halves: [DhtNode; 2],
    /// Commands of ours, by id.
    pub(crate) joints: BTreeMap<QueryId, Joint>,
    /// The halves' query ids, mapped to ours.
    pub(crate) inner: BTreeMap<(Family, QueryId), QueryId>,
    /// Halves' parts of commands the other half refused: their results are dropped. Each
    /// entry leaves when its lookup ends (every lookup does).
    pub(crate) abandoned: BTreeSet<(Family, QueryId)>,
    /// Halves whose bootstrap has ended since the last [`bootstrap`](Self::bootstrap).
    pub(crate) bootstrapped: [bool; 2],
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
            abandoned: BTreeSet::new(),
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

    pub(crate) fn new_query_id(&mut self) -> QueryId {
        let id = QueryId(self.next_query);
        self.next_query += 1;
        id
    }

    pub(crate) fn joint(&mut self, mut start: impl FnMut(&mut DhtNode) -> QueryId) -> QueryId {
        match self.try_joint::<core::convert::Infallible>(|half| Ok(start(half))) {
            Ok(query) => query,
            Err(never) => match never {},
        }
    }

    /// Starts a command on both halves, IPv4 first. When a half refuses it, the other's part
    /// is forgotten (its events are dropped) and the error returned.
    pub(crate) fn try_joint<E>(
        &mut self,
        mut start: impl FnMut(&mut DhtNode) -> Result<QueryId, E>,
    ) -> Result<QueryId, E> {
        let query = self.new_query_id();
        for family in [V4, V6] {
            match start(&mut self.halves[family]) {
                Ok(inner) => {
                    self.inner.insert((family, inner), query);
                }
                Err(e) => {
                    let parts: Vec<(Family, QueryId)> = self
                        .inner
                        .iter()
                        .filter(|(_, ours)| **ours == query)
                        .map(|(part, _)| *part)
                        .collect();
                    for part in parts {
                        self.inner.remove(&part);
                        self.abandoned.insert(part);
                    }
                    self.pump();
                    return Err(e);
                }
            }
        }
        self.joints.insert(
            query,
            Joint {
                parts: [None, None],
            },
        );
        self.pump();
        Ok(query)
    }

    /// Moves the halves' events to ours, IPv4 first, translating query ids.
    pub(crate) fn pump(&mut self) {
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
            DhtEvent::LookupDone(result) => self.part_done(family, result, Outcome::Lookup),
            DhtEvent::Announced { result, stored } => {
                self.part_done(family, result, Outcome::Announced(stored));
            }
            DhtEvent::ItemFound { result, item } => {
                self.part_done(family, result, Outcome::Item(item));
            }
            DhtEvent::ItemStored { result, stored } => {
                self.part_done(family, result, Outcome::Stored(stored));
            }
            DhtEvent::Pong { query, addr, id } => {
                if let Some(query) = self.inner.remove(&(family, query)) {
                    self.push(DhtEvent::Pong { query, addr, id });
                }
            }
            event @ DhtEvent::ExternalIp { .. } => self.push(event),
        }
    }

    fn part_done(&mut self, family: Family, mut result: LookupResult, outcome: Outcome) {
        if self.abandoned.remove(&(family, result.query)) {
            return;
        }
        let Some(query) = self.inner.remove(&(family, result.query)) else {
            // A half's own repeat of a kept item or announce (`keep_item`): reported as it
            // is, one event per family, under a query id of ours.
            result.query = self.new_query_id();
            match outcome {
                Outcome::Stored(stored) => self.push(DhtEvent::ItemStored { result, stored }),
                Outcome::Announced(stored) => self.push(DhtEvent::Announced { result, stored }),
                Outcome::Lookup | Outcome::Item(_) => {}
            }
            return;
        };
        let Some(joint) = self.joints.get_mut(&query) else {
            return;
        };
        joint.parts[family] = Some((result, outcome));
        if joint.parts.iter().any(Option::is_none) {
            return;
        }
        let Some(Joint {
            parts: [Some((four, outcome4)), Some((six, outcome6))],
        }) = self.joints.remove(&query)
        else {
            return;
        };
        let result = merge(query, four, six);
        // Both halves ran the same command, so their outcomes are of one kind.
        let event = match (outcome4, outcome6) {
            (Outcome::Announced(a), Outcome::Announced(b)) => DhtEvent::Announced {
                result,
                stored: a + b,
            },
            (Outcome::Item(a), Outcome::Item(b)) => DhtEvent::ItemFound {
                result,
                item: newer_item(a, b),
            },
            (Outcome::Stored(a), Outcome::Stored(b)) => DhtEvent::ItemStored {
                result,
                stored: a + b,
            },
            _ => DhtEvent::LookupDone(result),
        };
        self.push(event);
    }

    fn push(&mut self, event: DhtEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push_back(event);
        }
    }
}

/// Of the items the two families found, the one a BEP 44 reader keeps: a mutable item with
/// the higher `seq` (IPv4's on a tie), otherwise whichever was found.
fn newer_item(four: Option<Item>, six: Option<Item>) -> Option<Item> {
    match (four, six) {
        (Some(Item::Mutable(a)), Some(Item::Mutable(b))) if b.seq > a.seq => Some(Item::Mutable(b)),
        (a, b) => a.or(b),
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
