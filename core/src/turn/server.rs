//! A TURN server (RFC 8656) over UDP: long-term authentication with expiring nonces,
//! allocations with lifetimes, permissions and channel bindings, quotas, and relaying between
//! clients and their permitted peers.
//!
//! The machine owns the listening address and every relay address: a relayed address is just
//! another local address, chosen in [`Transmit::source`] when data goes to a peer and seen in
//! [`Datagram::destination`] when a peer answers. A driver binds
//! [`TurnServer::local_addresses`] (the listening address and the whole relay port range)
//! before it starts.

use core::fmt;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use self::allocation::{Allocation, PortPool};
use self::auth::Authenticator;
#[cfg(doc)]
use super::channel_data::RFC5766_MAX_CHANNEL;
use super::channel_data::{ChannelData, MAX_CHANNEL, MIN_CHANNEL};
use super::client::TRANSPORT_UDP;
use crate::stun::{
    Attribute, Class, ErrorCode, FAMILY_IPV4, FAMILY_IPV6, Message, MessageBuilder, MessageType,
    Method,
};
use crate::{Datagram, Instant, Machine, Rng, Transmit};

mod allocation;
mod auth;
mod requests;

/// Configuration of a [`TurnServer`].
#[derive(Clone, Debug)]
pub struct TurnServerConfig {
    /// Where clients reach the server.
    pub listen: SocketAddr,
    /// The IP relayed addresses are on.
    pub relay_ip: IpAddr,
    /// Lowest relay port (inclusive).
    pub relay_port_min: u16,
    /// Highest relay port (inclusive).
    pub relay_port_max: u16,
    /// REALM of the long-term credentials.
    pub realm: String,
    /// (username, password) pairs.
    pub users: Vec<(String, String)>,
    /// RFC 8656 §7.2: lifetime when the client asks for less or nothing (600 s).
    pub default_lifetime: Duration,
    /// Longest lifetime granted (RFC 8656 §7.2 suggests 3600 s).
    pub max_lifetime: Duration,
    /// How long a nonce stays valid before requests with it get 438 Stale Nonce.
    pub nonce_lifetime: Duration,
    /// Allocations in total.
    pub max_allocations: usize,
    /// Allocations per username (RFC 8656 §7.2: 486 Allocation Quota Reached).
    pub max_allocations_per_user: usize,
    /// Permissions per allocation.
    pub max_permissions: usize,
    /// Channel bindings per allocation.
    pub max_channels: usize,
    /// Highest channel number ChannelBind accepts: [`MAX_CHANNEL`] (0x4FFF) as RFC 8656 §12.2
    /// requires, or [`RFC5766_MAX_CHANNEL`] for clients that still use RFC 5766's range.
    pub max_channel: u16,
    /// SOFTWARE attribute in responses.
    pub software: Option<String>,
    /// Add FINGERPRINT to everything sent to clients.
    pub fingerprint: bool,
}

impl TurnServerConfig {
    /// Defaults for everything but addresses, realm and users.
    pub fn new(listen: SocketAddr, relay_ip: IpAddr, ports: (u16, u16), realm: &str) -> Self {
        Self {
            listen,
            relay_ip,
            relay_port_min: ports.0,
            relay_port_max: ports.1,
            realm: realm.to_owned(),
            users: Vec::new(),
            default_lifetime: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            nonce_lifetime: Duration::from_secs(600),
            max_allocations: 1000,
            max_allocations_per_user: 10,
            max_permissions: 64,
            max_channels: 64,
            max_channel: MAX_CHANNEL,
            software: None,
            fingerprint: true,
        }
    }

    /// Adds a user.
    pub fn with_user(mut self, username: &str, password: &str) -> Self {
        self.users.push((username.to_owned(), password.to_owned()));
        self
    }
}

/// Counters of a [`TurnServer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TurnServerStats {
    /// Datagrams handed to the server.
    pub received: u64,
    /// Not STUN, not ChannelData, or failing FINGERPRINT.
    pub malformed: u64,
    /// Requests received.
    pub requests: u64,
    /// Error responses sent.
    pub errors: u64,
    /// Allocations created.
    pub allocations: u64,
    /// Allocations that ended by expiry.
    pub expired: u64,
    /// Datagrams relayed from a client to a peer.
    pub relayed_to_peer: u64,
    /// Datagrams relayed from a peer to a client.
    pub relayed_to_client: u64,
    /// Data dropped for lack of a permission, channel or allocation.
    pub dropped: u64,
    /// Well-formed input that needs no answer.
    pub ignored: u64,
    /// Events dropped because the owner did not drain them.
    pub events_dropped: u64,
}

/// What a [`TurnServer`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnServerEvent {
    /// An allocation was created.
    Allocated {
        /// The client.
        client: SocketAddr,
        /// Its relayed address.
        relayed: SocketAddr,
        /// The user it authenticated as.
        username: String,
    },
    /// An allocation ended, by a Refresh with lifetime 0 or by expiry.
    Released {
        /// The client.
        client: SocketAddr,
        /// The relayed address, now free.
        relayed: SocketAddr,
        /// Whether it expired (rather than being released by the client).
        expired: bool,
    },
    /// A request got an error response.
    Rejected {
        /// The client.
        client: SocketAddr,
        /// The error code.
        code: u16,
    },
}

const MAX_EVENTS: usize = 1024;
/// How often expired permissions and channels are forgotten (they stop working at once).
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// RFC 8656 §9: permissions last 300 seconds.
const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// RFC 8656 §7.2: a reserved port is held for about 30 seconds.
const RESERVATION_LIFETIME: Duration = Duration::from_secs(30);
/// RFC 8656 §12: channel bindings last 600 seconds.
const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);

/// The TURN server machine. See the [module documentation](self).
pub struct TurnServer {
    config: TurnServerConfig,
    rng: Rng,
    auth: Authenticator,
    pool: PortPool,
    /// By client address (the 5-tuple's only varying part: one listening address, UDP).
    allocations: BTreeMap<SocketAddr, Allocation>,
    by_relay: BTreeMap<SocketAddr, SocketAddr>,
    per_user: BTreeMap<String, usize>,
    expiries: BTreeSet<(Instant, SocketAddr)>,
    /// RFC 8656 §7.2: RESERVATION-TOKEN -> (reserved relay address, end of the reservation).
    reservations: BTreeMap<[u8; 8], (SocketAddr, Instant)>,
    next_sweep: Instant,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TurnServerEvent>,
    stats: TurnServerStats,
}

impl fmt::Debug for TurnServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnServer")
            .field("listen", &self.config.listen)
            .field("allocations", &self.allocations.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TurnServer {
    /// A server with no allocations. `rng` keys the nonces and picks relay ports.
    pub fn new(config: TurnServerConfig, mut rng: Rng) -> Self {
        let mut secret = [0; 20];
        rng.fill_bytes(&mut secret);
        let auth = Authenticator::new(&config.realm, &config.users, secret, config.nonce_lifetime);
        let pool = PortPool::new(
            config.relay_ip,
            config.relay_port_min,
            config.relay_port_max,
        );
        Self {
            config,
            rng,
            auth,
            pool,
            allocations: BTreeMap::new(),
            by_relay: BTreeMap::new(),
            per_user: BTreeMap::new(),
            expiries: BTreeSet::new(),
            reservations: BTreeMap::new(),
            next_sweep: Instant::MAX,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: TurnServerStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TurnServerConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> TurnServerStats {
        self.stats
    }

    /// Allocations alive now.
    pub fn allocation_count(&self) -> usize {
        self.allocations.len()
    }

    /// Every address the driver must bind: the listening address, then each relay port.
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        let mut out = vec![self.config.listen];
        out.extend(self.pool.addresses());
        out
    }

    fn event(&mut self, event: TurnServerEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.stats.events_dropped += 1;
        } else {
            self.events.push_back(event);
        }
    }

    fn send_to_client(&mut self, client: SocketAddr, payload: Vec<u8>) {
        self.transmits.push_back(Transmit {
            source: self.config.listen,
            destination: client,
            payload,
        });
    }

    /// Finishes and sends a response; `key` adds MESSAGE-INTEGRITY (RFC 8489 §9.2.4: every
    /// response to an authenticated request carries it).
    fn respond(
        &mut self,
        client: SocketAddr,
        mut b: MessageBuilder,
        key: Option<&[u8]>,
    ) -> Vec<u8> {
        if let Some(software) = &self.config.software {
            b.add(&Attribute::Software(software));
        }
        if let Some(key) = key {
            b.add_message_integrity(key);
        }
        if self.config.fingerprint {
            b.add_fingerprint();
        }
        let bytes = b.finish();
        self.send_to_client(client, bytes.clone());
        bytes
    }

    fn reject(
        &mut self,
        now: Instant,
        client: SocketAddr,
        msg: &Message<'_>,
        code: ErrorCode<'_>,
        key: Option<&[u8]>,
    ) {
        self.stats.errors += 1;
        let number = code.code;
        let mut b = MessageBuilder::error_response(msg, code);
        // RFC 8489 §9.2.4: 401 and 438 carry REALM and a fresh NONCE.
        if matches!(number, 401 | 438) {
            let nonce = self.auth.nonce(now);
            b.add(&Attribute::Realm(self.auth.realm()));
            b.add(&Attribute::Nonce(&nonce));
        }
        tracing::debug!(%client, code = number, method = %msg.message_type().method, "rejecting TURN request");
        self.respond(client, b, key);
        self.event(TurnServerEvent::Rejected {
            client,
            code: number,
        });
    }
}

impl TurnServer {
    /// RFC 8656 §11.2: a Send indication from a client with an allocation goes to the peer if
    /// a permission exists; anything else is silently dropped.
    fn on_send(&mut self, now: Instant, client: SocketAddr, msg: &Message<'_>) {
        let (Some(peer), Some(data)) = (msg.xor_peer_address(), msg.data()) else {
            self.stats.dropped += 1;
            tracing::debug!(%client, "Send indication without XOR-PEER-ADDRESS or DATA");
            return;
        };
        self.relay_to_peer(now, client, peer, data);
    }

    /// RFC 8656 §12.6: ChannelData on a bound channel goes to the channel's peer.
    fn on_channel_data(&mut self, now: Instant, client: SocketAddr, payload: &[u8]) {
        let Ok(msg) = ChannelData::parse_up_to(payload, self.config.max_channel) else {
            self.stats.malformed += 1;
            tracing::debug!(%client, "malformed ChannelData");
            return;
        };
        let peer = self
            .allocations
            .get(&client)
            .and_then(|a| a.peer_of(msg.channel, now));
        match peer {
            Some(peer) => self.relay_to_peer(now, client, peer, msg.data),
            None => {
                self.stats.dropped += 1;
                tracing::debug!(%client, channel = msg.channel, "ChannelData on an unbound channel");
            }
        }
    }

    fn relay_to_peer(&mut self, now: Instant, client: SocketAddr, peer: SocketAddr, data: &[u8]) {
        let relayed = match self.allocations.get(&client) {
            Some(a) if a.expires > now && a.permits(peer.ip(), now) => a.relayed,
            _ => {
                self.stats.dropped += 1;
                tracing::debug!(%client, %peer, "no allocation or permission: dropping data");
                return;
            }
        };
        if relayed.is_ipv4() != peer.is_ipv4() {
            self.stats.dropped += 1;
            return;
        }
        self.stats.relayed_to_peer += 1;
        self.transmits.push_back(Transmit {
            source: relayed,
            destination: peer,
            payload: data.to_vec(),
        });
    }

    /// RFC 8656 §11.3, §12.7: data from a peer at a relayed address reaches the client as
    /// ChannelData if a channel is bound to the peer, else in a Data indication, and only if
    /// the peer has a permission.
    fn on_peer_data(&mut self, now: Instant, client: SocketAddr, peer: SocketAddr, data: &[u8]) {
        let Some(a) = self.allocations.get(&client).filter(|a| a.expires > now) else {
            self.stats.dropped += 1;
            return;
        };
        if !a.permits(peer.ip(), now) {
            self.stats.dropped += 1;
            tracing::trace!(%peer, relayed = %a.relayed, "data from a peer without permission");
            return;
        }
        let payload = match a.channel_for(peer, now) {
            Some(channel) => ChannelData { channel, data }.to_vec(),
            None => {
                let ty = MessageType::new(Method::DATA, Class::Indication);
                let id = crate::stun::TransactionId::random(&mut *self.rng);
                let mut b = MessageBuilder::new(ty, id);
                b.add(&Attribute::XorPeerAddress(peer));
                b.add(&Attribute::Data(data));
                if self.config.fingerprint {
                    b.add_fingerprint();
                }
                b.finish()
            }
        };
        self.stats.relayed_to_client += 1;
        self.send_to_client(client, payload);
    }

    /// Removes an allocation and frees its port.
    fn release(&mut self, client: SocketAddr, expired: bool) {
        let Some(a) = self.allocations.remove(&client) else {
            return;
        };
        self.expiries.remove(&(a.expires, client));
        self.by_relay.remove(&a.relayed);
        self.pool.release(a.relayed);
        if let Some(count) = self.per_user.get_mut(&a.username) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_user.remove(&a.username);
            }
        }
        if expired {
            self.stats.expired += 1;
        }
        if self.allocations.is_empty() && self.reservations.is_empty() {
            self.next_sweep = Instant::MAX;
        }
        self.event(TurnServerEvent::Released {
            client,
            relayed: a.relayed,
            expired,
        });
    }

    fn on_client_datagram(&mut self, now: Instant, client: SocketAddr, payload: &[u8]) {
        // RFC 8656 §12: ChannelData starts with bits 01, STUN with 00.
        if payload.first().is_some_and(|b| b & 0xC0 == 0x40) {
            self.on_channel_data(now, client, payload);
            return;
        }
        let msg = match Message::parse(payload) {
            Ok(msg) => msg,
            Err(error) => {
                self.stats.malformed += 1;
                tracing::debug!(%client, %error, "dropping malformed datagram");
                return;
            }
        };
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            self.stats.malformed += 1;
            tracing::debug!(%client, "dropping message with bad FINGERPRINT");
            return;
        }
        let ty = msg.message_type();
        match ty.class {
            Class::Request => {
                self.stats.requests += 1;
                self.on_request(now, client, &msg);
            }
            Class::Indication if ty.method == Method::SEND => self.on_send(now, client, &msg),
            _ => {
                self.stats.ignored += 1;
                tracing::trace!(%client, %ty, "ignoring STUN message");
            }
        }
    }
}

impl Machine for TurnServer {
    type Event = TurnServerEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        self.stats.received += 1;
        if datagram.destination == self.config.listen {
            self.on_client_datagram(now, datagram.source, datagram.payload);
        } else if let Some(client) = self.by_relay.get(&datagram.destination).copied() {
            self.on_peer_data(now, client, datagram.source, datagram.payload);
        } else {
            self.stats.ignored += 1;
            tracing::trace!(to = %datagram.destination, "datagram to an unused address");
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, client)) = self.expiries.first() {
            if at > now {
                break;
            }
            tracing::debug!(%client, "allocation expired");
            self.release(client, true);
        }
        if self.next_sweep <= now {
            for a in self.allocations.values_mut() {
                a.sweep(now);
            }
            let pool = &mut self.pool;
            self.reservations.retain(|_, (address, end)| {
                let keep = *end > now;
                if !keep {
                    pool.release(*address);
                }
                keep
            });
            self.next_sweep = if self.allocations.is_empty() && self.reservations.is_empty() {
                Instant::MAX
            } else {
                now + SWEEP_EVERY
            };
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<TurnServerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let first = self.expiries.first().map(|(at, _)| *at);
        let sweep = (self.next_sweep != Instant::MAX).then_some(self.next_sweep);
        match (first, sweep) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests;
