//! SCTP associations on the simulator, shared by the SCTP scenario tests.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::sctp::{Association, Config, SctpOverUdp};
use pigeon_sim::{LinkConfig, NetworkId, NodeId, Sim};

/// Two associations with `config` over `link`, at `a` and `b` on the public network; `a`
/// connects. Returns once both are established; panics if that takes over `limit`.
pub fn connected_pair(
    seed: u64,
    config: Config,
    link: LinkConfig,
    (a, b): (SocketAddr, SocketAddr),
    limit: Duration,
) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::new(seed);
    let assoc_a = Association::new(config.clone(), sim.fork_rng("a"));
    let assoc_b = Association::new(config, sim.fork_rng("b"));
    let node_a = sim
        .add_node(
            NetworkId::PUBLIC,
            &[a],
            SctpOverUdp::new(assoc_a, a, b),
            link,
        )
        .expect("add a");
    let node_b = sim
        .add_node(
            NetworkId::PUBLIC,
            &[b],
            SctpOverUdp::new(assoc_b, b, a),
            link,
        )
        .expect("add b");
    sim.command::<SctpOverUdp, _>(node_a, |m, now| m.association.connect(now));
    let up = |sim: &mut Sim, n| {
        sim.command::<SctpOverUdp, _>(n, |m, _| m.association.is_established())
            .expect("node exists")
    };
    let mut waited = Duration::ZERO;
    while waited < limit {
        sim.run_for(Duration::from_secs(1));
        waited += Duration::from_secs(1);
        if up(&mut sim, node_a) && up(&mut sim, node_b) {
            return (sim, node_a, node_b);
        }
    }
    panic!("seed {seed}: no association within {limit:?}");
}
