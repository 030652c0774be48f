//! Two ICE agents behind simulated NATs (pigeon-sim), with pigeon's STUN and TURN servers on
//! the public side and a signaling channel with delay: server-reflexive connectivity through
//! port-restricted cone NATs, and relayed connectivity between two symmetric NATs.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::ice::{CandidateKind, IceAgent, IceConfig, IceEvent, IceState};
use pigeon::stun::{BindingServer, ServerConfig};
use pigeon::turn::{TurnServer, TurnServerConfig};
use pigeon_sim::{LinkConfig, LossModel, NatConfig, NetworkId, NodeId, Sim};

const STUN: &str = "192.0.2.1:3478";
const TURN: &str = "192.0.2.2:3478";
const SIGNALING_DELAY: Duration = Duration::from_millis(40);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct World {
    sim: Sim,
    a: NodeId,
    b: NodeId,
    a_events: Vec<IceEvent>,
    b_events: Vec<IceEvent>,
}

/// Builds the world: servers, two NATs of the given kind, an agent behind each.
fn world(seed: u64, nat: fn() -> NatConfig, turn: bool) -> World {
    world_with(
        seed,
        nat,
        turn,
        LinkConfig::with_latency(Duration::from_millis(15)),
    )
}

/// [`world`] with every node behind `link`.
fn world_with(seed: u64, nat: fn() -> NatConfig, turn: bool, link: LinkConfig) -> World {
    let mut sim = Sim::new(seed);
    let stun = BindingServer::new(ServerConfig::new(addr(STUN))).unwrap();
    sim.add_node(NetworkId::PUBLIC, &[addr(STUN)], stun, link)
        .unwrap();
    let turn_config = TurnServerConfig::new(addr(TURN), addr(TURN).ip(), (50_000, 50_015), "sim")
        .with_user("user", "secret");
    let turn_server = TurnServer::new(turn_config, sim.fork_rng("turn"));
    // The server's node owns its listening socket and every relay port.
    let mut sockets = vec![addr(TURN)];
    sockets.extend((50_000..=50_015).map(|port| SocketAddr::new(addr(TURN).ip(), port)));
    sim.add_node(NetworkId::PUBLIC, &sockets, turn_server, link)
        .unwrap();
    let mut agents = Vec::new();
    for (i, controlling) in [(1u8, true), (2u8, false)] {
        let external = format!("198.51.100.{i}").parse().unwrap();
        let realm = sim
            .add_nat(NetworkId::PUBLIC, nat().with_external_ip(external))
            .unwrap();
        let local = addr(&format!("10.0.{i}.2:5000"));
        let agent = IceAgent::new(
            IceConfig::new(controlling),
            sim.fork_rng(&format!("ice{i}")),
        );
        let node = sim.add_node(realm, &[local], agent, link).unwrap();
        sim.command(node, |agent: &mut IceAgent, now| {
            agent.add_local_address(now, local).unwrap();
            agent.add_stun_server(now, addr(STUN));
            if turn {
                agent.add_turn_server(now, addr(TURN), "user", "secret");
            }
        });
        agents.push(node);
    }
    let (a, b) = (agents[0], agents[1]);
    let creds = |sim: &Sim, node| {
        let agent = sim.machine::<IceAgent>(node).unwrap();
        let (u, p) = agent.local_credentials();
        (u.as_str().to_owned(), p.as_str().to_owned())
    };
    let (a_creds, b_creds) = (creds(&sim, a), creds(&sim, b));
    sim.run_for(SIGNALING_DELAY);
    sim.command(a, |agent: &mut IceAgent, now| {
        agent
            .set_remote_credentials(now, &b_creds.0, &b_creds.1)
            .unwrap()
    });
    sim.command(b, |agent: &mut IceAgent, now| {
        agent
            .set_remote_credentials(now, &a_creds.0, &a_creds.1)
            .unwrap()
    });
    World {
        sim,
        a,
        b,
        a_events: Vec::new(),
        b_events: Vec::new(),
    }
}

impl World {
    /// Runs for `duration`, carrying candidates and end-of-candidates between the agents
    /// with the signaling delay (in steps of it).
    fn run(&mut self, duration: Duration) {
        let end = self.sim.now() + duration;
        while self.sim.now() < end {
            let from_a = self.sim.take_events::<IceAgent>(self.a);
            let from_b = self.sim.take_events::<IceAgent>(self.b);
            self.sim.run_for(SIGNALING_DELAY);
            deliver(&mut self.sim, self.b, &from_a);
            deliver(&mut self.sim, self.a, &from_b);
            self.a_events.extend(from_a);
            self.b_events.extend(from_b);
        }
    }

    fn agent(&self, node: NodeId) -> &IceAgent {
        self.sim.machine::<IceAgent>(node).unwrap()
    }
}

fn deliver(sim: &mut Sim, to: NodeId, events: &[IceEvent]) {
    for event in events {
        match event {
            IceEvent::LocalCandidate(c) => {
                let c = c.clone();
                sim.command(to, |agent: &mut IceAgent, now| {
                    let _ = agent.add_remote_candidate(now, c);
                });
            }
            IceEvent::GatheringComplete => {
                sim.command(to, |agent: &mut IceAgent, now| {
                    agent.end_of_remote_candidates(now)
                });
            }
            _ => {}
        }
    }
}

fn is_direct_reflexive(kind: CandidateKind) -> bool {
    matches!(
        kind,
        CandidateKind::ServerReflexive | CandidateKind::PeerReflexive
    )
}

#[test]
fn srflx_through_port_restricted_nats() {
    let mut w = world(11, NatConfig::port_restricted_cone, false);
    w.run(Duration::from_secs(5));
    for node in [w.a, w.b] {
        let agent = w.agent(node);
        assert_eq!(agent.state(), IceState::Connected, "{agent:?}");
        let pair = agent.selected_pair().unwrap();
        assert!(is_direct_reflexive(pair.local.kind), "{pair:?}");
        assert!(is_direct_reflexive(pair.remote.kind), "{pair:?}");
    }
    assert!(w.a_events.iter().any(
        |e| matches!(e, IceEvent::LocalCandidate(c) if c.kind == CandidateKind::ServerReflexive)
    ));
    let (a, b) = (w.a, w.b);
    w.sim.command(a, |agent: &mut IceAgent, now| {
        agent.send(now, b"across two NATs").unwrap()
    });
    w.run(Duration::from_millis(200));
    let got: Vec<_> = w
        .b_events
        .iter()
        .filter_map(|e| match e {
            IceEvent::Data { data, .. } => Some(data.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(got, vec![b"across two NATs".to_vec()]);
    // Consent keeps the pair (and the NAT mappings) alive.
    w.run(Duration::from_secs(60));
    for node in [a, b] {
        let state = w.agent(node).state();
        assert!(
            matches!(state, IceState::Connected | IceState::Completed),
            "{state:?}"
        );
    }
}

#[test]
fn srflx_through_port_restricted_nats_with_loss_and_jitter() {
    let mut link = LinkConfig::with_latency(Duration::from_millis(20));
    link.jitter = Duration::from_millis(10);
    link.loss = LossModel::Uniform(0.05);
    for seed in 20..24 {
        let mut w = world_with(seed, NatConfig::port_restricted_cone, false, link);
        w.run(Duration::from_secs(10));
        for node in [w.a, w.b] {
            let agent = w.agent(node);
            let pair = agent.selected_pair();
            assert!(
                pair.is_some_and(
                    |p| is_direct_reflexive(p.local.kind) && is_direct_reflexive(p.remote.kind)
                ),
                "seed {seed}: {agent:?} {pair:?}"
            );
        }
    }
}

#[test]
fn relay_between_symmetric_nats() {
    let mut w = world(12, NatConfig::symmetric, true);
    w.run(Duration::from_secs(8));
    for node in [w.a, w.b] {
        let agent = w.agent(node);
        assert!(
            matches!(agent.state(), IceState::Connected | IceState::Completed),
            "{agent:?}"
        );
    }
    let a_pair = w.agent(w.a).selected_pair().unwrap().clone();
    let b_pair = w.agent(w.b).selected_pair().unwrap().clone();
    assert!(
        a_pair.local.kind == CandidateKind::Relayed || a_pair.remote.kind == CandidateKind::Relayed,
        "{a_pair:?}"
    );
    assert!(
        b_pair.local.kind == CandidateKind::Relayed || b_pair.remote.kind == CandidateKind::Relayed,
        "{b_pair:?}"
    );
    let b = w.b;
    w.sim.command(b, |agent: &mut IceAgent, now| {
        agent.send(now, b"through the relay").unwrap()
    });
    w.run(Duration::from_millis(300));
    assert!(w.a_events.iter().any(
        |e| matches!(e, IceEvent::Data { data, .. } if data.as_slice() == b"through the relay")
    ));
}

#[test]
fn same_seed_same_trace() {
    let hash = |seed| {
        let mut w = world(seed, NatConfig::port_restricted_cone, false);
        w.run(Duration::from_secs(3));
        w.sim.trace_hash()
    };
    assert_eq!(hash(5), hash(5));
}
