//! 160-bit node ids, the XOR metric (BEP 5) and ids derived from an external IP (BEP 42).

use core::cmp::Ordering;
use core::fmt;
use core::net::IpAddr;

/// Bytes in an id.
pub const ID_LEN: usize = 20;
/// Bits in an id.
pub const ID_BITS: usize = 160;

/// A 160-bit node id or info-hash. BEP 5: "Node IDs are chosen at random from the same
/// 160-bit space as BitTorrent infohashes".
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub [u8; ID_LEN]);

/// XOR distance between two ids; compares as an unsigned 160-bit integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct Distance(pub [u8; ID_LEN]);

impl Ord for Distance {
    fn cmp(&self, other: &Distance) -> Ordering {
        // Two integer compares instead of a byte-wise one: routing answers and lookups sort
        // distances millions of times in a large simulation.
        as_integers(&self.0).cmp(&as_integers(&other.0))
    }
}

impl PartialOrd for Distance {
    fn partial_cmp(&self, other: &Distance) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// 160 bits as (the high 128, the low 32), each big-endian: compares like the bytes do.
fn as_integers(bytes: &[u8; ID_LEN]) -> (u128, u32) {
    let mut high = [0u8; 16];
    let mut low = [0u8; 4];
    high.copy_from_slice(&bytes[..16]);
    low.copy_from_slice(&bytes[16..]);
    (u128::from_be_bytes(high), u32::from_be_bytes(low))
}

impl NodeId {
    /// A uniformly random id.
    pub fn random(rng: &mut dyn rand_core::CryptoRng) -> NodeId {
        let mut id = [0; ID_LEN];
        rng.fill_bytes(&mut id);
        NodeId(id)
    }

    /// The id from exactly 20 bytes, or `None`.
    pub fn from_slice(bytes: &[u8]) -> Option<NodeId> {
        bytes.try_into().ok().map(NodeId)
    }

    /// BEP 5: "distance(A,B) = |A xor B|".
    pub fn distance(&self, other: &NodeId) -> Distance {
        let mut d = [0; ID_LEN];
        for (i, out) in d.iter_mut().enumerate() {
            *out = self.0[i] ^ other.0[i];
        }
        Distance(d)
    }

    /// Which of `a` and `b` is closer to `self`.
    pub fn cmp_distance(&self, a: &NodeId, b: &NodeId) -> Ordering {
        // As integers, XOR and compare in two steps: no distance arrays are built, as
        // lookups and answers compare ids millions of times in a large simulation.
        let (own, a, b) = (as_integers(&self.0), as_integers(&a.0), as_integers(&b.0));
        ((own.0 ^ a.0), (own.1 ^ a.1)).cmp(&((own.0 ^ b.0), (own.1 ^ b.1)))
    }

    /// Number of leading bits `self` and `other` share (160 when equal). The routing table
    /// files a node under this index relative to its own id.
    pub fn common_prefix_len(&self, other: &NodeId) -> usize {
        self.distance(other).leading_zeros()
    }

    /// The bit at `index` (0 = most significant).
    pub fn bit(&self, index: usize) -> bool {
        index < ID_BITS && self.0[index / 8] & (0x80 >> (index % 8)) != 0
    }

    /// `count` bits (at most 32) from bit `from` on, most significant first, as an integer;
    /// bits past the end of the id read as 0.
    pub fn bits(&self, from: usize, count: usize) -> u32 {
        let count = count.min(32);
        if count == 0 {
            return 0;
        }
        // Five bytes from the one holding bit `from` cover any 32 bits starting in it.
        let first = from / 8;
        let window = (0..5).fold(0u64, |acc, j| {
            (acc << 8) | u64::from(self.0.get(first + j).copied().unwrap_or(0))
        });
        let shift = 40 - from % 8 - count;
        ((window >> shift) & ((1u64 << count) - 1)) as u32
    }

    /// This id with the `count` bits (at most 32) from bit `from` on replaced by the low
    /// `count` bits of `value`, most significant first; bits past the end are ignored.
    pub fn with_bits(mut self, from: usize, count: usize, value: u32) -> NodeId {
        let count = count.min(32);
        for j in (0..count).filter(|j| from + j < ID_BITS) {
            let at = from + j;
            let mask = 0x80u8 >> (at % 8);
            if (value >> (count - 1 - j)) & 1 == 1 {
                self.0[at / 8] |= mask;
            } else {
                self.0[at / 8] &= !mask;
            }
        }
        self
    }

    /// A random id sharing exactly `prefix_len` leading bits with `self` (any id when
    /// `prefix_len` is 160 or more returns `self`): a target inside bucket `prefix_len`.
    pub fn random_in_bucket(
        &self,
        prefix_len: usize,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> NodeId {
        if prefix_len >= ID_BITS {
            return *self;
        }
        let mut out = NodeId::random(rng).0;
        for i in 0..=prefix_len {
            let byte = i / 8;
            let mask = 0x80u8 >> (i % 8);
            // Bits before `prefix_len` copy ours; the bit at `prefix_len` is flipped.
            let want = self.bit(i) != (i == prefix_len);
            out[byte] = if want {
                out[byte] | mask
            } else {
                out[byte] & !mask
            };
        }
        NodeId(out)
    }
}

impl Distance {
    /// Leading zero bits of the distance.
    pub fn leading_zeros(&self) -> usize {
        let mut n = 0;
        for b in self.0 {
            if b == 0 {
                n += 8;
            } else {
                return n + b.leading_zeros() as usize;
            }
        }
        n
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({self})")
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// BEP 42: the masks applied to the IP before hashing.
const V4_MASK: [u8; 4] = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK: [u8; 8] = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/// BEP 42: crc32c of the masked IP with the 3-bit `r` in the top bits of its first byte.
fn bep42_crc(ip: IpAddr, r: u8) -> u32 {
    let mut buf = [0u8; 8];
    let len = match ip {
        IpAddr::V4(v4) => {
            for (i, (o, m)) in v4.octets().iter().zip(V4_MASK).enumerate() {
                buf[i] = o & m;
            }
            4
        }
        IpAddr::V6(v6) => {
            for (i, (o, m)) in v6.octets().iter().zip(V6_MASK).enumerate() {
                buf[i] = o & m;
            }
            8
        }
    };
    buf[0] |= (r & 0x07) << 5;
    crc32c::crc32c(&buf[..len])
}

/// BEP 42: addresses whose ids are not checked ("local networks").
pub fn bep42_exempt(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 10
                || o[0] == 127
                || (o[0] == 172 && (o[1] & 0xf0) == 16)
                || (o[0] == 192 && o[1] == 168)
                || (o[0] == 169 && o[1] == 254)
        }
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

/// BEP 42: a node id for external address `ip`, with the one random byte `rand` (its low three
/// bits salt the hash and it is stored as the last byte) and the rest from `rng`.
pub fn bep42_id(ip: IpAddr, rand: u8, rng: &mut dyn rand_core::CryptoRng) -> NodeId {
    let crc = bep42_crc(ip, rand & 0x07);
    let mut id = NodeId::random(rng).0;
    id[0] = (crc >> 24) as u8;
    id[1] = (crc >> 16) as u8;
    id[2] = ((crc >> 8) as u8 & 0xf8) | (id[2] & 0x07);
    id[ID_LEN - 1] = rand;
    NodeId(id)
}

/// BEP 42: whether `id` is a valid id for `ip`: its top 21 bits match the hash of the masked
/// IP salted with the low bits of its last byte. Exempt addresses always pass.
pub fn bep42_verify(id: &NodeId, ip: IpAddr) -> bool {
    if bep42_exempt(ip) {
        return true;
    }
    let crc = bep42_crc(ip, id.0[ID_LEN - 1] & 0x07);
    id.0[0] == (crc >> 24) as u8
        && id.0[1] == (crc >> 16) as u8
        && (id.0[2] & 0xf8) == ((crc >> 8) as u8 & 0xf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn hex(s: &str) -> NodeId {
        let mut out = [0; 20];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).unwrap();
        }
        NodeId(out)
    }

    #[test]
    fn bits_read_and_write_runs_of_bits() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for _ in 0..50 {
            let id = NodeId::random(&mut rng);
            for from in (0..170).step_by(7) {
                for count in 0..=33 {
                    let want = (0..count.min(32))
                        .fold(0u32, |acc, j| (acc << 1) | u32::from(id.bit(from + j)));
                    assert_eq!(id.bits(from, count), want, "from {from} count {count}");
                }
            }
        }
        let id = NodeId([0; 20]).with_bits(5, 7, 0b101_1011);
        assert_eq!(id.bits(5, 7), 0b101_1011);
        assert_eq!(id.bits(0, 5), 0);
        assert_eq!(id.bits(12, 20), 0);
        let ones = NodeId([0xff; 20]).with_bits(158, 4, 0);
        assert_eq!(ones.0[19], 0xfc);
        assert_eq!(ones.bits(152, 8), 0xfc);
        assert_eq!(ones.bits(150, 8), 0xff);
    }

    /// BEP 42's table: IP, rand, example node id.
    const VECTORS: [(&str, u8, &str); 5] = [
        (
            "124.31.75.21",
            1,
            "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401",
        ),
        (
            "21.75.31.124",
            86,
            "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256",
        ),
        (
            "65.23.51.170",
            22,
            "a5d43220bc8f112a3d426c84764f8c2a1150e616",
        ),
        (
            "84.124.73.14",
            65,
            "1b0321dd1bb1fe518101ceef99462b947a01ff41",
        ),
        (
            "43.213.53.83",
            90,
            "e56f6cbf5b7c4be0237986d5243b87aa6d51305a",
        ),
    ];

    #[test]
    fn bep42_vectors() {
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        for (ip, rand, example) in VECTORS {
            let ip: IpAddr = ip.parse().unwrap();
            let example = hex(example);
            assert!(bep42_verify(&example, ip), "{ip}");
            let ours = bep42_id(ip, rand, &mut rng);
            assert_eq!(ours.0[..2], example.0[..2], "{ip}");
            assert_eq!(ours.0[2] & 0xf8, example.0[2] & 0xf8, "{ip}");
            assert_eq!(ours.0[19], rand);
            assert!(bep42_verify(&ours, ip));
            // Another address does not verify (these five differ in their masked bits).
            let other: IpAddr = "1.2.3.4".parse().unwrap();
            assert!(!bep42_verify(&example, other));
        }
    }

    #[test]
    fn bep42_ipv6_round_trip_and_exemptions() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let id = bep42_id(ip, 0x33, &mut rng);
        assert!(bep42_verify(&id, ip));
        let mut flipped = id;
        flipped.0[0] ^= 0x80;
        assert!(!bep42_verify(&flipped, ip));
        for local in [
            "10.1.2.3",
            "127.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.0.9",
            "::1",
        ] {
            assert!(bep42_verify(&flipped, local.parse().unwrap()), "{local}");
        }
        assert!(!bep42_exempt("172.32.0.1".parse().unwrap()));
    }

    #[test]
    fn xor_metric() {
        let a = hex("0000000000000000000000000000000000000000");
        let b = hex("8000000000000000000000000000000000000001");
        let c = hex("0000000000000000000000000000000000000003");
        assert_eq!(a.common_prefix_len(&b), 0);
        assert_eq!(a.common_prefix_len(&c), 158);
        assert_eq!(a.common_prefix_len(&a), 160);
        assert_eq!(a.cmp_distance(&c, &b), Ordering::Less);
        assert_eq!(b.distance(&c), c.distance(&b));
        assert_eq!(a.distance(&c).0[19], 3);
        assert!(b.bit(0) && !b.bit(1) && b.bit(159) && !b.bit(160));
    }

    #[test]
    fn distances_order_like_their_bytes() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let target = NodeId::random(&mut rng);
        let mut ids: Vec<NodeId> = (0..300).map(|_| NodeId::random(&mut rng)).collect();
        // Ids that differ from each other only in the low 32 bits, or only in the last byte.
        for n in 0..40u8 {
            let mut id = target;
            id.0[16 + usize::from(n % 4)] ^= n.wrapping_mul(37) | 1;
            ids.push(id);
        }
        ids.push(target);
        for a in &ids {
            for b in ids.iter().step_by(7) {
                let (da, db) = (target.distance(a), target.distance(b));
                assert_eq!(da.cmp(&db), da.0.cmp(&db.0));
                assert_eq!(target.cmp_distance(a, b), da.0.cmp(&db.0));
            }
        }
    }

    #[test]
    fn random_in_bucket_lands_in_bucket() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let me = NodeId::random(&mut rng);
        for prefix in [0, 1, 7, 8, 9, 63, 100, 159] {
            for _ in 0..20 {
                let t = me.random_in_bucket(prefix, &mut rng);
                assert_eq!(me.common_prefix_len(&t), prefix);
            }
        }
        assert_eq!(me.random_in_bucket(160, &mut rng), me);
    }
}
