//! What NAT behaviour discovery found: the [`NatReport`] and its parts, in RFC 4787 terms.

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;

use crate::stun::TransactionFailure;

/// How a NAT maps one internal address and port to external ones (RFC 4787 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MappingBehavior {
    /// The mapped address equals the local one: no NAT on the path (RFC 5780 §4.3).
    NoNat,
    /// One mapping for every destination (EIM).
    EndpointIndependent,
    /// A mapping per destination IP address (ADM).
    AddressDependent,
    /// A mapping per destination IP address and port (APDM).
    AddressAndPortDependent,
    /// Not determined: the server lacks RFC 5780 (no OTHER-ADDRESS), or a probe got no answer.
    Unknown,
}

impl fmt::Display for MappingBehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoNat => "no NAT",
            Self::EndpointIndependent => "endpoint-independent",
            Self::AddressDependent => "address-dependent",
            Self::AddressAndPortDependent => "address and port-dependent",
            Self::Unknown => "unknown",
        })
    }
}

/// Which inbound packets a NAT (or firewall) lets through to a mapping (RFC 4787 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilteringBehavior {
    /// Any source once the mapping exists (EIF); also what an open host shows.
    EndpointIndependent,
    /// Only IP addresses the inside host has sent to (ADF).
    AddressDependent,
    /// Only exact addresses and ports the inside host has sent to (APDF).
    AddressAndPortDependent,
    /// Not determined: the server lacks RFC 5780 (no OTHER-ADDRESS).
    Unknown,
}

impl fmt::Display for FilteringBehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EndpointIndependent => "endpoint-independent",
            Self::AddressDependent => "address-dependent",
            Self::AddressAndPortDependent => "address and port-dependent",
            Self::Unknown => "unknown",
        })
    }
}

/// The result of RFC 5780 NAT behaviour discovery. Plain fields, so a caller can print it
/// as text ([`Display`](fmt::Display)) or as JSON field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatReport {
    /// The local socket the tests ran from.
    pub local: SocketAddr,
    /// Its mapped (server-reflexive) address from the first Binding (test I).
    pub mapped: SocketAddr,
    /// The STUN server's primary address.
    pub server: SocketAddr,
    /// The server's OTHER-ADDRESS; `None` means it does not support RFC 5780, so mapping and
    /// filtering could not be tested.
    pub other_address: Option<SocketAddr>,
    /// Mapping behaviour.
    pub mapping: MappingBehavior,
    /// Filtering behaviour.
    pub filtering: FilteringBehavior,
    /// Whether a packet sent to our own mapped address came back in (RFC 4787 REQ-9);
    /// `None` when not tested (no second local socket, or no NAT).
    pub hairpinning: Option<bool>,
    /// The longest idle time the mapping was seen to survive (RFC 5780 §4.6), within the
    /// configured precision; the configured maximum means "at least that long". `None` when
    /// not tested or when the server does not support RESPONSE-PORT.
    pub lifetime: Option<Duration>,
}

impl NatReport {
    /// Whether the mapped address differs from the local one.
    pub fn nat_present(&self) -> bool {
        self.mapped != self.local
    }

    /// Whether the server supports RFC 5780 (it sent OTHER-ADDRESS).
    pub fn rfc5780_supported(&self) -> bool {
        self.other_address.is_some()
    }

    /// The RFC 3489-era name of this combination ("full cone", "symmetric", ...), or a
    /// description for combinations that name never covered.
    pub fn classic_name(&self) -> &'static str {
        use FilteringBehavior as F;
        use MappingBehavior as M;
        match (self.mapping, self.filtering) {
            (M::NoNat, F::EndpointIndependent) => "open internet",
            (M::NoNat, F::AddressDependent | F::AddressAndPortDependent) => {
                "symmetric UDP firewall"
            }
            (M::NoNat, F::Unknown) => "no NAT (filtering unknown)",
            (M::EndpointIndependent, F::EndpointIndependent) => "full cone",
            (M::EndpointIndependent, F::AddressDependent) => "restricted cone",
            (M::EndpointIndependent, F::AddressAndPortDependent) => "port-restricted cone",
            (M::EndpointIndependent, F::Unknown) => "cone (filtering unknown)",
            (M::AddressAndPortDependent, F::AddressAndPortDependent) => "symmetric",
            (M::AddressAndPortDependent | M::AddressDependent, F::EndpointIndependent) => {
                "symmetric with endpoint-independent filtering"
            }
            (M::AddressAndPortDependent | M::AddressDependent, F::AddressDependent) => {
                "symmetric with address-dependent filtering"
            }
            (M::AddressDependent, F::AddressAndPortDependent) => {
                "symmetric with address-dependent mapping"
            }
            (M::AddressDependent | M::AddressAndPortDependent, F::Unknown) => {
                "symmetric (filtering unknown)"
            }
            (M::Unknown, _) if !self.rfc5780_supported() => "NAT present (server lacks RFC 5780)",
            (M::Unknown, _) => "NAT present (behaviour unknown)",
        }
    }
}

impl fmt::Display for NatReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "NAT type:     {}", self.classic_name())?;
        writeln!(f, "local:        {}", self.local)?;
        writeln!(f, "mapped:       {}", self.mapped)?;
        match self.other_address {
            Some(other) => writeln!(f, "server:       {} (other address {other})", self.server)?,
            None => writeln!(f, "server:       {} (no RFC 5780 support)", self.server)?,
        }
        writeln!(f, "mapping:      {}", self.mapping)?;
        writeln!(f, "filtering:    {}", self.filtering)?;
        let hairpin = match self.hairpinning {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not tested",
        };
        writeln!(f, "hairpinning:  {hairpin}")?;
        match self.lifetime {
            Some(lifetime) => write!(f, "lifetime:     {:.1} s", lifetime.as_secs_f64()),
            None => write!(f, "lifetime:     not tested"),
        }
    }
}

/// Why discovery could not produce a [`NatReport`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The first Binding got no answer: no UDP connectivity to the server (RFC 5780 §4.2).
    NoResponse,
    /// The first Binding got an error response.
    ServerError {
        /// The error code.
        code: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The first Binding's success response had no mapped address.
    NoMappedAddress,
    /// The first Binding's transaction failed.
    Failed(TransactionFailure),
    /// The STUN client refused to start a request.
    Client(crate::stun::ClientError),
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoResponse => {
                f.write_str("no answer from the STUN server: UDP is blocked or the server is down")
            }
            Self::ServerError { code, reason } => {
                write!(f, "the STUN server answered with error {code} {reason}")
            }
            Self::NoMappedAddress => f.write_str("the STUN server sent no mapped address"),
            Self::Failed(failure) => write!(f, "the first Binding failed: {failure}"),
            Self::Client(error) => write!(f, "could not send a Binding request: {error}"),
        }
    }
}

impl std::error::Error for DiscoveryError {}

/// The test discovery is running, reported as it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscoveryStep {
    /// Test I: Binding to the primary address (RFC 5780 §4.2).
    Connectivity,
    /// Filtering test II: CHANGE-REQUEST for another IP and port (RFC 5780 §4.4).
    FilteringChangeAddressAndPort,
    /// Filtering test III: CHANGE-REQUEST for another port (RFC 5780 §4.4).
    FilteringChangePort,
    /// Mapping test II: Binding to the alternate IP, primary port (RFC 5780 §4.3).
    MappingAlternateAddress,
    /// Mapping test III: Binding to the alternate IP and port (RFC 5780 §4.3).
    MappingAlternateAddressAndPort,
    /// Hairpinning: probes to our own mapped addresses (RFC 5780 §3.4).
    Hairpinning,
    /// Mapping lifetime: a probe after this much idle time (RFC 5780 §4.6).
    Lifetime {
        /// The idle time being tested.
        idle: Duration,
    },
}

impl fmt::Display for DiscoveryStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connectivity => f.write_str("test I: binding to the primary address"),
            Self::FilteringChangeAddressAndPort => {
                f.write_str("filtering test II: asking for an answer from the other IP and port")
            }
            Self::FilteringChangePort => {
                f.write_str("filtering test III: asking for an answer from the other port")
            }
            Self::MappingAlternateAddress => {
                f.write_str("mapping test II: binding to the alternate IP address")
            }
            Self::MappingAlternateAddressAndPort => {
                f.write_str("mapping test III: binding to the alternate IP address and port")
            }
            Self::Hairpinning => f.write_str("hairpinning: sending to our own mapped address"),
            Self::Lifetime { idle } => write!(
                f,
                "mapping lifetime: probing after {:.1} s idle",
                idle.as_secs_f64()
            ),
        }
    }
}

/// What a [`NatDiscovery`](super::NatDiscovery) reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiscoveryEvent {
    /// A test is starting.
    Progress(DiscoveryStep),
    /// Discovery is over.
    Finished(Result<NatReport, DiscoveryError>),
}
