//! `nat-check`: the four NAT presets plus the open internet, each with pigeon's RFC 5780
//! discovery client behind it and pigeon's STUN server on two public IPs, compared with what
//! was configured. `pigeon sim nat-check` prints the report.

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;
use std::io::Write;

use pigeon::stun::{
    BindingServer, DiscoveryConfig, DiscoveryError, DiscoveryEvent, FilteringBehavior,
    LifetimeConfig, MappingBehavior, NatDiscovery, NatReport, ServerConfig,
};

use crate::{LinkConfig, NatConfig, NatPreset, NetworkId, NodeId, Sim, nat};

/// The STUN server's primary address (RFC 5780 §6: A1:P1).
pub const STUN_PRIMARY: &str = "192.0.2.1:3478";
/// The STUN server's alternate address (A2:P2: another IP and another port).
pub const STUN_ALTERNATE: &str = "192.0.2.2:3479";
/// Mapping lifetime configured on every NAT: short, as many deployed NATs have it.
pub const NAT_LIFETIME: Duration = Duration::from_secs(30);
/// How finely discovery searches for the lifetime.
pub const LIFETIME_PRECISION: Duration = Duration::from_secs(1);
/// The longest idle time discovery tries.
pub const LIFETIME_MAX: Duration = Duration::from_secs(60);
/// Virtual time after which unfinished discoveries are reported as such.
const TIME_LIMIT: Duration = Duration::from_secs(3600);

/// One case: what was built and what discovery found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatCheckRow {
    /// The preset, or `None` for a host on the open internet.
    pub preset: Option<NatPreset>,
    /// The NAT as configured (`None` on the open internet).
    pub configured: Option<NatConfig>,
    /// Discovery's result; `None` if it had not finished within the time limit.
    pub discovered: Option<Result<NatReport, DiscoveryError>>,
}

impl NatCheckRow {
    /// "open internet" or the preset's name.
    pub fn name(&self) -> &'static str {
        self.preset.map_or("open internet", NatPreset::name)
    }

    /// The mapping behaviour discovery should report.
    pub fn expected_mapping(&self) -> MappingBehavior {
        match &self.configured {
            None => MappingBehavior::NoNat,
            Some(c) => match c.mapping {
                nat::MappingBehavior::EndpointIndependent => MappingBehavior::EndpointIndependent,
                nat::MappingBehavior::AddressDependent => MappingBehavior::AddressDependent,
                nat::MappingBehavior::AddressAndPortDependent => {
                    MappingBehavior::AddressAndPortDependent
                }
            },
        }
    }

    /// The filtering behaviour discovery should report (an open host filters nothing).
    pub fn expected_filtering(&self) -> FilteringBehavior {
        match &self.configured {
            None => FilteringBehavior::EndpointIndependent,
            Some(c) => match c.filtering {
                nat::FilteringBehavior::EndpointIndependent => {
                    FilteringBehavior::EndpointIndependent
                }
                nat::FilteringBehavior::AddressDependent => FilteringBehavior::AddressDependent,
                nat::FilteringBehavior::AddressAndPortDependent => {
                    FilteringBehavior::AddressAndPortDependent
                }
            },
        }
    }

    /// Hairpinning as discovery should report it (not tested without a NAT).
    pub fn expected_hairpinning(&self) -> Option<bool> {
        self.configured.as_ref().map(|c| c.hairpinning)
    }

    fn report(&self) -> Option<&NatReport> {
        self.discovered.as_ref()?.as_ref().ok()
    }

    /// Whether the discovered lifetime is consistent with the configured one: at most the
    /// configured value, and within the search precision plus the probe round trips of it.
    pub fn lifetime_ok(&self) -> bool {
        let Some(report) = self.report() else {
            return false;
        };
        match (&self.configured, report.lifetime) {
            (None, None) => true,
            (Some(c), Some(found)) => {
                let slack = LIFETIME_PRECISION + Duration::from_millis(500);
                found <= c.mapping_lifetime && found + slack >= c.mapping_lifetime
            }
            _ => false,
        }
    }

    /// Whether everything discovered matches the configuration.
    pub fn ok(&self) -> bool {
        self.report().is_some_and(|r| {
            r.mapping == self.expected_mapping()
                && r.filtering == self.expected_filtering()
                && r.hairpinning == self.expected_hairpinning()
        }) && self.lifetime_ok()
    }
}

/// The whole check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatCheckReport {
    /// The seed used.
    pub seed: u64,
    /// One row per case: the four presets, then the open internet.
    pub rows: Vec<NatCheckRow>,
    /// The simulation's trace hash (same seed, same hash).
    pub trace_hash: u64,
    /// Why the pcap could not be written, if it could not.
    pub pcap_error: Option<String>,
}

impl NatCheckReport {
    /// Whether every row matches.
    pub fn all_ok(&self) -> bool {
        self.rows.iter().all(NatCheckRow::ok)
    }
}

/// Builds every preset (plus no NAT) with the STUN server, runs discovery behind each at the
/// same time in one simulation, and reports. With `pcap`, all traffic is written there.
pub fn nat_check(seed: u64, pcap: Option<&mut dyn Write>) -> NatCheckReport {
    let mut sim = Sim::new(seed);
    if pcap.is_some() {
        sim.enable_pcap();
    }
    let link = LinkConfig::default();
    let mut server_config = ServerConfig::new(parse(STUN_PRIMARY));
    server_config.alternate = Some(parse(STUN_ALTERNATE));
    server_config.software = Some("pigeon-sim nat-check".into());
    // NOTE(unwrap): the two fixed server addresses differ in IP and port.
    let server = BindingServer::new(server_config).expect("a valid RFC 5780 pair");
    let server_addrs = server.local_addresses();
    // NOTE(unwrap): a fresh simulation with fixed, distinct addresses cannot conflict.
    sim.add_node(NetworkId::PUBLIC, &server_addrs, server, link)
        .expect("server addresses are free");

    let mut cases: Vec<(Option<NatPreset>, Option<NatConfig>, NodeId)> = Vec::new();
    let presets = NatPreset::ALL.iter().map(|p| Some(*p)).chain([None]);
    for (i, preset) in presets.enumerate() {
        let (network, local, configured) = match preset {
            Some(p) => {
                let external = format!("198.51.100.{}", i + 1).parse().expect("valid IP");
                let config = NatConfig::preset(p)
                    .with_lifetime(NAT_LIFETIME)
                    .with_external_ip(external);
                let realm = sim
                    .add_nat(NetworkId::PUBLIC, config.clone())
                    .expect("NAT addresses are free");
                (realm, "10.0.0.2", Some(config))
            }
            None => (NetworkId::PUBLIC, "203.0.113.2", None),
        };
        let main: SocketAddr = parse(&format!("{local}:5000"));
        let second: SocketAddr = parse(&format!("{local}:5001"));
        let mut config = DiscoveryConfig::new(main, parse(STUN_PRIMARY));
        config.hairpin_local = Some(second);
        config.lifetime = Some(LifetimeConfig {
            max: LIFETIME_MAX,
            precision: LIFETIME_PRECISION,
        });
        let name = preset.map_or("open internet", NatPreset::name);
        let client = NatDiscovery::new(config, sim.fork_rng(&format!("nat-check/{name}")));
        let node = sim
            .add_node(network, &[main, second], client, link)
            .expect("client addresses are free");
        sim.command(node, |d: &mut NatDiscovery, now| d.start(now));
        cases.push((preset, configured, node));
    }

    let deadline = sim.now() + TIME_LIMIT;
    while sim.now() < deadline
        && !cases.iter().all(|(_, _, node)| {
            sim.machine::<NatDiscovery>(*node)
                .is_some_and(NatDiscovery::is_finished)
        })
    {
        sim.run_for(Duration::from_secs(1));
    }

    let rows = cases
        .into_iter()
        .map(|(preset, configured, node)| {
            let discovered =
                sim.take_events::<NatDiscovery>(node)
                    .into_iter()
                    .find_map(|e| match e {
                        DiscoveryEvent::Finished(result) => Some(result),
                        DiscoveryEvent::Progress(_) => None,
                    });
            NatCheckRow {
                preset,
                configured,
                discovered,
            }
        })
        .collect();
    let pcap_error = pcap.and_then(|out| {
        let bytes = sim.take_pcap();
        out.write_all(&bytes)
            .and_then(|()| out.flush())
            .err()
            .map(|e| e.to_string())
    });
    NatCheckReport {
        seed,
        rows,
        trace_hash: sim.trace_hash(),
        pcap_error,
    }
}

fn parse(s: &str) -> SocketAddr {
    // NOTE(unwrap): only called on the constant addresses of this module.
    s.parse().expect("constant socket address")
}

fn short_mapping(m: MappingBehavior) -> &'static str {
    match m {
        MappingBehavior::NoNat => "none",
        MappingBehavior::EndpointIndependent => "EIM",
        MappingBehavior::AddressDependent => "ADM",
        MappingBehavior::AddressAndPortDependent => "APDM",
        MappingBehavior::Unknown => "?",
    }
}

fn short_filtering(f: FilteringBehavior) -> &'static str {
    match f {
        FilteringBehavior::EndpointIndependent => "EIF",
        FilteringBehavior::AddressDependent => "ADF",
        FilteringBehavior::AddressAndPortDependent => "APDF",
        FilteringBehavior::Unknown => "?",
    }
}

fn on_off(h: Option<bool>) -> &'static str {
    match h {
        Some(true) => "on",
        Some(false) => "off",
        None => "-",
    }
}

fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| format!("{:.1}s", d.as_secs_f64()))
}

impl fmt::Display for NatCheckReport {
    /// A table: configured / discovered for each property, the classic name discovery gives,
    /// and whether the row matches.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<21} {:<11} {:<11} {:<9} {:<13} {:<21} ok",
            "case", "mapping", "filtering", "hairpin", "lifetime", "classified as"
        )?;
        for row in &self.rows {
            let report = row.report();
            let found_m = report.map_or("?", |r| short_mapping(r.mapping));
            let found_f = report.map_or("?", |r| short_filtering(r.filtering));
            let found_h = report.map_or("?", |r| on_off(r.hairpinning));
            let found_l = report.map_or_else(|| "?".to_owned(), |r| secs(r.lifetime));
            let class = match &row.discovered {
                Some(Ok(r)) => r.classic_name().to_owned(),
                Some(Err(e)) => format!("error: {e}"),
                None => "unfinished".to_owned(),
            };
            writeln!(
                f,
                "{:<21} {:<11} {:<11} {:<9} {:<13} {:<21} {}",
                row.name(),
                format!("{}/{}", short_mapping(row.expected_mapping()), found_m),
                format!("{}/{}", short_filtering(row.expected_filtering()), found_f),
                format!("{}/{}", on_off(row.expected_hairpinning()), found_h),
                format!(
                    "{}/{}",
                    secs(row.configured.as_ref().map(|c| c.mapping_lifetime)),
                    found_l
                ),
                class,
                if row.ok() { "yes" } else { "NO" }
            )?;
        }
        write!(
            f,
            "(configured/discovered; seed {}, trace hash {:016x})",
            self.seed, self.trace_hash
        )
    }
}
