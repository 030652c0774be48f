//! Data channels over SCTP over DTLS (`DataChannelPeer`) on the simulator: through loss,
//! reordering and duplication, a reliable ordered channel delivers every byte exactly once and
//! in order, in both directions at once; the same seed gives the same run.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::datachannel::{
    ChannelId, ChannelOptions, DataChannelEvent, DataChannelPeer, DataChannelPeerConfig,
    MessageData, PeerEvent,
};
use pigeon::dtls::{DtlsCertificate, DtlsRole};
use pigeon_sim::{LinkConfig, LossModel, NetworkId, NodeId, Sim};

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

/// The byte at `offset` of the stream each side sends (distinct per side).
fn byte(side: u8, offset: usize) -> u8 {
    (offset as u8).wrapping_mul(7) ^ (offset / 251) as u8 ^ side
}

struct Run {
    sim: Sim,
    a: NodeId,
    b: NodeId,
    /// What each side received on the channel, concatenated.
    got_a: Vec<u8>,
    got_b: Vec<u8>,
}

impl Run {
    fn collect(&mut self) -> (bool, bool) {
        let mut opened = (false, false);
        for (node, got, open) in [
            (self.a, &mut self.got_a, &mut opened.0),
            (self.b, &mut self.got_b, &mut opened.1),
        ] {
            for event in self.sim.take_events::<DataChannelPeer>(node) {
                match event {
                    PeerEvent::Channel(DataChannelEvent::Open(_)) => *open = true,
                    PeerEvent::Channel(DataChannelEvent::Message {
                        data: MessageData::Binary(bytes),
                        ..
                    }) => got.extend_from_slice(&bytes),
                    PeerEvent::Closed(cause) => panic!("connection closed: {cause:?}"),
                    _ => {}
                }
            }
        }
        opened
    }
}

/// Both peers on a lossy link; the DTLS client opens a reliable ordered channel; each side
/// sends `total` bytes in messages of varying sizes. Returns what the run looked like.
fn transfer(seed: u64, loss: f64, total: usize) -> (Duration, u64, u64) {
    let mut sim = Sim::new(seed);
    let ca = DtlsCertificate::generate(&mut sim.fork_rng("cert a"), "a");
    let cb = DtlsCertificate::generate(&mut sim.fork_rng("cert b"), "b");
    let config = |fingerprint| {
        let mut c = DataChannelPeerConfig::default();
        c.dtls.expected_fingerprint = Some(fingerprint);
        c
    };
    let peer_a = DataChannelPeer::new(
        DtlsRole::Client,
        config(cb.fingerprint()),
        ca.clone(),
        sim.fork_rng("dtls a"),
        sim.fork_rng("sctp a"),
        addr(A),
        addr(B),
    );
    let peer_b = DataChannelPeer::new(
        DtlsRole::Server,
        config(ca.fingerprint()),
        cb,
        sim.fork_rng("dtls b"),
        sim.fork_rng("sctp b"),
        addr(B),
        addr(A),
    );
    let link = link(loss);
    let a = sim
        .add_node(NetworkId::PUBLIC, &[addr(A)], peer_a, link)
        .unwrap();
    let b = sim
        .add_node(NetworkId::PUBLIC, &[addr(B)], peer_b, link)
        .unwrap();
    let id: ChannelId = sim
        .command::<DataChannelPeer, _>(a, |m, now| {
            m.open(now, "bulk", "", ChannelOptions::default())
        })
        .unwrap()
        .unwrap();
    let mut run = Run {
        sim,
        a,
        b,
        got_a: Vec::new(),
        got_b: Vec::new(),
    };
    let mut open = (false, false);
    for _ in 0..300 {
        run.sim.run_for(Duration::from_millis(100));
        let now = run.collect();
        open = (open.0 || now.0, open.1 || now.1);
        if open.0 && open.1 {
            break;
        }
    }
    assert!(
        open.0 && open.1,
        "seed {seed} loss {loss}: channel not open"
    );
    let start = run.sim.now();
    // Sizes from 1 byte to ~16 KiB, so that single-chunk and fragmented messages mix.
    let mut offset = 0;
    let mut size = 1;
    while offset < total {
        let len = size.min(total - offset);
        for (node, side) in [(a, 1u8), (b, 2u8)] {
            let message: Vec<u8> = (offset..offset + len).map(|i| byte(side, i)).collect();
            run.sim
                .command::<DataChannelPeer, _>(node, |m, now| m.send_binary(now, id, &message))
                .unwrap()
                .unwrap();
        }
        offset += len;
        size = (size * 3 + 17) % 16_500 + 1;
    }
    for _ in 0..3600 {
        run.sim.run_for(Duration::from_secs(1));
        run.collect();
        if run.got_a.len() >= total && run.got_b.len() >= total {
            break;
        }
    }
    run.sim.run_for(Duration::from_secs(5));
    run.collect();
    for (got, side) in [(&run.got_b, 1u8), (&run.got_a, 2u8)] {
        assert_eq!(
            got.len(),
            total,
            "seed {seed} loss {loss}: bytes from side {side}"
        );
        let first_bad = (0..total).find(|&i| got[i] != byte(side, i));
        assert_eq!(first_bad, None, "seed {seed} loss {loss}: side {side}");
    }
    let stats = run
        .sim
        .command::<DataChannelPeer, _>(a, |m, _| m.sctp_stats())
        .unwrap();
    (
        run.sim.now() - start,
        stats.fast_retransmits + stats.timeout_retransmits,
        run.sim.trace_hash(),
    )
}

#[test]
fn reliable_ordered_bytes_arrive_exactly_once_in_order_through_loss() {
    for (seed, loss) in [(1, 0.0), (2, 0.01), (3, 0.05), (4, 0.15), (5, 0.30)] {
        let (took, retransmissions, _) = transfer(seed, loss, 512 * 1024);
        eprintln!("loss {loss}: {took:?}, {retransmissions} retransmission events");
        if loss >= 0.05 {
            assert!(
                retransmissions > 0,
                "seed {seed}: loss without retransmission"
            );
        }
    }
}

#[test]
fn same_seed_same_run() {
    assert_eq!(transfer(7, 0.05, 64 * 1024), transfer(7, 0.05, 64 * 1024));
}
