//! The ICE agent (RFC 8445 full agent, RFC 8838 trickle, RFC 7675 consent) as a [`Machine`].
//!
//! The application adds local socket addresses ([`IceAgent::add_local_address`]), STUN and
//! TURN servers, the peer's credentials and candidates (at any time: trickle), and reads
//! [`IceEvent`]s: candidates to signal, state changes, the selected pair, application data.
//! Every [`Transmit`] leaves from one of the local addresses added (its `source`); datagrams
//! for the agent are handed back with the local address they arrived on as `destination`.
//!
//! ```
//! use pigeon::Machine;
//! use pigeon::ice::{IceAgent, IceConfig, IceEvent};
//! use rand_core::SeedableRng;
//!
//! let rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(1));
//! let mut agent = IceAgent::new(IceConfig::new(true), rng);
//! let now = pigeon::Instant::ZERO;
//! agent.add_local_address(now, "192.0.2.10:5000".parse().unwrap()).unwrap();
//! let (ufrag, pwd) = agent.local_credentials();
//! assert!(ufrag.as_str().len() >= 4 && pwd.as_str().len() >= 22);
//! assert!(matches!(agent.poll_event(), Some(IceEvent::LocalCandidate(_))));
//! ```

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};

use super::checklist::Checklist;
use super::events::{GatheringState, IceConfig, IceError, IceEvent, IceState, IceStats, PairInfo};
use super::pair::{Local, Pair, Selected};
use super::{Candidate, CandidateKind, Password, Ufrag};
use crate::stun::{StunClient, TransactionId};
use crate::turn::TurnClient;
use crate::{Datagram, Instant, Machine, Rng, Transmit};

mod check;
mod consent;
mod gather;
mod inbound;

use gather::SharedRng;

/// Alphabet of generated credentials (RFC 8839 §5.4 ice-chars, 64 of them).
const ICE_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// What a check transaction is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// A connectivity check on a pair of the current checklist.
    Check { pair: usize, nominate: bool },
    /// A consent request on the selected pair (RFC 7675).
    Consent,
}

/// One outstanding Binding request of ours.
#[derive(Clone, Debug)]
struct Transaction {
    purpose: Purpose,
    local: usize,
    remote: SocketAddr,
    /// Role when sent (RFC 8445 §7.2.5.1 compares it on a 487).
    controlling: bool,
    /// ICE generation (restart count) when sent.
    generation: u32,
    /// The peer's password as a key, to authenticate the response.
    key: Vec<u8>,
    /// PRIORITY sent (the priority of a peer-reflexive local candidate, RFC 8445 §7.2.5.3.1).
    priority: u32,
    request: Vec<u8>,
    sent: u32,
    max_sent: u32,
    first_rto: Duration,
    rto: Duration,
    deadline: Instant,
}

/// A TURN allocation that provides a relayed candidate.
struct Relay {
    client: TurnClient,
    /// The Allocate has not been answered yet.
    pending: bool,
}

/// The ICE agent. See the [module documentation](self).
pub struct IceAgent {
    config: IceConfig,
    rng: SharedRng,
    controlling: bool,
    tie_breaker: u64,
    local_ufrag: Ufrag,
    local_pwd: Password,
    remote_ufrag: Option<Ufrag>,
    remote_pwd: Option<Password>,
    locals: Vec<Local>,
    remotes: Vec<Candidate>,
    checklist: Checklist,
    transactions: BTreeMap<TransactionId, Transaction>,
    /// When Ta next fires (RFC 8445 §6.1.4.2); `None` while nothing is left to check.
    next_check: Option<Instant>,
    first_valid_at: Option<Instant>,
    nominating: Option<usize>,
    selected: Option<Selected>,
    consent_lost: bool,
    state: IceState,
    gathering: GatheringState,
    gather_dirty: bool,
    remote_end_of_candidates: bool,
    generation: u32,
    prflx_serial: usize,
    stun: StunClient,
    stun_servers: Vec<SocketAddr>,
    gathers: BTreeMap<TransactionId, usize>,
    turn_servers: Vec<(SocketAddr, String, String)>,
    relays: Vec<Relay>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<IceEvent>,
    stats: IceStats,
}

impl core::fmt::Debug for IceAgent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IceAgent")
            .field("controlling", &self.controlling)
            .field("state", &self.state)
            .field("locals", &self.locals.len())
            .field("remotes", &self.remotes.len())
            .field("pairs", &self.checklist.pairs.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl IceAgent {
    /// An agent with fresh credentials and tie-breaker drawn from `rng`.
    pub fn new(mut config: IceConfig, rng: Rng) -> Self {
        // RFC 8445 §14.2: Ta is never below 5 ms.
        config.ta = config.ta.max(Duration::from_millis(5));
        let rng = SharedRng::new(rng);
        let (local_ufrag, local_pwd) = credentials(&rng);
        let tie_breaker = rng.u64();
        let stun = StunClient::new(config.stun.clone(), Box::new(rng.clone()));
        Self {
            controlling: config.controlling,
            config,
            rng,
            tie_breaker,
            local_ufrag,
            local_pwd,
            remote_ufrag: None,
            remote_pwd: None,
            locals: Vec::new(),
            remotes: Vec::new(),
            checklist: Checklist::default(),
            transactions: BTreeMap::new(),
            next_check: None,
            first_valid_at: None,
            nominating: None,
            selected: None,
            consent_lost: false,
            state: IceState::New,
            gathering: GatheringState::New,
            gather_dirty: false,
            remote_end_of_candidates: false,
            generation: 0,
            prflx_serial: 0,
            stun,
            stun_servers: Vec::new(),
            gathers: BTreeMap::new(),
            turn_servers: Vec::new(),
            relays: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: IceStats::default(),
        }
    }

    /// The local ufrag and password to signal (`a=ice-ufrag`, `a=ice-pwd`).
    pub fn local_credentials(&self) -> (&Ufrag, &Password) {
        (&self.local_ufrag, &self.local_pwd)
    }

    /// The tie-breaker of RFC 8445 §7.1.3.
    pub fn tie_breaker(&self) -> u64 {
        self.tie_breaker
    }

    /// Whether the agent is controlling now (a role conflict may have changed it).
    pub fn is_controlling(&self) -> bool {
        self.controlling
    }

    /// The overall state.
    pub fn state(&self) -> IceState {
        self.state
    }

    /// The gathering state.
    pub fn gathering_state(&self) -> GatheringState {
        self.gathering
    }

    /// Counters.
    pub fn stats(&self) -> IceStats {
        self.stats
    }

    /// The pair carrying data, if any.
    pub fn selected_pair(&self) -> Option<&PairInfo> {
        self.selected.as_ref().map(|s| &s.info)
    }

    /// Every local candidate, peer-reflexive ones included.
    pub fn local_candidates(&self) -> Vec<Candidate> {
        self.locals.iter().map(|l| l.candidate.clone()).collect()
    }

    /// Every remote candidate, peer-reflexive ones included.
    pub fn remote_candidates(&self) -> &[Candidate] {
        &self.remotes
    }

    /// The checklist, highest priority first.
    pub fn pairs(&self) -> Vec<PairInfo> {
        let mut pairs: Vec<PairInfo> = self
            .checklist
            .pairs
            .iter()
            .map(|p| p.info(&self.locals, &self.remotes))
            .collect();
        pairs.sort_by_key(|p| core::cmp::Reverse(p.priority));
        pairs
    }

    /// Sets the peer's ufrag and password (RFC 8839 §5.4); checks start once they are known.
    ///
    /// Credentials that differ from those already set mean the peer restarted ICE: the agent
    /// [restarts](Self::restart) too before taking them, so read
    /// [`local_credentials`](Self::local_credentials) afterwards and signal them with the
    /// local candidates. Set the new credentials before the peer's new candidates.
    pub fn set_remote_credentials(
        &mut self,
        now: Instant,
        ufrag: &str,
        password: &str,
    ) -> Result<(), IceError> {
        let ufrag = Ufrag::new(ufrag).map_err(|_| IceError::InvalidCredentials)?;
        let password = Password::new(password).map_err(|_| IceError::InvalidCredentials)?;
        // RFC 8445 §9: an agent restarts ICE by changing its ufrag and password; the other
        // agent, seeing them change, restarts as well.
        let changed = self.remote_ufrag.as_ref().is_some_and(|u| *u != ufrag)
            || self.remote_pwd.as_ref().is_some_and(|p| *p != password);
        if changed {
            tracing::debug!("remote credentials changed: ICE restart");
            self.restart(now);
        }
        self.remote_ufrag = Some(ufrag);
        self.remote_pwd = Some(password);
        self.service(now);
        Ok(())
    }

    /// Adds a candidate of the peer (RFC 8838 §11: at any time). Only UDP candidates of
    /// component 1 with an IP address are used. A peer-reflexive candidate learned earlier
    /// at the same address takes the signalled candidate's type and priority.
    pub fn add_remote_candidate(
        &mut self,
        now: Instant,
        candidate: Candidate,
    ) -> Result<(), IceError> {
        let addr = candidate
            .address
            .socket_addr()
            .ok_or(IceError::Unsupported)?;
        if !candidate.transport.is_udp() || candidate.component != 1 {
            return Err(IceError::Unsupported);
        }
        if let Some(known) = self.remotes.iter().position(|r| r.address == addr.into()) {
            if self.remotes[known].kind != CandidateKind::PeerReflexive {
                return Err(IceError::Duplicate);
            }
            self.remotes[known] = candidate;
            self.checklist
                .reprioritise(self.controlling, &self.locals, &self.remotes);
            self.service(now);
            return Ok(());
        }
        if self.remotes.len() >= self.config.max_remote_candidates {
            return Err(IceError::TooMany);
        }
        self.remotes.push(candidate);
        let remote = self.remotes.len() - 1;
        for local in 0..self.locals.len() {
            self.pair_up(now, local, remote);
        }
        self.service(now);
        Ok(())
    }

    /// The peer signalled end-of-candidates (RFC 8838 §13): once every pair failed, the agent
    /// may give up.
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_end_of_candidates = true;
        self.service(now);
    }

    /// Sends application data on the selected pair (through the relay when it is relayed).
    pub fn send(&mut self, now: Instant, data: &[u8]) -> Result<(), IceError> {
        let selected = self.selected.as_mut().ok_or(IceError::NotConnected)?;
        selected.last_sent = now;
        let (local, remote) = (selected.local, selected.remote_addr);
        self.send_from(now, local, remote, data.to_vec())?;
        self.stats.data_sent += 1;
        self.pump(now);
        Ok(())
    }

    /// ICE restart (RFC 8445 §9): new local credentials, the peer's credentials and candidates
    /// forgotten, a new checklist. The selected pair keeps carrying data (and its consent
    /// checks keep their old credentials) until the new checks select a pair. Signal the new
    /// credentials and candidates ([`local_candidates`](Self::local_candidates)) to the peer.
    pub fn restart(&mut self, now: Instant) {
        let (ufrag, pwd) = credentials(&self.rng);
        self.local_ufrag = ufrag;
        self.local_pwd = pwd;
        self.remote_ufrag = None;
        self.remote_pwd = None;
        self.remotes.clear();
        self.checklist = Checklist::default();
        self.transactions
            .retain(|_, t| matches!(t.purpose, Purpose::Consent));
        self.generation = self.generation.wrapping_add(1);
        self.next_check = None;
        self.first_valid_at = None;
        self.nominating = None;
        self.remote_end_of_candidates = false;
        if self.consent_lost {
            self.consent_lost = false;
        }
        self.service(now);
    }

    /// Pairs local candidate `local` with remote `remote` if both can (RFC 8445 §6.1.2.2:
    /// same component and address family).
    fn pair_up(&mut self, now: Instant, local: usize, remote: usize) -> Option<usize> {
        let l = &self.locals[local];
        let raddr = self.remotes[remote].address.socket_addr()?;
        if !l.pairs() || l.base.is_ipv4() != raddr.is_ipv4() {
            return None;
        }
        let mut pair = Pair::new(local, remote, &self.locals, &self.remotes);
        pair.prioritise(self.controlling, &self.locals, &self.remotes);
        let (index, new) =
            self.checklist
                .add(pair, self.config.max_pairs, &self.locals, &self.remotes)?;
        if new && self.next_check.is_none() {
            self.next_check = Some(now);
        }
        Some(index)
    }

    /// Sends `payload` from local candidate `local`: from its socket, or through its relay.
    fn send_from(
        &mut self,
        now: Instant,
        local: usize,
        remote: SocketAddr,
        payload: Vec<u8>,
    ) -> Result<(), IceError> {
        let l = &self.locals[local];
        match l.relay {
            None => {
                self.transmits.push_back(Transmit {
                    source: l.base,
                    destination: remote,
                    payload,
                });
                Ok(())
            }
            Some(relay) => self.relays[relay]
                .client
                .send_to(now, remote, &payload)
                .map_err(|_| IceError::Relay),
        }
    }

    fn emit(&mut self, event: IceEvent) {
        self.events.push_back(event);
    }
}

/// Fresh credentials: an 8-character ufrag and a 24-character password (RFC 8445 §5.3: at
/// least 24 bits and 128 bits of randomness).
fn credentials(rng: &SharedRng) -> (Ufrag, Password) {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes);
    let text: String = bytes
        .iter()
        .map(|b| char::from(ICE_ALPHABET[usize::from(b & 63)]))
        .collect();
    // NOTE(unwrap): 8 and 24 ice-chars are within RFC 8839's 4-256 and 22-256.
    let ufrag = Ufrag::new(&text[..8]).expect("valid ufrag");
    let pwd = Password::new(&text[8..]).expect("valid password");
    (ufrag, pwd)
}

impl Machine for IceAgent {
    type Event = IceEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        self.demux(now, datagram);
        self.pump(now);
        self.service(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.stun.handle_timeout(now);
        for relay in &mut self.relays {
            relay.client.handle_timeout(now);
        }
        self.pump(now);
        self.service(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |at: Option<Instant>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        consider(self.stun.poll_timeout());
        for relay in &self.relays {
            consider(relay.client.poll_timeout());
        }
        for txn in self.transactions.values() {
            consider(Some(txn.deadline));
        }
        if self.remote_pwd.is_some() {
            consider(self.next_check);
        }
        consider(self.nomination_deadline());
        consider(self.consent_deadline());
        next
    }
}
