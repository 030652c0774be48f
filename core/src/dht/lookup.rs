//! One iterative lookup (BEP 5 / Kademlia): the candidate set ordered by distance to the
//! target, which nodes to ask next, and when it is finished.

use core::net::SocketAddr;

use crate::dht::id::{NodeId, bep42_verify};
use crate::dht::krpc::{Method, NodeInfo};
use crate::dht::node::{DhtNode, Purpose};
use crate::time::Instant;
use core::cmp::Reverse;
use core::time::Duration;

/// Candidates whose distance to the target is this many bits longer than the closest fresh
/// one's still count as making the same progress when picking the fastest.
const RTT_SLACK_BITS: usize = 1;

/// Identifies a command's work (a lookup, an announce, a ping) in the events it produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryId(pub u64);

/// Where a candidate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Fresh,
    InFlight,
    /// Asked, silent past its soft timeout: the request stays open (a late answer still
    /// counts) but no longer holds one of the alpha slots.
    Stalled,
    Responded,
    Failed,
}

#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub(crate) info: NodeInfo,
    pub(crate) status: Status,
    /// 1 for nodes from our own table, n + 1 for nodes a hop-n node told us about.
    pub(crate) hop: u32,
    /// The `get_peers` token it gave us, for a later announce.
    pub(crate) token: Option<Vec<u8>>,
    /// Queries sent to it so far.
    pub(crate) attempts: u8,
    /// Of those, still open.
    pub(crate) outstanding: u8,
    /// When it answered.
    pub(crate) answered: Option<Instant>,
}

/// What a lookup is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupKind {
    /// `find_node`: the closest nodes to the target.
    FindNode,
    /// `get_peers`: peers for an info-hash, and the closest nodes.
    GetPeers,
    /// `get_peers`, then `announce_peer` with `port` to the closest nodes that gave tokens.
    Announce {
        /// Port announced (0 with implied_port).
        port: u16,
    },
}

/// Who started a lookup: the application (events) or the node itself (bootstrap, refresh).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    User,
    Bootstrap,
    Refresh,
}

pub(crate) struct Lookup {
    pub(crate) id: QueryId,
    pub(crate) target: NodeId,
    pub(crate) kind: LookupKind,
    pub(crate) origin: Origin,
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) peers: Vec<SocketAddr>,
    pub(crate) started: Instant,
    /// Queries sent for this lookup.
    pub(crate) messages: u32,
    /// Bootstrap requests to addresses of unknown id still outstanding.
    pub(crate) seeds_pending: usize,
    /// Closest responded distance so far, for progress events.
    pub(crate) best: Option<NodeId>,
    /// Announce phase: (announce_peer queries outstanding, stored acknowledgements).
    pub(crate) announcing: Option<(usize, usize)>,
    /// Answers in a row that brought no node closer than the closest already known; at
    /// alpha of them the lookup widens to the whole k closest (Kademlia §2.3).
    pub(crate) fruitless: usize,
    /// When the first answer carrying peers (`values`) arrived: what a get_peers user waits for.
    pub(crate) first_peers: Option<Instant>,
    /// Started with an empty routing table while the node was still bootstrapping: it starts
    /// from the nodes the bootstrap learns instead of ending at once with nothing.
    pub(crate) awaiting_bootstrap: bool,
}

impl Lookup {
    pub(crate) fn new(
        id: QueryId,
        target: NodeId,
        kind: LookupKind,
        origin: Origin,
        now: Instant,
    ) -> Lookup {
        Lookup {
            id,
            target,
            kind,
            origin,
            candidates: Vec::new(),
            peers: Vec::new(),
            started: now,
            messages: 0,
            seeds_pending: 0,
            best: None,
            announcing: None,
            fruitless: 0,
            first_peers: None,
            awaiting_bootstrap: false,
        }
    }

    /// Merges nodes learned at `hop`, keeping at most `max` candidates (the farthest fresh ones
    /// are dropped first, so nothing already asked is forgotten).
    pub(crate) fn add(&mut self, own: &NodeId, nodes: &[NodeInfo], hop: u32, max: usize) {
        for node in nodes {
            if node.id == *own || self.candidates.iter().any(|c| c.info.id == node.id) {
                continue;
            }
            let target = self.target;
            let at = self
                .candidates
                .partition_point(|c| target.cmp_distance(&c.info.id, &node.id).is_lt());
            if at >= max {
                continue;
            }
            self.candidates.insert(
                at,
                Candidate {
                    info: *node,
                    status: Status::Fresh,
                    hop,
                    token: None,
                    attempts: 0,
                    outstanding: 0,
                    answered: None,
                },
            );
        }
        while self.candidates.len() > max {
            match self
                .candidates
                .iter()
                .rposition(|c| c.status == Status::Fresh)
            {
                Some(i) => {
                    self.candidates.remove(i);
                }
                None => break,
            }
        }
    }

    /// [`add`](Self::add) for the nodes an answer brought, counting answers that brought
    /// nothing closer than the closest candidate already known.
    pub(crate) fn absorb(&mut self, own: &NodeId, nodes: &[NodeInfo], hop: u32, max: usize) {
        let before = self.front();
        self.add(own, nodes, hop, max);
        if self.front() == before {
            self.fruitless += 1;
        } else {
            self.fruitless = 0;
        }
    }

    /// Adds the peers an answer carried (deduplicated, at most `max` in all) and notes when
    /// the first ones came.
    pub(crate) fn add_peers(&mut self, now: Instant, values: &[SocketAddr], max: usize) {
        if !values.is_empty() && self.first_peers.is_none() {
            self.first_peers = Some(now);
        }
        for peer in values {
            if self.peers.len() < max && !self.peers.contains(peer) {
                self.peers.push(*peer);
            }
        }
    }

    /// The query each step of this lookup sends.
    pub(crate) fn method(&self) -> Method<'static> {
        match self.kind {
            LookupKind::FindNode => Method::FindNode {
                target: self.target,
            },
            LookupKind::GetPeers | LookupKind::Announce { .. } => Method::GetPeers {
                info_hash: self.target,
            },
        }
    }

    /// Where `id` ranks among the candidates that have not failed (0 = closest).
    fn rank(&self, id: &NodeId) -> Option<usize> {
        self.candidates
            .iter()
            .filter(|c| c.status != Status::Failed)
            .position(|c| c.info.id == *id)
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.candidates
            .iter()
            .filter(|c| c.status == Status::InFlight)
            .count()
    }

    pub(crate) fn responded(&self) -> usize {
        self.candidates
            .iter()
            .filter(|c| c.status == Status::Responded)
            .count()
    }

    /// The closest candidate that has not failed, to tell whether an answer got us closer.
    pub(crate) fn front(&self) -> Option<NodeId> {
        self.candidates
            .iter()
            .find(|c| c.status != Status::Failed)
            .map(|c| c.info.id)
    }

    /// Indexes of fresh candidates to ask now so that at most `alpha` requests are in flight
    /// to the `k` closest candidates that have not failed (the only ones worth asking).
    /// Kademlia §2.3 sends "alpha RPCs to the k closest nodes it has not yet queried": a
    /// request to a node that closer answers have pushed out of the k closest no longer
    /// holds a slot (it stays open and its answer still counts), so an answer that brings
    /// closer nodes is followed by alpha requests to them at once instead of one, and the
    /// next step waits for the fastest of alpha round trips rather than for whichever of the
    /// old requests happens to come back. Stalled requests do not hold a slot either. Once a
    /// round of alpha answers brought nothing closer, every one of the k closest not yet
    /// asked is asked at once.
    ///
    /// Among candidates that make the same progress (their XOR distance to the target has the
    /// same bit length, so they sit in the same bucket around it) the one with the lowest
    /// expected round trip `rtt(id)` goes first: which of them is asked first hardly changes
    /// what comes back, but it changes when. Candidates of a closer bucket still go before any
    /// of a farther one, so the nearest known node is never held back for a faster one.
    pub(crate) fn next(
        &self,
        alpha: usize,
        k: usize,
        rtt: impl Fn(&NodeId) -> Option<Duration>,
    ) -> Vec<usize> {
        let width = if self.fruitless >= alpha { k } else { alpha };
        let target = self.target;
        let window: Vec<(usize, &Candidate)> = self
            .candidates
            .iter()
            .enumerate()
            // A stalled node keeps its place in the result but not in the window: the next
            // candidate is asked alongside it, so if it has left the network its replacement
            // has already answered when it is given up.
            .filter(|(_, c)| !matches!(c.status, Status::Failed | Status::Stalled))
            .take(k)
            .collect();
        let busy = window
            .iter()
            .filter(|(_, c)| c.status == Status::InFlight)
            .count();
        let slots = width.saturating_sub(busy + self.seeds_pending);
        if slots == 0 {
            return Vec::new();
        }
        let window: Vec<(usize, &Candidate)> = window
            .into_iter()
            .filter(|(_, c)| c.status == Status::Fresh)
            .collect();
        let bucket = |c: &Candidate| target.distance(&c.info.id).leading_zeros();
        let best = window.iter().map(|(_, c)| bucket(c)).max().unwrap_or(0);
        // (progress class, expected rtt, index): a class is a bucket around the target, the
        // closest one widened by `RTT_SLACK_BITS`; unknown round trips sort after known ones
        // within a class, the distance order breaking ties.
        let mut fresh: Vec<(Reverse<usize>, Duration, usize)> = window
            .into_iter()
            .map(|(i, c)| {
                let class = bucket(c).saturating_add(RTT_SLACK_BITS).min(best);
                (Reverse(class), rtt(&c.info.id).unwrap_or(Duration::MAX), i)
            })
            .collect();
        fresh.sort_unstable();
        fresh.into_iter().take(slots).map(|(_, _, i)| i).collect()
    }

    /// Kademlia's end: the `k` closest candidates that have not failed have all answered (or
    /// there is nothing left to ask and nothing outstanding).
    pub(crate) fn finished(&self, k: usize) -> bool {
        if self.seeds_pending > 0 || self.awaiting_bootstrap {
            return false;
        }
        // A node nearer than every answer given up on at its soft timeout may still answer
        // its open request (its first query lost, the repeat on a slow path): the nearest
        // node is the result, so the lookup waits for that request's hard timeout.
        let nearer_open = self
            .candidates
            .iter()
            .take_while(|c| c.status != Status::Responded)
            .any(|c| c.outstanding > 0);
        !nearer_open
            && self
                .candidates
                .iter()
                .filter(|c| c.status != Status::Failed)
                .take(k)
                .all(|c| c.status == Status::Responded)
    }

    /// The `k` closest nodes that answered, nearest first, and the hop count of the nearest.
    pub(crate) fn closest(&self, k: usize) -> (Vec<NodeInfo>, u32, Option<Instant>) {
        let answered: Vec<&Candidate> = self
            .candidates
            .iter()
            .filter(|c| c.status == Status::Responded)
            .take(k)
            .collect();
        let hops = answered.first().map_or(0, |c| c.hop);
        let found = answered.first().and_then(|c| c.answered);
        (answered.iter().map(|c| c.info).collect(), hops, found)
    }

    pub(crate) fn find(&mut self, id: &NodeId) -> Option<&mut Candidate> {
        self.candidates.iter_mut().find(|c| c.info.id == *id)
    }
}

impl DhtNode {
    /// The query each step of lookup `query` sends.
    pub(crate) fn step_method(&self, query: QueryId) -> Option<Method<'static>> {
        let lookup = self.lookups.get(&query)?;
        // BEP 44: item lookups walk with `get`, which answers like get_peers.
        Some(if self.item_lookups.contains_key(&query) {
            Method::Get {
                target: lookup.target,
                seq: None,
            }
        } else {
            lookup.method()
        })
    }

    /// Whether a bootstrap lookup is running.
    pub(crate) fn bootstrapping(&self) -> bool {
        self.lookups.values().any(|l| l.origin == Origin::Bootstrap)
    }

    /// Lookups that started with an empty table while the node bootstrapped take the nodes
    /// the table holds now and go on; once the bootstrap is over (`done`) they go on with
    /// whatever there is, which may finish them empty.
    pub(crate) fn wake_awaiting(&mut self, now: Instant, done: bool) {
        let own = self.id();
        let max = self.config.max_candidates;
        let waiting: Vec<(QueryId, NodeId)> = self
            .lookups
            .values()
            .filter(|l| l.awaiting_bootstrap)
            .map(|l| (l.id, l.target))
            .collect();
        for (query, target) in waiting {
            let known = self.table.closest(now, &target, max);
            if known.is_empty() && !done {
                continue;
            }
            if let Some(l) = self.lookups.get_mut(&query) {
                l.add(&own, &known, 1, max);
                l.awaiting_bootstrap = false;
            }
            self.advance(now, query);
        }
    }

    /// Nodes an answer named are offered to the routing table's free slots (BEP 42
    /// permitting), so tables fill while lookups run.
    pub(crate) fn heard_about(&mut self, now: Instant, nodes: &[NodeInfo]) {
        for info in nodes {
            if self.config.enforce_bep42 && !bep42_verify(&info.id, info.addr.ip()) {
                continue;
            }
            self.table.heard_about(now, *info);
        }
    }

    /// A lookup request passed its soft timeout: the lookup moves on without it (its slot goes
    /// to the next candidate) and, when the node is one of the k closest, asks it once more
    /// at once, since a lost datagram is likelier than a dead node and the result needs it.
    pub(crate) fn on_soft_timeout(&mut self, now: Instant, tid: [u8; 4]) {
        let Some(pending) = self.pending.get_mut(&tid) else {
            return;
        };
        pending.soft = None;
        let (Purpose::Lookup(query), Some(id), addr) =
            (pending.purpose, pending.node, pending.addr)
        else {
            return;
        };
        let k = self.config.routing.k;
        let attempts = self.config.lookup_attempts;
        let Some(lookup) = self.lookups.get_mut(&query) else {
            return;
        };
        let near = lookup.rank(&id).is_some_and(|r| r < k);
        let Some(c) = lookup.find(&id) else {
            return;
        };
        if c.status == Status::Stalled && c.attempts >= attempts {
            // The repeat went unanswered for a soft timeout too: a departed node is likelier
            // than two losses, so the lookup stops waiting for it (a late answer still counts).
            c.status = Status::Failed;
            return self.advance(now, query);
        }
        if c.status != Status::InFlight {
            return;
        }
        c.status = Status::Stalled;
        if near && c.attempts < attempts {
            let Some(method) = self.step_method(query) else {
                return;
            };
            let sent = self.send_query(now, addr, Some(id), method, Purpose::Lookup(query));
            if let Some(l) = self.lookups.get_mut(&query).filter(|_| sent) {
                l.messages += 1;
                if let Some(c) = l.find(&id) {
                    c.attempts = c.attempts.saturating_add(1);
                    c.outstanding = c.outstanding.saturating_add(1);
                }
            }
        }
        self.advance(now, query);
    }

    /// A lookup request failed (timeout or error). The node is given up once none of its
    /// requests is open and it was asked `lookup_attempts` times; before that it is asked again.
    pub(crate) fn lookup_failed(&mut self, now: Instant, query: QueryId, node: Option<NodeId>) {
        let attempts = self.config.lookup_attempts;
        let candidate = match node {
            Some(id) => self.lookups.get_mut(&query).and_then(|l| l.find(&id)),
            None => None,
        };
        if let Some(c) = candidate {
            c.outstanding = c.outstanding.saturating_sub(1);
            if c.outstanding == 0 && c.status != Status::Responded {
                c.status = if c.attempts < attempts {
                    Status::Fresh
                } else {
                    Status::Failed
                };
            }
        }
        self.advance(now, query);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(b: u8) -> NodeInfo {
        let mut id = [0u8; 20];
        id[0] = b;
        NodeInfo {
            id: NodeId(id),
            addr: SocketAddr::from(([192, 0, 2, b], 1)),
        }
    }

    fn none(_: &NodeId) -> Option<Duration> {
        None
    }

    /// A user's find_node lookup of the all-zero id, started at time zero.
    fn find_zero(query: u64) -> Lookup {
        Lookup::new(
            QueryId(query),
            NodeId([0; 20]),
            LookupKind::FindNode,
            Origin::User,
            Instant::ZERO,
        )
    }

    #[test]
    fn asks_alpha_of_k_closest_and_finishes_when_they_answered() {
        let own = NodeId([0xff; 20]);
        let mut l = find_zero(1);
        let nodes: Vec<NodeInfo> = (1..=20).rev().map(node).collect();
        l.add(&own, &nodes, 1, 12);
        assert_eq!(l.candidates.len(), 12);
        assert_eq!(l.candidates[0].info, node(1));
        assert_eq!(l.next(3, 4, none), vec![0, 1, 2]);
        for i in 0..3 {
            l.candidates[i].status = Status::InFlight;
        }
        assert!(l.next(3, 4, none).is_empty());
        l.candidates[0].status = Status::Responded;
        l.candidates[1].status = Status::Failed;
        // Node 1 failed: the fourth and fifth are now among the k = 4 closest left.
        assert_eq!(l.next(3, 4, none), vec![3, 4]);
        for i in 2..5 {
            l.candidates[i].status = Status::Responded;
        }
        assert!(l.finished(4));
        assert!(!l.finished(5));
        let (closest, hops, _) = l.closest(4);
        assert_eq!(closest, vec![node(1), node(3), node(4), node(5)]);
        assert_eq!(hops, 1);
        // A stalled request frees its slot but still blocks the end.
        l.candidates[2].status = Status::Stalled;
        assert!(!l.finished(4));
        l.candidates[2].status = Status::Responded;
        // A request still open to a node given up on holds the end only when that node is
        // nearer than every answer: a farther one does not (node 1 failed earlier),
        l.candidates[1].outstanding = 1;
        assert!(l.finished(4));
        l.candidates[11].status = Status::Failed;
        l.candidates[11].outstanding = 1;
        assert!(l.finished(4));
        // but the nearest one given up on after its repeat's soft timeout does: its first
        // query may have been lost and the repeat be on its way back on a slow path.
        l.candidates[0].status = Status::Failed;
        l.candidates[0].outstanding = 1;
        assert!(!l.finished(4));
        l.candidates[0].status = Status::Responded;
        l.candidates[0].outstanding = 0;
        // Waiting for the bootstrap holds the end too.
        l.awaiting_bootstrap = true;
        assert!(!l.finished(4));
        l.awaiting_bootstrap = false;
        // Closer nodes arriving later reopen the lookup.
        l.add(&own, &[node(0)], 2, 12);
        assert!(!l.finished(4));
        assert_eq!(l.candidates[0].hop, 2);
        // Answers that bring nothing closer: after alpha of them, all of the k closest at once.
        let mut w = find_zero(2);
        w.absorb(&own, &nodes, 1, 12);
        assert_eq!(w.fruitless, 0);
        assert_eq!(w.next(3, 8, none).len(), 3);
        for _ in 0..3 {
            w.absorb(&own, &[node(20)], 2, 12);
        }
        assert_eq!(w.fruitless, 3);
        assert_eq!(w.next(3, 8, none).len(), 8);
        w.absorb(&own, &[node(0)], 2, 12);
        assert_eq!(w.fruitless, 0);
    }

    #[test]
    fn prefers_fast_nodes_of_similar_progress_never_farther_ones() {
        let own = NodeId([0xff; 20]);
        let mut l = find_zero(1);
        // 0x04..=0x07 share the closest bucket around the target; 0x08 is one bit farther
        // (within the slack), 0x10 two bits (outside it).
        let nodes: Vec<NodeInfo> = [4u8, 5, 6, 7, 8, 0x10].into_iter().map(node).collect();
        l.add(&own, &nodes, 1, 12);
        let ms = Duration::from_millis;
        let rtt = |id: &NodeId| match id.0[0] {
            4 => Some(ms(280)),
            5 => None,
            6 => Some(ms(30)),
            7 => Some(ms(90)),
            8 => Some(ms(50)),
            _ => Some(ms(10)),
        };
        // Fastest first among 4-8 (unknown last); the very fast 0x10 waits for all of them.
        assert_eq!(l.next(3, 8, rtt), vec![2, 4, 3]);
        assert_eq!(l.next(6, 8, rtt), vec![2, 4, 3, 0, 1, 5]);
        // Without estimates the order is the distance order.
        assert_eq!(l.next(3, 8, none), vec![0, 1, 2]);
        // A stalled request leaves the window of the k closest: the next candidate is asked.
        for c in &mut l.candidates[..4] {
            c.status = Status::InFlight;
        }
        assert!(l.next(4, 4, none).is_empty());
        l.candidates[1].status = Status::Stalled;
        assert_eq!(l.next(4, 4, none), vec![4]);
    }

    #[test]
    fn requests_pushed_out_of_the_k_closest_free_their_slots() {
        let own = NodeId([0xff; 20]);
        let mut l = find_zero(1);
        let far: Vec<NodeInfo> = (0x40..0x48).map(node).collect();
        l.add(&own, &far, 1, 32);
        assert_eq!(l.next(3, 4, none), vec![0, 1, 2]);
        for c in &mut l.candidates[..3] {
            c.status = Status::InFlight;
        }
        // The first answer brings four nodes closer than every one asked: the two requests
        // still open are now outside the k = 4 closest and three new ones go out at once.
        l.candidates[0].status = Status::Responded;
        let near: Vec<NodeInfo> = (0x10..0x14).map(node).collect();
        l.add(&own, &near, 2, 32);
        assert_eq!(l.next(3, 4, none), vec![0, 1, 2]);
        // Requests inside the window still count: with two of them open, one more goes out.
        l.candidates[0].status = Status::InFlight;
        l.candidates[1].status = Status::InFlight;
        assert_eq!(l.next(3, 4, none), vec![2]);
    }
}
