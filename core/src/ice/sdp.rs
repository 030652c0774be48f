//! The SDP syntax of ICE (RFC 8839): `a=candidate` lines (§5.1), `a=end-of-candidates`
//! (RFC 8840 §8.2) and `a=ice-ufrag`/`a=ice-pwd` (§5.4).
//!
//! Candidate lines are accepted with or without the `a=` prefix, since trickled candidates
//! travel as `candidate:...` strings in JSON (RFC 8838 §4, the W3C `RTCIceCandidate`). The
//! parser borrows the line, bounds its length and the number of extensions, and reports what is
//! wrong as an [`SdpError`]; it never panics.

use core::fmt;
use std::net::{IpAddr, SocketAddr};

use super::candidate::{
    Candidate, CandidateAddress, CandidateKind, Extension, Foundation, MAX_COMPONENT, Transport,
    is_ice_char, parse_decimal,
};

/// Longest line the parser reads. Browsers write candidate lines of about 150 bytes.
pub const MAX_LINE_LEN: usize = 1024;
/// Most extension attributes one candidate line may carry.
pub const MAX_EXTENSIONS: usize = 16;
const MAX_HOSTNAME_LEN: usize = 253;

/// Why a line is not valid ICE SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The line is longer than [`MAX_LINE_LEN`].
    TooLong,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The line is not one of the attributes this module knows.
    UnknownAttribute,
    /// A field is missing; the name says which.
    MissingField(&'static str),
    /// The foundation is not 1 to 32 ice-chars.
    InvalidFoundation,
    /// The component ID is not a number from 1 to 256.
    InvalidComponent,
    /// The transport is not a token.
    InvalidTransport,
    /// The priority is not a decimal 32-bit number.
    InvalidPriority,
    /// The connection address is neither an IP address nor a hostname.
    InvalidAddress,
    /// A port is not a decimal 16-bit number.
    InvalidPort,
    /// The word `typ` is not where RFC 8839 §5.1 puts it.
    MissingTyp,
    /// The candidate type is not host, srflx, prflx or relay.
    UnknownCandidateType,
    /// `raddr` is not an IP address, or `raddr`/`rport` appear without each other.
    InvalidRelatedAddress,
    /// An extension has no value, an empty name, or reuses `typ`/`raddr`/`rport`.
    InvalidExtension,
    /// More than [`MAX_EXTENSIONS`] extensions.
    TooManyExtensions,
    /// The `generation` extension is not a decimal number.
    InvalidGeneration,
    /// `ice-ufrag` is not 4 to 256 ice-chars.
    InvalidUfrag,
    /// `ice-pwd` is not 22 to 256 ice-chars.
    InvalidPassword,
    /// An attribute that takes no value has one.
    UnexpectedValue,
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpError::TooLong => write!(f, "line longer than {MAX_LINE_LEN} bytes"),
            SdpError::NotUtf8 => f.write_str("line is not UTF-8"),
            SdpError::UnknownAttribute => f.write_str("not an ICE attribute"),
            SdpError::MissingField(field) => write!(f, "missing {field}"),
            SdpError::InvalidFoundation => f.write_str("invalid foundation"),
            SdpError::InvalidComponent => f.write_str("invalid component ID"),
            SdpError::InvalidTransport => f.write_str("invalid transport"),
            SdpError::InvalidPriority => f.write_str("invalid priority"),
            SdpError::InvalidAddress => f.write_str("invalid connection address"),
            SdpError::InvalidPort => f.write_str("invalid port"),
            SdpError::MissingTyp => f.write_str("missing \"typ\""),
            SdpError::UnknownCandidateType => f.write_str("unknown candidate type"),
            SdpError::InvalidRelatedAddress => f.write_str("invalid raddr/rport"),
            SdpError::InvalidExtension => f.write_str("invalid extension attribute"),
            SdpError::TooManyExtensions => {
                write!(f, "more than {MAX_EXTENSIONS} extension attributes")
            }
            SdpError::InvalidGeneration => f.write_str("invalid generation"),
            SdpError::InvalidUfrag => f.write_str("ice-ufrag is not 4 to 256 ice-chars"),
            SdpError::InvalidPassword => f.write_str("ice-pwd is not 22 to 256 ice-chars"),
            SdpError::UnexpectedValue => f.write_str("attribute takes no value"),
        }
    }
}

impl std::error::Error for SdpError {}

/// An ICE username fragment (RFC 8839 §5.4: `ice-ufrag = 4*256ice-char`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ufrag(String);

impl Ufrag {
    /// A username fragment, if `text` is 4 to 256 ice-chars.
    pub fn new(text: &str) -> Result<Ufrag, SdpError> {
        ice_chars(text, 4).map(Ufrag).ok_or(SdpError::InvalidUfrag)
    }

    /// The fragment's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ICE password (RFC 8839 §5.4: `ice-pwd = 22*256ice-char`, at least 128 bits of
/// randomness). `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// A password, if `text` is 22 to 256 ice-chars.
    pub fn new(text: &str) -> Result<Password, SdpError> {
        ice_chars(text, 22)
            .map(Password)
            .ok_or(SdpError::InvalidPassword)
    }

    /// The password's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// `text` as an owned string if it is `min` to 256 ice-chars.
fn ice_chars(text: &str, min: usize) -> Option<String> {
    let valid = (min..=256).contains(&text.len()) && text.bytes().all(is_ice_char);
    valid.then(|| text.to_owned())
}

/// One ICE attribute line of an SDP session or media section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IceAttribute {
    /// `a=candidate:...`
    Candidate(Candidate),
    /// `a=end-of-candidates`: the sender will trickle no more candidates (RFC 8840 §8.2).
    EndOfCandidates,
    /// `a=ice-ufrag:...`
    Ufrag(Ufrag),
    /// `a=ice-pwd:...`
    Password(Password),
}

impl IceAttribute {
    /// Parses one line, with or without its `a=` prefix, without the line ending.
    pub fn parse(line: &str) -> Result<IceAttribute, SdpError> {
        if line.len() > MAX_LINE_LEN {
            return Err(SdpError::TooLong);
        }
        let body = line.strip_prefix("a=").unwrap_or(line);
        let (name, value) = match body.split_once(':') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        // RFC 4566 §5.13: attribute names are case-sensitive.
        match (name, value) {
            ("candidate", Some(value)) => parse_candidate_value(value).map(IceAttribute::Candidate),
            ("end-of-candidates", None) => Ok(IceAttribute::EndOfCandidates),
            ("end-of-candidates", Some(_)) => Err(SdpError::UnexpectedValue),
            ("ice-ufrag", Some(value)) => Ufrag::new(value).map(IceAttribute::Ufrag),
            ("ice-ufrag", None) => Err(SdpError::InvalidUfrag),
            ("ice-pwd", Some(value)) => Password::new(value).map(IceAttribute::Password),
            ("ice-pwd", None) => Err(SdpError::InvalidPassword),
            _ => Err(SdpError::UnknownAttribute),
        }
    }

    /// The line with its `a=` prefix, without a line ending.
    pub fn to_sdp_line(&self) -> String {
        format!("a={self}")
    }
}

impl fmt::Display for IceAttribute {
    /// The attribute without the `a=` prefix (as trickled in JSON).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IceAttribute::Candidate(candidate) => write_candidate(f, candidate),
            IceAttribute::EndOfCandidates => f.write_str("end-of-candidates"),
            IceAttribute::Ufrag(ufrag) => write!(f, "ice-ufrag:{}", ufrag.as_str()),
            IceAttribute::Password(pwd) => write!(f, "ice-pwd:{}", pwd.as_str()),
        }
    }
}

/// Parses a candidate line: `a=candidate:...` or `candidate:...`.
pub fn parse_candidate(line: &str) -> Result<Candidate, SdpError> {
    match IceAttribute::parse(line)? {
        IceAttribute::Candidate(candidate) => Ok(candidate),
        _ => Err(SdpError::UnknownAttribute),
    }
}

/// Parses a candidate line given as bytes (from a datagram or a fuzzer).
pub fn parse_candidate_bytes(line: &[u8]) -> Result<Candidate, SdpError> {
    if line.len() > MAX_LINE_LEN {
        return Err(SdpError::TooLong);
    }
    let line = core::str::from_utf8(line).map_err(|_| SdpError::NotUtf8)?;
    parse_candidate(line)
}

/// Writes `candidate:...` (no `a=`), the form trickled in JSON.
pub fn write_candidate_string(candidate: &Candidate) -> String {
    IceAttribute::Candidate(candidate.clone()).to_string()
}

fn write_candidate(f: &mut fmt::Formatter<'_>, c: &Candidate) -> fmt::Result {
    write!(
        f,
        "candidate:{} {} {} {} ",
        c.foundation,
        c.component,
        c.transport.as_str(),
        c.priority
    )?;
    match &c.address {
        CandidateAddress::Ip(addr) => write!(f, "{} {}", addr.ip(), addr.port())?,
        CandidateAddress::Hostname { name, port } => write!(f, "{name} {port}")?,
    }
    write!(f, " typ {}", c.kind.as_str())?;
    if let Some(related) = c.related_address {
        write!(f, " raddr {} rport {}", related.ip(), related.port())?;
    }
    for extension in &c.extensions {
        write!(f, " {} {}", extension.name, extension.value)?;
    }
    Ok(())
}

/// RFC 8839 §5.1:
/// `foundation SP component-id SP transport SP priority SP connection-address SP port
///  SP "typ" SP cand-type [SP "raddr" SP addr SP "rport" SP port] *(SP name SP value)`.
/// Fields are separated by exactly one space, so what parses is what [`write_candidate`] writes.
fn parse_candidate_value(value: &str) -> Result<Candidate, SdpError> {
    let mut fields = value.split(' ');
    let mut next = |name: &'static str| match fields.next() {
        Some("") | None => Err(SdpError::MissingField(name)),
        Some(field) => Ok(field),
    };
    let foundation = Foundation::new(next("foundation")?).ok_or(SdpError::InvalidFoundation)?;
    let component = parse_decimal(next("component")?)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| (1..=MAX_COMPONENT).contains(n))
        .ok_or(SdpError::InvalidComponent)?;
    let transport = Transport::from_token(next("transport")?).ok_or(SdpError::InvalidTransport)?;
    let priority = parse_decimal(next("priority")?).ok_or(SdpError::InvalidPriority)?;
    let host = next("connection address")?;
    let port = parse_port(next("port")?)?;
    let address = match host.parse::<IpAddr>() {
        Ok(ip) => CandidateAddress::Ip(SocketAddr::new(ip, port)),
        Err(_) if is_hostname(host) => CandidateAddress::Hostname {
            name: host.to_owned(),
            port,
        },
        Err(_) => return Err(SdpError::InvalidAddress),
    };
    if !next("typ")?.eq_ignore_ascii_case("typ") {
        return Err(SdpError::MissingTyp);
    }
    let kind =
        CandidateKind::from_token(next("candidate type")?).ok_or(SdpError::UnknownCandidateType)?;

    let mut related_address = None;
    let mut extensions = Vec::new();
    let mut rest = fields.peekable();
    if rest.next_if(|f| f.eq_ignore_ascii_case("raddr")).is_some() {
        let ip = rest
            .next()
            .and_then(|f| f.parse::<IpAddr>().ok())
            .ok_or(SdpError::InvalidRelatedAddress)?;
        if !rest.next().is_some_and(|f| f.eq_ignore_ascii_case("rport")) {
            return Err(SdpError::InvalidRelatedAddress);
        }
        let port = parse_port(rest.next().ok_or(SdpError::InvalidRelatedAddress)?)?;
        related_address = Some(SocketAddr::new(ip, port));
    }
    while let Some(name) = rest.next() {
        let value = rest.next().ok_or(SdpError::InvalidExtension)?;
        // A reused keyword would be read back as raddr/rport by the next parse.
        let reserved = ["typ", "raddr", "rport"]
            .iter()
            .any(|keyword| name.eq_ignore_ascii_case(keyword));
        if name.is_empty() || value.is_empty() || reserved || !is_token(name) || !is_token(value) {
            return Err(SdpError::InvalidExtension);
        }
        if extensions.len() == MAX_EXTENSIONS {
            return Err(SdpError::TooManyExtensions);
        }
        if name == "generation" && parse_decimal(value).is_none() {
            return Err(SdpError::InvalidGeneration);
        }
        extensions.push(Extension {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(Candidate {
        foundation,
        component,
        transport,
        priority,
        address,
        kind,
        related_address,
        extensions,
    })
}

fn parse_port(field: &str) -> Result<u16, SdpError> {
    parse_decimal(field)
        .and_then(|n| u16::try_from(n).ok())
        .ok_or(SdpError::InvalidPort)
}

/// RFC 4566 §9 `byte-string` without the space that separates fields: no NUL, CR or LF.
fn is_token(text: &str) -> bool {
    !text.bytes().any(|b| matches!(b, 0 | b'\r' | b'\n' | b' '))
}

/// RFC 1123 §2.1 host names: dot-separated labels of letters, digits and hyphens, 1 to 63
/// bytes each, not starting or ending with a hyphen; at most 253 bytes in all (RFC 1035 §2.3.4).
fn is_hostname(text: &str) -> bool {
    text.len() <= MAX_HOSTNAME_LEN
        && text.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as Chromium and Firefox write them; each must round-trip byte for byte.
    const BROWSER_LINES: &[&str] = &[
        // Chromium: srflx, host (IPv4, IPv6, mDNS), relay, TCP.
        "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 192.168.1.5 rport 61665 generation 0 ufrag EsAw network-cost 999",
        "candidate:2999745851 1 udp 2122260223 192.168.1.5 61665 typ host generation 0 ufrag EsAw network-id 1 network-cost 10",
        "candidate:1606961068 1 udp 2122197247 2001:db8:85a3::8a2e:370:7334 50001 typ host generation 0 ufrag EsAw network-id 2",
        "candidate:3 1 udp 2113937151 0b9a3ad1-8c9b-4b4e-9d3b-3e2e4a3f6b1c.local 56254 typ host generation 0 ufrag kX9j network-cost 999",
        "candidate:1853887674 1 udp 33562367 198.51.100.3 40000 typ relay raddr 203.0.113.7 rport 61665 generation 0 ufrag EsAw network-cost 999",
        "candidate:4233069003 1 tcp 1518280447 192.168.1.5 9 typ host tcptype active generation 0 network-id 1",
        // Firefox: upper-case transport, no extensions, mDNS host, srflx with mDNS-hidden raddr.
        "candidate:0 1 UDP 2122252543 192.168.1.5 54321 typ host",
        "candidate:1 1 UDP 1686052607 203.0.113.7 54321 typ srflx raddr 192.168.1.5 rport 54321",
        "candidate:0 1 UDP 2122252543 4d2c6b1a-9a1e-4f4e-8a4b-1234567890ab.local 54321 typ host",
        "candidate:1 2 UDP 1686052606 203.0.113.7 54322 typ srflx raddr 0.0.0.0 rport 0",
        "candidate:3 1 UDP 92217343 198.51.100.3 61234 typ relay raddr 203.0.113.7 rport 54321",
        "candidate:2 1 TCP 2105524479 192.168.1.5 9 typ host tcptype active",
    ];

    #[test]
    fn browser_lines_round_trip() {
        for line in BROWSER_LINES {
            let candidate = parse_candidate(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(write_candidate_string(&candidate), *line);
            let attribute = format!("a={line}");
            assert_eq!(
                IceAttribute::parse(&attribute).unwrap().to_sdp_line(),
                attribute
            );
            assert_eq!(parse_candidate_bytes(line.as_bytes()), Ok(candidate));
        }
    }

    #[test]
    fn chromium_srflx_fields() {
        let c = parse_candidate(BROWSER_LINES[0]).unwrap();
        assert_eq!(c.foundation.as_str(), "842163049");
        assert_eq!(c.component, 1);
        assert!(c.transport.is_udp());
        assert_eq!(c.priority, 1_677_729_535);
        assert_eq!(
            c.address,
            CandidateAddress::Ip("203.0.113.7:61665".parse().unwrap())
        );
        assert_eq!(c.kind, CandidateKind::ServerReflexive);
        assert_eq!(
            c.related_address,
            Some("192.168.1.5:61665".parse().unwrap())
        );
        assert_eq!(c.generation(), Some(0));
        assert_eq!(c.extension("ufrag"), Some("EsAw"));
        assert_eq!(c.extension("network-cost"), Some("999"));
        assert_eq!(c.extensions.len(), 3);
    }

    #[test]
    fn mdns_and_ipv6_addresses() {
        let c = parse_candidate(BROWSER_LINES[3]).unwrap();
        assert!(c.address.is_mdns());
        assert_eq!(c.address.socket_addr(), None);
        assert_eq!(c.address.port(), 56254);
        let c = parse_candidate(BROWSER_LINES[2]).unwrap();
        assert!(c.address.socket_addr().unwrap().is_ipv6());
        let c = parse_candidate(BROWSER_LINES[6]).unwrap();
        assert_eq!(c.transport, Transport::udp());
        assert_eq!(c.generation(), None);
        let c = parse_candidate(BROWSER_LINES[11]).unwrap();
        assert!(!c.transport.is_udp());
        assert_eq!(c.extension("tcptype"), Some("active"));
    }

    #[test]
    fn other_attributes() {
        assert_eq!(
            IceAttribute::parse("a=end-of-candidates"),
            Ok(IceAttribute::EndOfCandidates)
        );
        assert_eq!(
            IceAttribute::parse("a=end-of-candidates:x"),
            Err(SdpError::UnexpectedValue)
        );
        let ufrag = IceAttribute::parse("a=ice-ufrag:EsAw").unwrap();
        assert_eq!(ufrag, IceAttribute::Ufrag(Ufrag::new("EsAw").unwrap()));
        assert_eq!(ufrag.to_sdp_line(), "a=ice-ufrag:EsAw");
        let pwd = "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1";
        let parsed = IceAttribute::parse(pwd).unwrap();
        assert_eq!(parsed.to_sdp_line(), pwd);
        assert!(!format!("{parsed:?}").contains("P2uY"));
        // Firefox's 32-hex-digit pwd and 8-hex-digit ufrag.
        assert!(IceAttribute::parse("a=ice-pwd:2c3c5b3f9a3c6a0e1f5c6e4b8d2f1a7c").is_ok());
        assert!(IceAttribute::parse("a=ice-ufrag:8a4b2c1d").is_ok());
        assert_eq!(
            IceAttribute::parse("a=mid:0"),
            Err(SdpError::UnknownAttribute)
        );
        assert_eq!(
            parse_candidate("a=ice-ufrag:EsAw"),
            Err(SdpError::UnknownAttribute)
        );
    }

    #[test]
    fn credential_lengths_and_charset() {
        // RFC 8839 §5.4: ufrag 4 to 256 ice-chars, pwd 22 to 256.
        assert_eq!(Ufrag::new("abc"), Err(SdpError::InvalidUfrag));
        assert!(Ufrag::new("ab+/").is_ok());
        assert!(Ufrag::new(&"a".repeat(256)).is_ok());
        assert_eq!(Ufrag::new(&"a".repeat(257)), Err(SdpError::InvalidUfrag));
        assert_eq!(Ufrag::new("ab-c"), Err(SdpError::InvalidUfrag));
        assert_eq!(
            Password::new(&"a".repeat(21)),
            Err(SdpError::InvalidPassword)
        );
        assert!(Password::new(&"a".repeat(22)).is_ok());
        assert!(Password::new(&"a".repeat(256)).is_ok());
        assert_eq!(
            Password::new(&"a".repeat(257)),
            Err(SdpError::InvalidPassword)
        );
        assert_eq!(
            Password::new(&"a=".repeat(11)),
            Err(SdpError::InvalidPassword)
        );
        assert_eq!(
            IceAttribute::parse("a=ice-pwd"),
            Err(SdpError::InvalidPassword)
        );
    }

    #[test]
    fn malformed_lines_are_typed_errors() {
        let cases: &[(&str, SdpError)] = &[
            ("candidate:", SdpError::MissingField("foundation")),
            ("candidate:1", SdpError::MissingField("component")),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ",
                SdpError::MissingField("candidate type"),
            ),
            (
                "candidate:a-b 1 udp 1 10.0.0.1 9 typ host",
                SdpError::InvalidFoundation,
            ),
            (
                "candidate:1 0 udp 1 10.0.0.1 9 typ host",
                SdpError::InvalidComponent,
            ),
            (
                "candidate:1 257 udp 1 10.0.0.1 9 typ host",
                SdpError::InvalidComponent,
            ),
            (
                "candidate:1 +1 udp 1 10.0.0.1 9 typ host",
                SdpError::InvalidComponent,
            ),
            (
                "candidate:1 1 udp 4294967296 10.0.0.1 9 typ host",
                SdpError::InvalidPriority,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 65536 typ host",
                SdpError::InvalidPort,
            ),
            (
                "candidate:1 1 udp 1 bad_host 9 typ host",
                SdpError::InvalidAddress,
            ),
            (
                "candidate:1 1 udp 1 -a.local 9 typ host",
                SdpError::InvalidAddress,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 type host",
                SdpError::MissingTyp,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ nat",
                SdpError::UnknownCandidateType,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ srflx raddr x.local rport 9",
                SdpError::InvalidRelatedAddress,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ srflx raddr 10.0.0.2",
                SdpError::InvalidRelatedAddress,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ srflx rport 9",
                SdpError::InvalidExtension,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ host generation",
                SdpError::InvalidExtension,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ host generation x",
                SdpError::InvalidGeneration,
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ host a b raddr 10.0.0.2",
                SdpError::InvalidExtension,
            ),
            (
                "candidate:1  1 udp 1 10.0.0.1 9 typ host",
                SdpError::MissingField("component"),
            ),
            (
                "candidate:1 1 udp 1 10.0.0.1 9 typ host ",
                SdpError::InvalidExtension,
            ),
        ];
        for (line, error) in cases {
            assert_eq!(parse_candidate(line), Err(*error), "{line}");
        }
        let many = format!(
            "candidate:1 1 udp 1 10.0.0.1 9 typ host{}",
            " a b".repeat(MAX_EXTENSIONS + 1)
        );
        assert_eq!(parse_candidate(&many), Err(SdpError::TooManyExtensions));
        let long = format!(
            "candidate:1 1 udp 1 10.0.0.1 9 typ host a {}",
            "b".repeat(MAX_LINE_LEN)
        );
        assert_eq!(parse_candidate(&long), Err(SdpError::TooLong));
        assert_eq!(
            parse_candidate_bytes(b"candidate:\xff"),
            Err(SdpError::NotUtf8)
        );
    }

    #[test]
    fn built_candidate_writes_and_parses() {
        let candidate = Candidate {
            foundation: Foundation::new("4").unwrap(),
            component: 1,
            transport: Transport::udp(),
            priority: 7,
            address: CandidateAddress::Ip("[2001:db8::1]:3478".parse().unwrap()),
            kind: CandidateKind::PeerReflexive,
            related_address: Some("[fe80::1]:1".parse().unwrap()),
            extensions: Vec::new(),
        };
        let line = write_candidate_string(&candidate);
        assert_eq!(
            line,
            "candidate:4 1 udp 7 2001:db8::1 3478 typ prflx raddr fe80::1 rport 1"
        );
        assert_eq!(parse_candidate(&line), Ok(candidate));
    }
}
