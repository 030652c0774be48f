//! The hash maps on the simulator's hot path: a small multiply-rotate hasher (the FxHash
//! recipe) that is fast and the same on every platform.
//!
//! Iteration order of these maps is never allowed to reach the trace, the pcap or any other output:
//! code that walks one sorts first. Only lookups are order-free, so only lookups use them.

use core::hash::{BuildHasherDefault, Hasher};
use core::net::{IpAddr, SocketAddr};
use std::collections::HashMap;

/// A 64-bit odd constant with well-spread bits; the multiply moves entropy to the high bits,
/// which is where hashbrown takes its control bytes from.
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Word-at-a-time hasher: `h = (rotl(h, 5) ^ word) * SEED`.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// An IP address inside one network, packed so that hashing it is two or three multiplies.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct IpKey {
    /// Network index shifted left once, low bit set for IPv6 (so `::ffff:a.b.c.d` and `a.b.c.d`
    /// stay distinct).
    tag: u32,
    ip: u128,
}

impl IpKey {
    #[inline]
    pub(crate) fn new(network: u32, ip: IpAddr) -> IpKey {
        match ip {
            IpAddr::V4(v4) => IpKey {
                tag: network << 1,
                ip: u128::from(u32::from(v4)),
            },
            IpAddr::V6(v6) => IpKey {
                tag: (network << 1) | 1,
                ip: u128::from(v6),
            },
        }
    }
}

/// Who owns each IP address in each network, as a packed `u32` (the caller's encoding).
///
/// IPv4 keys are one `u64` (network << 32 | address) and entries 16 bytes, so the table for
/// 100,000 hosts stays within a couple of megabytes: this lookup is on every datagram's path.
#[derive(Default)]
pub(crate) struct OwnerMap {
    v4: FxMap<u64, u32>,
    v6: FxMap<IpKey, u32>,
}

impl OwnerMap {
    #[inline]
    pub(crate) fn get(&self, network: u32, ip: IpAddr) -> Option<u32> {
        match ip {
            IpAddr::V4(v4) => self
                .v4
                .get(&(u64::from(network) << 32 | u64::from(u32::from(v4))))
                .copied(),
            IpAddr::V6(_) => self.v6.get(&IpKey::new(network, ip)).copied(),
        }
    }

    pub(crate) fn insert(&mut self, network: u32, ip: IpAddr, owner: u32) {
        match ip {
            IpAddr::V4(v4) => {
                self.v4
                    .insert(u64::from(network) << 32 | u64::from(u32::from(v4)), owner);
            }
            IpAddr::V6(_) => {
                self.v6.insert(IpKey::new(network, ip), owner);
            }
        }
    }
}

/// A socket address packed for hashing (the NAT tables are keyed by these).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub(crate) struct AddrKey {
    ip: u128,
    /// Port in the low 16 bits, bit 16 set for IPv6.
    port: u32,
}

impl AddrKey {
    #[inline]
    pub(crate) fn new(addr: SocketAddr) -> AddrKey {
        match addr {
            SocketAddr::V4(v4) => AddrKey {
                ip: u128::from(u32::from(*v4.ip())),
                port: u32::from(v4.port()),
            },
            SocketAddr::V6(v6) => AddrKey {
                ip: u128::from(*v6.ip()),
                port: u32::from(v6.port()) | 1 << 16,
            },
        }
    }

    /// The key of the address with the port zeroed: what address-dependent behaviour looks at.
    #[inline]
    pub(crate) fn ip_only(addr: SocketAddr) -> AddrKey {
        let mut key = AddrKey::new(addr);
        key.port &= 1 << 16;
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::{BuildHasher, Hash};

    fn hash_of<T: Hash>(value: &T) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(value)
    }

    #[test]
    fn keys_tell_families_and_networks_apart() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let mapped_v4 = match mapped {
            IpAddr::V6(v6) => IpAddr::V6(v6),
            IpAddr::V4(_) => unreachable!(),
        };
        assert_ne!(IpKey::new(0, v4), IpKey::new(0, mapped_v4));
        assert_ne!(IpKey::new(0, v4), IpKey::new(1, v4));
        let a: SocketAddr = "10.0.0.1:5".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:6".parse().unwrap();
        assert_ne!(AddrKey::new(a), AddrKey::new(b));
        assert_eq!(AddrKey::ip_only(a), AddrKey::ip_only(b));
    }

    #[test]
    fn hash_is_stable_across_runs() {
        // A fixed value: the hasher must not depend on process state.
        let a = hash_of(&AddrKey::new("192.0.2.1:3478".parse().unwrap()));
        let b = hash_of(&AddrKey::new("192.0.2.1:3478".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, hash_of(&AddrKey::new("192.0.2.1:3479".parse().unwrap())));
    }
}
