//! STUN client transactions over UDP (RFC 8489 §6.2, §6.3.3, §6.3.4) with the short-term and
//! long-term credential mechanisms (RFC 8489 §9).
//!
//! A [`StunClient`] runs any number of request/response transactions at once. Each one is
//! retransmitted on its own schedule (RTO, 2·RTO, 4·RTO, ... for Rc sends, then a final wait of
//! Rm·RTO), all deadlines sit in one ordered set so [`Machine::poll_timeout`] is its first entry,
//! and a response is accepted only if its transaction id, the address it came from and the local
//! socket it arrived on all match.

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use self::auth::{Protection, ServerAuth};
use super::{Attribute, Class, Credentials, Message, MessageBuilder, MessageType, TransactionId};
use crate::{Datagram, Instant, Machine, Rng, Transmit};

mod auth;
mod events;

pub use events::{ClientError, ClientEvent, ClientStats, TransactionFailure};

/// Retransmission parameters and limits of a [`StunClient`] (RFC 8489 §6.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Initial retransmission timeout; doubles after every retransmission. RFC 8489 §6.2.1
    /// recommends 500 ms.
    pub rto: Duration,
    /// Total number of requests sent per transaction (Rc, default 7).
    pub rc: u32,
    /// After the last request, wait `rm * rto` for a response before giving up (Rm, default 16).
    pub rm: u32,
    /// SOFTWARE attribute added to every request (RFC 8489 §6.1: a client SHOULD add one).
    pub software: Option<String>,
    /// Most transactions in progress at once; [`StunClient::request`] refuses more.
    pub max_in_flight: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            rto: Duration::from_millis(500),
            rc: 7,
            rm: 16,
            software: Some(concat!("pigeon ", env!("CARGO_PKG_VERSION")).to_owned()),
            max_in_flight: 64,
        }
    }
}

/// Per-request overrides for [`StunClient::request_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// The address the response must come from; `None` means the server the request went to.
    /// RFC 5780 CHANGE-REQUEST probes expect the answer from the server's other address.
    pub response_from: Option<SocketAddr>,
    /// The local socket the response must arrive on; `None` means the one the request left
    /// from. RFC 5780 RESPONSE-PORT probes expect it on another socket.
    pub response_to: Option<SocketAddr>,
    /// Overrides [`ClientConfig::rc`] for this transaction.
    pub rc: Option<u32>,
    /// Overrides [`ClientConfig::rm`] for this transaction.
    pub rm: Option<u32>,
}

/// One attempt of a transaction in progress.
struct Transaction {
    /// The id the owner knows.
    handle: TransactionId,
    local: SocketAddr,
    server: SocketAddr,
    response_from: SocketAddr,
    response_to: SocketAddr,
    ty: MessageType,
    /// The caller's attributes, encoded once, so a credential retry can rebuild the request.
    base: Vec<u8>,
    /// The exact bytes (re)sent.
    request: Vec<u8>,
    protection: Protection,
    rto: Duration,
    rc: u32,
    rm: u32,
    sent: u32,
    deadline: Instant,
    started: Instant,
    auth_retries: u8,
    /// A response was discarded for failed integrity (RFC 8489 §9.1.4: report that, not a
    /// timeout, if nothing better arrives).
    integrity_discarded: bool,
}

impl Transaction {
    /// RFC 8489 §6.2.1: after send k < Rc wait RTO·2^(k-1); after the last wait Rm·RTO.
    fn next_deadline(&self, now: Instant) -> Instant {
        let wait = if self.sent < self.rc {
            self.rto
                .saturating_mul(1 << (self.sent.saturating_sub(1)).min(31))
        } else {
            self.rto.saturating_mul(self.rm)
        };
        now + wait
    }

    fn transmit(&self) -> Transmit {
        Transmit {
            source: self.local,
            destination: self.server,
            payload: self.request.clone(),
        }
    }
}

/// What to do with a response that matched a transaction.
enum Verdict {
    /// Drop it as if never received; the transaction goes on.
    Discard { integrity: bool },
    /// RFC 8489 §9.2.5: a new attempt with these long-term credentials.
    Retry(ServerAuth),
    /// Hand it to the owner.
    Deliver,
    /// End the transaction with this failure.
    Fail(TransactionFailure),
}

/// Most servers whose realm and nonce are remembered (RFC 8489 §9.2.3.2).
const MAX_CACHED_REALMS: usize = 256;
/// Most credential retries per request, so a server cannot keep a client looping on 438.
const MAX_AUTH_RETRIES: u8 = 3;

/// The client side of STUN: request/response transactions with retransmission, matching and
/// credentials. See the [module documentation](self).
pub struct StunClient {
    config: ClientConfig,
    rng: Rng,
    credentials: Option<Credentials>,
    fingerprint: bool,
    /// In progress, by the transaction id on the wire.
    transactions: BTreeMap<TransactionId, Transaction>,
    /// (deadline, wire id) of every transaction: the first entry is the next timeout.
    timers: BTreeSet<(Instant, TransactionId)>,
    /// RFC 8489 §9.2.3.2: realm, nonce and key that last worked with each server.
    realms: BTreeMap<SocketAddr, ServerAuth>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ClientEvent>,
    stats: ClientStats,
}

impl fmt::Debug for StunClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StunClient")
            .field("in_flight", &self.transactions.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl StunClient {
    /// A client without credentials and without FINGERPRINT.
    pub fn new(config: ClientConfig, rng: Rng) -> Self {
        Self {
            config,
            rng,
            credentials: None,
            fingerprint: false,
            transactions: BTreeMap::new(),
            timers: BTreeSet::new(),
            realms: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: ClientStats::default(),
        }
    }

    /// Authenticate requests: short-term credentials add USERNAME and MESSAGE-INTEGRITY to
    /// every request (RFC 8489 §9.1.2); long-term ones answer a 401/438 challenge (§9.2.5).
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Add FINGERPRINT to every request and require a valid one in every response (RFC 8489
    /// §7, §6.3).
    pub fn with_fingerprint(mut self, fingerprint: bool) -> Self {
        self.fingerprint = fingerprint;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Transactions in progress.
    pub fn in_flight(&self) -> usize {
        self.transactions.len()
    }

    /// Sends a Binding request from `local` to `server`; the answer comes back as an event.
    pub fn binding(
        &mut self,
        now: Instant,
        local: SocketAddr,
        server: SocketAddr,
    ) -> Result<TransactionId, ClientError> {
        self.request(now, local, server, MessageType::BINDING_REQUEST, &[])
    }

    /// Starts a transaction: a request of type `ty` carrying `attrs` (plus SOFTWARE,
    /// credentials and FINGERPRINT as configured; do not pass those yourself).
    pub fn request(
        &mut self,
        now: Instant,
        local: SocketAddr,
        server: SocketAddr,
        ty: MessageType,
        attrs: &[Attribute<'_>],
    ) -> Result<TransactionId, ClientError> {
        self.request_with(now, local, server, ty, attrs, RequestOptions::default())
    }

    /// [`request`](Self::request) with per-transaction [`RequestOptions`].
    pub fn request_with(
        &mut self,
        now: Instant,
        local: SocketAddr,
        server: SocketAddr,
        ty: MessageType,
        attrs: &[Attribute<'_>],
        options: RequestOptions,
    ) -> Result<TransactionId, ClientError> {
        if ty.class != Class::Request {
            return Err(ClientError::NotARequest(ty));
        }
        if self.transactions.len() >= self.config.max_in_flight {
            return Err(ClientError::TooManyInFlight {
                limit: self.config.max_in_flight,
            });
        }
        let id = self.fresh_id();
        let mut base = MessageBuilder::new(ty, id);
        for attr in attrs {
            base.add(attr);
        }
        let base = base.finish();
        // RFC 8489 §9.2.3: the first request to a server goes without long-term credentials;
        // later ones reuse the realm and nonce that worked.
        let protection = match &self.credentials {
            None => Protection::None,
            Some(Credentials::ShortTerm { password, .. }) => Protection::ShortTerm {
                key: super::short_term_key(password),
            },
            Some(Credentials::LongTerm { .. }) => {
                self.realms.get(&server).map_or(Protection::None, |cached| {
                    Protection::LongTerm(cached.clone())
                })
            }
        };
        let request = self.encode(ty, id, attrs, &protection);
        let txn = Transaction {
            handle: id,
            local,
            server,
            response_from: options.response_from.unwrap_or(server),
            response_to: options.response_to.unwrap_or(local),
            ty,
            base,
            request,
            protection,
            rto: self.config.rto,
            rc: options.rc.unwrap_or(self.config.rc).max(1),
            rm: options.rm.unwrap_or(self.config.rm),
            sent: 0,
            deadline: now,
            started: now,
            auth_retries: 0,
            integrity_discarded: false,
        };
        self.stats.transactions += 1;
        self.start(now, id, txn);
        Ok(id)
    }

    /// Abandons a transaction; no event will be reported for it. Returns whether it existed.
    pub fn cancel(&mut self, id: TransactionId) -> bool {
        let wire = self
            .transactions
            .iter()
            .find(|(_, txn)| txn.handle == id)
            .map(|(wire, _)| *wire);
        match wire {
            Some(wire) => {
                self.remove(wire);
                true
            }
            None => false,
        }
    }

    /// A transaction id not in use; 96 random bits make the loop run once in practice.
    fn fresh_id(&mut self) -> TransactionId {
        loop {
            let id = TransactionId::random(&mut *self.rng);
            if !self.transactions.contains_key(&id) {
                return id;
            }
        }
    }

    fn encode(
        &self,
        ty: MessageType,
        id: TransactionId,
        attrs: &[Attribute<'_>],
        protection: &Protection,
    ) -> Vec<u8> {
        let mut b = MessageBuilder::new(ty, id);
        for attr in attrs {
            b.add(attr);
        }
        if let Some(software) = &self.config.software {
            b.add(&Attribute::Software(software));
        }
        let username = self.credentials.as_ref().map_or("", Credentials::username);
        auth::protect(&mut b, protection, username);
        if self.fingerprint {
            b.add_fingerprint();
        }
        b.finish()
    }

    /// Sends the first request of an attempt and arms its timer.
    fn start(&mut self, now: Instant, wire: TransactionId, mut txn: Transaction) {
        txn.sent = 1;
        txn.started = now;
        txn.deadline = txn.next_deadline(now);
        self.transmits.push_back(txn.transmit());
        self.stats.sent += 1;
        self.timers.insert((txn.deadline, wire));
        self.transactions.insert(wire, txn);
    }

    fn remove(&mut self, wire: TransactionId) -> Option<Transaction> {
        let txn = self.transactions.remove(&wire)?;
        self.timers.remove(&(txn.deadline, wire));
        Some(txn)
    }

    /// A timer of `wire` expired: retransmit, or end the transaction.
    fn expire(&mut self, now: Instant, wire: TransactionId) {
        let Some(txn) = self.transactions.get_mut(&wire) else {
            return;
        };
        if txn.sent < txn.rc {
            txn.sent += 1;
            txn.deadline = txn.next_deadline(now);
            let transmit = txn.transmit();
            self.timers.insert((txn.deadline, wire));
            self.transmits.push_back(transmit);
            self.stats.sent += 1;
            self.stats.retransmissions += 1;
            tracing::trace!(id = %wire, "retransmitting STUN request");
            return;
        }
        let Some(txn) = self.remove(wire) else {
            return;
        };
        let (id, local, server) = (txn.handle, txn.local, txn.server);
        if txn.integrity_discarded {
            self.stats.failures += 1;
            self.events.push_back(ClientEvent::Failed {
                id,
                local,
                server,
                reason: TransactionFailure::IntegrityViolated,
            });
        } else {
            self.stats.timeouts += 1;
            self.events
                .push_back(ClientEvent::Timeout { id, local, server });
        }
    }

    /// Checks a response against the transaction it matched (RFC 8489 §6.3, §9).
    fn judge(&self, txn: &Transaction, msg: &Message<'_>) -> Verdict {
        let class = msg.message_type().class;
        let code = msg.error_code().map(|e| e.code);
        if let Some(Credentials::LongTerm { username, password }) = &self.credentials {
            if class == Class::ErrorResponse && matches!(code, Some(401 | 438)) {
                if txn.auth_retries >= MAX_AUTH_RETRIES {
                    return Verdict::Deliver;
                }
                return match auth::challenge(msg, &txn.protection, username, password) {
                    Some(next) => Verdict::Retry(next),
                    // The answer is final (RFC 8489 §9.2.5 forbids a retry): report it.
                    None => Verdict::Deliver,
                };
            }
            if auth::bid_down_suspect(msg) {
                return Verdict::Discard { integrity: false };
            }
            // RFC 8489 §9.2.5: "an error response with an error code of 400 ... [without
            // message integrity] MUST be discarded, as if it were never received".
            if code == Some(400) && !auth::has_integrity(msg) {
                return Verdict::Discard { integrity: false };
            }
        }
        if !auth::verify(msg, &txn.protection) {
            return Verdict::Discard { integrity: true };
        }
        let unknown = msg.unknown_comprehension_required();
        if !unknown.is_empty() {
            return Verdict::Fail(TransactionFailure::UnknownAttributes(unknown));
        }
        if class == Class::ErrorResponse && code.is_none() {
            return Verdict::Fail(TransactionFailure::MissingErrorCode);
        }
        Verdict::Deliver
    }

    /// RFC 8489 §9.2.5: the challenge is answered by a new transaction with credentials.
    fn retry(&mut self, now: Instant, wire: TransactionId, next: ServerAuth) {
        let Some(old) = self.remove(wire) else {
            return;
        };
        let id = self.fresh_id();
        // NOTE(unwrap): `base` came out of `MessageBuilder`, whose output always parses.
        let base = Message::parse(&old.base).expect("the client's own encoding parses");
        let attrs: Vec<Attribute<'_>> = base.attributes().filter_map(Result::ok).collect();
        let request = self.encode(old.ty, id, &attrs, &Protection::LongTerm(next.clone()));
        let txn = Transaction {
            request,
            protection: Protection::LongTerm(next),
            auth_retries: old.auth_retries + 1,
            integrity_discarded: false,
            ..old
        };
        self.stats.auth_retries += 1;
        tracing::debug!(id = %txn.handle, "retrying STUN request with long-term credentials");
        self.start(now, id, txn);
    }

    fn remember_realm(&mut self, server: SocketAddr, auth: ServerAuth) {
        if self.realms.len() >= MAX_CACHED_REALMS && !self.realms.contains_key(&server) {
            self.realms.pop_first();
        }
        self.realms.insert(server, auth);
    }
}

impl Machine for StunClient {
    type Event = ClientEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        let msg = match Message::parse(datagram.payload) {
            Ok(msg) => msg,
            Err(error) => {
                self.stats.malformed += 1;
                tracing::debug!(from = %datagram.source, %error, "dropping non-STUN datagram");
                return;
            }
        };
        let ty = msg.message_type();
        let wire = msg.transaction_id();
        // RFC 8489 §6.3: a response must match a transaction still in progress; here also its
        // method, the address it came from and the socket it arrived on.
        let matched = self.transactions.get(&wire).filter(|txn| {
            ty.class.is_response()
                && ty.method == txn.ty.method
                && datagram.source == txn.response_from
                && datagram.destination == txn.response_to
        });
        let Some(txn) = matched else {
            self.stats.stray += 1;
            tracing::trace!(from = %datagram.source, id = %wire, "dropping stray STUN message");
            return;
        };
        // RFC 8489 §6.3: with the FINGERPRINT extension in use it must be present and correct.
        let fingerprint_ok = if msg.has_fingerprint() {
            msg.verify_fingerprint().is_ok()
        } else {
            !self.fingerprint
        };
        if !fingerprint_ok {
            self.stats.malformed += 1;
            tracing::debug!(from = %datagram.source, "dropping response with bad FINGERPRINT");
            return;
        }
        match self.judge(txn, &msg) {
            Verdict::Discard { integrity } => {
                self.stats.discarded += 1;
                tracing::debug!(from = %datagram.source, id = %wire, "discarding STUN response");
                if let Some(txn) = self.transactions.get_mut(&wire) {
                    txn.integrity_discarded |= integrity;
                }
            }
            Verdict::Retry(next) => self.retry(now, wire, next),
            Verdict::Fail(reason) => {
                if let Some(txn) = self.remove(wire) {
                    self.stats.failures += 1;
                    self.events.push_back(ClientEvent::Failed {
                        id: txn.handle,
                        local: txn.local,
                        server: txn.server,
                        reason,
                    });
                }
            }
            Verdict::Deliver => {
                let Some(txn) = self.remove(wire) else {
                    return;
                };
                // RFC 8489 §9.2.3.2: keep what authenticated this exchange for later requests.
                // A final 401 means the server no longer takes what we have: the next request
                // starts over as a first request (§9.2.3.1).
                if let Protection::LongTerm(state) = &txn.protection {
                    if auth::has_integrity(&msg) && auth::verify(&msg, &txn.protection) {
                        self.remember_realm(txn.server, state.clone());
                    } else if msg.error_code().is_some_and(|e| e.code == 401) {
                        self.realms.remove(&txn.server);
                    }
                }
                self.stats.responses += 1;
                self.events.push_back(ClientEvent::Response {
                    id: txn.handle,
                    local: txn.local,
                    server: txn.server,
                    class: ty.class,
                    response: datagram.payload.to_vec(),
                    mapped: msg.xor_mapped_address().or_else(|| msg.mapped_address()),
                    rtt: now - txn.started,
                });
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(deadline, wire)) = self.timers.first() {
            if deadline > now {
                break;
            }
            self.timers.pop_first();
            self.expire(now, wire);
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(deadline, _)| *deadline)
    }
}

#[cfg(test)]
mod tests;
