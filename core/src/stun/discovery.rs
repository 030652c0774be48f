//! RFC 5780 NAT behaviour discovery: a client machine that runs the tests of RFC 5780 §4
//! against a server with two addresses and two ports, and reports a [`NatReport`].
//!
//! Order of the tests: test I (connectivity and the mapped address), filtering (tests II and
//! III of §4.4), mapping (tests II and III of §4.3), hairpinning (§3.4), mapping lifetime
//! (§4.6). Filtering runs before the mapping tests on purpose: §4.4 notes that its tests "are
//! sensitive to prior state on the NAT", and mapping test II sends to the alternate IP, after
//! which an address-dependent filter admits the alternate IP and would pass for
//! endpoint-independent (§3.2: "no binding be established to the alternate address").

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::VecDeque;

use super::{
    Attribute, ChangeRequest, ClientConfig, ClientEvent, Message, MessageType, RequestOptions,
    StunClient, TransactionId,
};
use crate::{Datagram, Instant, Machine, Rng, Transmit};

mod report;

pub use report::{
    DiscoveryError, DiscoveryEvent, DiscoveryStep, FilteringBehavior, MappingBehavior, NatReport,
};

/// Mapping lifetime search bounds (RFC 5780 §4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifetimeConfig {
    /// Longest idle time tested.
    pub max: Duration,
    /// Stop the binary search when the interval is this narrow.
    pub precision: Duration,
}

impl Default for LifetimeConfig {
    fn default() -> Self {
        Self {
            max: Duration::from_secs(180),
            precision: Duration::from_secs(5),
        }
    }
}

/// Configuration of a [`NatDiscovery`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// The local socket under test.
    pub local: SocketAddr,
    /// A second local socket, for hairpinning and lifetime tests; `None` skips both.
    pub hairpin_local: Option<SocketAddr>,
    /// The server's primary address.
    pub server: SocketAddr,
    /// Run the lifetime search with these bounds; `None` skips it.
    pub lifetime: Option<LifetimeConfig>,
    /// Transactions whose answer is needed (test I, mapping, lifetime refresh).
    pub client: ClientConfig,
    /// Rc for probes where silence is a result (filtering, hairpinning, lifetime probes): a full
    /// RFC 8489 budget would spend 39.5 s on each.
    pub probe_rc: u32,
    /// Rm for those probes.
    pub probe_rm: u32,
}

impl DiscoveryConfig {
    /// Tests `local` against `server` with default budgets, no hairpinning and no lifetime test.
    pub fn new(local: SocketAddr, server: SocketAddr) -> Self {
        Self {
            local,
            hairpin_local: None,
            server,
            lifetime: None,
            client: ClientConfig::default(),
            probe_rc: 4,
            probe_rm: 4,
        }
    }
}

/// Where the binary search for the mapping lifetime stands.
#[derive(Clone, Copy, Debug)]
enum Search {
    /// A probe right after the refresh: proves RESPONSE-PORT works at all.
    Sanity,
    /// A probe after the maximum idle time.
    Top,
    /// Alive after `lo`, gone after `hi`.
    Bisect { lo: Duration, hi: Duration },
}

/// The test in progress and the transactions it waits for.
#[derive(Clone, Copy, Debug)]
enum Phase {
    Idle,
    Connectivity(TransactionId),
    FilteringBoth(TransactionId),
    FilteringPort(TransactionId),
    MappingAddress(TransactionId),
    MappingPort(TransactionId),
    HairpinSetup(TransactionId),
    Hairpin {
        /// Sent from `local`, expected to arrive on `hairpin_local`.
        from_local: TransactionId,
        /// Sent from `hairpin_local`, expected to arrive on `local`.
        from_second: TransactionId,
        pending: u8,
    },
    LifetimeRefresh(TransactionId, Duration),
    LifetimeIdle(Instant, Duration),
    LifetimeProbe(TransactionId, Duration),
    Done,
}

/// How a transaction of a test ended.
enum Outcome {
    Mapped(Option<SocketAddr>, Option<SocketAddr>),
    Error(u16, String),
    Silence,
}

/// The RFC 5780 discovery client. Call [`start`](Self::start), drive it like any
/// [`Machine`], and wait for [`DiscoveryEvent::Finished`].
pub struct NatDiscovery {
    config: DiscoveryConfig,
    client: StunClient,
    phase: Phase,
    search: Search,
    events: VecDeque<DiscoveryEvent>,
    mapped: Option<SocketAddr>,
    other: Option<SocketAddr>,
    mapped_alternate: Option<SocketAddr>,
    mapping: MappingBehavior,
    filtering: FilteringBehavior,
    hairpinning: Option<bool>,
    lifetime: Option<Duration>,
    /// The mapping the lifetime probe's RESPONSE-PORT targets.
    refreshed: Option<SocketAddr>,
}

impl core::fmt::Debug for NatDiscovery {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NatDiscovery")
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl NatDiscovery {
    /// A discovery run for `config`, using `rng` for transaction ids.
    pub fn new(config: DiscoveryConfig, rng: Rng) -> Self {
        let client = StunClient::new(config.client.clone(), rng);
        Self {
            config,
            client,
            phase: Phase::Idle,
            search: Search::Sanity,
            events: VecDeque::new(),
            mapped: None,
            other: None,
            mapped_alternate: None,
            mapping: MappingBehavior::Unknown,
            filtering: FilteringBehavior::Unknown,
            hairpinning: None,
            lifetime: None,
            refreshed: None,
        }
    }

    /// Begins with test I. Calling it again has no effect.
    pub fn start(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Idle) {
            return;
        }
        self.progress(DiscoveryStep::Connectivity);
        let (local, server) = (self.config.local, self.config.server);
        match self.client.binding(now, local, server) {
            Ok(id) => self.phase = Phase::Connectivity(id),
            Err(error) => self.finish(Err(DiscoveryError::Client(error))),
        }
    }

    /// Whether discovery has finished.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// The STUN client's counters (stray and malformed datagrams included).
    pub fn client_stats(&self) -> super::ClientStats {
        self.client.stats()
    }

    fn progress(&mut self, step: DiscoveryStep) {
        tracing::debug!(%step, "NAT discovery");
        self.events.push_back(DiscoveryEvent::Progress(step));
    }

    fn finish(&mut self, result: Result<NatReport, DiscoveryError>) {
        self.phase = Phase::Done;
        self.events.push_back(DiscoveryEvent::Finished(result));
    }

    fn report(&self, mapped: SocketAddr) -> NatReport {
        NatReport {
            local: self.config.local,
            mapped,
            server: self.config.server,
            other_address: self.other,
            mapping: self.mapping,
            filtering: self.filtering,
            hairpinning: self.hairpinning,
            lifetime: self.lifetime,
        }
    }

    fn finish_report(&mut self) {
        match self.mapped {
            Some(mapped) => self.finish(Ok(self.report(mapped))),
            None => self.finish(Err(DiscoveryError::NoMappedAddress)),
        }
    }

    /// A request whose silence is a result: short budget, answer expected as given.
    fn probe(
        &mut self,
        now: Instant,
        local: SocketAddr,
        server: SocketAddr,
        attrs: &[Attribute<'_>],
        options: RequestOptions,
    ) -> Option<TransactionId> {
        let options = RequestOptions {
            rc: Some(self.config.probe_rc),
            rm: Some(self.config.probe_rm),
            ..options
        };
        let ty = MessageType::BINDING_REQUEST;
        match self
            .client
            .request_with(now, local, server, ty, attrs, options)
        {
            Ok(id) => Some(id),
            Err(error) => {
                tracing::debug!(%error, "NAT discovery probe not sent");
                None
            }
        }
    }

    fn begin_filtering(&mut self, now: Instant, other: SocketAddr) {
        self.progress(DiscoveryStep::FilteringChangeAddressAndPort);
        let change = Attribute::ChangeRequest(ChangeRequest {
            change_ip: true,
            change_port: true,
        });
        let (local, server) = (self.config.local, self.config.server);
        let options = RequestOptions {
            response_from: Some(other),
            ..RequestOptions::default()
        };
        match self.probe(now, local, server, &[change], options) {
            Some(id) => self.phase = Phase::FilteringBoth(id),
            None => self.begin_mapping(now),
        }
    }

    fn filtering_port(&mut self, now: Instant, other: SocketAddr) {
        self.progress(DiscoveryStep::FilteringChangePort);
        let change = Attribute::ChangeRequest(ChangeRequest {
            change_ip: false,
            change_port: true,
        });
        let (local, server) = (self.config.local, self.config.server);
        let options = RequestOptions {
            response_from: Some(SocketAddr::new(server.ip(), other.port())),
            ..RequestOptions::default()
        };
        match self.probe(now, local, server, &[change], options) {
            Some(id) => self.phase = Phase::FilteringPort(id),
            None => self.begin_mapping(now),
        }
    }

    fn begin_mapping(&mut self, now: Instant) {
        let (Some(mapped), Some(other)) = (self.mapped, self.other) else {
            return self.begin_hairpin(now);
        };
        // RFC 5780 §4.3: "the client knows that it is not NATed".
        if mapped == self.config.local {
            self.mapping = MappingBehavior::NoNat;
            return self.begin_hairpin(now);
        }
        self.progress(DiscoveryStep::MappingAlternateAddress);
        let target = SocketAddr::new(other.ip(), self.config.server.port());
        match self.client.binding(now, self.config.local, target) {
            Ok(id) => self.phase = Phase::MappingAddress(id),
            Err(_) => self.begin_hairpin(now),
        }
    }

    fn begin_hairpin(&mut self, now: Instant) {
        let (Some(second), Some(mapped)) = (self.config.hairpin_local, self.mapped) else {
            return self.begin_lifetime(now);
        };
        if mapped == self.config.local {
            return self.begin_lifetime(now);
        }
        self.progress(DiscoveryStep::Hairpinning);
        // The second socket's own mapping is needed so the first can open its filter to it.
        match self.client.binding(now, second, self.config.server) {
            Ok(id) => self.phase = Phase::HairpinSetup(id),
            Err(_) => self.begin_lifetime(now),
        }
    }

    /// RFC 5780 §3.4: "sends a STUN Binding Request to this mapped address from a different
    /// port. If the client receives its own request, the NAT hairpins". Probes go both ways,
    /// the one from `local` first: it opens `local`'s address-dependent filters to the second
    /// socket's mapping, so that a filtering NAT that hairpins is still seen to.
    fn hairpin_probes(&mut self, now: Instant, second_mapped: SocketAddr) {
        let (local, Some(second), Some(mapped)) =
            (self.config.local, self.config.hairpin_local, self.mapped)
        else {
            return self.begin_lifetime(now);
        };
        let from_local = self.probe(now, local, second_mapped, &[], RequestOptions::default());
        let from_second = self.probe(now, second, mapped, &[], RequestOptions::default());
        match (from_local, from_second) {
            (Some(from_local), Some(from_second)) => {
                self.phase = Phase::Hairpin {
                    from_local,
                    from_second,
                    pending: 2,
                }
            }
            (a, b) => {
                for id in [a, b].into_iter().flatten() {
                    self.client.cancel(id);
                }
                self.begin_lifetime(now);
            }
        }
    }

    fn begin_lifetime(&mut self, now: Instant) {
        let open = self.mapped == Some(self.config.local)
            && self.filtering == FilteringBehavior::EndpointIndependent;
        if self.config.lifetime.is_none() || self.config.hairpin_local.is_none() || open {
            return self.finish_report();
        }
        self.search = Search::Sanity;
        self.refresh(now, Duration::ZERO);
    }

    /// RFC 5780 §4.6: "the client must resend a binding request from the original source
    /// port before beginning a second test".
    fn refresh(&mut self, now: Instant, idle: Duration) {
        self.progress(DiscoveryStep::Lifetime { idle });
        match self
            .client
            .binding(now, self.config.local, self.config.server)
        {
            Ok(id) => self.phase = Phase::LifetimeRefresh(id, idle),
            Err(_) => self.finish_report(),
        }
    }

    /// RFC 5780 §4.6: from the second port, ask for the response on the first mapping.
    fn lifetime_probe(&mut self, now: Instant, idle: Duration) {
        let (Some(second), Some(refreshed)) = (self.config.hairpin_local, self.refreshed) else {
            return self.finish_report();
        };
        let options = RequestOptions {
            response_to: Some(self.config.local),
            ..RequestOptions::default()
        };
        let port = Attribute::ResponsePort(refreshed.port());
        match self.probe(now, second, self.config.server, &[port], options) {
            Some(id) => self.phase = Phase::LifetimeProbe(id, idle),
            None => self.finish_report(),
        }
    }

    /// Binary search over idle times: the mapping was alive after `idle`, or not.
    fn lifetime_result(&mut self, now: Instant, idle: Duration, alive: bool) {
        let Some(limits) = self.config.lifetime else {
            return self.finish_report();
        };
        let (lo, hi) = match self.search {
            // RESPONSE-PORT unsupported (a 420 goes to the other socket) or unusable.
            Search::Sanity if !alive => return self.finish_report(),
            Search::Sanity => {
                self.search = Search::Top;
                return self.refresh(now, limits.max);
            }
            Search::Top if alive => {
                self.lifetime = Some(limits.max);
                return self.finish_report();
            }
            Search::Top => (Duration::ZERO, limits.max),
            Search::Bisect { hi, .. } if alive => (idle, hi),
            Search::Bisect { lo, .. } => (lo, idle),
        };
        if hi.saturating_sub(lo) <= limits.precision.max(Duration::from_millis(1)) {
            self.lifetime = Some(lo);
            return self.finish_report();
        }
        self.search = Search::Bisect { lo, hi };
        self.refresh(now, lo + (hi - lo) / 2);
    }

    /// Handles the end of a client transaction for the test in progress.
    fn on_client_event(&mut self, now: Instant, event: ClientEvent) {
        let id = event.id();
        let outcome = match &event {
            ClientEvent::Response {
                response, mapped, ..
            } => match Message::parse(response) {
                Ok(msg) => match msg.error_code() {
                    Some(e) => Outcome::Error(e.code, e.reason.to_owned()),
                    None => Outcome::Mapped(*mapped, msg.other_address()),
                },
                Err(_) => Outcome::Silence,
            },
            ClientEvent::Timeout { .. } | ClientEvent::Failed { .. } => Outcome::Silence,
        };
        match self.phase {
            Phase::Connectivity(t) if t == id => match (outcome, event) {
                (Outcome::Mapped(Some(mapped), other), _) => {
                    self.mapped = Some(mapped);
                    self.other = other;
                    match other {
                        Some(other) => self.begin_filtering(now, other),
                        None => {
                            if mapped == self.config.local {
                                self.mapping = MappingBehavior::NoNat;
                            }
                            self.begin_hairpin(now);
                        }
                    }
                }
                (Outcome::Mapped(None, _), _) => self.finish(Err(DiscoveryError::NoMappedAddress)),
                (Outcome::Error(code, reason), _) => {
                    self.finish(Err(DiscoveryError::ServerError { code, reason }))
                }
                (Outcome::Silence, ClientEvent::Failed { reason, .. }) => {
                    self.finish(Err(DiscoveryError::Failed(reason)))
                }
                (Outcome::Silence, _) => self.finish(Err(DiscoveryError::NoResponse)),
            },
            Phase::FilteringBoth(t) if t == id => {
                if matches!(outcome, Outcome::Mapped(..)) {
                    self.filtering = FilteringBehavior::EndpointIndependent;
                    self.begin_mapping(now);
                } else if let Some(other) = self.other {
                    self.filtering_port(now, other);
                }
            }
            Phase::FilteringPort(t) if t == id => {
                self.filtering = if matches!(outcome, Outcome::Mapped(..)) {
                    FilteringBehavior::AddressDependent
                } else {
                    FilteringBehavior::AddressAndPortDependent
                };
                self.begin_mapping(now);
            }
            Phase::MappingAddress(t) if t == id => match outcome {
                Outcome::Mapped(Some(m2), _) if Some(m2) == self.mapped => {
                    self.mapping = MappingBehavior::EndpointIndependent;
                    self.begin_hairpin(now);
                }
                Outcome::Mapped(Some(m2), _) => {
                    self.mapped_alternate = Some(m2);
                    self.progress(DiscoveryStep::MappingAlternateAddressAndPort);
                    let target = self.other.unwrap_or(self.config.server);
                    match self.client.binding(now, self.config.local, target) {
                        Ok(id) => self.phase = Phase::MappingPort(id),
                        Err(_) => self.begin_hairpin(now),
                    }
                }
                _ => self.begin_hairpin(now),
            },
            Phase::MappingPort(t) if t == id => {
                if let Outcome::Mapped(Some(m3), _) = outcome {
                    self.mapping = if Some(m3) == self.mapped_alternate {
                        MappingBehavior::AddressDependent
                    } else {
                        MappingBehavior::AddressAndPortDependent
                    };
                }
                self.begin_hairpin(now);
            }
            Phase::HairpinSetup(t) if t == id => match outcome {
                Outcome::Mapped(Some(second_mapped), _) => self.hairpin_probes(now, second_mapped),
                _ => self.begin_lifetime(now),
            },
            Phase::Hairpin {
                from_local,
                from_second,
                pending,
            } if id == from_local || id == from_second => {
                if pending <= 1 {
                    self.hairpinning = Some(false);
                    self.begin_lifetime(now);
                } else {
                    self.phase = Phase::Hairpin {
                        from_local,
                        from_second,
                        pending: pending - 1,
                    };
                }
            }
            Phase::LifetimeRefresh(t, idle) if t == id => match outcome {
                Outcome::Mapped(Some(mapped), _) => {
                    self.refreshed = Some(mapped);
                    if idle.is_zero() {
                        self.lifetime_probe(now, idle);
                    } else {
                        self.phase = Phase::LifetimeIdle(now + idle, idle);
                    }
                }
                _ => self.finish_report(),
            },
            Phase::LifetimeProbe(t, idle) if t == id => {
                self.lifetime_result(now, idle, matches!(outcome, Outcome::Mapped(..)));
            }
            _ => tracing::trace!(%id, "NAT discovery ignores a stale transaction"),
        }
    }

    /// A hairpinned probe arrived on the other socket: hairpinning works.
    fn catch_hairpin(&mut self, now: Instant, datagram: &Datagram<'_>) -> bool {
        let Phase::Hairpin {
            from_local,
            from_second,
            ..
        } = self.phase
        else {
            return false;
        };
        let Ok(msg) = Message::parse(datagram.payload) else {
            return false;
        };
        if msg.message_type() != MessageType::BINDING_REQUEST {
            return false;
        }
        let id = msg.transaction_id();
        let arrived = (id == from_local && Some(datagram.destination) == self.config.hairpin_local)
            || (id == from_second && datagram.destination == self.config.local);
        if arrived {
            self.client.cancel(from_local);
            self.client.cancel(from_second);
            self.hairpinning = Some(true);
            self.begin_lifetime(now);
        }
        arrived
    }

    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.client.poll_event() {
            self.on_client_event(now, event);
        }
    }
}

impl Machine for NatDiscovery {
    type Event = DiscoveryEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        if !self.catch_hairpin(now, &datagram) {
            self.client.handle_datagram(now, datagram);
        }
        self.pump(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.client.handle_timeout(now);
        self.pump(now);
        if let Phase::LifetimeIdle(until, idle) = self.phase {
            if now >= until {
                self.lifetime_probe(now, idle);
                self.pump(now);
            }
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.client.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<DiscoveryEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let idle = match self.phase {
            Phase::LifetimeIdle(until, _) => Some(until),
            _ => None,
        };
        match (self.client.poll_timeout(), idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests;
