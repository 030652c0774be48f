//! Each NAT preset's mapping and filtering behaviour (RFC 4787 §4.1, §5), shown with probe
//! traffic: reflectors on two public IPs with two ports each report the source they see
//! (mapping), then each of them sends unsolicited datagrams to the client's mapping (filtering).

use std::net::SocketAddr;
use std::time::Duration;

use pigeon_sim::probe::Probe;
use pigeon_sim::{
    DropReason, FilteringBehavior, LinkConfig, MappingBehavior, NatConfig, NatPreset, NetworkId,
    NodeId, Sim,
};

const S1A: &str = "192.0.2.1:3478";
const S1B: &str = "192.0.2.1:3479";
const S2A: &str = "192.0.2.2:3478";
const S2B: &str = "192.0.2.2:3479";
const CLIENT: &str = "10.0.0.2:5000";
const NAT_IP: &str = "198.51.100.1";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct Lab {
    sim: Sim,
    s1: NodeId,
    s2: NodeId,
    client: NodeId,
    client_addr: SocketAddr,
}

/// Reflectors on 192.0.2.1 and 192.0.2.2 (ports 3478 and 3479 each) and one client, behind a
/// NAT with `config` or on the public internet when `None`.
fn lab(seed: u64, config: Option<NatConfig>) -> Lab {
    let mut sim = Sim::new(seed);
    let link = LinkConfig::default();
    let s1 = sim
        .add_node(
            NetworkId::PUBLIC,
            &[addr(S1A), addr(S1B)],
            Probe::reflector(),
            link,
        )
        .unwrap();
    let s2 = sim
        .add_node(
            NetworkId::PUBLIC,
            &[addr(S2A), addr(S2B)],
            Probe::reflector(),
            link,
        )
        .unwrap();
    let (network, client_addr) = match config {
        Some(config) => {
            let realm = sim
                .add_nat(
                    NetworkId::PUBLIC,
                    config.with_external_ip(NAT_IP.parse().unwrap()),
                )
                .unwrap();
            (realm, addr(CLIENT))
        }
        None => (NetworkId::PUBLIC, addr("203.0.113.5:5000")),
    };
    let client = sim
        .add_node(network, &[client_addr], Probe::default(), link)
        .unwrap();
    Lab {
        sim,
        s1,
        s2,
        client,
        client_addr,
    }
}

impl Lab {
    /// The client's address as the reflector at `server` sees it.
    fn mapped_by(&mut self, server: &str) -> SocketAddr {
        let from = self.client_addr;
        self.sim
            .command(self.client, |p: &mut Probe, _| {
                p.send(from, addr(server), b"probe".to_vec())
            })
            .unwrap();
        self.sim.run_for(Duration::from_millis(100));
        *self
            .sim
            .machine::<Probe>(self.client)
            .unwrap()
            .reflected()
            .last()
            .expect("the reflector answered")
    }

    /// Whether an unsolicited datagram from `from` (a reflector socket) to `to` reaches the
    /// client.
    fn reaches_client(&mut self, from: &str, to: SocketAddr) -> bool {
        let server = if addr(from).ip() == addr(S1A).ip() {
            self.s1
        } else {
            self.s2
        };
        let before = self
            .sim
            .machine::<Probe>(self.client)
            .unwrap()
            .received()
            .len();
        self.sim
            .command(server, |p: &mut Probe, _| {
                p.send(addr(from), to, b"hello".to_vec())
            })
            .unwrap();
        self.sim.run_for(Duration::from_millis(100));
        self.sim
            .machine::<Probe>(self.client)
            .unwrap()
            .received()
            .len()
            > before
    }
}

/// Mapping behaviour as RFC 5780 §4.3 would infer it from three reflections.
fn infer_mapping(lab: &mut Lab) -> Option<MappingBehavior> {
    let m1 = lab.mapped_by(S1A);
    let m2 = lab.mapped_by(S2A);
    let m3 = lab.mapped_by(S2B);
    if m1 == lab.client_addr {
        assert_eq!((m2, m3), (m1, m1));
        return None;
    }
    assert_eq!(m1.ip(), NAT_IP.parse::<std::net::IpAddr>().unwrap());
    Some(if m1 == m2 {
        assert_eq!(m2, m3);
        MappingBehavior::EndpointIndependent
    } else if m2 == m3 {
        MappingBehavior::AddressDependent
    } else {
        MappingBehavior::AddressAndPortDependent
    })
}

/// Filtering behaviour from who gets through after the client has sent only to S1A.
fn infer_filtering(seed: u64, config: NatConfig) -> FilteringBehavior {
    let mut lab = lab(seed, Some(config));
    let mapped = lab.mapped_by(S1A);
    // The socket the client sent to always gets through.
    assert!(lab.reaches_client(S1A, mapped));
    let same_ip_other_port = lab.reaches_client(S1B, mapped);
    let other_ip = lab.reaches_client(S2A, mapped);
    match (same_ip_other_port, other_ip) {
        (true, true) => FilteringBehavior::EndpointIndependent,
        (true, false) => FilteringBehavior::AddressDependent,
        (false, false) => FilteringBehavior::AddressAndPortDependent,
        (false, true) => panic!("other IP admitted but other port of the same IP not"),
    }
}

#[test]
fn every_preset_maps_as_configured() {
    for preset in NatPreset::ALL {
        let config = NatConfig::preset(preset);
        let want = config.mapping;
        let mut lab = lab(1, Some(config));
        assert_eq!(infer_mapping(&mut lab), Some(want), "{preset}");
    }
}

#[test]
fn every_preset_filters_as_configured() {
    for preset in NatPreset::ALL {
        let config = NatConfig::preset(preset);
        let want = config.filtering;
        assert_eq!(infer_filtering(2, config), want, "{preset}");
    }
}

#[test]
fn the_presets_are_the_classic_pairs() {
    use FilteringBehavior as F;
    use MappingBehavior as M;
    let pairs: Vec<_> = NatPreset::ALL
        .iter()
        .map(|p| {
            let c = NatConfig::preset(*p);
            (c.mapping, c.filtering)
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            (M::EndpointIndependent, F::EndpointIndependent),
            (M::EndpointIndependent, F::AddressDependent),
            (M::EndpointIndependent, F::AddressAndPortDependent),
            (M::AddressAndPortDependent, F::AddressAndPortDependent),
        ]
    );
}

#[test]
fn address_dependent_mapping_is_distinguished() {
    let config = NatConfig::new(
        MappingBehavior::AddressDependent,
        FilteringBehavior::AddressDependent,
    );
    let mut lab = lab(3, Some(config));
    assert_eq!(
        infer_mapping(&mut lab),
        Some(MappingBehavior::AddressDependent)
    );
}

#[test]
fn every_mapping_filtering_pair_behaves() {
    use FilteringBehavior as F;
    use MappingBehavior as M;
    for m in [
        M::EndpointIndependent,
        M::AddressDependent,
        M::AddressAndPortDependent,
    ] {
        for f in [
            F::EndpointIndependent,
            F::AddressDependent,
            F::AddressAndPortDependent,
        ] {
            let mut l = lab(4, Some(NatConfig::new(m, f)));
            assert_eq!(infer_mapping(&mut l), Some(m), "{m} / {f}");
            assert_eq!(infer_filtering(4, NatConfig::new(m, f)), f, "{m} / {f}");
        }
    }
}

#[test]
fn open_internet_has_no_translation_or_filter() {
    let mut lab = lab(5, None);
    assert_eq!(infer_mapping(&mut lab), None);
    let own = lab.client_addr;
    assert!(lab.reaches_client(S2B, own));
}

#[test]
fn unsolicited_traffic_without_a_mapping_is_dropped() {
    let mut lab = lab(6, Some(NatConfig::full_cone()));
    let guess = SocketAddr::new(NAT_IP.parse().unwrap(), 5000);
    assert!(!lab.reaches_client(S1A, guess));
    assert_eq!(lab.sim.stats().dropped(DropReason::NatNoMapping), 1);
    // Once the client has sent, a full cone admits anyone.
    assert_eq!(lab.mapped_by(S1A), guess);
    assert!(lab.reaches_client(S2B, guess));
}

#[test]
fn filtered_datagrams_are_counted() {
    let mut lab = lab(7, Some(NatConfig::port_restricted_cone()));
    let mapped = lab.mapped_by(S1A);
    assert!(!lab.reaches_client(S1B, mapped));
    assert!(!lab.reaches_client(S2A, mapped));
    assert_eq!(lab.sim.stats().dropped(DropReason::NatFiltered), 2);
    // Sending to S2A opens the filter for exactly that endpoint.
    lab.mapped_by(S2A);
    assert!(lab.reaches_client(S2A, mapped));
    assert!(!lab.reaches_client(S2B, mapped));
}
