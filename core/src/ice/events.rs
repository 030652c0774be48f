//! What an [`IceAgent`](super::IceAgent) is configured with, what it reports, its errors and
//! its counters.

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;

use super::Candidate;
use crate::stun::ClientConfig;

/// Configuration of an [`IceAgent`](super::IceAgent).
#[derive(Clone, Debug)]
pub struct IceConfig {
    /// Start as the controlling agent (RFC 8445 §6.1.1: the offerer of a full agent).
    pub controlling: bool,
    /// Pacing of new checks, Ta (RFC 8445 §14.2: 50 ms by default, never below 5 ms).
    pub ta: Duration,
    /// Lower bound of a check's first retransmission timeout (RFC 8445 §14.3: 500 ms).
    pub check_rto: Duration,
    /// Requests sent per check, Rc (RFC 8489 §6.2.1: 7).
    pub check_max_transmits: u32,
    /// After the last request, wait `check_rm` times the first RTO (RFC 8489 §6.2.1: 16).
    pub check_rm: u32,
    /// How long the controlling agent waits after its first valid pair for better pairs to
    /// succeed before it nominates the best valid pair (RFC 8445 §8.1.1 leaves this open).
    pub nomination_wait: Duration,
    /// Mean interval of consent checks (RFC 7675 §5.1: 5 s, randomised to 0.8-1.2 of it).
    pub consent_interval: Duration,
    /// Consent is lost after this long without an answer (RFC 7675 §5.1: 30 s).
    pub consent_timeout: Duration,
    /// The selected pair is reported disconnected after this long without an answer.
    pub disconnected_timeout: Duration,
    /// Send a Binding indication when nothing was sent on the selected pair for this long
    /// (RFC 8445 §11: Tr, 15 s by default); `None` turns keepalives off.
    pub keepalive_interval: Option<Duration>,
    /// Most remote candidates kept (a peer trickling without end cannot grow memory).
    pub max_remote_candidates: usize,
    /// Most candidate pairs in the checklist (RFC 8445 §6.1.2.5: 100 by default).
    pub max_pairs: usize,
    /// Most local candidates, including peer-reflexive ones.
    pub max_local_candidates: usize,
    /// Transaction parameters of the STUN client gathering server-reflexive candidates.
    pub stun: ClientConfig,
}

impl Default for IceConfig {
    fn default() -> Self {
        Self {
            controlling: true,
            ta: Duration::from_millis(50),
            check_rto: Duration::from_millis(500),
            check_max_transmits: 7,
            check_rm: 16,
            nomination_wait: Duration::from_millis(500),
            consent_interval: Duration::from_secs(5),
            consent_timeout: Duration::from_secs(30),
            disconnected_timeout: Duration::from_secs(10),
            keepalive_interval: Some(Duration::from_secs(15)),
            max_remote_candidates: 100,
            max_pairs: 100,
            max_local_candidates: 32,
            stun: ClientConfig::default(),
        }
    }
}

impl IceConfig {
    /// The default configuration with the given role.
    pub fn new(controlling: bool) -> Self {
        Self {
            controlling,
            ..Self::default()
        }
    }
}

/// The agent's overall state, after the `RTCIceConnectionState` of browsers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IceState {
    /// No checks yet (no remote credentials or no pairs).
    New,
    /// Checks are running and nothing is selected yet.
    Checking,
    /// A nominated pair carries data.
    Connected,
    /// Connected, and no check is left to run (both sides ended their candidates).
    Completed,
    /// Consent on the selected pair has not been refreshed for a while; it may come back.
    Disconnected,
    /// Every pair failed, or consent was lost (RFC 7675 §5.1).
    Failed,
}

/// Whether local candidates are still being gathered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GatheringState {
    /// Nothing was added yet.
    New,
    /// STUN or TURN transactions are outstanding.
    Gathering,
    /// Every started gathering finished (until a new address or server is added).
    Complete,
}

/// State of a candidate pair in the checklist (RFC 8445 §6.1.2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PairState {
    /// Not checked until a pair of the same foundation succeeds or the list runs dry.
    Frozen,
    /// Ready to be checked when Ta next fires.
    Waiting,
    /// A check is outstanding.
    InProgress,
    /// A check produced a success response.
    Succeeded,
    /// The check failed or timed out.
    Failed,
}

/// A candidate pair as the application sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairInfo {
    /// The local candidate (host, server-reflexive, peer-reflexive or relayed).
    pub local: Candidate,
    /// The socket the pair sends from: the host address, or the relayed address.
    pub local_base: SocketAddr,
    /// The remote candidate (peer-reflexive when learned from a check).
    pub remote: Candidate,
    /// RFC 8445 §6.1.2.3 priority, as computed with the current role.
    pub priority: u64,
    /// Checklist state.
    pub state: PairState,
    /// Whether the pair is nominated.
    pub nominated: bool,
}

/// What an [`IceAgent`](super::IceAgent) tells its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceEvent {
    /// A local candidate to signal to the peer (RFC 8838 §12: trickle it at once).
    LocalCandidate(Candidate),
    /// Every gathering started so far finished; signal end-of-candidates (RFC 8838 §13).
    GatheringComplete,
    /// The overall state changed.
    StateChanged(IceState),
    /// A new pair carries data from now on.
    SelectedPairChanged(Box<PairInfo>),
    /// A role conflict (RFC 8445 §7.3.1.1) switched the agent's role.
    RoleChanged {
        /// The new role.
        controlling: bool,
    },
    /// RFC 7675 §5.1: no consent response for the consent timeout; sending stopped.
    ConsentLost,
    /// Application data (not STUN, RFC 7983) arrived on a known pair.
    Data {
        /// The local socket (or relayed address) it arrived on.
        local: SocketAddr,
        /// The remote address it came from.
        remote: SocketAddr,
        /// The datagram.
        data: Vec<u8>,
    },
}

/// A command the agent refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceError {
    /// No pair is selected (yet, or consent was lost).
    NotConnected,
    /// The candidate is not usable: not UDP, not component 1, an unresolved hostname, or of
    /// an address family no local socket has.
    Unsupported,
    /// The configured limit of candidates or pairs is reached.
    TooMany,
    /// The address is already known.
    Duplicate,
    /// Credentials that RFC 8839 §5.4 does not allow.
    InvalidCredentials,
    /// The relay refused to send (see [`TurnError`](crate::turn::TurnError)).
    Relay,
}

impl fmt::Display for IceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotConnected => "no selected candidate pair",
            Self::Unsupported => "candidate not usable (transport, component, family or hostname)",
            Self::TooMany => "candidate or pair limit reached",
            Self::Duplicate => "address already known",
            Self::InvalidCredentials => "ufrag must be 4-256 and password 22-256 ice-chars",
            Self::Relay => "the TURN relay refused the data",
        })
    }
}

impl std::error::Error for IceError {}

/// Counters of an [`IceAgent`](super::IceAgent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IceStats {
    /// Connectivity checks started (first transmissions only).
    pub checks_sent: u64,
    /// Check retransmissions.
    pub retransmissions: u64,
    /// Binding requests from the peer that passed authentication.
    pub requests_received: u64,
    /// Authenticated responses to our checks.
    pub responses_received: u64,
    /// Consent requests sent (RFC 7675).
    pub consent_sent: u64,
    /// Binding indications sent as keepalives (RFC 8445 §11).
    pub keepalives_sent: u64,
    /// Role conflicts seen (RFC 8445 §7.3.1.1).
    pub role_conflicts: u64,
    /// Application datagrams delivered.
    pub data_received: u64,
    /// Application datagrams sent.
    pub data_sent: u64,
    /// Malformed or unauthenticated STUN dropped.
    pub malformed: u64,
    /// Datagrams from unknown addresses or to unknown sockets dropped.
    pub unknown: u64,
}
