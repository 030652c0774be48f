//! ICE candidates (RFC 8445 §5.1): the transport addresses an agent offers its peer, their
//! priorities (§5.1.2), foundations (§5.1.1.3) and the priority of a candidate pair (§6.1.2.3).

use core::fmt;
use std::net::{IpAddr, SocketAddr};

use sha2::{Digest, Sha256};

/// Longest foundation RFC 8839 §5.1 allows (`foundation = 1*32ice-char`).
pub const MAX_FOUNDATION_LEN: usize = 32;
/// Highest component ID (RFC 8445 §5.1.2.1: "between 1 and 256 inclusive").
pub const MAX_COMPONENT: u16 = 256;
/// Highest priority RFC 8445 §5.1.2 allows ("between 1 and (2**31 - 1) inclusive").
pub const MAX_PRIORITY: u32 = (1 << 31) - 1;
/// Local preference an agent with a single IP address uses (RFC 8445 §5.1.2.1: "SHOULD be set
/// to the maximum of 65535").
pub const DEFAULT_LOCAL_PREFERENCE: u16 = 65535;

/// RFC 8839 §5.1: `ice-char = ALPHA / DIGIT / "+" / "/"`, the alphabet of foundations,
/// usernames and passwords.
pub fn is_ice_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'/'
}

/// How a candidate was obtained (RFC 8445 §5.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    /// An address of a local interface (`typ host`).
    Host,
    /// The address a STUN server saw the agent's binding request come from (`typ srflx`).
    ServerReflexive,
    /// An address learned from a peer's connectivity check (`typ prflx`).
    PeerReflexive,
    /// An address allocated on a TURN server (`typ relay`).
    Relayed,
}

impl CandidateKind {
    /// RFC 8445 §5.1.2.2: the recommended type preferences, host > peer-reflexive >
    /// server-reflexive > relayed.
    pub fn type_preference(self) -> u8 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    /// The `typ` token of RFC 8839 §5.1.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }

    /// The kind a `typ` token names; ABNF literals are case-insensitive (RFC 5234 §2.3).
    pub fn from_token(token: &str) -> Option<CandidateKind> {
        [
            CandidateKind::Host,
            CandidateKind::ServerReflexive,
            CandidateKind::PeerReflexive,
            CandidateKind::Relayed,
        ]
        .into_iter()
        .find(|kind| kind.as_str().eq_ignore_ascii_case(token))
    }
}

/// The transport protocol of a candidate, as its token is spelled (`udp`, `UDP`, `tcp`).
///
/// RFC 8839 §5.1 makes the token case-insensitive and open to extension: Chromium writes
/// `udp`, Firefox `UDP`. The spelling is kept so a line round-trips byte for byte, and
/// equality ignores ASCII case. Only UDP candidates are usable by pigeon so far.
#[derive(Clone, Debug)]
pub struct Transport(String);

impl Transport {
    /// UDP, spelled `udp`.
    pub fn udp() -> Transport {
        Transport("udp".to_owned())
    }

    /// A transport token as it appeared on the wire; `None` unless it is a non-empty token of
    /// visible ASCII.
    pub fn from_token(token: &str) -> Option<Transport> {
        let valid = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
        valid.then(|| Transport(token.to_owned()))
    }

    /// Whether this is UDP (in any case).
    pub fn is_udp(&self) -> bool {
        self.0.eq_ignore_ascii_case("udp")
    }

    /// The token as spelled.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Transport {
    fn eq(&self, other: &Transport) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for Transport {}

/// A foundation (RFC 8445 §5.1.1.3): candidates that share one are expected to succeed or fail
/// together, which the checklist's freezing (§6.1.2.6) relies on. 1 to 32 ice-chars.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Foundation(String);

impl Foundation {
    /// A foundation, if `text` is 1 to 32 ice-chars (RFC 8839 §5.1).
    pub fn new(text: &str) -> Option<Foundation> {
        let valid = (1..=MAX_FOUNDATION_LEN).contains(&text.len()) && text.bytes().all(is_ice_char);
        valid.then(|| Foundation(text.to_owned()))
    }

    /// RFC 8445 §5.1.1.3: candidates of the same type, from the same base IP address, learned
    /// from the same STUN or TURN server (by IP address) over the same transport share a
    /// foundation, and others differ. The inputs are hashed so the string is deterministic
    /// and reveals nothing of the base address; 32 bits in decimal, as Chromium writes them.
    pub fn compute(
        kind: CandidateKind,
        base: IpAddr,
        server: Option<IpAddr>,
        transport: &Transport,
    ) -> Foundation {
        let mut hash = Sha256::new();
        hash.update(kind.as_str().as_bytes());
        hash.update([0]);
        hash.update(base.to_string().as_bytes());
        hash.update([0]);
        if let Some(server) = server {
            hash.update(server.to_string().as_bytes());
        }
        hash.update([0]);
        hash.update(transport.as_str().to_ascii_lowercase().as_bytes());
        let digest = hash.finalize();
        let value = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        Foundation(value.to_string())
    }

    /// The foundation's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Foundation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a candidate can be reached: an IP address, or a hostname the agent has not resolved.
///
/// RFC 8839 §5.1 allows an FQDN as the connection address; browsers hide host addresses
/// behind mDNS names ending in `.local` (draft-ietf-mmusic-mdns-ice-candidates), which only the
/// application can resolve, so they are kept as strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CandidateAddress {
    /// An IPv4 or IPv6 address and port.
    Ip(SocketAddr),
    /// An unresolved hostname and port.
    Hostname {
        /// The name as written, e.g. `0b9a3ad1-8c9b-4b4e-9d3b-3e2e4a3f6b1c.local`.
        name: String,
        /// The port.
        port: u16,
    },
}

impl CandidateAddress {
    /// The socket address, when the address is an IP address.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match self {
            CandidateAddress::Ip(addr) => Some(*addr),
            CandidateAddress::Hostname { .. } => None,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            CandidateAddress::Ip(addr) => addr.port(),
            CandidateAddress::Hostname { port, .. } => *port,
        }
    }

    /// Whether the address is an mDNS name (ends in `.local`, RFC 6762 §3).
    pub fn is_mdns(&self) -> bool {
        match self {
            CandidateAddress::Ip(_) => false,
            CandidateAddress::Hostname { name, .. } => name
                .len()
                .checked_sub(".local".len())
                .and_then(|start| name.get(start..))
                .is_some_and(|tail| tail.eq_ignore_ascii_case(".local")),
        }
    }
}

impl From<SocketAddr> for CandidateAddress {
    fn from(addr: SocketAddr) -> CandidateAddress {
        CandidateAddress::Ip(addr)
    }
}

/// An extension attribute of a candidate line (RFC 8839 §5.1 `extension-att-name
/// extension-att-value`), such as `generation 0`, `ufrag EsAw` or `network-cost 999`. Kept in
/// order so a line round-trips.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Extension {
    /// The attribute's name.
    pub name: String,
    /// The attribute's value.
    pub value: String,
}

/// An ICE candidate (RFC 8445 §5.1, written as RFC 8839 §5.1 describes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Groups candidates expected to behave alike (§5.1.1.3).
    pub foundation: Foundation,
    /// The component (1 = RTP or the only one, 2 = RTCP), 1 to 256.
    pub component: u16,
    /// The transport protocol.
    pub transport: Transport,
    /// The candidate's priority (§5.1.2).
    pub priority: u32,
    /// Where the candidate can be reached.
    pub address: CandidateAddress,
    /// How the candidate was obtained.
    pub kind: CandidateKind,
    /// The base (server-reflexive, peer-reflexive) or mapped address (relayed) it came from;
    /// RFC 8839 §5.1 `raddr`/`rport`.
    pub related_address: Option<SocketAddr>,
    /// Extension attributes in the order they were written.
    pub extensions: Vec<Extension>,
}

impl Candidate {
    /// The `generation` extension Chromium writes, if present and a decimal number.
    pub fn generation(&self) -> Option<u32> {
        self.extension("generation").and_then(parse_decimal)
    }

    /// The value of the first extension named `name`.
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|extension| extension.name == name)
            .map(|extension| extension.value.as_str())
    }
}

/// A decimal number of ASCII digits only (`u32::from_str` would also take a leading `+`).
pub(crate) fn parse_decimal(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// RFC 8445 §5.1.2.1: `priority = (2^24)*(type preference) + (2^8)*(local preference) +
/// (2^0)*(256 - component ID)`.
///
/// `type_preference` is clamped to 126 (its range is 0 to 126) and `component` to 1..=256, so
/// the result always fits the 31 bits the RFC gives it.
pub fn candidate_priority(type_preference: u8, local_preference: u16, component: u16) -> u32 {
    let type_preference = u32::from(type_preference.min(126));
    let component = u32::from(component.clamp(1, MAX_COMPONENT));
    (type_preference << 24) + (u32::from(local_preference) << 8) + (256 - component)
}

/// RFC 8445 §6.1.2.3: `pair priority = 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0)`, where `G` is
/// the priority of the controlling agent's candidate and `D` the controlled agent's.
///
/// Priorities above 2^31 - 1, the most §5.1.2 allows, are taken as 2^31 - 1 so a peer's
/// out-of-range value cannot overflow the sum.
pub fn pair_priority(controlling: u32, controlled: u32) -> u64 {
    let clamp = |priority: u32| u64::from(priority.min(MAX_PRIORITY));
    let (g, d) = (clamp(controlling), clamp(controlled));
    (g.min(d) << 32) + 2 * g.max(d) + u64::from(g > d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_match_browsers() {
        // Chromium: srflx with local preference 30 (its network-adapter preference), component 1.
        let srflx = CandidateKind::ServerReflexive.type_preference();
        assert_eq!(candidate_priority(srflx, 30, 1), 1_677_729_535);
        // Firefox: host, local preference 32512, component 1.
        let host = CandidateKind::Host.type_preference();
        assert_eq!(candidate_priority(host, 32512, 1), 2_122_252_543);
        // Component 2 (RTCP) is one lower.
        assert_eq!(candidate_priority(host, 32512, 2), 2_122_252_542);
        assert_eq!(
            candidate_priority(host, DEFAULT_LOCAL_PREFERENCE, 1),
            (126 << 24) + (65535 << 8) + 255
        );
        let relay = CandidateKind::Relayed.type_preference();
        assert_eq!(candidate_priority(relay, 0, 256), 0);
        assert!(candidate_priority(u8::MAX, u16::MAX, 0) < 1 << 31);
    }

    #[test]
    fn type_preferences_order() {
        let prefs = [
            CandidateKind::Host,
            CandidateKind::PeerReflexive,
            CandidateKind::ServerReflexive,
            CandidateKind::Relayed,
        ]
        .map(CandidateKind::type_preference);
        assert_eq!(prefs, [126, 110, 100, 0]);
    }

    #[test]
    fn pair_priority_formula() {
        assert_eq!(pair_priority(10, 20), (10 << 32) + 40);
        assert_eq!(pair_priority(20, 10), (10 << 32) + 41);
        assert_eq!(pair_priority(7, 7), (7 << 32) + 14);
        // The largest inputs do not overflow; out-of-range ones count as the maximum.
        let max = u64::from(MAX_PRIORITY);
        assert_eq!(
            pair_priority(MAX_PRIORITY, MAX_PRIORITY),
            (max << 32) + 2 * max
        );
        assert_eq!(pair_priority(u32::MAX, u32::MAX), (max << 32) + 2 * max);
        // Both sides compute the same value when each passes its role's priority.
        assert_eq!(pair_priority(5, 9), pair_priority(5, 9));
        assert_ne!(pair_priority(5, 9), pair_priority(9, 5));
    }

    #[test]
    fn foundations_follow_section_5_1_1_3() {
        let udp = Transport::udp();
        let base: IpAddr = "192.168.1.5".parse().unwrap();
        let other: IpAddr = "192.168.1.6".parse().unwrap();
        let stun_a: IpAddr = "203.0.113.1".parse().unwrap();
        let stun_b: IpAddr = "203.0.113.2".parse().unwrap();
        let srflx = CandidateKind::ServerReflexive;
        let same = Foundation::compute(srflx, base, Some(stun_a), &udp);
        assert_eq!(
            same,
            Foundation::compute(
                srflx,
                base,
                Some(stun_a),
                &Transport::from_token("UDP").unwrap()
            )
        );
        assert_ne!(same, Foundation::compute(srflx, other, Some(stun_a), &udp));
        assert_ne!(same, Foundation::compute(srflx, base, Some(stun_b), &udp));
        assert_ne!(
            same,
            Foundation::compute(CandidateKind::Relayed, base, Some(stun_a), &udp)
        );
        assert_ne!(
            same,
            Foundation::compute(
                srflx,
                base,
                Some(stun_a),
                &Transport::from_token("tcp").unwrap()
            )
        );
        let host = Foundation::compute(CandidateKind::Host, base, None, &udp);
        assert_ne!(
            host,
            Foundation::compute(CandidateKind::Host, other, None, &udp)
        );
        // Always a valid foundation.
        assert_eq!(Foundation::new(host.as_str()), Some(host));
    }

    #[test]
    fn foundation_syntax() {
        assert!(Foundation::new("842163049").is_some());
        assert!(Foundation::new("a+b/C").is_some());
        assert!(Foundation::new(&"1".repeat(32)).is_some());
        assert!(Foundation::new(&"1".repeat(33)).is_none());
        assert!(Foundation::new("").is_none());
        assert!(Foundation::new("a-b").is_none());
    }

    #[test]
    fn transport_ignores_case() {
        let firefox = Transport::from_token("UDP").unwrap();
        assert_eq!(firefox, Transport::udp());
        assert!(firefox.is_udp());
        assert_eq!(firefox.as_str(), "UDP");
        assert!(!Transport::from_token("tcp").unwrap().is_udp());
        assert!(Transport::from_token("").is_none());
        assert!(Transport::from_token("u p").is_none());
    }

    #[test]
    fn mdns_names() {
        let name = |name: &str| CandidateAddress::Hostname {
            name: name.to_owned(),
            port: 9,
        };
        assert!(name("0b9a3ad1-8c9b-4b4e-9d3b-3e2e4a3f6b1c.local").is_mdns());
        assert!(name("X.LOCAL").is_mdns());
        assert!(!name("local").is_mdns());
        assert!(!name("example.org").is_mdns());
        assert!(!CandidateAddress::Ip("10.0.0.1:9".parse().unwrap()).is_mdns());
    }
}
