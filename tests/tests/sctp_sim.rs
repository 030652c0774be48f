//! SCTP associations (RFC 9260) straight over UDP on the simulator: reliable ordered streams
//! deliver every byte exactly once and in order through loss, reordering and duplication;
//! many streams at once; the same seed gives the same run.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::sctp::{Config, Event, SctpOverUdp, SendOptions};
use pigeon_sim::{LinkConfig, LossModel, NodeId, Sim};
use pigeon_tests::sctp::connected_pair;

const A: &str = "192.0.2.10:5000";
const B: &str = "192.0.2.20:5000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn link(loss: f64) -> LinkConfig {
    LinkConfig {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        loss: LossModel::Uniform(loss),
        duplicate: 0.02,
        reorder: 0.05,
        reorder_delay: Duration::from_millis(15),
        ..LinkConfig::default()
    }
}

/// `a` connects to `b`; both established when this returns.
fn setup(seed: u64, link: LinkConfig) -> (Sim, NodeId, NodeId) {
    let addrs = (addr(A), addr(B));
    connected_pair(
        seed,
        Config::default(),
        link,
        addrs,
        Duration::from_secs(120),
    )
}

/// Sends 1 MiB from `a` as 8 KiB messages spread over `streams` streams and checks that `b`
/// gets each stream's messages exactly once and in order. Returns the virtual time it took.
fn transfer(seed: u64, loss: f64, streams: u16) -> (Duration, u64) {
    let (mut sim, a, b) = setup(seed, link(loss));
    let start = sim.now();
    let count = 128u32;
    for i in 0..count {
        let mut msg = vec![(i % 256) as u8; 8192];
        msg[..4].copy_from_slice(&i.to_be_bytes());
        let stream = (i % u32::from(streams)) as u16;
        sim.command::<SctpOverUdp, _>(a, |m, now| {
            m.association
                .send(now, stream, 53, msg, SendOptions::default())
        })
        .unwrap()
        .unwrap();
    }
    let mut received: Vec<(u16, Vec<u8>)> = Vec::new();
    for _ in 0..3600 {
        sim.run_for(Duration::from_secs(1));
        for event in sim.take_events::<SctpOverUdp>(b) {
            if let Event::Message { stream, data, .. } = event {
                received.push((stream, data));
            }
        }
        if received.len() >= count as usize {
            break;
        }
    }
    sim.run_for(Duration::from_secs(5));
    for event in sim.take_events::<SctpOverUdp>(b) {
        if let Event::Message { stream, data, .. } = event {
            received.push((stream, data));
        }
    }
    assert_eq!(received.len(), count as usize, "seed {seed} loss {loss}");
    let mut next = vec![0u32; usize::from(streams)];
    for (stream, data) in &received {
        let i = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        let expected = next[usize::from(*stream)] * u32::from(streams) + u32::from(*stream);
        assert_eq!(i, expected, "stream {stream}: message {i} out of order");
        next[usize::from(*stream)] += 1;
        assert_eq!(data.len(), 8192);
        assert!(data[4..].iter().all(|&byte| byte == (i % 256) as u8));
    }
    let stats = sim
        .command::<SctpOverUdp, _>(a, |m, _| m.association.stats())
        .unwrap();
    (
        sim.now() - start,
        stats.fast_retransmits + stats.timeout_retransmits,
    )
}

#[test]
fn one_mebibyte_exactly_once_in_order_at_0_1_5_30_percent_loss() {
    for (seed, loss) in [(1, 0.0), (2, 0.01), (3, 0.05), (4, 0.30)] {
        let (took, retransmissions) = transfer(seed, loss, 1);
        eprintln!("loss {loss}: {took:?}, {retransmissions} retransmission events");
        if loss >= 0.05 {
            assert!(retransmissions > 0);
        }
    }
}

#[test]
fn many_streams_at_once() {
    transfer(5, 0.05, 16);
}

#[test]
fn same_seed_same_run() {
    let first = transfer(6, 0.05, 2);
    let second = transfer(6, 0.05, 2);
    assert_eq!(first, second);
}
