//! One NAT's translation state: mappings, per-remote filter entries, and port allocation.
//!
//! Expiry is lazy: an idle mapping is treated as gone the moment it is looked at after its
//! lifetime, and a periodic sweep keeps the tables from growing without bound. A sweep only
//! removes entries that are already treated as gone, so it never changes behaviour.

use core::net::{IpAddr, SocketAddr};

use super::{AddressPooling, FilteringBehavior, MappingBehavior, NatConfig, PortAssignment};
use crate::fxmap::{AddrKey, FxMap};
use crate::rng::SimRng;
use crate::trace::DropReason;

/// One mapping X:x -> X1':x1'.
#[derive(Clone, Debug)]
pub(crate) struct Mapping {
    pub(crate) internal: SocketAddr,
    pub(crate) external: SocketAddr,
    /// What the mapping is specific to: nothing (EIM), the destination IP (ADM), or the
    /// destination IP and port (APDM). `None` for EIM.
    pub(crate) destination: Option<SocketAddr>,
    dest_key: AddrKey,
    /// Last refresh (ns).
    pub(crate) last: u64,
}

/// Result of an outbound translation.
pub(crate) struct Outbound {
    pub(crate) external: SocketAddr,
    /// A new mapping was made (the caller traces it).
    pub(crate) created: bool,
}

/// A snapshot of one live mapping, for tests and tools.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MappingInfo {
    /// The internal endpoint X:x.
    pub internal: SocketAddr,
    /// The external endpoint X1':x1'.
    pub external: SocketAddr,
    /// The destination the mapping is specific to (`None` with endpoint-independent mapping; the
    /// port is meaningless with address-dependent mapping).
    pub destination: Option<SocketAddr>,
    /// When the mapping expires if nothing refreshes it.
    pub expires: pigeon::Instant,
}

pub(crate) struct NatTable {
    pub(crate) config: NatConfig,
    lifetime: u64,
    mappings: FxMap<u64, Mapping>,
    by_internal: FxMap<(AddrKey, AddrKey), u64>,
    by_external: FxMap<AddrKey, u64>,
    /// (mapping id, remote key) -> last outbound to (or, with inbound refresh, inbound from) it.
    permissions: FxMap<(u64, AddrKey), u64>,
    /// Mapping ids are never reused, so stale filter entries can never leak to a new mapping.
    next_id: u64,
    /// Per external IP: where sequential assignment continues.
    next_port: Vec<u16>,
    /// Paired pooling: internal IP -> index into `external_ips`.
    paired: FxMap<AddrKey, usize>,
    round_robin: usize,
    sweep_mappings_at: usize,
    sweep_permissions_at: usize,
}

const SWEEP_FLOOR: usize = 1024;

impl NatTable {
    pub(crate) fn new(config: NatConfig) -> NatTable {
        let lifetime = u64::try_from(config.mapping_lifetime.as_nanos()).unwrap_or(u64::MAX);
        let next_port = vec![config.port_min; config.external_ips.len()];
        NatTable {
            config,
            lifetime,
            mappings: FxMap::default(),
            by_internal: FxMap::default(),
            by_external: FxMap::default(),
            permissions: FxMap::default(),
            next_id: 0,
            next_port,
            paired: FxMap::default(),
            round_robin: 0,
            sweep_mappings_at: SWEEP_FLOOR,
            sweep_permissions_at: SWEEP_FLOOR,
        }
    }

    /// Whether `ip` is one of this NAT's external addresses.
    #[inline]
    pub(crate) fn owns(&self, ip: IpAddr) -> bool {
        self.config.external_ips.contains(&ip)
    }

    #[inline]
    fn alive(&self, last: u64, now: u64) -> bool {
        now < last.saturating_add(self.lifetime)
    }

    fn dest_key(&self, destination: SocketAddr) -> (AddrKey, Option<SocketAddr>) {
        match self.config.mapping {
            MappingBehavior::EndpointIndependent => (AddrKey::new(unspecified(destination)), None),
            MappingBehavior::AddressDependent => (AddrKey::ip_only(destination), Some(destination)),
            MappingBehavior::AddressAndPortDependent => {
                (AddrKey::new(destination), Some(destination))
            }
        }
    }

    fn permission_key(&self, remote: SocketAddr) -> Option<AddrKey> {
        match self.config.filtering {
            FilteringBehavior::EndpointIndependent => None,
            FilteringBehavior::AddressDependent => Some(AddrKey::ip_only(remote)),
            FilteringBehavior::AddressAndPortDependent => Some(AddrKey::new(remote)),
        }
    }

    /// Translate the source of a datagram from `internal` to `destination` (RFC 4787 §4.1),
    /// refreshing or creating the mapping and recording the filter entry for `destination`.
    pub(crate) fn outbound(
        &mut self,
        now: u64,
        internal: SocketAddr,
        destination: SocketAddr,
        rng: &mut SimRng,
    ) -> Result<Outbound, DropReason> {
        let (dest_key, dest) = self.dest_key(destination);
        let key = (AddrKey::new(internal), dest_key);
        let mut found = None;
        if let Some(&id) = self.by_internal.get(&key) {
            // by_internal and mappings are kept in step by insert/remove.
            let last = self.mappings.get(&id).map_or(0, |m| m.last);
            if self.alive(last, now) {
                found = Some(id);
            } else {
                // RFC 4787 §4.3: an expired mapping is gone, with its filter state.
                self.remove(id);
            }
        }
        let (id, external, created) = match found {
            Some(id) => {
                let m = self.mappings.get_mut(&id).ok_or(DropReason::NatNoMapping)?;
                // RFC 4787 REQ-6: outbound packets refresh the mapping.
                m.last = now;
                (id, m.external, false)
            }
            None => {
                let external = self.allocate(now, internal, rng)?;
                let id = self.next_id;
                self.next_id += 1;
                self.mappings.insert(
                    id,
                    Mapping {
                        internal,
                        external,
                        destination: dest,
                        dest_key,
                        last: now,
                    },
                );
                self.by_internal.insert(key, id);
                self.by_external.insert(AddrKey::new(external), id);
                self.maybe_sweep(now);
                (id, external, true)
            }
        };
        if let Some(pk) = self.permission_key(destination) {
            self.permissions.insert((id, pk), now);
            if self.permissions.len() >= self.sweep_permissions_at {
                self.sweep_permissions(now);
            }
        }
        Ok(Outbound { external, created })
    }

    /// Translate the destination of a datagram from `remote` to our `external` address back to
    /// the internal endpoint. `filter` is false for hairpinned datagrams, which never crossed
    /// the outside (NAT.md: looped back to the owner of the mapping).
    pub(crate) fn inbound(
        &mut self,
        now: u64,
        external: SocketAddr,
        remote: SocketAddr,
        filter: bool,
    ) -> Result<SocketAddr, DropReason> {
        let id = *self
            .by_external
            .get(&AddrKey::new(external))
            .ok_or(DropReason::NatNoMapping)?;
        let last = self.mappings.get(&id).map_or(0, |m| m.last);
        if !self.alive(last, now) {
            self.remove(id);
            return Err(DropReason::NatNoMapping);
        }
        let pk = self.permission_key(remote);
        if let (true, Some(pk)) = (filter, pk) {
            // RFC 4787 §5: address(-and-port)-dependent filtering admits only remotes this
            // mapping has sent to, within the lifetime.
            match self.permissions.get(&(id, pk)) {
                Some(&t) if self.alive(t, now) => {}
                _ => return Err(DropReason::NatFiltered),
            }
        }
        let refresh = self.config.inbound_refresh;
        let m = self.mappings.get_mut(&id).ok_or(DropReason::NatNoMapping)?;
        if refresh {
            m.last = now;
        }
        let internal = m.internal;
        if let (true, Some(pk)) = (refresh, pk) {
            if let Some(t) = self.permissions.get_mut(&(id, pk)) {
                *t = now;
            }
        }
        Ok(internal)
    }

    /// Forgets every mapping and filter entry, as a NAT that reboots or rebinds does (port
    /// assignment continues where it was, so new mappings need not reuse the old ports).
    pub(crate) fn forget_mappings(&mut self) -> usize {
        let n = self.mappings.len();
        self.mappings.clear();
        self.by_internal.clear();
        self.by_external.clear();
        self.permissions.clear();
        n
    }

    fn remove(&mut self, id: u64) {
        if let Some(m) = self.mappings.remove(&id) {
            self.by_internal
                .remove(&(AddrKey::new(m.internal), m.dest_key));
            self.by_external.remove(&AddrKey::new(m.external));
        }
    }

    fn maybe_sweep(&mut self, now: u64) {
        if self.mappings.len() < self.sweep_mappings_at {
            return;
        }
        let mut dead: Vec<u64> = self
            .mappings
            .iter()
            .filter(|(_, m)| !self.alive(m.last, now))
            .map(|(id, _)| *id)
            .collect();
        dead.sort_unstable();
        for id in dead {
            self.remove(id);
        }
        self.sweep_mappings_at = (self.mappings.len() * 2).max(SWEEP_FLOOR);
    }

    fn sweep_permissions(&mut self, now: u64) {
        let lifetime = self.lifetime;
        let mappings = &self.mappings;
        self.permissions
            .retain(|(id, _), t| now < t.saturating_add(lifetime) && mappings.contains_key(id));
        self.sweep_permissions_at = (self.permissions.len() * 2).max(SWEEP_FLOOR);
    }

    /// Whether `external` is free (an expired mapping holding it is removed).
    fn port_free(&mut self, now: u64, external: SocketAddr) -> bool {
        match self.by_external.get(&AddrKey::new(external)) {
            None => true,
            Some(&id) => {
                let last = self.mappings.get(&id).map_or(0, |m| m.last);
                if self.alive(last, now) {
                    false
                } else {
                    self.remove(id);
                    true
                }
            }
        }
    }

    fn pick_ip(&mut self, internal: IpAddr) -> usize {
        let n = self.config.external_ips.len().max(1);
        match self.config.pooling {
            // RFC 4787 REQ-2: "paired" pooling keeps an internal host on one external IP.
            AddressPooling::Paired => {
                let key = AddrKey::new(SocketAddr::new(internal, 0));
                if let Some(&i) = self.paired.get(&key) {
                    return i;
                }
                let i = self.round_robin % n;
                self.round_robin += 1;
                self.paired.insert(key, i);
                i
            }
            AddressPooling::Arbitrary => {
                let i = self.round_robin % n;
                self.round_robin += 1;
                i
            }
        }
    }

    /// Choose the external endpoint of a new mapping (RFC 4787 §4.2.1).
    fn allocate(
        &mut self,
        now: u64,
        internal: SocketAddr,
        rng: &mut SimRng,
    ) -> Result<SocketAddr, DropReason> {
        let index = self.pick_ip(internal.ip());
        let ip = *self
            .config
            .external_ips
            .get(index)
            .ok_or(DropReason::NatPortsExhausted)?;
        let (lo, hi) = (
            self.config.port_min,
            self.config.port_max.max(self.config.port_min),
        );
        let span = u32::from(hi - lo) + 1;
        let port_at = |offset: u32| lo + ((offset % span) as u16);
        match self.config.port_assignment {
            PortAssignment::Preserving => {
                let x = internal.port();
                if (lo..=hi).contains(&x) && self.port_free(now, SocketAddr::new(ip, x)) {
                    return Ok(SocketAddr::new(ip, x));
                }
                self.random_port(now, ip, lo, span, rng)
            }
            PortAssignment::Sequential => {
                let start = u32::from(self.next_port[index].max(lo) - lo);
                for i in 0..span {
                    let port = port_at(start + i);
                    if self.port_free(now, SocketAddr::new(ip, port)) {
                        self.next_port[index] = if port == hi { lo } else { port + 1 };
                        return Ok(SocketAddr::new(ip, port));
                    }
                }
                Err(DropReason::NatPortsExhausted)
            }
            PortAssignment::Random => self.random_port(now, ip, lo, span, rng),
        }
    }

    fn random_port(
        &mut self,
        now: u64,
        ip: IpAddr,
        lo: u16,
        span: u32,
        rng: &mut SimRng,
    ) -> Result<SocketAddr, DropReason> {
        let port_at = |offset: u32| lo + ((offset % span) as u16);
        for _ in 0..32 {
            let port = port_at(rng.below(u64::from(span)) as u32);
            if self.port_free(now, SocketAddr::new(ip, port)) {
                return Ok(SocketAddr::new(ip, port));
            }
        }
        // Nearly full: walk from a random start so the search always ends.
        let start = rng.below(u64::from(span)) as u32;
        for i in 0..span {
            let port = port_at(start + i);
            if self.port_free(now, SocketAddr::new(ip, port)) {
                return Ok(SocketAddr::new(ip, port));
            }
        }
        Err(DropReason::NatPortsExhausted)
    }

    /// Live mappings, sorted by external address.
    pub(crate) fn snapshot(&self, now: u64) -> Vec<MappingInfo> {
        let mut out: Vec<MappingInfo> = self
            .mappings
            .values()
            .filter(|m| self.alive(m.last, now))
            .map(|m| MappingInfo {
                internal: m.internal,
                external: m.external,
                destination: m.destination,
                expires: pigeon::Instant::from_nanos(m.last.saturating_add(self.lifetime)),
            })
            .collect();
        out.sort();
        out
    }
}

fn unspecified(like: SocketAddr) -> SocketAddr {
    match like {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn table(config: NatConfig) -> NatTable {
        NatTable::new(config.with_external_ip("198.51.100.1".parse().unwrap()))
    }

    #[test]
    fn sweep_keeps_live_mappings() {
        let mut t = table(
            NatConfig::symmetric()
                .with_lifetime(Duration::from_nanos(1_000))
                .with_port_assignment(PortAssignment::Sequential),
        );
        let mut rng = SimRng::new(1);
        let x = sa("10.0.0.1:5000");
        for i in 0..3000u64 {
            let dst = SocketAddr::new("192.0.2.1".parse().unwrap(), (i % 60000) as u16 + 1);
            t.outbound(i * 10, x, dst, &mut rng).ok().unwrap();
        }
        // Only the last ~100 (1 µs / 10 ns) are alive; the sweep dropped most of the rest.
        assert!(t.mappings.len() < 2100, "{}", t.mappings.len());
        assert_eq!(t.snapshot(29_990).len(), 100);
    }

    #[test]
    fn exhaustion_is_reported() {
        let mut config = NatConfig::symmetric();
        config.port_min = 2000;
        config.port_max = 2001;
        let mut t = table(config);
        let mut rng = SimRng::new(1);
        let x = sa("10.0.0.1:5000");
        assert!(t.outbound(0, x, sa("192.0.2.1:1"), &mut rng).is_ok());
        assert!(t.outbound(0, x, sa("192.0.2.1:2"), &mut rng).is_ok());
        assert_eq!(
            t.outbound(0, x, sa("192.0.2.1:3"), &mut rng).err(),
            Some(DropReason::NatPortsExhausted)
        );
    }
}
