//! One iterative lookup (BEP 5 / Kademlia): the candidate set ordered by distance to the
//! target, which nodes to ask next, and when it is finished.

use core::net::SocketAddr;

use crate::dht::id::NodeId;
use crate::dht::krpc::NodeInfo;
use crate::time::Instant;

/// Identifies a command's work (a lookup, an announce, a ping) in the events it produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryId(pub u64);

/// Where a candidate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Fresh,
    InFlight,
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

    /// Indexes of fresh candidates to ask now so that at most `alpha` are in flight. Only the
    /// `k` closest candidates that have not failed are worth asking.
    pub(crate) fn next(&self, alpha: usize, k: usize) -> Vec<usize> {
        let mut slots = alpha.saturating_sub(self.in_flight() + self.seeds_pending);
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
        // Closer nodes arriving later reopen the lookup.
        l.add(&own, &[node(0)], 2, 12);
        assert!(!l.finished(4));
        assert_eq!(l.candidates[0].hop, 2);
    }
}
