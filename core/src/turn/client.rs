//! The client side of TURN (RFC 8656): one allocation on one server, with its permissions and
//! channel bindings, kept alive by refreshes, over UDP or a byte stream ([`TurnTransport`]).
//!
//! Requests go through a [`StunClient`], which retransmits them and answers the long-term
//! credential challenge (401 with REALM and NONCE, then 438 Stale Nonce) by itself (RFC 8489
//! §9.2.5). The client refreshes the allocation at 80% of its lifetime, permissions every four
//! minutes (they last five, RFC 8656 §9) and channel bindings every eight minutes (they last
//! ten, RFC 8656 §12).

use core::fmt;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};

use sha2::{Digest, Sha256};

use super::channel_data::{ChannelData, MAX_CHANNEL, MIN_CHANNEL, is_channel_data};
use super::stream::{Frame, StreamDecoder};
use crate::stun::{
    Attribute, Class, ClientConfig, ClientEvent, Credentials, Message, MessageBuilder, MessageType,
    Method, StunClient, TransactionId,
};
use crate::{Datagram, Instant, Machine, Rng, Transmit};

mod events;
#[cfg(test)]
mod stream_tests;
mod transport;

pub use events::{Operation, TurnClientStats, TurnError, TurnEvent};
pub use transport::{STREAM_TRANSACTION_TIMEOUT, TurnTransport};

/// RFC 8656 §18.8: REQUESTED-TRANSPORT carries the IANA protocol number; 17 is UDP.
pub const TRANSPORT_UDP: u8 = 17;
/// RFC 8656 §9: a permission lasts 300 seconds; the client refreshes it a minute early.
const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// RFC 8656 §12: a channel binding lasts 600 seconds; refreshed at 80% of that.
const CHANNEL_REFRESH: Duration = Duration::from_secs(480);
/// The 16-bit length fields of DATA and ChannelData bound one message.
const LARGEST_DATA: usize = 65_535;

/// Configuration of a [`TurnClient`].
#[derive(Clone, Debug)]
pub struct TurnClientConfig {
    /// The TURN server.
    pub server: SocketAddr,
    /// The local socket to talk to it from.
    pub local: SocketAddr,
    /// Long-term credentials (RFC 8489 §9.2).
    pub username: String,
    /// The password.
    pub password: String,
    /// LIFETIME to request in seconds; `None` lets the server choose (600 s by default).
    pub lifetime: Option<u32>,
    /// Transaction parameters of the underlying [`StunClient`].
    pub stun: ClientConfig,
    /// Add FINGERPRINT to what the client sends and require it in responses.
    pub fingerprint: bool,
    /// Packets [`TurnClient::send_to`] may queue while their permission is being created.
    pub max_queued: usize,
    /// UDP datagrams or a framed byte stream; over a stream `stun`'s retransmission
    /// parameters are replaced by one [`STREAM_TRANSACTION_TIMEOUT`].
    pub transport: TurnTransport,
}

impl TurnClientConfig {
    /// A configuration with defaults for everything but the addresses and credentials.
    pub fn new(server: SocketAddr, local: SocketAddr, username: &str, password: &str) -> Self {
        Self {
            server,
            local,
            username: username.to_owned(),
            password: password.to_owned(),
            lifetime: None,
            stun: ClientConfig::default(),
            fingerprint: false,
            max_queued: 64,
            transport: TurnTransport::Udp,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Allocating,
    Allocated {
        relayed: SocketAddr,
        refresh_at: Instant,
    },
    Deallocating,
    Closed,
}

/// What an outstanding transaction was for.
#[derive(Clone, Debug)]
enum Pending {
    Allocate,
    Refresh,
    Deallocate,
    Permission(Vec<IpAddr>),
    ChannelBind { channel: u16, peer: SocketAddr },
}

#[derive(Clone, Copy, Debug)]
struct Permission {
    confirmed: bool,
    in_flight: bool,
    refresh_at: Instant,
}

#[derive(Clone, Copy, Debug)]
struct Channel {
    peer: SocketAddr,
    confirmed: bool,
    in_flight: bool,
    refresh_at: Instant,
}

/// The TURN client machine. See the [module documentation](self).
pub struct TurnClient {
    config: TurnClientConfig,
    stun: StunClient,
    /// Seed of the Send indications' transaction ids (hashed with a counter).
    id_seed: [u8; 32],
    id_counter: u64,
    state: State,
    pending: BTreeMap<TransactionId, Pending>,
    permissions: BTreeMap<IpAddr, Permission>,
    channels: BTreeMap<u16, Channel>,
    by_peer: BTreeMap<SocketAddr, u16>,
    /// Splits the server's byte stream into messages; `None` over UDP.
    decoder: Option<StreamDecoder>,
    queued: VecDeque<(SocketAddr, Vec<u8>)>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TurnEvent>,
    stats: TurnClientStats,
}

impl fmt::Debug for TurnClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnClient")
            .field("server", &self.config.server)
            .field("state", &self.state)
            .field("permissions", &self.permissions.len())
            .field("channels", &self.channels.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TurnClient {
    /// A client that does nothing until [`allocate`](Self::allocate).
    pub fn new(config: TurnClientConfig, mut rng: Rng) -> Self {
        let mut id_seed = [0; 32];
        rng.fill_bytes(&mut id_seed);
        let stun_config = transport::transaction_config(config.transport, &config.stun);
        let decoder = (config.transport == TurnTransport::Stream).then(StreamDecoder::default);
        let stun = StunClient::new(stun_config, rng)
            .with_credentials(Credentials::LongTerm {
                username: config.username.clone(),
                password: config.password.clone(),
            })
            .with_fingerprint(config.fingerprint);
        Self {
            config,
            stun,
            id_seed,
            id_counter: 0,
            state: State::Idle,
            pending: BTreeMap::new(),
            permissions: BTreeMap::new(),
            channels: BTreeMap::new(),
            by_peer: BTreeMap::new(),
            decoder,
            queued: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: TurnClientStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TurnClientConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> TurnClientStats {
        self.stats
    }

    /// The relayed address, once allocated.
    pub fn relayed_address(&self) -> Option<SocketAddr> {
        match self.state {
            State::Allocated { relayed, .. } => Some(relayed),
            _ => None,
        }
    }

    /// The channel bound (or being bound) to `peer`.
    pub fn channel_of(&self, peer: SocketAddr) -> Option<u16> {
        self.by_peer.get(&peer).copied()
    }

    /// Sends the Allocate request (RFC 8656 §7.1); the answer comes as
    /// [`TurnEvent::Allocated`] or [`TurnEvent::Failed`].
    pub fn allocate(&mut self, now: Instant) -> Result<(), TurnError> {
        if self.state != State::Idle {
            return Err(TurnError::AlreadyStarted);
        }
        let mut attrs = vec![Attribute::RequestedTransport(TRANSPORT_UDP)];
        if let Some(lifetime) = self.config.lifetime {
            attrs.push(Attribute::Lifetime(lifetime));
        }
        self.request(now, Method::ALLOCATE, &attrs, Pending::Allocate)?;
        self.state = State::Allocating;
        Ok(())
    }

    /// Asks the server to accept data from `peer` (RFC 8656 §10.1); kept fresh until
    /// deallocation.
    pub fn create_permission(&mut self, now: Instant, peer: IpAddr) -> Result<(), TurnError> {
        let relayed = self.relayed_address().ok_or(TurnError::NotAllocated)?;
        if relayed.is_ipv4() != peer.is_ipv4() {
            return Err(TurnError::FamilyMismatch);
        }
        if self.permissions.contains_key(&peer) {
            return Ok(());
        }
        self.send_permission(now, peer)?;
        Ok(())
    }

    /// Binds a channel to `peer` (RFC 8656 §12.1) and returns its number; data to `peer`
    /// travels as ChannelData once [`TurnEvent::ChannelBound`] arrives.
    pub fn bind_channel(&mut self, now: Instant, peer: SocketAddr) -> Result<u16, TurnError> {
        let relayed = self.relayed_address().ok_or(TurnError::NotAllocated)?;
        if relayed.is_ipv4() != peer.is_ipv4() {
            return Err(TurnError::FamilyMismatch);
        }
        if let Some(channel) = self.by_peer.get(&peer) {
            return Ok(*channel);
        }
        let channel = (MIN_CHANNEL..=MAX_CHANNEL)
            .find(|n| !self.channels.contains_key(n))
            .ok_or(TurnError::NoFreeChannel)?;
        self.send_channel_bind(now, channel, peer)?;
        self.channels.insert(
            channel,
            Channel {
                peer,
                confirmed: false,
                in_flight: true,
                refresh_at: Instant::MAX,
            },
        );
        self.by_peer.insert(peer, channel);
        // RFC 8656 §12.2: a channel binding also installs a permission; keep it fresh too.
        self.permissions.entry(peer.ip()).or_insert(Permission {
            confirmed: false,
            in_flight: false,
            refresh_at: now + PERMISSION_REFRESH,
        });
        Ok(channel)
    }

    /// Sends `data` to `peer` through the relay: as ChannelData when a channel is bound
    /// (RFC 8656 §12.5), else in a Send indication (§11.1). Without a permission for the peer
    /// one is created first and the data waits for it.
    pub fn send_to(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        data: &[u8],
    ) -> Result<(), TurnError> {
        let relayed = self.relayed_address().ok_or(TurnError::NotAllocated)?;
        if relayed.is_ipv4() != peer.is_ipv4() {
            return Err(TurnError::FamilyMismatch);
        }
        if data.len() > LARGEST_DATA {
            return Err(TurnError::TooLarge);
        }
        if let Some(channel) = self.by_peer.get(&peer) {
            if self.channels.get(channel).is_some_and(|c| c.confirmed) {
                // RFC 8656 §12.5: over a stream ChannelData MUST be padded to 4 bytes.
                let msg = ChannelData {
                    channel: *channel,
                    data,
                };
                let mut payload = Vec::with_capacity(msg.stream_len());
                msg.encode(self.decoder.is_some(), &mut payload);
                self.stats.channel_data_sent += 1;
                self.push(payload);
                return Ok(());
            }
        }
        match self.permissions.get(&peer.ip()) {
            Some(p) if p.confirmed => {
                self.send_indication(peer, data);
                Ok(())
            }
            _ => {
                if self.queued.len() >= self.config.max_queued {
                    return Err(TurnError::QueueFull);
                }
                if !self.permissions.contains_key(&peer.ip()) {
                    self.send_permission(now, peer.ip())?;
                }
                self.queued.push_back((peer, data.to_vec()));
                Ok(())
            }
        }
    }

    /// Releases the allocation with a Refresh of LIFETIME 0 (RFC 8656 §8.1);
    /// [`TurnEvent::Deallocated`] follows.
    pub fn deallocate(&mut self, now: Instant) -> Result<(), TurnError> {
        if !matches!(self.state, State::Allocated { .. }) {
            return Err(TurnError::NotAllocated);
        }
        self.request(
            now,
            Method::REFRESH,
            &[Attribute::Lifetime(0)],
            Pending::Deallocate,
        )?;
        self.state = State::Deallocating;
        Ok(())
    }

    fn request(
        &mut self,
        now: Instant,
        method: Method,
        attrs: &[Attribute<'_>],
        what: Pending,
    ) -> Result<(), TurnError> {
        let ty = MessageType::new(method, Class::Request);
        let id = self
            .stun
            .request(now, self.config.local, self.config.server, ty, attrs)
            .map_err(|_| TurnError::Busy)?;
        self.pending.insert(id, what);
        self.drain_stun(now);
        Ok(())
    }

    fn send_permission(&mut self, now: Instant, peer: IpAddr) -> Result<(), TurnError> {
        let attrs = [Attribute::XorPeerAddress(SocketAddr::new(peer, 0))];
        self.request(
            now,
            Method::CREATE_PERMISSION,
            &attrs,
            Pending::Permission(vec![peer]),
        )?;
        let entry = self.permissions.entry(peer).or_insert(Permission {
            confirmed: false,
            in_flight: true,
            refresh_at: Instant::MAX,
        });
        entry.in_flight = true;
        self.stats.refreshes += u64::from(entry.confirmed);
        Ok(())
    }

    fn send_channel_bind(
        &mut self,
        now: Instant,
        channel: u16,
        peer: SocketAddr,
    ) -> Result<(), TurnError> {
        let attrs = [
            Attribute::ChannelNumber(channel),
            Attribute::XorPeerAddress(peer),
        ];
        self.request(
            now,
            Method::CHANNEL_BIND,
            &attrs,
            Pending::ChannelBind { channel, peer },
        )
    }

    /// RFC 8656 §11.1: a Send indication carries XOR-PEER-ADDRESS and DATA, unauthenticated.
    fn send_indication(&mut self, peer: SocketAddr, data: &[u8]) {
        let ty = MessageType::new(Method::SEND, Class::Indication);
        let mut b = MessageBuilder::new(ty, self.indication_id());
        b.add(&Attribute::XorPeerAddress(peer));
        b.add(&Attribute::Data(data));
        if self.config.fingerprint {
            b.add_fingerprint();
        }
        self.stats.send_indications += 1;
        let payload = b.finish();
        self.push(payload);
    }

    /// RFC 8489 §5: transaction ids are random; derived here from a seed drawn from the
    /// injected generator, so the client needs only one generator.
    fn indication_id(&mut self) -> TransactionId {
        self.id_counter += 1;
        let mut h = Sha256::new();
        h.update(self.id_seed);
        h.update(self.id_counter.to_be_bytes());
        let digest = h.finalize();
        let mut id = [0; 12];
        id.copy_from_slice(&digest[..12]);
        TransactionId(id)
    }

    fn push(&mut self, payload: Vec<u8>) {
        self.transmits.push_back(Transmit {
            source: self.config.local,
            destination: self.config.server,
            payload,
        });
    }

    /// Moves what the STUN layer produced into this machine's queues.
    fn drain_stun(&mut self, now: Instant) {
        while let Some(t) = self.stun.poll_transmit() {
            self.transmits.push_back(t);
        }
        while let Some(event) = self.stun.poll_event() {
            self.on_stun_event(now, event);
        }
    }

    fn on_stun_event(&mut self, now: Instant, event: ClientEvent) {
        let Some(what) = self.pending.remove(&event.id()) else {
            return;
        };
        let (success, code, response) = match &event {
            ClientEvent::Response {
                class, response, ..
            } => {
                let msg = Message::parse(response).ok();
                let code = msg.as_ref().and_then(|m| m.error_code()).map(|e| e.code);
                (
                    *class == Class::SuccessResponse,
                    code,
                    Some(response.as_slice()),
                )
            }
            _ => (false, None, None),
        };
        let msg = response.and_then(|r| Message::parse(r).ok());
        match what {
            Pending::Allocate => {
                let relayed = msg.as_ref().and_then(|m| m.xor_relayed_address());
                match (success, relayed) {
                    (true, Some(relayed)) => {
                        let lifetime = msg.as_ref().and_then(|m| m.lifetime()).unwrap_or(600);
                        let mapped = msg.as_ref().and_then(|m| m.xor_mapped_address());
                        self.state = State::Allocated {
                            relayed,
                            refresh_at: refresh_time(now, lifetime),
                        };
                        self.events.push_back(TurnEvent::Allocated {
                            relayed,
                            mapped,
                            lifetime,
                        });
                    }
                    _ => self.fail(Operation::Allocate, code),
                }
            }
            Pending::Refresh => {
                if let State::Allocated { relayed, .. } = self.state {
                    if success {
                        let lifetime = msg.as_ref().and_then(|m| m.lifetime()).unwrap_or(600);
                        self.state = State::Allocated {
                            relayed,
                            refresh_at: refresh_time(now, lifetime),
                        };
                    } else {
                        self.fail(Operation::Refresh, code);
                    }
                }
            }
            Pending::Deallocate => {
                // RFC 8656 §8.3: whatever the answer, the client considers the allocation gone.
                self.close();
                self.events.push_back(TurnEvent::Deallocated);
            }
            Pending::Permission(peers) => {
                for peer in peers {
                    let Some(p) = self.permissions.get_mut(&peer) else {
                        continue;
                    };
                    p.in_flight = false;
                    if success {
                        let first = !p.confirmed;
                        p.confirmed = true;
                        p.refresh_at = now + PERMISSION_REFRESH;
                        if first {
                            self.events.push_back(TurnEvent::PermissionCreated { peer });
                        }
                    } else {
                        self.permissions.remove(&peer);
                        self.events.push_back(TurnEvent::Failed {
                            operation: Operation::CreatePermission,
                            code,
                        });
                    }
                }
                self.flush_queue(now);
            }
            Pending::ChannelBind { channel, peer } => {
                let Some(c) = self.channels.get_mut(&channel) else {
                    return;
                };
                c.in_flight = false;
                if success {
                    let first = !c.confirmed;
                    c.confirmed = true;
                    c.refresh_at = now + CHANNEL_REFRESH;
                    if let Some(p) = self.permissions.get_mut(&peer.ip()) {
                        let first_permission = !p.confirmed;
                        p.confirmed = true;
                        if first_permission {
                            self.events
                                .push_back(TurnEvent::PermissionCreated { peer: peer.ip() });
                        }
                    }
                    if first {
                        self.events
                            .push_back(TurnEvent::ChannelBound { peer, channel });
                    }
                    self.flush_queue(now);
                } else {
                    self.channels.remove(&channel);
                    self.by_peer.remove(&peer);
                    // The permission the binding would have installed never came to be.
                    let orphan = self
                        .permissions
                        .get(&peer.ip())
                        .is_some_and(|p| !p.confirmed && !p.in_flight);
                    if orphan {
                        self.permissions.remove(&peer.ip());
                    }
                    self.events.push_back(TurnEvent::Failed {
                        operation: Operation::ChannelBind,
                        code,
                    });
                    self.flush_queue(now);
                }
            }
        }
    }

    /// Sends queued data whose permission is now in place; drops data whose permission failed.
    fn flush_queue(&mut self, now: Instant) {
        let queued = core::mem::take(&mut self.queued);
        for (peer, data) in queued {
            match self.permissions.get(&peer.ip()) {
                Some(p) if p.confirmed => {
                    let _ = self.send_to(now, peer, &data);
                }
                Some(_) => self.queued.push_back((peer, data)),
                None => self.stats.dropped += 1,
            }
        }
    }

    fn fail(&mut self, operation: Operation, code: Option<u16>) {
        self.close();
        self.events.push_back(TurnEvent::Failed { operation, code });
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.permissions.clear();
        self.channels.clear();
        self.by_peer.clear();
        self.stats.dropped += self.queued.len() as u64;
        self.queued.clear();
    }

    fn on_data_indication(&mut self, msg: &Message<'_>) {
        let (Some(peer), Some(data)) = (msg.xor_peer_address(), msg.data()) else {
            self.stats.dropped += 1;
            tracing::debug!("Data indication without XOR-PEER-ADDRESS or DATA");
            return;
        };
        // RFC 8656 §11.4: the client SHOULD drop data from peers it has no permission for.
        if !self.permissions.contains_key(&peer.ip()) {
            self.stats.dropped += 1;
            tracing::debug!(%peer, "Data indication from a peer without permission");
            return;
        }
        self.stats.data_indications += 1;
        self.events.push_back(TurnEvent::Data {
            peer,
            data: data.to_vec(),
        });
    }

    fn on_channel_data(&mut self, channel: u16, data: &[u8]) {
        let Some(bound) = self.channels.get(&channel) else {
            self.stats.dropped += 1;
            tracing::debug!(channel, "ChannelData on an unbound channel");
            return;
        };
        self.stats.channel_data_received += 1;
        self.events.push_back(TurnEvent::Data {
            peer: bound.peer,
            data: data.to_vec(),
        });
    }

    /// One whole message from the server (a datagram, or a frame cut from the stream).
    fn on_message(&mut self, now: Instant, datagram: Datagram<'_>) {
        if matches!(self.state, State::Allocated { .. }) {
            if is_channel_data(datagram.payload) {
                match ChannelData::parse(datagram.payload) {
                    Ok(msg) => self.on_channel_data(msg.channel, msg.data),
                    Err(_) => {
                        self.stats.dropped += 1;
                        tracing::debug!("malformed ChannelData");
                    }
                }
                return;
            }
            if let Ok(msg) = Message::parse(datagram.payload) {
                if msg.message_type() == MessageType::new(Method::DATA, Class::Indication) {
                    self.on_data_indication(&msg);
                    return;
                }
            }
        }
        self.stun.handle_datagram(now, datagram);
        self.drain_stun(now);
    }

    /// Bytes read from the stream: frames them and handles each whole message.
    fn on_stream_bytes(&mut self, now: Instant, datagram: Datagram<'_>) {
        let Some(decoder) = self.decoder.as_mut() else {
            return;
        };
        if decoder.error().is_some() {
            self.stats.dropped += 1;
            return;
        }
        let mut next = decoder
            .push(datagram.payload)
            .and_then(|()| decoder.next_frame());
        loop {
            let frame = match next {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(error) => {
                    self.stats.dropped += 1;
                    tracing::debug!(%error, "TURN stream framing lost");
                    self.close();
                    self.abandon_transactions();
                    self.events.push_back(TurnEvent::FramingLost { error });
                    return;
                }
            };
            match frame {
                Frame::Stun(bytes) => self.on_message(
                    now,
                    Datagram {
                        payload: &bytes,
                        ..datagram
                    },
                ),
                Frame::ChannelData { channel, data } => {
                    if matches!(self.state, State::Allocated { .. }) {
                        self.on_channel_data(channel, &data);
                    } else {
                        self.stats.dropped += 1;
                    }
                }
            }
            next = match self.decoder.as_mut() {
                Some(decoder) => decoder.next_frame(),
                None => return,
            };
        }
    }

    /// RFC 8656 §12.6: after lost framing nothing on this connection can be answered; the
    /// transactions are cancelled so no late timeout reports them.
    fn abandon_transactions(&mut self) {
        let pending = core::mem::take(&mut self.pending);
        for id in pending.keys() {
            self.stun.cancel(*id);
        }
        while self.stun.poll_event().is_some() {}
        while self.stun.poll_transmit().is_some() {}
        // The connection is closing: nothing more is written to it.
        self.transmits.clear();
    }
}

/// RFC 8656 §8.1 leaves the timing to the client: refresh at 80% of the lifetime.
fn refresh_time(now: Instant, lifetime: u32) -> Instant {
    now + Duration::from_millis(u64::from(lifetime) * 800)
}

impl Machine for TurnClient {
    type Event = TurnEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        if datagram.source != self.config.server || datagram.destination != self.config.local {
            self.stats.dropped += 1;
            tracing::trace!(from = %datagram.source, "datagram not from the TURN server");
            return;
        }
        if self.decoder.is_some() {
            self.on_stream_bytes(now, datagram);
        } else {
            self.on_message(now, datagram);
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.stun.handle_timeout(now);
        self.drain_stun(now);
        if let State::Allocated {
            relayed,
            refresh_at,
        } = self.state
        {
            if refresh_at <= now {
                self.state = State::Allocated {
                    relayed,
                    refresh_at: Instant::MAX,
                };
                let attrs: Vec<Attribute<'_>> = self
                    .config
                    .lifetime
                    .map(Attribute::Lifetime)
                    .into_iter()
                    .collect();
                self.stats.refreshes += 1;
                if self
                    .request(now, Method::REFRESH, &attrs, Pending::Refresh)
                    .is_err()
                {
                    self.fail(Operation::Refresh, None);
                    return;
                }
            }
            let due: Vec<IpAddr> = self
                .permissions
                .iter()
                .filter(|(_, p)| p.confirmed && !p.in_flight && p.refresh_at <= now)
                .map(|(ip, _)| *ip)
                .collect();
            for peer in due {
                let _ = self.send_permission(now, peer);
            }
            let due: Vec<(u16, SocketAddr)> = self
                .channels
                .iter()
                .filter(|(_, c)| c.confirmed && !c.in_flight && c.refresh_at <= now)
                .map(|(n, c)| (*n, c.peer))
                .collect();
            for (channel, peer) in due {
                if self.send_channel_bind(now, channel, peer).is_ok() {
                    self.stats.refreshes += 1;
                    if let Some(c) = self.channels.get_mut(&channel) {
                        c.in_flight = true;
                    }
                }
            }
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<TurnEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.stun.poll_timeout();
        let mut consider = |at: Instant| {
            if at != Instant::MAX {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        if let State::Allocated { refresh_at, .. } = self.state {
            consider(refresh_at);
            for p in self
                .permissions
                .values()
                .filter(|p| p.confirmed && !p.in_flight)
            {
                consider(p.refresh_at);
            }
            for c in self
                .channels
                .values()
                .filter(|c| c.confirmed && !c.in_flight)
            {
                consider(c.refresh_at);
            }
        }
        next
    }
}
