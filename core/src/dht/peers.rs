//! Peers announced to this node (BEP 5 announce_peer), bounded and expiring.

use std::collections::BTreeMap;

use core::net::SocketAddr;
use core::time::Duration;

use crate::dht::id::NodeId;
use crate::time::Instant;

/// Bounds of the peer store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerStoreConfig {
    /// Info-hashes tracked at once; announces for new ones are refused beyond it.
    pub max_info_hashes: usize,
    /// Peers kept per info-hash; the oldest announce is dropped beyond it.
    pub max_peers_per_hash: usize,
    /// How long an announce is kept (BitTorrent clients re-announce about every 30 minutes).
    pub ttl: Duration,
    /// Most peers returned in one `values` list (keeps a response within one datagram).
    pub max_values: usize,
}

impl Default for PeerStoreConfig {
    fn default() -> PeerStoreConfig {
        PeerStoreConfig {
            max_info_hashes: 2048,
            max_peers_per_hash: 256,
            ttl: Duration::from_secs(30 * 60),
            max_values: 50,
        }
    }
}

/// Info-hash -> (peer, expiry).
pub struct PeerStore {
    config: PeerStoreConfig,
    map: BTreeMap<NodeId, Vec<(SocketAddr, Instant)>>,
    /// When a full store was last swept for expired announces.
    full_sweep: Option<Instant>,
}

impl PeerStore {
    /// An empty store.
    pub fn new(config: PeerStoreConfig) -> PeerStore {
        PeerStore {
            config,
            map: BTreeMap::new(),
            full_sweep: None,
        }
    }

    /// Records `peer` for `info_hash`; false when the store is full of other info-hashes.
    pub fn announce(&mut self, now: Instant, info_hash: NodeId, peer: SocketAddr) -> bool {
        let expires = now + self.config.ttl;
        if !self.map.contains_key(&info_hash) && self.map.len() >= self.config.max_info_hashes {
            // A store full of live announces would be scanned whole for every new info-hash
            // (a cheap way for a peer to burn our CPU): sweep at most once a second.
            let due = self
                .full_sweep
                .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1));
            if due {
                self.full_sweep = Some(now);
                self.expire(now);
            }
            if self.map.len() >= self.config.max_info_hashes {
                return false;
            }
        }
        let peers = self.map.entry(info_hash).or_default();
        if let Some(slot) = peers.iter_mut().find(|(p, _)| *p == peer) {
            slot.1 = expires;
        } else {
            let full = peers.len() >= self.config.max_peers_per_hash;
            let oldest = peers
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(i, _)| i);
            if let Some(oldest) = oldest.filter(|_| full) {
                peers.remove(oldest);
            }
            peers.push((peer, expires));
        }
        true
    }

    /// Live peers for `info_hash`, at most `max_values`, in a rotating order chosen by `seed`
    /// so repeated queries see different subsets.
    pub fn get(&self, now: Instant, info_hash: &NodeId, seed: u32) -> Vec<SocketAddr> {
        let Some(peers) = self.map.get(info_hash) else {
            return Vec::new();
        };
        let live: Vec<SocketAddr> = peers
            .iter()
            .filter(|(_, t)| *t > now)
            .map(|(p, _)| *p)
            .collect();
        if live.is_empty() {
            return live;
        }
        let start = seed as usize % live.len();
        live.iter()
            .cycle()
            .skip(start)
            .take(live.len().min(self.config.max_values))
            .copied()
            .collect()
    }

    /// Drops expired announces.
    pub fn expire(&mut self, now: Instant) {
        self.map.retain(|_, peers| {
            peers.retain(|(_, t)| *t > now);
            !peers.is_empty()
        });
    }

    /// Info-hashes held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_expiring() {
        let config = PeerStoreConfig {
            max_info_hashes: 2,
            max_peers_per_hash: 3,
            ttl: Duration::from_secs(60),
            max_values: 2,
        };
        let mut store = PeerStore::new(config);
        let p = |n: u16| SocketAddr::from(([198, 51, 100, 1], n));
        let h = |n: u8| NodeId([n; 20]);
        let t0 = Instant::ZERO;
        for n in 0..5 {
            assert!(store.announce(t0 + Duration::from_secs(u64::from(n)), h(1), p(n)));
        }
        let got = store.get(t0, &h(1), 0);
        assert_eq!(got.len(), 2);
        assert!(
            !got.contains(&p(0)) && !got.contains(&p(1)),
            "oldest two evicted"
        );
        assert!(store.announce(t0, h(2), p(9)));
        assert!(!store.announce(t0, h(3), p(9)), "info-hash bound");
        assert!(store.get(Instant::from_secs(61), &h(2), 0).is_empty());
        assert!(
            store.announce(Instant::from_secs(61), h(3), p(9)),
            "expired entries make room"
        );
        assert_eq!(store.len(), 2);
    }
}
