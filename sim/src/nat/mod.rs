//! NATs per RFC 4787: configuration, the four classic presets, and the translation table.
//!
//! A NAT joins a private realm (a [`NetworkId`](crate::NetworkId) of its own) to its parent
//! network, where it owns one or more external IP addresses. Its parent may itself be a private
//! realm, which nests NATs (a home NAT behind a carrier-grade NAT). /work/shared/NAT.md pins the
//! behaviour down; docs/simulator.md lists which RFC 4787 requirements are modelled.

mod table;

use core::fmt;
use core::net::IpAddr;
use core::time::Duration;

pub use table::MappingInfo;
pub(crate) use table::NatTable;

/// How a NAT chooses the external endpoint for an internal endpoint (RFC 4787 §4.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum MappingBehavior {
    /// One mapping per internal endpoint, whatever the destination (REQ-1).
    EndpointIndependent,
    /// One mapping per internal endpoint and destination IP.
    AddressDependent,
    /// One mapping per internal endpoint and destination IP and port.
    AddressAndPortDependent,
}

/// Which inbound datagrams a NAT lets through an existing mapping (RFC 4787 §5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum FilteringBehavior {
    /// Any remote endpoint.
    EndpointIndependent,
    /// Only remote IPs the internal endpoint has sent to through this mapping.
    AddressDependent,
    /// Only remote IP:port pairs the internal endpoint has sent to through this mapping.
    AddressAndPortDependent,
}

/// How a NAT picks the external port of a new mapping (RFC 4787 §4.2.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PortAssignment {
    /// Keep the internal port when it is free on the external IP; otherwise a random free port
    /// (so two internal hosts on the same port get distinct mappings).
    Preserving,
    /// The next free port after the one last assigned, NAT-wide (with address-and-port-dependent
    /// mapping this gives each new destination the next port: the predictable kind).
    Sequential,
    /// A uniformly random free port.
    Random,
}

/// Which external IP a NAT with several uses for a new mapping (RFC 4787 §4.1, REQ-2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AddressPooling {
    /// Every mapping of one internal IP uses the same external IP (REQ-2's RECOMMENDED "paired").
    Paired,
    /// Each new mapping takes the next external IP in turn.
    Arbitrary,
}

/// The classic NAT names (RFC 3489's), as RFC 4787 behaviour pairs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum NatPreset {
    /// Endpoint-independent mapping and filtering.
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering.
    RestrictedCone,
    /// Endpoint-independent mapping, address-and-port-dependent filtering.
    PortRestrictedCone,
    /// Address-and-port-dependent mapping and filtering.
    Symmetric,
}

impl NatPreset {
    /// The four presets in the order of NAT.md's table.
    pub const ALL: [NatPreset; 4] = [
        NatPreset::FullCone,
        NatPreset::RestrictedCone,
        NatPreset::PortRestrictedCone,
        NatPreset::Symmetric,
    ];

    /// The classic name, as `pigeon::stun::NatReport::classic_name` spells it.
    pub fn name(self) -> &'static str {
        match self {
            NatPreset::FullCone => "full cone",
            NatPreset::RestrictedCone => "restricted cone",
            NatPreset::PortRestrictedCone => "port-restricted cone",
            NatPreset::Symmetric => "symmetric",
        }
    }
}

impl fmt::Display for NatPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything about one NAT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatConfig {
    /// Mapping behaviour.
    pub mapping: MappingBehavior,
    /// Filtering behaviour.
    pub filtering: FilteringBehavior,
    /// Port assignment.
    pub port_assignment: PortAssignment,
    /// Lowest external port the NAT assigns.
    pub port_min: u16,
    /// Highest external port the NAT assigns.
    pub port_max: u16,
    /// Idle time after which a mapping (and each remote's filter entry) is gone. RFC 4787 REQ-5
    /// asks for at least 2 minutes; many deployed NATs use about 30 s.
    pub mapping_lifetime: Duration,
    /// Whether inbound datagrams refresh the mapping too (outbound ones always do: REQ-6).
    pub inbound_refresh: bool,
    /// Whether an internal host can reach another through the NAT's external address (REQ-9).
    pub hairpinning: bool,
    /// External addresses in the parent network (at least one).
    pub external_ips: Vec<IpAddr>,
    /// How a mapping's external IP is chosen when there are several.
    pub pooling: AddressPooling,
}

impl NatConfig {
    /// A NAT with the given behaviours, preserving ports, a 2-minute lifetime, outbound-only
    /// refresh, hairpinning on, and no external IP yet (add one with
    /// [`with_external_ip`](Self::with_external_ip)).
    pub fn new(mapping: MappingBehavior, filtering: FilteringBehavior) -> NatConfig {
        NatConfig {
            mapping,
            filtering,
            port_assignment: PortAssignment::Preserving,
            port_min: 1024,
            port_max: 65535,
            mapping_lifetime: Duration::from_secs(120),
            inbound_refresh: false,
            hairpinning: true,
            external_ips: Vec::new(),
            pooling: AddressPooling::Paired,
        }
    }

    /// The preset's behaviours. Cones preserve ports; symmetric assigns them at random, as the
    /// hard-to-traverse NATs in the field do.
    pub fn preset(preset: NatPreset) -> NatConfig {
        use FilteringBehavior as F;
        use MappingBehavior as M;
        match preset {
            NatPreset::FullCone => NatConfig::new(M::EndpointIndependent, F::EndpointIndependent),
            NatPreset::RestrictedCone => {
                NatConfig::new(M::EndpointIndependent, F::AddressDependent)
            }
            NatPreset::PortRestrictedCone => {
                NatConfig::new(M::EndpointIndependent, F::AddressAndPortDependent)
            }
            NatPreset::Symmetric => NatConfig {
                port_assignment: PortAssignment::Random,
                ..NatConfig::new(M::AddressAndPortDependent, F::AddressAndPortDependent)
            },
        }
    }

    /// Full cone: EIM + EIF.
    pub fn full_cone() -> NatConfig {
        NatConfig::preset(NatPreset::FullCone)
    }

    /// Restricted cone: EIM + ADF.
    pub fn restricted_cone() -> NatConfig {
        NatConfig::preset(NatPreset::RestrictedCone)
    }

    /// Port-restricted cone: EIM + APDF.
    pub fn port_restricted_cone() -> NatConfig {
        NatConfig::preset(NatPreset::PortRestrictedCone)
    }

    /// Symmetric: APDM + APDF, random ports.
    pub fn symmetric() -> NatConfig {
        NatConfig::preset(NatPreset::Symmetric)
    }

    /// Adds an external IP.
    pub fn with_external_ip(mut self, ip: IpAddr) -> NatConfig {
        self.external_ips.push(ip);
        self
    }

    /// Sets the mapping lifetime.
    pub fn with_lifetime(mut self, lifetime: Duration) -> NatConfig {
        self.mapping_lifetime = lifetime;
        self
    }

    /// Sets the port assignment.
    pub fn with_port_assignment(mut self, assignment: PortAssignment) -> NatConfig {
        self.port_assignment = assignment;
        self
    }

    /// Turns hairpinning on or off.
    pub fn with_hairpinning(mut self, on: bool) -> NatConfig {
        self.hairpinning = on;
        self
    }

    /// Turns inbound refresh on or off.
    pub fn with_inbound_refresh(mut self, on: bool) -> NatConfig {
        self.inbound_refresh = on;
        self
    }

    /// The preset these behaviours match, if any (port assignment and the rest do not matter).
    pub fn classic(&self) -> Option<NatPreset> {
        use FilteringBehavior as F;
        use MappingBehavior as M;
        match (self.mapping, self.filtering) {
            (M::EndpointIndependent, F::EndpointIndependent) => Some(NatPreset::FullCone),
            (M::EndpointIndependent, F::AddressDependent) => Some(NatPreset::RestrictedCone),
            (M::EndpointIndependent, F::AddressAndPortDependent) => {
                Some(NatPreset::PortRestrictedCone)
            }
            (M::AddressAndPortDependent, F::AddressAndPortDependent) => Some(NatPreset::Symmetric),
            _ => None,
        }
    }
}

impl fmt::Display for MappingBehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MappingBehavior::EndpointIndependent => "endpoint-independent",
            MappingBehavior::AddressDependent => "address-dependent",
            MappingBehavior::AddressAndPortDependent => "address-and-port-dependent",
        })
    }
}

impl fmt::Display for FilteringBehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FilteringBehavior::EndpointIndependent => "endpoint-independent",
            FilteringBehavior::AddressDependent => "address-dependent",
            FilteringBehavior::AddressAndPortDependent => "address-and-port-dependent",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_through_classic() {
        for p in NatPreset::ALL {
            assert_eq!(NatConfig::preset(p).classic(), Some(p));
        }
        let adm = NatConfig::new(
            MappingBehavior::AddressDependent,
            FilteringBehavior::AddressDependent,
        );
        assert_eq!(adm.classic(), None);
    }
}
