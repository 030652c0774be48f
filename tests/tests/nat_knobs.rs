//! NAT knobs beyond the behaviour pair: port assignment (RFC 4787 §4.2.1), mapping lifetime and
//! refresh (§4.3, REQ-5/REQ-6), hairpinning (§6, REQ-9), address pooling (REQ-2), and NATs
//! nested behind NATs.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use pigeon::Instant;
use pigeon_sim::probe::Probe;
use pigeon_sim::{
    AddressPooling, DropReason, LinkConfig, NatConfig, NetworkId, NodeId, PortAssignment, Sim,
};

const S1A: &str = "192.0.2.1:3478";
const S1B: &str = "192.0.2.1:3479";
const S2A: &str = "192.0.2.2:3478";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Public reflectors on 192.0.2.1 (3478, 3479) and 192.0.2.2 (3478).
fn with_reflectors(seed: u64) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::new(seed);
    let s1 = sim
        .add_node(
            NetworkId::PUBLIC,
            &[addr(S1A), addr(S1B)],
            Probe::reflector(),
            LinkConfig::default(),
        )
        .unwrap();
    let s2 = sim
        .add_node(
            NetworkId::PUBLIC,
            &[addr(S2A)],
            Probe::reflector(),
            LinkConfig::default(),
        )
        .unwrap();
    (sim, s1, s2)
}

fn host(sim: &mut Sim, network: NetworkId, a: &str) -> NodeId {
    sim.add_node(network, &[addr(a)], Probe::default(), LinkConfig::default())
        .unwrap()
}

/// Sends from `node`'s first socket to `to`, runs 100 ms, returns the latest reflection.
fn mapped(sim: &mut Sim, node: NodeId, to: &str) -> SocketAddr {
    let from = sim.node_addrs(node)[0];
    sim.command(node, |p: &mut Probe, _| {
        p.send(from, addr(to), b"probe".to_vec())
    })
    .unwrap();
    sim.run_for(Duration::from_millis(100));
    *sim.machine::<Probe>(node)
        .unwrap()
        .reflected()
        .last()
        .unwrap()
}

fn received_count(sim: &Sim, node: NodeId) -> usize {
    sim.machine::<Probe>(node).unwrap().received().len()
}

fn unsolicited(sim: &mut Sim, from_node: NodeId, from: &str, to: SocketAddr) {
    sim.command(from_node, |p: &mut Probe, _| {
        p.send(addr(from), to, b"knock".to_vec())
    })
    .unwrap();
    sim.run_for(Duration::from_millis(100));
}

#[test]
fn preserving_keeps_the_port_and_resolves_collisions() {
    let (mut sim, s1, _) = with_reflectors(1);
    let realm = sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::full_cone().with_external_ip(ip("198.51.100.1")),
        )
        .unwrap();
    let a = host(&mut sim, realm, "10.0.0.2:5000");
    let b = host(&mut sim, realm, "10.0.0.3:5000");
    let ma = mapped(&mut sim, a, S1A);
    let mb = mapped(&mut sim, b, S1A);
    assert_eq!(ma, addr("198.51.100.1:5000"));
    assert_eq!(mb.ip(), ip("198.51.100.1"));
    assert_ne!(mb.port(), 5000, "the collision got a distinct mapping");
    // Each mapping still leads to its own host.
    unsolicited(&mut sim, s1, S1B, ma);
    unsolicited(&mut sim, s1, S1B, mb);
    assert_eq!(received_count(&sim, a), 2);
    assert_eq!(received_count(&sim, b), 2);
}

#[test]
fn sequential_assignment_hands_out_consecutive_ports() {
    let (mut sim, _, _) = with_reflectors(2);
    let realm = sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::symmetric()
                .with_port_assignment(PortAssignment::Sequential)
                .with_external_ip(ip("198.51.100.1")),
        )
        .unwrap();
    let a = host(&mut sim, realm, "10.0.0.2:5000");
    let ports: Vec<u16> = [S1A, S1B, S2A]
        .iter()
        .map(|s| mapped(&mut sim, a, s).port())
        .collect();
    assert_eq!(ports, vec![1024, 1025, 1026]);
}

#[test]
fn random_assignment_is_unpredictable_but_reproducible() {
    let run = |seed| {
        let (mut sim, _, _) = with_reflectors(seed);
        let realm = sim
            .add_nat(
                NetworkId::PUBLIC,
                NatConfig::symmetric().with_external_ip(ip("198.51.100.1")),
            )
            .unwrap();
        let a = host(&mut sim, realm, "10.0.0.2:5000");
        [S1A, S1B, S2A]
            .iter()
            .map(|s| mapped(&mut sim, a, s).port())
            .collect::<Vec<u16>>()
    };
    let ports = run(3);
    assert_eq!(ports, run(3));
    assert_ne!(ports, run(4));
    assert!(
        ports.windows(2).all(|w| w[1] != w[0].wrapping_add(1)),
        "{ports:?}"
    );
    assert!(!ports.contains(&5000));
}

#[test]
fn mapping_expires_after_idle_lifetime() {
    let (mut sim, s1, _) = with_reflectors(5);
    let realm = sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::symmetric()
                .with_lifetime(Duration::from_secs(30))
                .with_external_ip(ip("198.51.100.1")),
        )
        .unwrap();
    let a = host(&mut sim, realm, "10.0.0.2:5000");
    // The mapping is made at t = 0 when the probe leaves (the access link adds 10 ms each way).
    let m = mapped(&mut sim, a, S1A);
    let made = Instant::ZERO;
    assert_eq!(
        sim.nat_mappings(realm)[0].expires,
        made + Duration::from_secs(30)
    );

    // A datagram reaching the NAT 10 ms before expiry gets in...
    sim.run_until(made + Duration::from_millis(29_980));
    unsolicited(&mut sim, s1, S1A, m);
    assert_eq!(received_count(&sim, a), 2);
    // ...one reaching it after expiry does not: inbound traffic does not refresh by default.
    sim.run_until(made + Duration::from_millis(30_000));
    unsolicited(&mut sim, s1, S1A, m);
    assert_eq!(received_count(&sim, a), 2);
    assert_eq!(sim.stats().dropped(DropReason::NatNoMapping), 1);
    assert!(sim.nat_mappings(realm).is_empty());

    // The next outbound datagram gets a fresh mapping; with random ports, a new port.
    let again = mapped(&mut sim, a, S1A);
    assert_ne!(again, m);
}

#[test]
fn outbound_traffic_refreshes_the_mapping() {
    let (mut sim, s1, _) = with_reflectors(6);
    let realm = sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::port_restricted_cone()
                .with_lifetime(Duration::from_secs(30))
                .with_external_ip(ip("198.51.100.1")),
        )
        .unwrap();
    let a = host(&mut sim, realm, "10.0.0.2:5000");
    let m = mapped(&mut sim, a, S1A);
    // Keepalives every 20 s for two minutes keep the same mapping alive.
    for _ in 0..6 {
        sim.run_for(Duration::from_secs(20));
        assert_eq!(mapped(&mut sim, a, S1A), m);
    }
    sim.run_for(Duration::from_secs(25));
    let before = received_count(&sim, a);
    unsolicited(&mut sim, s1, S1A, m);
    assert_eq!(received_count(&sim, a), before + 1);
}

#[test]
fn inbound_refresh_is_a_knob() {
    for inbound_refresh in [false, true] {
        let (mut sim, s1, _) = with_reflectors(7);
        let realm = sim
            .add_nat(
                NetworkId::PUBLIC,
                NatConfig::full_cone()
                    .with_lifetime(Duration::from_secs(30))
                    .with_inbound_refresh(inbound_refresh)
                    .with_external_ip(ip("198.51.100.1")),
            )
            .unwrap();
        let a = host(&mut sim, realm, "10.0.0.2:5000");
        let m = mapped(&mut sim, a, S1A);
        // The server sends every 20 s; the client stays silent.
        for _ in 0..4 {
            sim.run_for(Duration::from_secs(20));
            unsolicited(&mut sim, s1, S1B, m);
        }
        let got = received_count(&sim, a) - 1;
        if inbound_refresh {
            assert_eq!(got, 4);
        } else {
            // Only the one at ~20 s arrives before the 30 s lifetime runs out.
            assert_eq!(got, 1);
        }
    }
}

#[test]
fn filter_entries_expire_with_their_own_idle_timer() {
    let (mut sim, s1, s2) = with_reflectors(8);
    let realm = sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::restricted_cone()
                .with_lifetime(Duration::from_secs(30))
                .with_external_ip(ip("198.51.100.1")),
        )
        .unwrap();
    let a = host(&mut sim, realm, "10.0.0.2:5000");
    let m = mapped(&mut sim, a, S2A);
    // Keep the mapping alive through S1 only; S2's filter entry ages out.
    for _ in 0..3 {
        sim.run_for(Duration::from_secs(15));
        mapped(&mut sim, a, S1A);
    }
    let before = received_count(&sim, a);
    unsolicited(&mut sim, s2, S2A, m);
    unsolicited(&mut sim, s1, S1B, m);
    assert_eq!(received_count(&sim, a), before + 1);
    assert_eq!(sim.stats().dropped(DropReason::NatFiltered), 1);
}

#[test]
fn hairpinning_on_and_off() {
    for hairpinning in [true, false] {
        let (mut sim, _, _) = with_reflectors(9);
        let realm = sim
            .add_nat(
                NetworkId::PUBLIC,
                NatConfig::port_restricted_cone()
                    .with_hairpinning(hairpinning)
                    .with_external_ip(ip("198.51.100.1")),
            )
            .unwrap();
        let a = host(&mut sim, realm, "10.0.0.2:5000");
        let b = host(&mut sim, realm, "10.0.0.3:6000");
        let ma = mapped(&mut sim, a, S1A);
        let mb = mapped(&mut sim, b, S1A);
        sim.command(b, |p: &mut Probe, _| {
            p.send(addr("10.0.0.3:6000"), ma, b"hairpin".to_vec())
        });
        sim.run_for(Duration::from_millis(100));
        let got: Vec<_> = sim
            .machine::<Probe>(a)
            .unwrap()
            .received()
            .iter()
            .filter(|r| r.payload == b"hairpin")
            .map(|r| r.source)
            .collect();
        if hairpinning {
            // REQ-9: the source is b's external mapping, not its private address.
            assert_eq!(got, vec![mb]);
        } else {
            assert!(got.is_empty());
            assert_eq!(sim.stats().dropped(DropReason::HairpinOff), 1);
        }
    }
}

#[test]
fn paired_pooling_keeps_a_host_on_one_external_ip() {
    for (pooling, same) in [
        (AddressPooling::Paired, true),
        (AddressPooling::Arbitrary, false),
    ] {
        let (mut sim, _, _) = with_reflectors(10);
        let mut config = NatConfig::symmetric()
            .with_external_ip(ip("198.51.100.1"))
            .with_external_ip(ip("198.51.100.2"));
        config.pooling = pooling;
        let realm = sim.add_nat(NetworkId::PUBLIC, config).unwrap();
        let a = host(&mut sim, realm, "10.0.0.2:5000");
        let ips: Vec<IpAddr> = [S1A, S2A]
            .iter()
            .map(|s| mapped(&mut sim, a, s).ip())
            .collect();
        assert_eq!(ips[0] == ips[1], same, "{pooling:?}: {ips:?}");
    }
}

/// Home NAT `home` behind carrier-grade NAT `cgn`.
fn nested(seed: u64, home: NatConfig, cgn: NatConfig) -> (Sim, NodeId, NodeId, NetworkId) {
    let (mut sim, s1, _) = with_reflectors(seed);
    let carrier = sim
        .add_nat(NetworkId::PUBLIC, cgn.with_external_ip(ip("203.0.113.1")))
        .unwrap();
    let house = sim
        .add_nat(carrier, home.with_external_ip(ip("100.64.0.2")))
        .unwrap();
    let a = host(&mut sim, house, "192.168.1.2:5000");
    (sim, s1, a, carrier)
}

#[test]
fn nested_nats_compose() {
    // Full cone behind full cone is a full cone, with the CGN's address outside.
    let (mut sim, s1, a, carrier) = nested(11, NatConfig::full_cone(), NatConfig::full_cone());
    let m = mapped(&mut sim, a, S1A);
    assert_eq!(m, addr("203.0.113.1:5000"));
    assert_eq!(mapped(&mut sim, a, S2A), m);
    unsolicited(&mut sim, s1, S1B, m);
    assert_eq!(received_count(&sim, a), 3);
    // The CGN's mapping is for the home NAT's external address.
    let cgn = sim.nat_mappings(carrier);
    assert_eq!(cgn.len(), 1);
    assert_eq!(cgn[0].internal, addr("100.64.0.2:5000"));

    // The stricter one wins, whichever layer it is on.
    for (home, cgn) in [
        (NatConfig::full_cone(), NatConfig::symmetric()),
        (NatConfig::symmetric(), NatConfig::full_cone()),
    ] {
        let (mut sim, s1, a, _) = nested(12, home, cgn);
        let m1 = mapped(&mut sim, a, S1A);
        let m2 = mapped(&mut sim, a, S2A);
        assert_ne!(m1, m2, "mapping is address-and-port dependent");
        unsolicited(&mut sim, s1, S1B, m1);
        assert_eq!(
            received_count(&sim, a),
            2,
            "filtering is address-and-port dependent"
        );
    }
}

#[test]
fn hairpinning_at_a_carrier_grade_nat_between_two_homes() {
    let (mut sim, _, _) = with_reflectors(13);
    let carrier = sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::full_cone().with_external_ip(ip("203.0.113.1")),
        )
        .unwrap();
    let home1 = sim
        .add_nat(
            carrier,
            NatConfig::full_cone().with_external_ip(ip("100.64.0.2")),
        )
        .unwrap();
    let home2 = sim
        .add_nat(
            carrier,
            NatConfig::full_cone().with_external_ip(ip("100.64.0.3")),
        )
        .unwrap();
    // The same private address in both homes: realms are separate address spaces.
    let a = host(&mut sim, home1, "192.168.1.2:5000");
    let b = host(&mut sim, home2, "192.168.1.2:5000");
    let ma = mapped(&mut sim, a, S1A);
    let mb = mapped(&mut sim, b, S1A);
    assert_ne!(ma, mb);
    sim.command(b, |p: &mut Probe, _| {
        p.send(addr("192.168.1.2:5000"), ma, b"neighbour".to_vec())
    });
    sim.run_for(Duration::from_millis(100));
    let last = sim
        .machine::<Probe>(a)
        .unwrap()
        .received()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(last.payload, b"neighbour");
    assert_eq!(last.source, mb);
}

#[test]
fn topology_mistakes_are_errors() {
    let (mut sim, _, _) = with_reflectors(14);
    assert!(
        sim.add_nat(NetworkId::PUBLIC, NatConfig::full_cone())
            .is_err()
    );
    assert!(
        sim.add_nat(
            NetworkId::PUBLIC,
            NatConfig::full_cone().with_external_ip(ip("192.0.2.1"))
        )
        .is_err()
    );
    assert!(
        sim.add_node(
            NetworkId::PUBLIC,
            &[addr("192.0.2.2:1")],
            Probe::default(),
            LinkConfig::default()
        )
        .is_err()
    );
    assert!(
        sim.add_node(
            NetworkId::PUBLIC,
            &[],
            Probe::default(),
            LinkConfig::default()
        )
        .is_err()
    );
}
