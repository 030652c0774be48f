use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::cell::RefCell;
use std::rc::Rc;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::stun::testnet::{Host, Net};
use crate::stun::{
    BindingServer, DiscoveryConfig, DiscoveryError, DiscoveryEvent, DiscoveryStep,
    FilteringBehavior, LifetimeConfig, MappingBehavior, NatDiscovery, NatReport, ServerConfig,
};
use crate::{Instant, Transmit};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// RFC 4787 dependence of a mapping or a filter on the remote endpoint.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dep {
    Independent,
    Address,
    AddressAndPort,
}

impl Dep {
    /// Whether `a` and `b` are the same remote endpoint as far as this dependence cares.
    fn same(self, a: SocketAddr, b: SocketAddr) -> bool {
        match self {
            Dep::Independent => true,
            Dep::Address => a.ip() == b.ip(),
            Dep::AddressAndPort => a == b,
        }
    }
}

struct Mapping {
    internal: SocketAddr,
    /// The first remote endpoint the mapping was made for (what ADM/APDM key on).
    remote: SocketAddr,
    external: SocketAddr,
    /// Remote endpoints the inside host has sent to through this mapping.
    sent_to: Vec<SocketAddr>,
    last_out: Instant,
}

/// A NAT in a few lines: inside addresses are 10.x, one external IP, sequential ports,
/// outbound-only refresh, optional hairpinning (hairpinned packets pass the filter like any
/// inbound packet).
struct FakeNat {
    external: IpAddr,
    mapping: Dep,
    filtering: Dep,
    hairpin: bool,
    lifetime: Option<Duration>,
    next_port: u16,
    mappings: Vec<Mapping>,
}

impl FakeNat {
    fn new(mapping: Dep, filtering: Dep) -> Self {
        Self {
            external: "198.51.100.1".parse().unwrap(),
            mapping,
            filtering,
            hairpin: false,
            lifetime: None,
            next_port: 40_000,
            mappings: Vec::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        if let Some(lifetime) = self.lifetime {
            self.mappings.retain(|m| now - m.last_out < lifetime);
        }
    }

    fn outbound(&mut self, now: Instant, mut t: Transmit) -> Option<Transmit> {
        let dep = self.mapping;
        let found = self
            .mappings
            .iter()
            .position(|m| m.internal == t.source && dep.same(m.remote, t.destination));
        let i = found.unwrap_or_else(|| {
            self.next_port += 1;
            self.mappings.push(Mapping {
                internal: t.source,
                remote: t.destination,
                external: SocketAddr::new(self.external, self.next_port),
                sent_to: Vec::new(),
                last_out: now,
            });
            self.mappings.len() - 1
        });
        let m = &mut self.mappings[i];
        m.last_out = now;
        m.sent_to.push(t.destination);
        t.source = m.external;
        if t.destination.ip() == self.external {
            return if self.hairpin { self.inbound(t) } else { None };
        }
        Some(t)
    }

    fn inbound(&mut self, mut t: Transmit) -> Option<Transmit> {
        let dep = self.filtering;
        let m = self.mappings.iter().find(|m| m.external == t.destination)?;
        if !m.sent_to.iter().any(|r| dep.same(*r, t.source)) {
            return None;
        }
        t.destination = m.internal;
        Some(t)
    }

    fn forward(&mut self, now: Instant, t: Transmit) -> Option<Transmit> {
        self.expire(now);
        let inside = |a: SocketAddr| matches!(a.ip(), IpAddr::V4(v4) if v4.octets()[0] == 10);
        if inside(t.source) {
            self.outbound(now, t)
        } else if t.destination.ip() == self.external {
            self.inbound(t)
        } else {
            Some(t)
        }
    }
}

const PRIMARY: &str = "192.0.2.1:3478";
const ALTERNATE: &str = "192.0.2.2:3479";

struct Run {
    report: Result<NatReport, DiscoveryError>,
    steps: Vec<DiscoveryStep>,
    finished_at: Instant,
}

/// Runs discovery from `local` (and `second`) against a server, through `nat` if given.
fn discover(
    nat: Option<FakeNat>,
    local: &str,
    second: Option<&str>,
    rfc5780: bool,
    lifetime: Option<LifetimeConfig>,
) -> Run {
    let mut server_config = ServerConfig::new(addr(PRIMARY));
    if rfc5780 {
        server_config.alternate = Some(addr(ALTERNATE));
    }
    let server = BindingServer::new(server_config).unwrap();
    let addrs = server.local_addresses();
    let mut s = Host::new(server, addrs);
    let mut config = DiscoveryConfig::new(addr(local), addr(PRIMARY));
    config.hairpin_local = second.map(addr);
    config.lifetime = lifetime;
    let mut locals = vec![addr(local)];
    locals.extend(second.map(addr));
    let mut d = Host::new(
        NatDiscovery::new(config, Box::new(ChaCha20Rng::seed_from_u64(5))),
        locals,
    );
    let mut net = Net::new(Duration::from_millis(10));
    if let Some(nat) = nat {
        let nat = Rc::new(RefCell::new(nat));
        net = net.with_middlebox(Box::new(move |now, t| nat.borrow_mut().forward(now, t)));
    }
    d.machine.start(Instant::ZERO);
    net.run(&mut [&mut d, &mut s], Instant::from_secs(3600));
    assert!(d.machine.is_finished());
    let mut steps = Vec::new();
    let mut finished = None;
    for (at, event) in d.events {
        match event {
            DiscoveryEvent::Progress(step) => steps.push(step),
            DiscoveryEvent::Finished(report) => finished = Some((report, at)),
        }
    }
    let (report, finished_at) = finished.expect("a Finished event");
    Run {
        report,
        steps,
        finished_at,
    }
}

const INSIDE: &str = "10.0.0.2:5000";
const INSIDE_2: &str = "10.0.0.2:5001";

fn classify(mapping: Dep, filtering: Dep, hairpin: bool) -> NatReport {
    let mut nat = FakeNat::new(mapping, filtering);
    nat.hairpin = hairpin;
    discover(Some(nat), INSIDE, Some(INSIDE_2), true, None)
        .report
        .unwrap()
}

#[test]
fn classifies_the_four_presets() {
    use Dep::*;
    let presets = [
        (
            Independent,
            Independent,
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::EndpointIndependent,
            "full cone",
        ),
        (
            Independent,
            Address,
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::AddressDependent,
            "restricted cone",
        ),
        (
            Independent,
            AddressAndPort,
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::AddressAndPortDependent,
            "port-restricted cone",
        ),
        (
            AddressAndPort,
            AddressAndPort,
            MappingBehavior::AddressAndPortDependent,
            FilteringBehavior::AddressAndPortDependent,
            "symmetric",
        ),
    ];
    for (m, f, mapping, filtering, name) in presets {
        let report = classify(m, f, false);
        assert_eq!(
            (report.mapping, report.filtering),
            (mapping, filtering),
            "{name}"
        );
        assert_eq!(report.classic_name(), name);
        assert_eq!(
            report.mapped.ip(),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(report.other_address, Some(addr(ALTERNATE)));
        assert_eq!(report.hairpinning, Some(false), "{name}");
        assert!(report.nat_present() && report.rfc5780_supported());
    }
}

#[test]
fn classifies_address_dependent_mapping() {
    let report = classify(Dep::Address, Dep::AddressAndPort, false);
    assert_eq!(report.mapping, MappingBehavior::AddressDependent);
    assert_eq!(
        report.classic_name(),
        "symmetric with address-dependent mapping"
    );
}

#[test]
fn no_nat_is_open_internet() {
    let run = discover(
        None,
        "203.0.113.5:5000",
        Some("203.0.113.5:5001"),
        true,
        Some(LifetimeConfig::default()),
    );
    let report = run.report.unwrap();
    assert_eq!(report.mapped, addr("203.0.113.5:5000"));
    assert_eq!(report.mapping, MappingBehavior::NoNat);
    assert_eq!(report.filtering, FilteringBehavior::EndpointIndependent);
    assert_eq!((report.hairpinning, report.lifetime), (None, None));
    assert_eq!(report.classic_name(), "open internet");
    assert!(!report.nat_present());
    assert_eq!(
        run.steps,
        [
            DiscoveryStep::Connectivity,
            DiscoveryStep::FilteringChangeAddressAndPort
        ]
    );
}

#[test]
fn test_order_and_duration() {
    let mut nat = FakeNat::new(Dep::AddressAndPort, Dep::AddressAndPort);
    nat.hairpin = true;
    let run = discover(Some(nat), INSIDE, Some(INSIDE_2), true, None);
    assert_eq!(
        run.steps,
        [
            DiscoveryStep::Connectivity,
            DiscoveryStep::FilteringChangeAddressAndPort,
            DiscoveryStep::FilteringChangePort,
            DiscoveryStep::MappingAlternateAddress,
            DiscoveryStep::MappingAlternateAddressAndPort,
            DiscoveryStep::Hairpinning,
        ]
    );
    // Silent probes cost 3.5 s + 4 x 0.5 s each with the default probe budget: two filtering
    // probes and the hairpin probes; the rest are round trips of 20 ms.
    assert_eq!(run.finished_at, Instant::from_millis(3 * 5_500 + 4 * 20));
}

#[test]
fn hairpinning_is_detected() {
    for (m, f) in [
        (Dep::Independent, Dep::Independent),
        (Dep::Independent, Dep::AddressAndPort),
    ] {
        assert_eq!(classify(m, f, true).hairpinning, Some(true), "{m:?} {f:?}");
        assert_eq!(
            classify(m, f, false).hairpinning,
            Some(false),
            "{m:?} {f:?}"
        );
    }
}

#[test]
fn hairpinning_needs_a_second_socket() {
    let nat = FakeNat::new(Dep::Independent, Dep::Independent);
    let report = discover(Some(nat), INSIDE, None, true, None)
        .report
        .unwrap();
    assert_eq!(report.hairpinning, None);
    assert_eq!(report.classic_name(), "full cone");
}

#[test]
fn mapping_lifetime_is_found_by_binary_search() {
    let mut nat = FakeNat::new(Dep::Independent, Dep::AddressAndPort);
    nat.lifetime = Some(Duration::from_secs(30));
    let limits = LifetimeConfig {
        max: Duration::from_secs(120),
        precision: Duration::from_secs(1),
    };
    let run = discover(Some(nat), INSIDE, Some(INSIDE_2), true, Some(limits));
    let report = run.report.unwrap();
    let lifetime = report.lifetime.expect("a lifetime");
    // Alive after `lifetime`, gone a second later; the 30 ms of round trips count as idle.
    assert!(
        lifetime >= Duration::from_secs(29) && lifetime < Duration::from_secs(30),
        "{lifetime:?}"
    );
    assert_eq!(report.classic_name(), "port-restricted cone");
    assert!(run.steps.contains(&DiscoveryStep::Lifetime {
        idle: Duration::from_secs(120)
    }));
}

#[test]
fn mapping_lifetime_beyond_the_maximum() {
    let mut nat = FakeNat::new(Dep::Independent, Dep::Independent);
    nat.lifetime = Some(Duration::from_secs(600));
    let limits = LifetimeConfig {
        max: Duration::from_secs(60),
        precision: Duration::from_secs(1),
    };
    let report = discover(Some(nat), INSIDE, Some(INSIDE_2), true, Some(limits))
        .report
        .unwrap();
    assert_eq!(report.lifetime, Some(Duration::from_secs(60)));
}

#[test]
fn server_without_rfc5780() {
    let nat = FakeNat::new(Dep::AddressAndPort, Dep::AddressAndPort);
    let run = discover(Some(nat), INSIDE, None, false, None);
    let report = run.report.unwrap();
    assert_eq!(report.other_address, None);
    assert!(!report.rfc5780_supported());
    assert_eq!(
        (report.mapping, report.filtering),
        (MappingBehavior::Unknown, FilteringBehavior::Unknown)
    );
    assert_eq!(report.classic_name(), "NAT present (server lacks RFC 5780)");
    assert_eq!(run.steps, [DiscoveryStep::Connectivity]);

    let report = discover(None, "203.0.113.5:5000", None, false, None)
        .report
        .unwrap();
    assert_eq!(report.mapping, MappingBehavior::NoNat);
    assert_eq!(report.classic_name(), "no NAT (filtering unknown)");
}

#[test]
fn unreachable_server_times_out() {
    let mut nat = FakeNat::new(Dep::Independent, Dep::Independent);
    nat.external = "198.51.100.1".parse().unwrap();
    // Nothing listens at the server address: the network loses every datagram.
    let mut config = DiscoveryConfig::new(addr(INSIDE), addr("192.0.2.200:3478"));
    config.hairpin_local = Some(addr(INSIDE_2));
    let mut d = Host::new(
        NatDiscovery::new(config, Box::new(ChaCha20Rng::seed_from_u64(6))),
        vec![addr(INSIDE)],
    );
    d.machine.start(Instant::ZERO);
    let mut net = Net::new(Duration::from_millis(10));
    net.run(&mut [&mut d], Instant::from_secs(3600));
    let (at, DiscoveryEvent::Finished(result)) = d.events.last().unwrap().clone() else {
        panic!("{:?}", d.events);
    };
    assert_eq!(result, Err(DiscoveryError::NoResponse));
    assert_eq!(at, Instant::from_millis(39_500));
}

#[test]
fn report_prints_for_people() {
    let report = classify(Dep::Independent, Dep::Address, true);
    let text = report.to_string();
    assert!(
        text.starts_with("NAT type:     restricted cone\n"),
        "{text}"
    );
    assert!(text.contains("hairpinning:  yes"), "{text}");
    assert!(text.contains("filtering:    address-dependent"), "{text}");
}
