//! End to end: pigeon's RFC 5780 BindingServer on two public IPs, pigeon's NatDiscovery client
//! behind each NAT preset (and on the open internet) in the simulator. Discovery must classify
//! mapping, filtering, hairpinning and the (short) mapping lifetime exactly as configured.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::stun::{
    BindingServer, DiscoveryConfig, DiscoveryEvent, FilteringBehavior, LifetimeConfig,
    MappingBehavior, NatDiscovery, NatReport, ServerConfig,
};
use pigeon_sim::scenarios::nat_check::{NAT_LIFETIME, nat_check};
use pigeon_sim::{LinkConfig, NatConfig, NatPreset, NetworkId, Sim};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Discovery behind `nat` (or on the open internet), with or without the lifetime search.
fn discover(seed: u64, nat: Option<NatConfig>, lifetime: bool) -> NatReport {
    let mut sim = Sim::new(seed);
    let mut server = ServerConfig::new(addr("192.0.2.1:3478"));
    server.alternate = Some(addr("192.0.2.2:3479"));
    let server = BindingServer::new(server).unwrap();
    let addrs = server.local_addresses();
    assert_eq!(addrs.len(), 4);
    sim.add_node(NetworkId::PUBLIC, &addrs, server, LinkConfig::default())
        .unwrap();
    let (network, ip) = match nat {
        Some(c) => (
            sim.add_nat(
                NetworkId::PUBLIC,
                c.with_external_ip("198.51.100.1".parse().unwrap()),
            )
            .unwrap(),
            "10.0.0.2",
        ),
        None => (NetworkId::PUBLIC, "203.0.113.2"),
    };
    let (main, second) = (addr(&format!("{ip}:5000")), addr(&format!("{ip}:5001")));
    let mut config = DiscoveryConfig::new(main, addr("192.0.2.1:3478"));
    config.hairpin_local = Some(second);
    if lifetime {
        config.lifetime = Some(LifetimeConfig {
            max: Duration::from_secs(60),
            precision: Duration::from_secs(1),
        });
    }
    let client = NatDiscovery::new(config, sim.fork_rng("client"));
    let node = sim
        .add_node(network, &[main, second], client, LinkConfig::default())
        .unwrap();
    sim.command(node, |d: &mut NatDiscovery, now| d.start(now));
    for _ in 0..3600 {
        if sim.machine::<NatDiscovery>(node).unwrap().is_finished() {
            break;
        }
        sim.run_for(Duration::from_secs(1));
    }
    sim.take_events::<NatDiscovery>(node)
        .into_iter()
        .find_map(|e| match e {
            DiscoveryEvent::Finished(r) => Some(r.expect("discovery succeeded")),
            DiscoveryEvent::Progress(_) => None,
        })
        .expect("discovery finished within an hour of virtual time")
}

#[test]
fn every_preset_is_classified_exactly() {
    use FilteringBehavior as F;
    use MappingBehavior as M;
    let expected = [
        (
            NatPreset::FullCone,
            M::EndpointIndependent,
            F::EndpointIndependent,
        ),
        (
            NatPreset::RestrictedCone,
            M::EndpointIndependent,
            F::AddressDependent,
        ),
        (
            NatPreset::PortRestrictedCone,
            M::EndpointIndependent,
            F::AddressAndPortDependent,
        ),
        (
            NatPreset::Symmetric,
            M::AddressAndPortDependent,
            F::AddressAndPortDependent,
        ),
    ];
    for (preset, mapping, filtering) in expected {
        for hairpinning in [true, false] {
            let config = NatConfig::preset(preset).with_hairpinning(hairpinning);
            let report = discover(1, Some(config), false);
            assert_eq!(report.mapping, mapping, "{preset}");
            assert_eq!(report.filtering, filtering, "{preset}");
            assert_eq!(report.hairpinning, Some(hairpinning), "{preset}");
            assert_eq!(report.classic_name(), preset.name());
            assert_eq!(
                report.mapped.ip(),
                "198.51.100.1".parse::<std::net::IpAddr>().unwrap()
            );
        }
    }
}

#[test]
fn address_dependent_mapping_is_classified() {
    let config = NatConfig::new(
        pigeon_sim::MappingBehavior::AddressDependent,
        pigeon_sim::FilteringBehavior::AddressDependent,
    );
    let report = discover(2, Some(config), false);
    assert_eq!(report.mapping, MappingBehavior::AddressDependent);
    assert_eq!(report.filtering, FilteringBehavior::AddressDependent);
}

#[test]
fn open_internet_is_no_nat() {
    let report = discover(3, None, true);
    assert_eq!(report.mapping, MappingBehavior::NoNat);
    assert_eq!(report.filtering, FilteringBehavior::EndpointIndependent);
    assert_eq!(report.classic_name(), "open internet");
    assert_eq!(report.mapped, addr("203.0.113.2:5000"));
}

#[test]
fn short_mapping_lifetime_is_found() {
    for preset in [NatPreset::FullCone, NatPreset::Symmetric] {
        let config = NatConfig::preset(preset).with_lifetime(Duration::from_secs(30));
        let report = discover(4, Some(config), true);
        let found = report.lifetime.expect("lifetime measured");
        // Alive after `found` idle, within the 1 s precision; the probe round trips (tens of
        // milliseconds here) eat into the last second.
        assert!(
            found <= Duration::from_secs(30) && found >= Duration::from_millis(28_500),
            "{preset}: {found:?}"
        );
    }
}

#[test]
fn nat_check_scenario_matches_everywhere_and_is_deterministic() {
    let mut pcap = Vec::new();
    let report = nat_check(11, Some(&mut pcap));
    let table = report.to_string();
    assert!(report.all_ok(), "{table}");
    assert_eq!(report.rows.len(), 5);
    let names: Vec<_> = report.rows.iter().map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "full cone",
            "restricted cone",
            "port-restricted cone",
            "symmetric",
            "open internet"
        ]
    );
    for row in &report.rows {
        let found = row.discovered.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(found.classic_name(), row.name());
        if let Some(c) = &row.configured {
            assert_eq!(c.mapping_lifetime, NAT_LIFETIME);
        }
    }
    assert!(report.pcap_error.is_none());
    assert!(pcap.len() > 24);
    // Same seed, same run; the pcap is byte-identical too.
    let mut again = Vec::new();
    let second = nat_check(11, Some(&mut again));
    assert_eq!(second.trace_hash, report.trace_hash);
    assert_eq!(again, pcap);
    assert_ne!(nat_check(12, None).trace_hash, report.trace_hash);
}
