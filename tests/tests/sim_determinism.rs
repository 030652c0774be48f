//! One seed drives every random choice: the same seed gives the same trace (hash and text),
//! another seed a different one, in a scenario where randomness matters (loss, jitter,
//! duplication, reordering, random NAT ports, per-node generators).

use std::time::Duration;

use pigeon_sim::scenarios::ping::{Pinger, mesh_addr};
use pigeon_sim::{LinkConfig, LossModel, NatConfig, NetworkId, Sim};

/// A mesh of pingers, a third of them behind a symmetric NAT (so NAT port choice is random),
/// on lossy, jittery, duplicating, reordering links. Returns the hash and the text trace.
fn run(seed: u64, text: bool) -> (u64, String, u64) {
    let mut sim = Sim::new(seed);
    if text {
        sim.enable_trace();
    }
    let link = LinkConfig {
        latency: Duration::from_millis(15),
        jitter: Duration::from_millis(10),
        loss: LossModel::GilbertElliott {
            p_good_to_bad: 0.05,
            p_bad_to_good: 0.3,
            loss_good: 0.01,
            loss_bad: 0.8,
        },
        duplicate: 0.02,
        reorder: 0.05,
        reorder_delay: Duration::from_millis(20),
        ..LinkConfig::default()
    };
    let realm = sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::symmetric().with_external_ip("198.51.100.1".parse().unwrap()),
        )
        .unwrap();
    let nodes = 30;
    for i in 0..nodes {
        let rng = sim.fork_rng(&format!("pinger/{i}"));
        let machine = Pinger::new(i, nodes, Duration::from_millis(50), rng);
        // Pingers behind the NAT send to public pingers' addresses; answers come back through
        // the mapping. Pings *to* them are dropped (no mapping), which the trace records too.
        let network = if i % 3 == 0 { realm } else { NetworkId::PUBLIC };
        sim.add_node(network, &[mesh_addr(i)], machine, link)
            .unwrap();
    }
    sim.run_for(Duration::from_secs(5));
    let delivered = sim.stats().delivered;
    (sim.trace_hash(), sim.trace_text().to_owned(), delivered)
}

#[test]
fn same_seed_same_trace() {
    let (h1, t1, d1) = run(42, true);
    let (h2, t2, d2) = run(42, true);
    assert!(d1 > 1_000, "the scenario carries traffic ({d1})");
    assert_eq!(h1, h2);
    assert_eq!(d1, d2);
    assert_eq!(t1, t2);
    // Random effects are in the trace.
    for needle in ["drop loss", "nat0 map", "deliver"] {
        assert!(t1.contains(needle), "trace has no {needle:?}");
    }
}

#[test]
fn other_seed_other_trace() {
    let (h1, _, _) = run(42, false);
    let (h2, _, _) = run(43, false);
    assert_ne!(h1, h2);
}

#[test]
fn text_tracing_does_not_change_the_hash() {
    let (with_text, text, _) = run(7, true);
    let (without, empty, _) = run(7, false);
    assert_eq!(with_text, without);
    assert!(empty.is_empty());
    assert!(!text.is_empty());
}

#[test]
fn forked_generators_depend_only_on_seed_and_label() {
    let sim = Sim::new(5);
    let mut other = Sim::new(5);
    // Adding nodes and running does not change what a label yields.
    other
        .add_node(
            NetworkId::PUBLIC,
            &[mesh_addr(0)],
            Pinger::new(0, 1, Duration::from_secs(1), other.fork_rng("x")),
            LinkConfig::default(),
        )
        .unwrap();
    other.run_for(Duration::from_secs(3));
    assert_eq!(
        sim.fork_rng("node/1").next_u64(),
        other.fork_rng("node/1").next_u64()
    );
    assert_ne!(
        sim.fork_rng("node/1").next_u64(),
        sim.fork_rng("node/2").next_u64()
    );
    assert_ne!(
        sim.fork_rng("node/1").next_u64(),
        Sim::new(6).fork_rng("node/1").next_u64()
    );
}
