//! One iterative lookup (BEP 5 / Kademlia): the candidate set ordered by distance to the
//! target, which nodes to ask next, and when it is finished.

use core::net::SocketAddr;

use crate::dht::id::{NodeId, bep42_verify};
use crate::dht::krpc::{Method, NodeInfo};
use crate::dht::node::{DhtNode, Purpose};
use crate::time::Instant;

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

    /// Indexes of fresh candidates to ask now so that at most `alpha` are in flight (stalled
    /// requests do not count). Only the `k` closest candidates that have not failed are worth
    /// asking. Kademlia §2.3: once a round of alpha answers brought nothing closer, every
    /// one of the k closest not yet asked is asked at once.
    pub(crate) fn next(&self, alpha: usize, k: usize) -> Vec<usize> {
        let width = if self.fruitless >= alpha { k } else { alpha };
        let mut slots = width.saturating_sub(self.in_flight() + self.seeds_pending);
        let mut out = Vec::new();
        for (i, c) in self
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.status != Status::Failed)
            .take(k)
        {
            if slots == 0 {
                break;
            }
            if c.status == Status::Fresh {
                out.push(i);
                slots -= 1;
            }
        }
        out
    }

    /// Kademlia's end: the `k` closest candidates that have not failed have all answered (or
    /// there is nothing left to ask and nothing outstanding).
    pub(crate) fn finished(&self, k: usize) -> bool {
        if self.seeds_pending > 0 {
            return false;
        }
        self.candidates
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

    #[test]
    fn asks_alpha_of_k_closest_and_finishes_when_they_answered() {
        let own = NodeId([0xff; 20]);
        let mut l = Lookup::new(
            QueryId(1),
            NodeId([0; 20]),
            LookupKind::FindNode,
            Origin::User,
            Instant::ZERO,
        );
        let nodes: Vec<NodeInfo> = (1..=20).rev().map(node).collect();
        l.add(&own, &nodes, 1, 12);
        assert_eq!(l.candidates.len(), 12);
        assert_eq!(l.candidates[0].info, node(1));
        assert_eq!(l.next(3, 4), vec![0, 1, 2]);
        for i in 0..3 {
            l.candidates[i].status = Status::InFlight;
        }
        assert!(l.next(3, 4).is_empty());
        l.candidates[0].status = Status::Responded;
        l.candidates[1].status = Status::Failed;
        // Node 1 failed: the fourth and fifth are now among the k = 4 closest left.
        assert_eq!(l.next(3, 4), vec![3, 4]);
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
        // Closer nodes arriving later reopen the lookup.
        l.add(&own, &[node(0)], 2, 12);
        assert!(!l.finished(4));
        assert_eq!(l.candidates[0].hop, 2);
        // Answers that bring nothing closer: after alpha of them, all of the k closest at once.
        let mut w = Lookup::new(
            QueryId(2),
            NodeId([0; 20]),
            LookupKind::FindNode,
            Origin::User,
            Instant::ZERO,
        );
        w.absorb(&own, &nodes, 1, 12);
        assert_eq!(w.fruitless, 0);
        assert_eq!(w.next(3, 8).len(), 3);
        for _ in 0..3 {
            w.absorb(&own, &[node(20)], 2, 12);
        }
        assert_eq!(w.fruitless, 3);
        assert_eq!(w.next(3, 8).len(), 8);
        w.absorb(&own, &[node(0)], 2, 12);
        assert_eq!(w.fruitless, 0);
    }
}
