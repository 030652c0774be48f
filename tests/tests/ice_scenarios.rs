//! ICE scenarios on pigeon-sim beyond the NAT matrix (NAT.md, issue 4): two peers behind one
//! NAT on segments with no route between them (hairpinning or the relay), a NAT mapping
//! timeout that breaks consent unless keepalives hold the mapping open, and ICE restarts
//! (RFC 8445 §9) after a NAT rebinding and with the old pair still carrying data.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use pigeon::ice::{CandidateKind, IceConfig, IceError, IceEvent, IceState, PairInfo};
use pigeon_sim::scenarios::ice_world::{IceWorld, PeerId, TURN_SERVER};
use pigeon_sim::{LinkConfig, NatConfig, NetworkId, PortAssignment};

const LATENCY: Duration = Duration::from_millis(10);
const SIGNALING_DELAY: Duration = Duration::from_millis(50);
/// Plenty for ICE to connect on these clean links (it takes well under a second).
const CONNECT_LIMIT: Duration = Duration::from_secs(10);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn link() -> LinkConfig {
    LinkConfig::with_latency(LATENCY)
}

fn world(seed: u64) -> IceWorld {
    IceWorld::new(seed, link(), SIGNALING_DELAY).unwrap()
}

/// Partners `a` and `b` and runs until both are connected.
fn connect(world: &mut IceWorld, a: PeerId, b: PeerId) {
    world.connect(a, b);
    let deadline = world.sim.now() + CONNECT_LIMIT;
    let connected = world.run_until(deadline, |w| w.is_connected(a) && w.is_connected(b));
    assert!(
        connected,
        "not connected: {:?} / {:?}",
        world.agent(a),
        world.agent(b)
    );
}

fn selected(world: &IceWorld, p: PeerId) -> PairInfo {
    world
        .agent(p)
        .selected_pair()
        .cloned()
        .expect("a selected pair")
}

fn uses_relay(pair: &PairInfo) -> bool {
    let remote_ip = pair.remote.address.socket_addr().map(|a| a.ip());
    pair.local.kind == CandidateKind::Relayed
        || pair.remote.kind == CandidateKind::Relayed
        || remote_ip == Some(TURN_SERVER.ip())
}

fn send(world: &mut IceWorld, p: PeerId, data: &[u8]) -> Result<(), IceError> {
    world.command(p, |agent, now| agent.send(now, data))
}

/// Application data `p` received so far.
fn received(world: &IceWorld, p: PeerId) -> Vec<Vec<u8>> {
    world
        .events(p)
        .iter()
        .filter_map(|(_, e)| match e {
            IceEvent::Data { data, .. } => Some(data.clone()),
            _ => None,
        })
        .collect()
}

fn has_event(world: &IceWorld, p: PeerId, event: &IceEvent) -> bool {
    world.events(p).iter().any(|(_, e)| e == event)
}

/// Sends one datagram each way and checks that it arrives.
fn exchange(world: &mut IceWorld, a: PeerId, b: PeerId, tag: &str) {
    let (to_b, to_a) = (format!("{tag} a->b"), format!("{tag} b->a"));
    send(world, a, to_b.as_bytes()).unwrap();
    send(world, b, to_a.as_bytes()).unwrap();
    world.run_for(Duration::from_millis(200));
    assert!(
        received(world, b).contains(&to_b.into_bytes()),
        "{tag}: a->b"
    );
    assert!(
        received(world, a).contains(&to_a.into_bytes()),
        "{tag}: b->a"
    );
}

/// Two agents (with TURN) behind one port-restricted cone NAT, each on its own segment.
/// A segment's router is a full-cone NAT, so the shared NAT's behaviour is what counts; a
/// datagram to the other segment's private address leaves through the shared NAT to the
/// public side, where nobody owns it: the host candidates cannot reach each other.
fn same_nat(seed: u64, hairpinning: bool) -> (IceWorld, PeerId, PeerId) {
    let mut world = world(seed);
    let shared = NatConfig::port_restricted_cone()
        .with_hairpinning(hairpinning)
        .with_external_ip(ip("198.51.100.1"));
    let shared = world.sim.add_nat(NetworkId::PUBLIC, shared).unwrap();
    let segment = |world: &mut IceWorld, router: &str| {
        let config = NatConfig::full_cone().with_external_ip(ip(router));
        world.sim.add_nat(shared, config).unwrap()
    };
    let (seg_a, seg_b) = (
        segment(&mut world, "172.16.0.1"),
        segment(&mut world, "172.16.0.2"),
    );
    let a = world
        .add_agent(
            seg_a,
            addr("10.0.1.2:5000"),
            IceConfig::new(true),
            true,
            link(),
        )
        .unwrap();
    let b = world
        .add_agent(
            seg_b,
            addr("10.0.2.2:5000"),
            IceConfig::new(false),
            true,
            link(),
        )
        .unwrap();
    connect(&mut world, a, b);
    (world, a, b)
}

#[test]
fn same_nat_with_hairpinning_connects_directly_through_it() {
    let (mut world, a, b) = same_nat(1, true);
    for p in [a, b] {
        let pair = selected(&world, p);
        assert!(!uses_relay(&pair), "peer {p}: {pair:?}");
        assert!(
            matches!(
                pair.local.kind,
                CandidateKind::ServerReflexive | CandidateKind::PeerReflexive
            ),
            "peer {p}: {pair:?}"
        );
        // The peer's address is the shared NAT's own external one: the path loops back.
        let remote = pair.remote.address.socket_addr().unwrap();
        assert_eq!(remote.ip(), ip("198.51.100.1"), "peer {p}: {pair:?}");
    }
    exchange(&mut world, a, b, "hairpin");
}

#[test]
fn same_nat_without_hairpinning_needs_the_relay() {
    let (mut world, a, b) = same_nat(1, false);
    for p in [a, b] {
        let pair = selected(&world, p);
        assert!(uses_relay(&pair), "peer {p}: {pair:?}");
    }
    exchange(&mut world, a, b, "relayed");
}

#[test]
fn same_seed_same_trace_through_the_hairpin() {
    let hash = |seed| {
        let (mut world, a, b) = same_nat(seed, true);
        exchange(&mut world, a, b, "trace");
        world.sim.trace_hash()
    };
    assert_eq!(hash(5), hash(5));
    assert_ne!(hash(5), hash(6));
}

/// Port-restricted cone NATs that forget a mapping (and its filter state) after 10 s idle
/// and give a new mapping a random port.
fn forgetful_nat(world: &mut IceWorld, external: &str) -> NetworkId {
    let config = NatConfig::port_restricted_cone()
        .with_port_assignment(PortAssignment::Random)
        .with_lifetime(Duration::from_secs(10))
        .with_external_ip(ip(external));
    world.sim.add_nat(NetworkId::PUBLIC, config).unwrap()
}

/// Consent requests every 20 s (16-24 s), longer than the NATs' 10 s lifetime; consent is
/// lost after 60 s. Keepalives as given.
fn slow_consent(controlling: bool, keepalive: Option<Duration>) -> IceConfig {
    let mut config = IceConfig::new(controlling);
    config.consent_interval = Duration::from_secs(20);
    config.disconnected_timeout = Duration::from_secs(45);
    config.consent_timeout = Duration::from_secs(60);
    config.keepalive_interval = keepalive;
    config
}

fn behind_forgetful_nats(keepalive: Option<Duration>) -> (IceWorld, PeerId, PeerId) {
    let mut world = world(2);
    let realm_a = forgetful_nat(&mut world, "198.51.100.1");
    let realm_b = forgetful_nat(&mut world, "198.51.100.2");
    let a = world
        .add_agent(
            realm_a,
            addr("10.0.1.2:5000"),
            slow_consent(true, keepalive),
            false,
            link(),
        )
        .unwrap();
    let b = world
        .add_agent(
            realm_b,
            addr("10.0.2.2:5000"),
            slow_consent(false, keepalive),
            false,
            link(),
        )
        .unwrap();
    connect(&mut world, a, b);
    exchange(&mut world, a, b, "fresh");
    (world, a, b)
}

#[test]
fn nat_mapping_timeout_without_keepalives_loses_consent() {
    let (mut world, a, b) = behind_forgetful_nats(None);
    let connected = world.sim.now();
    world.run_for(Duration::from_secs(90));
    for p in [a, b] {
        let agent = world.agent(p);
        assert!(has_event(&world, p, &IceEvent::ConsentLost), "peer {p}");
        assert_eq!(agent.state(), IceState::Failed, "peer {p}");
        assert_eq!(agent.stats().keepalives_sent, 0);
        // The consent requests went out; their answers never came back through the NATs.
        assert!(agent.stats().consent_sent >= 2, "{:?}", agent.stats());
        let lost_at = world
            .events(p)
            .iter()
            .find(|(_, e)| *e == IceEvent::ConsentLost)
            .map(|(t, _)| *t)
            .unwrap();
        assert!(lost_at >= connected + Duration::from_secs(59), "peer {p}");
    }
    assert_eq!(send(&mut world, a, b"late"), Err(IceError::NotConnected));
}

#[test]
fn keepalives_hold_the_same_nat_mappings_open() {
    let (mut world, a, b) = behind_forgetful_nats(Some(Duration::from_secs(4)));
    world.run_for(Duration::from_secs(90));
    for p in [a, b] {
        assert!(!has_event(&world, p, &IceEvent::ConsentLost), "peer {p}");
        assert!(world.is_connected(p), "peer {p}: {:?}", world.agent(p));
        assert!(world.agent(p).stats().keepalives_sent >= 10);
    }
    exchange(&mut world, a, b, "after 90 s");
}

/// Whether `p` reported a new selected pair after `since`.
fn reselected(world: &IceWorld, p: PeerId, since: pigeon::Instant) -> bool {
    world
        .events(p)
        .iter()
        .any(|(t, e)| *t >= since && matches!(e, IceEvent::SelectedPairChanged(_)))
}

#[test]
fn ice_restart_recovers_after_a_nat_rebinding() {
    let mut world = world(3);
    // A's NAT gives a new mapping a random port; B's filters by address only.
    let config = NatConfig::port_restricted_cone()
        .with_port_assignment(PortAssignment::Random)
        .with_external_ip(ip("198.51.100.1"));
    let realm_a = world.sim.add_nat(NetworkId::PUBLIC, config).unwrap();
    let config = NatConfig::restricted_cone().with_external_ip(ip("198.51.100.2"));
    let realm_b = world.sim.add_nat(NetworkId::PUBLIC, config).unwrap();
    let a = world
        .add_agent(
            realm_a,
            addr("10.0.1.2:5000"),
            IceConfig::new(true),
            false,
            link(),
        )
        .unwrap();
    let b = world
        .add_agent(
            realm_b,
            addr("10.0.2.2:5000"),
            IceConfig::new(false),
            false,
            link(),
        )
        .unwrap();
    connect(&mut world, a, b);
    exchange(&mut world, a, b, "before");
    let old = selected(&world, a).local.address.socket_addr().unwrap();

    // The NAT rebinds: A's next datagram leaves from another external port, and what B sends
    // to the old one is dropped.
    world.sim.reset_nat(realm_a);
    send(&mut world, b, b"into the void").unwrap();
    world.run_for(Duration::from_secs(1));
    assert!(!received(&world, a).contains(&b"into the void".to_vec()));

    // Consent notices; the application of the side that sees it restarts ICE.
    let deadline = world.sim.now() + Duration::from_secs(40);
    let troubled = |s: IceState| matches!(s, IceState::Disconnected | IceState::Failed);
    let noticed = world.run_until(deadline, |w| {
        troubled(w.agent(a).state()) || troubled(w.agent(b).state())
    });
    assert!(noticed, "{:?} / {:?}", world.agent(a), world.agent(b));
    let side = if troubled(world.agent(b).state()) {
        b
    } else {
        a
    };
    let restart = world.sim.now();
    world.restart_one(side);

    let deadline = restart + CONNECT_LIMIT;
    let recovered = world.run_until(deadline, |w| {
        reselected(w, a, restart)
            && reselected(w, b, restart)
            && w.is_connected(a)
            && w.is_connected(b)
    });
    assert!(recovered, "{:?} / {:?}", world.agent(a), world.agent(b));
    let pair = selected(&world, a);
    assert!(!uses_relay(&pair), "{pair:?}");
    let new = pair.local.address.socket_addr().unwrap();
    assert_eq!(new.ip(), old.ip());
    assert_ne!(new.port(), old.port(), "the rebinding gave A a new mapping");
    exchange(&mut world, a, b, "after");
}

#[test]
fn the_old_pair_carries_data_until_the_restart_selects_a_new_one() {
    let mut world = world(4);
    let realm_a = world
        .sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::port_restricted_cone().with_external_ip(ip("198.51.100.1")),
        )
        .unwrap();
    let realm_b = world
        .sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::port_restricted_cone().with_external_ip(ip("198.51.100.2")),
        )
        .unwrap();
    let a = world
        .add_agent(
            realm_a,
            addr("10.0.1.2:5000"),
            IceConfig::new(true),
            false,
            link(),
        )
        .unwrap();
    let b = world
        .add_agent(
            realm_b,
            addr("10.0.2.2:5000"),
            IceConfig::new(false),
            false,
            link(),
        )
        .unwrap();
    connect(&mut world, a, b);

    // Both send a numbered datagram every 20 ms; A restarts ICE after a while.
    let restart = world.sim.now() + Duration::from_millis(500);
    let mut restarted = false;
    let mut sent = [Vec::new(), Vec::new()];
    let mut sent_before_switch = 0;
    for seq in 0u32..150 {
        if !restarted && world.sim.now() >= restart {
            world.restart_one(a);
            restarted = true;
        }
        for (i, p) in [a, b].into_iter().enumerate() {
            let mut payload = vec![b'D', i as u8];
            payload.extend_from_slice(&seq.to_be_bytes());
            send(&mut world, p, &payload).unwrap();
            if restarted && !(reselected(&world, a, restart) && reselected(&world, b, restart)) {
                sent_before_switch += 1;
            }
            sent[i].push(payload);
        }
        world.run_for(Duration::from_millis(20));
    }
    world.run_for(Duration::from_millis(200));
    assert!(reselected(&world, a, restart) && reselected(&world, b, restart));
    assert!(
        sent_before_switch >= 4,
        "{sent_before_switch} datagrams while the restart ran"
    );
    // Nothing was lost: the old pair carried everything until the new one took over.
    assert_eq!(received(&world, b), sent[0]);
    assert_eq!(received(&world, a), sent[1]);
}
