//! Link model: exact latency, jitter bounds, loss statistics (uniform and bursty), duplication,
//! reordering, MTU, bandwidth queueing and tail drop, link up/down, partitions.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::Instant;
use pigeon_sim::probe::Probe;
use pigeon_sim::{DropReason, LinkConfig, LossModel, NetworkId, NodeId, Sim};

const A: &str = "192.0.2.1:1000";
const B: &str = "192.0.2.2:2000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Two public probes; `a` sends over `link`, `b` answers nothing and has an ideal link.
fn pair(seed: u64, link: LinkConfig) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::new(seed);
    let a = sim
        .add_node(NetworkId::PUBLIC, &[addr(A)], Probe::default(), link)
        .unwrap();
    let b = sim
        .add_node(
            NetworkId::PUBLIC,
            &[addr(B)],
            Probe::default(),
            LinkConfig::with_latency(Duration::ZERO),
        )
        .unwrap();
    (sim, a, b)
}

fn send(sim: &mut Sim, from: NodeId, src: &str, dst: &str, payload: Vec<u8>) {
    sim.command(from, |p: &mut Probe, _| {
        p.send(addr(src), addr(dst), payload)
    })
    .unwrap();
}

fn send_many(sim: &mut Sim, from: NodeId, n: u32, len: usize) {
    for i in 0..n {
        let mut payload = i.to_be_bytes().to_vec();
        payload.resize(len.max(4), 0);
        send(sim, from, A, B, payload);
    }
}

fn received(sim: &Sim, node: NodeId) -> Vec<(Instant, u32)> {
    sim.machine::<Probe>(node)
        .unwrap()
        .received()
        .iter()
        .map(|r| (r.at, u32::from_be_bytes(r.payload[..4].try_into().unwrap())))
        .collect()
}

#[test]
fn latency_is_exact() {
    let (mut sim, a, b) = pair(1, LinkConfig::with_latency(Duration::from_millis(37)));
    sim.run_until(Instant::from_millis(5));
    send(&mut sim, a, A, B, 7u32.to_be_bytes().to_vec());
    sim.run_for(Duration::from_secs(1));
    assert_eq!(received(&sim, b), vec![(Instant::from_millis(42), 7)]);
}

#[test]
fn jitter_stays_within_bounds_and_varies() {
    let link = LinkConfig {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(10),
        ..LinkConfig::default()
    };
    let (mut sim, a, b) = pair(2, link);
    send_many(&mut sim, a, 500, 8);
    sim.run_for(Duration::from_secs(1));
    let got = received(&sim, b);
    assert_eq!(got.len(), 500);
    let times: Vec<u64> = got.iter().map(|(t, _)| t.as_nanos()).collect();
    assert!(
        times
            .iter()
            .all(|&t| (20_000_000..=30_000_000).contains(&t))
    );
    let min = *times.iter().min().unwrap();
    let max = *times.iter().max().unwrap();
    assert!(max - min > 8_000_000, "jitter spread only {} ns", max - min);
}

#[test]
fn uniform_loss_rate_is_within_bounds() {
    let (mut sim, a, b) = pair(
        3,
        LinkConfig {
            loss: LossModel::Uniform(0.1),
            ..LinkConfig::default()
        },
    );
    send_many(&mut sim, a, 10_000, 8);
    sim.run_for(Duration::from_secs(1));
    let got = received(&sim, b).len() as u64;
    // Binomial(10 000, 0.9): sd = 30; allow 5 sd.
    assert!((8_850..=9_150).contains(&got), "delivered {got}");
    assert_eq!(sim.stats().dropped(DropReason::Loss), 10_000 - got);
}

/// Mean length of runs of consecutive lost sequence numbers.
fn mean_loss_burst(got: &[(Instant, u32)], n: u32) -> f64 {
    let mut seen = vec![false; n as usize];
    for (_, i) in got {
        seen[*i as usize] = true;
    }
    let (mut bursts, mut lost, mut in_burst) = (0u32, 0u32, false);
    for s in seen {
        if !s {
            lost += 1;
            if !in_burst {
                bursts += 1;
            }
        }
        in_burst = !s;
    }
    f64::from(lost) / f64::from(bursts.max(1))
}

#[test]
fn gilbert_elliott_loss_comes_in_bursts() {
    // Stationary loss = p / (p + r) = 0.02 / 0.27 ~ 7.4 %; mean burst = 1 / r = 4.
    let ge = LossModel::GilbertElliott {
        p_good_to_bad: 0.02,
        p_bad_to_good: 0.25,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    let n = 20_000;
    let (mut sim, a, b) = pair(
        4,
        LinkConfig {
            loss: ge,
            ..LinkConfig::default()
        },
    );
    send_many(&mut sim, a, n, 8);
    sim.run_for(Duration::from_secs(1));
    let bursty = received(&sim, b);
    let loss = 1.0 - bursty.len() as f64 / f64::from(n);
    assert!((0.055..=0.095).contains(&loss), "loss {loss}");
    let burst = mean_loss_burst(&bursty, n);
    assert!((3.0..=5.0).contains(&burst), "mean burst {burst}");

    // Uniform loss at the same rate has bursts of about one.
    let (mut sim, a, b) = pair(
        4,
        LinkConfig {
            loss: LossModel::Uniform(0.074),
            ..LinkConfig::default()
        },
    );
    send_many(&mut sim, a, n, 8);
    sim.run_for(Duration::from_secs(1));
    let burst = mean_loss_burst(&received(&sim, b), n);
    assert!(burst < 1.2, "uniform mean burst {burst}");
}

#[test]
fn duplication_delivers_extra_copies() {
    let (mut sim, a, b) = pair(
        5,
        LinkConfig {
            duplicate: 0.2,
            ..LinkConfig::default()
        },
    );
    send_many(&mut sim, a, 5_000, 8);
    sim.run_for(Duration::from_secs(1));
    let got = received(&sim, b).len() as u64;
    let dups = sim.stats().duplicated;
    assert_eq!(got, 5_000 + dups);
    // Binomial(5 000, 0.2): sd ~ 28; allow 5 sd.
    assert!((860..=1_140).contains(&dups), "duplicates {dups}");
}

fn inversions(got: &[(Instant, u32)]) -> usize {
    got.windows(2).filter(|w| w[1].1 < w[0].1).count()
}

#[test]
fn reordering_lets_later_datagrams_pass() {
    for (reorder, expect_some) in [(0.0, false), (0.1, true)] {
        let (mut sim, a, b) = pair(
            6,
            LinkConfig {
                reorder,
                reorder_delay: Duration::from_millis(5),
                ..LinkConfig::default()
            },
        );
        for i in 0..1_000u32 {
            send(&mut sim, a, A, B, i.to_be_bytes().to_vec());
            sim.run_for(Duration::from_millis(1));
        }
        sim.run_for(Duration::from_secs(1));
        let got = received(&sim, b);
        assert_eq!(got.len(), 1_000);
        let inv = inversions(&got);
        if expect_some {
            // About 100 held back datagrams, each overtaken by the next few.
            assert!((50..=150).contains(&inv), "inversions {inv}");
        } else {
            assert_eq!(inv, 0);
        }
    }
}

#[test]
fn mtu_drops_oversized_datagrams() {
    let (mut sim, a, b) = pair(7, LinkConfig::default());
    // 1500 - 20 (IPv4) - 8 (UDP) = 1472.
    send(&mut sim, a, A, B, vec![0; 1472]);
    send(&mut sim, a, A, B, vec![1; 1473]);
    sim.run_for(Duration::from_secs(1));
    let got = sim.machine::<Probe>(b).unwrap().received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload.len(), 1472);
    assert_eq!(sim.stats().dropped(DropReason::Mtu), 1);

    let mut sim = Sim::new(7);
    let (a6, b6) = (addr("[2001:db8::1]:1"), addr("[2001:db8::2]:2"));
    let a = sim
        .add_node(
            NetworkId::PUBLIC,
            &[a6],
            Probe::default(),
            LinkConfig::default(),
        )
        .unwrap();
    let b = sim
        .add_node(
            NetworkId::PUBLIC,
            &[b6],
            Probe::default(),
            LinkConfig::default(),
        )
        .unwrap();
    // 1500 - 40 (IPv6) - 8 = 1452.
    sim.command(a, |p: &mut Probe, _| {
        p.send(a6, b6, vec![0; 1452]);
        p.send(a6, b6, vec![0; 1453]);
    });
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.machine::<Probe>(b).unwrap().received().len(), 1);
    assert_eq!(sim.stats().dropped(DropReason::Mtu), 1);
}

#[test]
fn bandwidth_queues_then_tail_drops() {
    // 1 Mbit/s; 1222 payload + 28 header = 1250 bytes = 10 ms on the wire.
    let link = LinkConfig {
        latency: Duration::from_millis(5),
        bandwidth: Some(1_000_000),
        queue_bytes: 5_000,
        ..LinkConfig::default()
    };
    let (mut sim, a, b) = pair(8, link);
    send_many(&mut sim, a, 10, 1222);
    sim.run_for(Duration::from_secs(1));
    let got = received(&sim, b);
    // The queue (the datagram on the wire included) holds four: the other six are dropped.
    assert_eq!(
        got,
        (0..4)
            .map(|i| (Instant::from_millis(15 + 10 * i as u64), i))
            .collect::<Vec<_>>()
    );
    assert_eq!(sim.stats().dropped(DropReason::QueueFull), 6);

    // Once the queue drains, it accepts again.
    send_many(&mut sim, a, 1, 1222);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(received(&sim, b).len(), 5);
}

#[test]
fn link_down_drops_both_ways_until_up() {
    let (mut sim, a, b) = pair(9, LinkConfig::default());
    sim.set_link_up(a, false);
    send(&mut sim, a, A, B, vec![0; 4]);
    send(&mut sim, b, B, A, vec![1; 4]);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.stats().dropped(DropReason::LinkDown), 2);
    assert!(received(&sim, a).is_empty() && received(&sim, b).is_empty());

    sim.set_link_up(a, true);
    send(&mut sim, a, A, B, vec![0; 4]);
    send(&mut sim, b, B, A, vec![1; 4]);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(received(&sim, a).len(), 1);
    assert_eq!(received(&sim, b).len(), 1);
}

#[test]
fn partitions_cut_traffic_until_healed() {
    let (mut sim, a, b) = pair(10, LinkConfig::default());
    sim.set_partition(a, 1);
    send(&mut sim, a, A, B, vec![0; 4]);
    send(&mut sim, b, B, A, vec![1; 4]);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.stats().dropped(DropReason::Partition), 2);

    sim.set_partition(b, 1);
    send(&mut sim, a, A, B, vec![0; 4]);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(received(&sim, b).len(), 1);

    sim.heal_partitions();
    send(&mut sim, b, B, A, vec![1; 4]);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(received(&sim, a).len(), 1);
}

#[test]
fn unknown_destinations_and_ports_are_dropped() {
    let (mut sim, a, _b) = pair(11, LinkConfig::default());
    send(&mut sim, a, A, "203.0.113.9:1", vec![0; 4]);
    send(&mut sim, a, A, "192.0.2.2:2001", vec![0; 4]);
    send(&mut sim, a, "192.0.2.1:999", B, vec![0; 4]);
    sim.run_for(Duration::from_secs(1));
    let s = sim.stats();
    assert_eq!(s.dropped(DropReason::NoRoute), 1);
    assert_eq!(s.dropped(DropReason::PortUnreachable), 1);
    assert_eq!(s.dropped(DropReason::UnboundSource), 1);
    assert_eq!(s.delivered, 0);
}
