//! BEP 42: learning our external IP from the `ip` field other nodes put in their answers, and
//! re-deriving our id from it.

use std::collections::VecDeque;

use core::net::{IpAddr, SocketAddr};

use crate::dht::id::{bep42_id, bep42_verify};
use crate::dht::node::{DhtEvent, DhtNode};
use crate::dht::routing::RoutingTable;
use crate::time::Instant;

/// A bounded ballot: each voter (a source IP) holds one vote for the address it sees us at.
/// A single host cannot outvote others by using many ports, and the oldest voters are
/// forgotten first.
#[derive(Clone, Debug)]
pub struct IpVotes {
    votes: VecDeque<(IpAddr, IpAddr)>,
    max_voters: usize,
    needed: usize,
    current: Option<IpAddr>,
}

impl IpVotes {
    /// An empty ballot remembering `max_voters` voters; an address wins with at least `needed`
    /// votes that are also a majority. `current` is the address believed so far.
    pub fn new(max_voters: usize, needed: usize, current: Option<IpAddr>) -> IpVotes {
        IpVotes {
            votes: VecDeque::new(),
            max_voters: max_voters.max(1),
            needed: needed.max(1),
            current,
        }
    }

    /// The address the vote settled on, if any.
    pub fn current(&self) -> Option<IpAddr> {
        self.current
    }

    /// `voter` says it sees us at `seen`; returns the new external address when this vote
    /// makes one win that differs from the current one.
    pub fn vote(&mut self, voter: IpAddr, seen: IpAddr) -> Option<IpAddr> {
        if let Some(at) = self.votes.iter().position(|(v, _)| *v == voter) {
            self.votes.remove(at);
        }
        // Make room first, so the queue never outgrows `max_voters` (its capacity would
        // double past it, in every node).
        while self.votes.len() >= self.max_voters {
            self.votes.pop_front();
        }
        self.votes.push_back((voter, seen));
        let count = self.votes.iter().filter(|(_, s)| *s == seen).count();
        if count >= self.needed && count * 2 > self.votes.len() && self.current != Some(seen) {
            self.current = Some(seen);
            return Some(seen);
        }
        None
    }

    /// Voters remembered.
    pub fn len(&self) -> usize {
        self.votes.len()
    }

    /// Whether no vote is remembered.
    pub fn is_empty(&self) -> bool {
        self.votes.is_empty()
    }
}

impl DhtNode {
    /// Our external IP as the votes (or the configuration) say.
    pub fn external_ip(&self) -> Option<IpAddr> {
        self.votes.current()
    }

    /// A response to request `tid` says we are at `seen`. Only answers to our own requests
    /// vote: an unsolicited datagram could be spoofed.
    pub(crate) fn vote_external_ip(
        &mut self,
        now: Instant,
        from: SocketAddr,
        tid: &[u8],
        seen: SocketAddr,
    ) {
        let solicited = <[u8; 4]>::try_from(tid)
            .ok()
            .and_then(|key| self.pending.get(&key))
            .is_some_and(|p| p.addr == from);
        if !solicited || seen.is_ipv4() != self.config.local.is_ipv4() {
            return;
        }
        let Some(ip) = self.votes.vote(from.ip(), seen.ip()) else {
            return;
        };
        tracing::debug!(%ip, "dht: external IP learnt from votes");
        if self.config.rederive_id && !bep42_verify(&self.id(), ip) {
            // BEP 42: our id must be derived from our external IP, or conformant nodes
            // will not keep us in their tables.
            let rand = (self.rng.next_u32() & 0xff) as u8;
            let id = bep42_id(ip, rand, &mut *self.rng);
            self.rebuild_table(now, id);
        }
        let id = self.id();
        self.push_event(DhtEvent::ExternalIp { ip, id });
    }

    /// Moves every node into a table around `own`, then walks towards the new id so the
    /// nodes near it learn about us.
    fn rebuild_table(&mut self, now: Instant, own: crate::dht::id::NodeId) {
        let config = *self.table.config();
        let old = core::mem::replace(&mut self.table, RoutingTable::new(own, config, now));
        for entry in old.entries() {
            self.table.insert(now, entry.info);
        }
        self.bootstrap(now, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([198, 51, 100, last])
    }

    #[test]
    fn majority_of_distinct_voters_wins() {
        let mut votes = IpVotes::new(8, 3, None);
        let us = IpAddr::from([203, 0, 113, 9]);
        // One voter repeating itself counts once.
        for _ in 0..5 {
            assert_eq!(votes.vote(ip(1), us), None);
        }
        assert_eq!(votes.vote(ip(2), us), None);
        assert_eq!(votes.vote(ip(3), IpAddr::from([203, 0, 113, 10])), None);
        assert_eq!(votes.vote(ip(4), us), Some(us));
        assert_eq!(votes.current(), Some(us));
        // Already adopted: no second announcement.
        assert_eq!(votes.vote(ip(5), us), None);
        // A bounded ballot: old voters fall out, and a new majority can take over.
        let other = IpAddr::from([203, 0, 113, 77]);
        let mut changed = None;
        for i in 10..30 {
            changed = changed.or(votes.vote(ip(i), other));
        }
        assert_eq!(changed, Some(other));
        assert_eq!(votes.len(), 8);
    }
}
