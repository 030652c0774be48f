//! Round-trip times per pair of hosts, for topologies where a host is not "slow to everyone".
//!
//! A node's [`LinkConfig`](crate::LinkConfig) latency applies to everything it sends, so the
//! round trip between two nodes is the sum of their two links: one slow node is slow to every
//! peer. Wide-area paths are not like that (a host near one peer is far from another), so with
//! [`Sim::set_pair_latency`](crate::Sim::set_pair_latency) every pair of addresses gets its own
//! round-trip time, drawn uniformly from a range. The draw is a keyed hash of the simulator seed
//! and the two addresses, so it needs no memory per pair (a 100,000-node run would need 5·10⁹
//! pairs), draws nothing from the simulator's random stream, and is the same in both directions
//! and every time it is asked.

use core::net::IpAddr;
use core::time::Duration;

use crate::rng::mix64;

/// Round-trip times drawn per pair of addresses, uniformly from `min_rtt..=max_rtt`.
///
/// The pair is the two IPs a datagram carries where it turns from going up to coming down
/// (for hosts on the public network, their own addresses; behind NATs, the external ones), so
/// a request and its answer see the same pair. Half of the round trip is added to each
/// direction, on top of the sender's link latency and jitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairLatency {
    /// Shortest round trip.
    pub min_rtt: Duration,
    /// Longest round trip.
    pub max_rtt: Duration,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A 64-bit key for an address; the family tag keeps 0.0.0.1 apart from ::1.
fn ip_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => mix64(u64::from(u32::from(v4)) | (4 << 32)),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            mix64((bits >> 64) as u64 ^ mix64(bits as u64 ^ 6))
        }
    }
}

impl PairLatency {
    /// Round trips drawn from `min_rtt..=max_rtt` (the bounds are swapped if given backwards).
    pub fn uniform(min_rtt: Duration, max_rtt: Duration) -> PairLatency {
        PairLatency {
            min_rtt: min_rtt.min(max_rtt),
            max_rtt: min_rtt.max(max_rtt),
        }
    }

    /// The round trip between `a` and `b` in a simulation seeded with `seed`, in nanoseconds.
    /// Symmetric in `a` and `b`.
    pub(crate) fn rtt_nanos(&self, seed: u64, a: IpAddr, b: IpAddr) -> u64 {
        let (ka, kb) = (ip_key(a), ip_key(b));
        let (lo, hi) = if ka <= kb { (ka, kb) } else { (kb, ka) };
        let h = mix64(mix64(seed ^ 0x7061_6972_5f72_7474) ^ mix64(lo ^ mix64(hi)));
        let min = nanos(self.min_rtt);
        let span = nanos(self.max_rtt).saturating_sub(min).saturating_add(1);
        // Multiply-shift maps the hash uniformly onto the span.
        min + ((u128::from(h) * u128::from(span)) >> 64) as u64
    }

    /// The round trip between `a` and `b` in a simulation seeded with `seed`; symmetric in
    /// `a` and `b`, and the same every time it is asked.
    pub fn rtt(&self, seed: u64, a: IpAddr, b: IpAddr) -> Duration {
        Duration::from_nanos(self.rtt_nanos(seed, a, b))
    }

    /// The one-way share from `from` to `to`: the two directions add up to the round trip
    /// exactly (the odd nanosecond goes one way).
    pub(crate) fn one_way_nanos(&self, seed: u64, from: IpAddr, to: IpAddr) -> u64 {
        let rtt = self.rtt_nanos(seed, from, to);
        if ip_key(from) <= ip_key(to) {
            rtt / 2
        } else {
            rtt - rtt / 2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(i: u32) -> IpAddr {
        IpAddr::V4(i.into())
    }

    #[test]
    fn symmetric_deterministic_in_range_and_spread() {
        let ms = Duration::from_millis;
        let p = PairLatency::uniform(ms(300), ms(20));
        assert_eq!(p.min_rtt, ms(20));
        let mut sum = 0u64;
        let mut below_half = 0;
        let n = 2000u32;
        for i in 0..n {
            let (a, b) = (v4(0x0b00_0001 + i), v4(0x0c00_0001 + i * 7));
            let rtt = p.rtt_nanos(5, a, b);
            assert_eq!(rtt, p.rtt_nanos(5, b, a));
            assert!((20_000_000..=300_000_000).contains(&rtt), "{rtt}");
            assert_eq!(
                p.one_way_nanos(5, a, b) + p.one_way_nanos(5, b, a),
                rtt,
                "directions add up"
            );
            sum += rtt;
            below_half += usize::from(rtt < 160_000_000);
        }
        // Uniform over 20-300 ms: mean and median 160 ms.
        let mean = sum / u64::from(n);
        assert!((150_000_000..170_000_000).contains(&mean), "{mean}");
        assert!((900..1100).contains(&below_half), "{below_half}");
        // Another seed, another draw; one slow pair does not make a node slow to all.
        let (a, b) = (v4(0x0b00_0001), v4(0x0c00_0001));
        assert_ne!(p.rtt_nanos(5, a, b), p.rtt_nanos(6, a, b));
        let to_a: Vec<u64> = (1..20)
            .map(|i| p.rtt_nanos(5, a, v4(0x0d00_0000 + i)))
            .collect();
        assert!(to_a.iter().any(|r| *r < 100_000_000) && to_a.iter().any(|r| *r > 200_000_000));
        let v6: IpAddr = "2001:db8::1".parse().unwrap_or(a);
        assert!(p.rtt_nanos(5, a, v6) >= 20_000_000);
    }

    #[test]
    fn a_round_trip_takes_the_pair_rtt_plus_both_links() {
        use crate::probe::Probe;
        use crate::{LinkConfig, NetworkId, Sim};
        let ms = Duration::from_millis;
        let mut sim = Sim::new(11);
        let pair = PairLatency::uniform(ms(20), ms(300));
        sim.set_pair_latency(Some(pair));
        let (a, b): (core::net::SocketAddr, core::net::SocketAddr) = (
            ([192, 0, 2, 1], 1000).into(),
            ([198, 51, 100, 7], 2000).into(),
        );
        let link = LinkConfig::with_latency(ms(5));
        let na = sim.add_node(NetworkId::PUBLIC, &[a], Probe::default(), link);
        let nb = sim.add_node(NetworkId::PUBLIC, &[b], Probe::reflector(), link);
        let (Ok(na), Ok(_)) = (na, nb) else {
            panic!("two public hosts");
        };
        sim.command(na, |p: &mut Probe, _| p.send(a, b, b"x".to_vec()));
        sim.run_for(ms(400));
        let rtt = sim.pair_rtt(a.ip(), b.ip());
        assert!(rtt >= ms(20) && rtt <= ms(300));
        let got = sim.machine::<Probe>(na).map(|p| p.received().to_vec());
        let at = got.and_then(|g| g.first().map(|r| r.at));
        assert_eq!(at, Some(pigeon::Instant::ZERO + rtt + ms(10)));
    }
}
