//! One allocation on a TURN server (RFC 8656 §6): its relayed address, lifetime,
//! permissions and channel bindings, and the pool of relay ports allocations draw from.

use core::net::{IpAddr, SocketAddr};
use std::collections::{BTreeMap, BTreeSet};

use crate::Instant;
use crate::stun::TransactionId;

/// The state the server keeps for one client 5-tuple.
pub(super) struct Allocation {
    pub(super) username: String,
    pub(super) relayed: SocketAddr,
    pub(super) expires: Instant,
    /// RFC 8656 §7.2: a retransmitted Allocate (same transaction id) gets the same answer.
    pub(super) allocate_id: TransactionId,
    pub(super) allocate_response: Vec<u8>,
    /// Peer IP -> when its permission ends (RFC 8656 §9).
    pub(super) permissions: BTreeMap<IpAddr, Instant>,
    /// Channel number -> (peer, when the binding ends) (RFC 8656 §12).
    pub(super) channels: BTreeMap<u16, (SocketAddr, Instant)>,
    pub(super) peer_channels: BTreeMap<SocketAddr, u16>,
}

impl Allocation {
    /// RFC 8656 §9: the permission is checked against the peer's IP only, not its port.
    pub(super) fn permits(&self, peer: IpAddr, now: Instant) -> bool {
        self.permissions.get(&peer).is_some_and(|end| *end > now)
    }

    /// The live channel bound to `peer`.
    pub(super) fn channel_for(&self, peer: SocketAddr, now: Instant) -> Option<u16> {
        let channel = *self.peer_channels.get(&peer)?;
        let (_, end) = self.channels.get(&channel)?;
        (*end > now).then_some(channel)
    }

    /// The peer of a live channel.
    pub(super) fn peer_of(&self, channel: u16, now: Instant) -> Option<SocketAddr> {
        let (peer, end) = self.channels.get(&channel)?;
        (*end > now).then_some(*peer)
    }

    /// Forgets permissions and channels that ended.
    ///
    /// RFC 8656 §12 asks that an expired channel number not be rebound to another peer for
    /// five minutes; pigeon forgets it at once (see docs/turn.md).
    pub(super) fn sweep(&mut self, now: Instant) {
        self.permissions.retain(|_, end| *end > now);
        let expired: Vec<u16> = self
            .channels
            .iter()
            .filter(|(_, (_, end))| *end <= now)
            .map(|(n, _)| *n)
            .collect();
        for channel in expired {
            if let Some((peer, _)) = self.channels.remove(&channel) {
                self.peer_channels.remove(&peer);
            }
        }
    }
}

/// The relay ports of one relay IP, and which are taken.
pub(super) struct PortPool {
    ip: IpAddr,
    low: u16,
    high: u16,
    used: BTreeSet<u16>,
}

impl PortPool {
    pub(super) fn new(ip: IpAddr, low: u16, high: u16) -> Self {
        Self {
            ip,
            low: low.min(high),
            high: high.max(low),
            used: BTreeSet::new(),
        }
    }

    /// Every address of the pool, for a driver to bind up front.
    pub(super) fn addresses(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        (self.low..=self.high).map(|port| SocketAddr::new(self.ip, port))
    }

    /// A free port, searching from `start` (a random draw) so that relayed addresses are hard
    /// to guess (RFC 8656 §7.2 recommends randomised port allocation); `even` restricts to even
    /// ports (EVEN-PORT, RFC 8656 §18.7).
    pub(super) fn take(&mut self, start: u32, even: bool) -> Option<SocketAddr> {
        let size = u32::from(self.high - self.low) + 1;
        for step in 0..size {
            let offset = (start.wrapping_add(step)) % size;
            // offset < size <= 65536, so the conversion never fails and low + offset <= high.
            let port = self.low + u16::try_from(offset).unwrap_or(0);
            if (even && port % 2 != 0) || self.used.contains(&port) {
                continue;
            }
            self.used.insert(port);
            return Some(SocketAddr::new(self.ip, port));
        }
        None
    }

    /// An even port whose odd successor is free too; both are taken (EVEN-PORT with the R
    /// bit, RFC 8656 §7.2: the next port is reserved for a later allocation).
    pub(super) fn take_pair(&mut self, start: u32) -> Option<(SocketAddr, SocketAddr)> {
        let size = u32::from(self.high - self.low) + 1;
        for step in 0..size {
            let offset = (start.wrapping_add(step)) % size;
            let port = self.low + u16::try_from(offset).unwrap_or(0);
            let Some(next) = port.checked_add(1).filter(|n| *n <= self.high) else {
                continue;
            };
            if port % 2 != 0 || self.used.contains(&port) || self.used.contains(&next) {
                continue;
            }
            self.used.insert(port);
            self.used.insert(next);
            return Some((
                SocketAddr::new(self.ip, port),
                SocketAddr::new(self.ip, next),
            ));
        }
        None
    }

    pub(super) fn release(&mut self, addr: SocketAddr) {
        self.used.remove(&addr.port());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_hands_out_each_port_once() {
        let mut pool = PortPool::new("127.0.0.1".parse().unwrap(), 50_000, 50_003);
        let mut got: Vec<u16> = (0..4)
            .map(|i| pool.take(i * 7, false).unwrap().port())
            .collect();
        got.sort_unstable();
        assert_eq!(got, [50_000, 50_001, 50_002, 50_003]);
        assert_eq!(pool.take(0, false), None);
        pool.release("127.0.0.1:50002".parse().unwrap());
        assert_eq!(pool.take(1, true).unwrap().port(), 50_002);
        assert_eq!(pool.addresses().count(), 4);
        let mut pool = PortPool::new("127.0.0.1".parse().unwrap(), 50_001, 50_004);
        let (even, odd) = pool.take_pair(0).unwrap();
        assert_eq!((even.port(), odd.port()), (50_002, 50_003));
        assert_eq!(pool.take_pair(0), None);
    }
}
