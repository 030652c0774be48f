//! The requests a [`TurnServer`] answers: Binding, Allocate (RFC 8656 §7.2), Refresh (§8.2),
//! CreatePermission (§10.2) and ChannelBind (§12.2), each after long-term authentication.

use core::net::SocketAddr;
use core::time::Duration;

use super::auth::Verdict;
use super::{
    Allocation, CHANNEL_LIFETIME, FAMILY_IPV4, FAMILY_IPV6, MIN_CHANNEL, PERMISSION_LIFETIME,
    RESERVATION_LIFETIME, TRANSPORT_UDP, TurnServer, TurnServerEvent,
};
use crate::Instant;
use crate::stun::{AddressErrorCode, Attribute, ErrorCode, Message, MessageBuilder, Method};

impl TurnServer {
    pub(super) fn on_request(&mut self, now: Instant, client: SocketAddr, msg: &Message<'_>) {
        let method = msg.message_type().method;
        if method == Method::BINDING {
            // a TURN server is a STUN server (RFC 8656 §2) and answers Binding requests.
            let mut b = MessageBuilder::success_response(msg);
            b.add(&Attribute::XorMappedAddress(client));
            self.respond(client, b, None);
            return;
        }
        if ![
            Method::ALLOCATE,
            Method::REFRESH,
            Method::CREATE_PERMISSION,
            Method::CHANNEL_BIND,
        ]
        .contains(&method)
        {
            self.reject(now, client, msg, ErrorCode::BAD_REQUEST, None);
            return;
        }
        // RFC 8489 §9.2.4: authenticate before anything else.
        let (username, key) = match self.auth.check(msg, now) {
            Verdict::Ok { username, key } => (username, key),
            Verdict::Unauthenticated => {
                return self.reject(now, client, msg, ErrorCode::UNAUTHENTICATED, None);
            }
            Verdict::BadRequest => {
                return self.reject(now, client, msg, ErrorCode::BAD_REQUEST, None);
            }
            Verdict::StaleNonce => {
                return self.reject(now, client, msg, ErrorCode::STALE_NONCE, None);
            }
        };
        // RFC 8489 §6.3.1.1: 420 for comprehension-required attributes we do not know.
        let unknown = msg.unknown_comprehension_required();
        if !unknown.is_empty() {
            self.stats.errors += 1;
            let b = MessageBuilder::unknown_attributes_response(msg, &unknown);
            self.respond(client, b, Some(&key));
            return;
        }
        // RFC 8656 §6: requests on an existing allocation must use the same credentials (441).
        if let Some(a) = self.allocations.get(&client) {
            if a.username != username && method != Method::ALLOCATE {
                return self.reject(now, client, msg, ErrorCode::WRONG_CREDENTIALS, Some(&key));
            }
        }
        match method {
            Method::ALLOCATE => self.allocate(now, client, msg, username, key),
            Method::REFRESH => self.refresh(now, client, msg, &key),
            Method::CREATE_PERMISSION => self.create_permission(now, client, msg, &key),
            _ => self.channel_bind(now, client, msg, &key),
        }
    }

    /// RFC 8656 §7.2: lifetime = the requested one, raised to the default, capped at the max.
    fn granted_lifetime(&self, msg: &Message<'_>) -> Duration {
        let requested = msg.lifetime().map(|s| Duration::from_secs(u64::from(s)));
        requested
            .unwrap_or(self.config.default_lifetime)
            .max(self.config.default_lifetime)
            .min(self.config.max_lifetime)
    }

    fn allocate(
        &mut self,
        now: Instant,
        client: SocketAddr,
        msg: &Message<'_>,
        username: String,
        key: Vec<u8>,
    ) {
        let k = Some(key.as_slice());
        // RFC 8656 §7.2 step 2: the 5-tuple is in use. A retransmission of the request that
        // created it gets the same answer; anything else is 437.
        if let Some(a) = self.allocations.get(&client) {
            if a.allocate_id == msg.transaction_id() && a.expires > now {
                let bytes = a.allocate_response.clone();
                self.send_to_client(client, bytes);
            } else {
                self.reject(now, client, msg, ErrorCode::ALLOCATION_MISMATCH, k);
            }
            return;
        }
        // Step 3: REQUESTED-TRANSPORT must be present (400) and be UDP (442).
        match msg.requested_transport() {
            None => return self.reject(now, client, msg, ErrorCode::BAD_REQUEST, k),
            Some(TRANSPORT_UDP) => {}
            Some(_) => {
                return self.reject(
                    now,
                    client,
                    msg,
                    ErrorCode::UNSUPPORTED_TRANSPORT_PROTOCOL,
                    k,
                );
            }
        }
        // Step 4 (DONT-FRAGMENT) is accepted and ignored, as §13 tells a UDP-to-UDP relay.
        // Steps 5-6, 8-9: combinations that make no sense are bad requests.
        let token = msg.reservation_token().copied();
        let even = msg.even_port();
        let requested = msg.requested_address_family();
        let additional = msg.additional_address_family();
        let bad = (token.is_some()
            && (even.is_some() || requested.is_some() || additional.is_some()))
            || (requested.is_some() && additional.is_some())
            || (even == Some(true) && additional.is_some())
            || additional == Some(FAMILY_IPV4);
        if bad {
            return self.reject(now, client, msg, ErrorCode::BAD_REQUEST, k);
        }
        // Step 7: only the relay IP's family is offered; without REQUESTED-ADDRESS-FAMILY the
        // client asks for IPv4 (440 otherwise).
        let ours = if self.config.relay_ip.is_ipv4() {
            FAMILY_IPV4
        } else {
            FAMILY_IPV6
        };
        if requested.unwrap_or(FAMILY_IPV4) != ours && token.is_none() {
            return self.reject(now, client, msg, ErrorCode::ADDRESS_FAMILY_NOT_SUPPORTED, k);
        }
        // Step 10: quotas.
        let used = self.per_user.get(&username).copied().unwrap_or(0);
        if used >= self.config.max_allocations_per_user {
            return self.reject(now, client, msg, ErrorCode::ALLOCATION_QUOTA_REACHED, k);
        }
        if self.allocations.len() >= self.config.max_allocations {
            return self.reject(now, client, msg, ErrorCode::INSUFFICIENT_CAPACITY, k);
        }
        let start = self.rng.next_u32();
        let mut reserved = None;
        let relayed = match (token, even) {
            // Step 5: a token names a port reserved by an earlier EVEN-PORT allocation; an
            // unknown or expired one gets 508.
            (Some(token), _) => match self.reservations.remove(&token) {
                Some((address, end)) if end > now => Some(address),
                Some((address, _)) => {
                    self.pool.release(address);
                    None
                }
                None => None,
            },
            // Step 4: R set: an even port, and the next one held for RESERVATION_LIFETIME.
            (None, Some(true)) => self.pool.take_pair(start).map(|(port, next)| {
                let mut token = [0; 8];
                self.rng.fill_bytes(&mut token);
                self.reservations
                    .insert(token, (next, now + RESERVATION_LIFETIME));
                reserved = Some(token);
                port
            }),
            (None, Some(false)) => self.pool.take(start, true),
            (None, None) => self.pool.take(start, false),
        };
        let Some(relayed) = relayed else {
            return self.reject(now, client, msg, ErrorCode::INSUFFICIENT_CAPACITY, k);
        };
        let lifetime = self.granted_lifetime(msg);
        let mut b = MessageBuilder::success_response(msg);
        b.add(&Attribute::XorRelayedAddress(relayed));
        if let Some(token) = &reserved {
            b.add(&Attribute::ReservationToken(token));
        }
        // Step 9: a dual allocation is only half met (one relay IP): say why for the other.
        if let Some(family) = additional {
            b.add(&Attribute::AddressErrorCode(AddressErrorCode {
                family,
                error: ErrorCode::ADDRESS_FAMILY_NOT_SUPPORTED,
            }));
        }
        b.add(&Attribute::Lifetime(lifetime_secs(lifetime)));
        b.add(&Attribute::XorMappedAddress(client));
        let response = self.respond(client, b, k);
        let expires = now + lifetime;
        self.allocations.insert(
            client,
            Allocation {
                username: username.clone(),
                relayed,
                expires,
                allocate_id: msg.transaction_id(),
                allocate_response: response,
                permissions: Default::default(),
                channels: Default::default(),
                peer_channels: Default::default(),
            },
        );
        self.by_relay.insert(relayed, client);
        *self.per_user.entry(username.clone()).or_insert(0) += 1;
        self.expiries.insert((expires, client));
        if self.next_sweep == Instant::MAX {
            self.next_sweep = now + super::SWEEP_EVERY;
        }
        self.stats.allocations += 1;
        tracing::debug!(%client, %relayed, "allocation created");
        self.event(TurnServerEvent::Allocated {
            client,
            relayed,
            username,
        });
    }

    /// RFC 8656 §8.2: LIFETIME 0 deletes the allocation, anything else extends it.
    fn refresh(&mut self, now: Instant, client: SocketAddr, msg: &Message<'_>, key: &[u8]) {
        let alive = self
            .allocations
            .get(&client)
            .is_some_and(|a| a.expires > now);
        if !alive {
            return self.reject(now, client, msg, ErrorCode::ALLOCATION_MISMATCH, Some(key));
        }
        let lifetime = if msg.lifetime() == Some(0) {
            Duration::ZERO
        } else {
            self.granted_lifetime(msg)
        };
        let mut b = MessageBuilder::success_response(msg);
        b.add(&Attribute::Lifetime(lifetime_secs(lifetime)));
        self.respond(client, b, Some(key));
        if lifetime.is_zero() {
            self.release(client, false);
            return;
        }
        if let Some(a) = self.allocations.get_mut(&client) {
            self.expiries.remove(&(a.expires, client));
            a.expires = now + lifetime;
            self.expiries.insert((a.expires, client));
        }
    }

    /// RFC 8656 §10.2: install or refresh a permission for every XOR-PEER-ADDRESS.
    fn create_permission(
        &mut self,
        now: Instant,
        client: SocketAddr,
        msg: &Message<'_>,
        key: &[u8],
    ) {
        let k = Some(key);
        let Some(a) = self.allocations.get(&client).filter(|a| a.expires > now) else {
            return self.reject(now, client, msg, ErrorCode::ALLOCATION_MISMATCH, k);
        };
        let peers: Vec<SocketAddr> = msg
            .attributes()
            .filter_map(|attr| match attr {
                Ok(Attribute::XorPeerAddress(peer)) => Some(peer),
                _ => None,
            })
            .collect();
        if peers.is_empty() {
            return self.reject(now, client, msg, ErrorCode::BAD_REQUEST, k);
        }
        if peers.iter().any(|p| p.is_ipv4() != a.relayed.is_ipv4()) {
            return self.reject(now, client, msg, ErrorCode::PEER_ADDRESS_FAMILY_MISMATCH, k);
        }
        let new = peers
            .iter()
            .filter(|p| !a.permissions.contains_key(&p.ip()))
            .count();
        if a.permissions.len() + new > self.config.max_permissions {
            return self.reject(now, client, msg, ErrorCode::INSUFFICIENT_CAPACITY, k);
        }
        if let Some(a) = self.allocations.get_mut(&client) {
            for peer in peers {
                a.permissions.insert(peer.ip(), now + PERMISSION_LIFETIME);
            }
        }
        self.respond(client, MessageBuilder::success_response(msg), k);
    }

    /// RFC 8656 §12.2: bind a channel to a peer (and install its permission).
    fn channel_bind(&mut self, now: Instant, client: SocketAddr, msg: &Message<'_>, key: &[u8]) {
        let k = Some(key);
        let Some(a) = self.allocations.get(&client).filter(|a| a.expires > now) else {
            return self.reject(now, client, msg, ErrorCode::ALLOCATION_MISMATCH, k);
        };
        let (Some(channel), Some(peer)) = (msg.channel_number(), msg.xor_peer_address()) else {
            tracing::debug!(%client, "ChannelBind without CHANNEL-NUMBER or XOR-PEER-ADDRESS");
            return self.reject(now, client, msg, ErrorCode::BAD_REQUEST, k);
        };
        if !(MIN_CHANNEL..=self.config.max_channel).contains(&channel) {
            tracing::debug!(%client, channel, "ChannelBind with a channel number out of range");
            return self.reject(now, client, msg, ErrorCode::BAD_REQUEST, k);
        }
        if peer.is_ipv4() != a.relayed.is_ipv4() {
            return self.reject(now, client, msg, ErrorCode::PEER_ADDRESS_FAMILY_MISMATCH, k);
        }
        // RFC 8656 §12.2: the channel is bound to another peer, or the peer to another channel.
        let channel_taken = a.channels.get(&channel).is_some_and(|(p, _)| *p != peer);
        let peer_taken = a.peer_channels.get(&peer).is_some_and(|c| *c != channel);
        if channel_taken || peer_taken {
            tracing::debug!(%client, channel, %peer, "ChannelBind conflicts with a binding");
            return self.reject(now, client, msg, ErrorCode::BAD_REQUEST, k);
        }
        let is_new = !a.channels.contains_key(&channel);
        let new_permission = usize::from(!a.permissions.contains_key(&peer.ip()));
        if (is_new && a.channels.len() >= self.config.max_channels)
            || a.permissions.len() + new_permission > self.config.max_permissions
        {
            return self.reject(now, client, msg, ErrorCode::INSUFFICIENT_CAPACITY, k);
        }
        if let Some(a) = self.allocations.get_mut(&client) {
            a.channels.insert(channel, (peer, now + CHANNEL_LIFETIME));
            a.peer_channels.insert(peer, channel);
            a.permissions.insert(peer.ip(), now + PERMISSION_LIFETIME);
        }
        self.respond(client, MessageBuilder::success_response(msg), k);
    }
}

fn lifetime_secs(lifetime: Duration) -> u32 {
    u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX)
}
