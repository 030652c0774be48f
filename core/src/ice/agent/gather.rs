//! Gathering (RFC 8445 §5.1.1): host candidates from the addresses the application adds,
//! server-reflexive ones through STUN Binding requests, relayed ones through TURN allocations
//! (the existing [`StunClient`](crate::stun::StunClient) and [`TurnClient`] do the talking).

use core::convert::Infallible;
use core::net::SocketAddr;
use std::sync::{Arc, Mutex};

use super::{IceAgent, Relay};
use crate::ice::CandidateKind;
use crate::ice::events::{GatheringState, IceError, IceEvent};
use crate::ice::pair::{Local, local_preference, make_candidate};
use crate::stun::{Class, ClientEvent};
use crate::turn::{Operation, TurnClient, TurnClientConfig, TurnEvent};
use crate::{Instant, Machine, Rng};

/// The agent's generator, shared with the STUN and TURN clients it creates so that one seed
/// drives them all (draws happen in call order, so runs stay reproducible).
#[derive(Clone)]
pub(super) struct SharedRng(Arc<Mutex<Rng>>);

impl SharedRng {
    pub(super) fn new(rng: Rng) -> Self {
        Self(Arc::new(Mutex::new(rng)))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Rng) -> R) -> R {
        // A panic elsewhere while holding the lock leaves the generator usable.
        let mut rng = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut rng)
    }

    pub(super) fn fill(&self, dst: &mut [u8]) {
        self.with(|rng| rng.fill_bytes(dst));
    }

    pub(super) fn u64(&self) -> u64 {
        self.with(|rng| rng.next_u64())
    }

    pub(super) fn u32(&self) -> u32 {
        self.with(|rng| rng.next_u32())
    }
}

impl rand_core::TryRng for SharedRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SharedRng {}

impl IceAgent {
    /// Adds a local socket address: a host candidate (reported as
    /// [`IceEvent::LocalCandidate`]), paired with the remote candidates, and the source of
    /// server-reflexive and relayed candidates from the servers added.
    pub fn add_local_address(&mut self, now: Instant, addr: SocketAddr) -> Result<(), IceError> {
        if self.locals.iter().any(|l| l.base == addr || l.addr == addr) {
            return Err(IceError::Duplicate);
        }
        if self.locals.len() >= self.config.max_local_candidates {
            return Err(IceError::TooMany);
        }
        let hosts = self
            .locals
            .iter()
            .filter(|l| l.candidate.kind == CandidateKind::Host)
            .count();
        let pref = local_preference(addr, hosts);
        let candidate = make_candidate(CandidateKind::Host, addr, addr.ip(), None, pref, None);
        let local = self.add_local(Local {
            candidate,
            addr,
            base: addr,
            relay: None,
        });
        self.gather_dirty = true;
        self.pair_with_remotes(now, local);
        for server in self.stun_servers.clone() {
            self.start_binding(now, local, server);
        }
        for (server, user, pass) in self.turn_servers.clone() {
            self.start_relay(now, local, server, &user, &pass);
        }
        self.pump(now);
        self.service(now);
        Ok(())
    }

    /// Adds a STUN server: every host address of its family asks it for a server-reflexive
    /// candidate (RFC 8445 §5.1.1.2).
    pub fn add_stun_server(&mut self, now: Instant, server: SocketAddr) {
        if self.stun_servers.contains(&server) {
            return;
        }
        self.stun_servers.push(server);
        self.gather_dirty = true;
        for local in self.host_indices() {
            self.start_binding(now, local, server);
        }
        self.pump(now);
        self.service(now);
    }

    /// Adds a TURN server with long-term credentials: every host address of its family
    /// allocates a relayed candidate there (RFC 8445 §5.1.1.2, RFC 8656 §7).
    pub fn add_turn_server(
        &mut self,
        now: Instant,
        server: SocketAddr,
        username: &str,
        password: &str,
    ) {
        if self.turn_servers.iter().any(|(s, _, _)| *s == server) {
            return;
        }
        self.turn_servers
            .push((server, username.to_owned(), password.to_owned()));
        self.gather_dirty = true;
        for local in self.host_indices() {
            self.start_relay(now, local, server, username, password);
        }
        self.pump(now);
        self.service(now);
    }

    fn host_indices(&self) -> Vec<usize> {
        (0..self.locals.len())
            .filter(|&i| self.locals[i].candidate.kind == CandidateKind::Host)
            .collect()
    }

    /// Records a local candidate, reports it (peer-reflexive ones are not signalled, RFC 8445
    /// §7.2.5.3.1) and pairs it with every remote candidate.
    pub(super) fn add_local(&mut self, local: Local) -> usize {
        if local.candidate.kind != CandidateKind::PeerReflexive {
            self.emit(IceEvent::LocalCandidate(local.candidate.clone()));
        }
        self.locals.push(local);
        self.locals.len() - 1
    }

    fn pair_with_remotes(&mut self, now: Instant, local: usize) {
        for remote in 0..self.remotes.len() {
            self.pair_up(now, local, remote);
        }
    }

    fn start_binding(&mut self, now: Instant, local: usize, server: SocketAddr) {
        let base = self.locals[local].base;
        if base.is_ipv4() != server.is_ipv4() {
            return;
        }
        match self.stun.binding(now, base, server) {
            Ok(id) => {
                self.gathers.insert(id, local);
            }
            Err(error) => tracing::debug!(%server, %error, "srflx gathering refused"),
        }
    }

    fn start_relay(
        &mut self,
        now: Instant,
        local: usize,
        server: SocketAddr,
        username: &str,
        password: &str,
    ) {
        let base = self.locals[local].base;
        if base.is_ipv4() != server.is_ipv4() {
            return;
        }
        let config = TurnClientConfig::new(server, base, username, password);
        let mut client = TurnClient::new(config, Box::new(self.rng.clone()));
        if client.allocate(now).is_ok() {
            self.relays.push(Relay {
                client,
                pending: true,
            });
        }
    }

    /// Moves what the STUN and TURN clients produced into the agent: their datagrams to the
    /// transmit queue, their results into candidates, relayed data into the checks and data
    /// paths. Repeats while handling relayed data makes the relays produce more.
    pub(super) fn pump(&mut self, now: Instant) {
        while let Some(transmit) = self.stun.poll_transmit() {
            self.transmits.push_back(transmit);
        }
        while let Some(event) = self.stun.poll_event() {
            self.on_stun_event(event);
        }
        for _round in 0..8 {
            let mut events = Vec::new();
            for (index, relay) in self.relays.iter_mut().enumerate() {
                while let Some(transmit) = relay.client.poll_transmit() {
                    self.transmits.push_back(transmit);
                }
                while let Some(event) = relay.client.poll_event() {
                    events.push((index, event));
                }
            }
            if events.is_empty() {
                break;
            }
            for (index, event) in events {
                self.on_turn_event(now, index, event);
            }
        }
        self.update_gathering();
    }

    fn on_stun_event(&mut self, event: ClientEvent) {
        let Some(local) = self.gathers.remove(&event.id()) else {
            return;
        };
        if let ClientEvent::Response {
            class: Class::SuccessResponse,
            mapped: Some(mapped),
            server,
            ..
        } = event
        {
            self.add_server_reflexive(local, mapped, server);
        }
    }

    /// RFC 8445 §5.1.3: a server-reflexive candidate equal to a known one (its host, when
    /// there is no NAT) is redundant and dropped.
    fn add_server_reflexive(&mut self, local: usize, mapped: SocketAddr, server: SocketAddr) {
        if self.locals.iter().any(|l| l.addr == mapped) {
            return;
        }
        if self.locals.len() >= self.config.max_local_candidates {
            return;
        }
        let base = self.locals[local].base;
        let pref = local_preference(base, local);
        let candidate = make_candidate(
            CandidateKind::ServerReflexive,
            mapped,
            base.ip(),
            Some(server.ip()),
            pref,
            Some(base),
        );
        self.add_local(Local {
            candidate,
            addr: mapped,
            base,
            relay: None,
        });
    }

    fn on_turn_event(&mut self, now: Instant, index: usize, event: TurnEvent) {
        match event {
            TurnEvent::Allocated {
                relayed, mapped, ..
            } => {
                self.relays[index].pending = false;
                let server = self.relays[index].client.config().server;
                let host = self.relays[index].client.config().local;
                if self.locals.len() >= self.config.max_local_candidates {
                    return;
                }
                let pref = local_preference(host, index);
                let candidate = make_candidate(
                    CandidateKind::Relayed,
                    relayed,
                    relayed.ip(),
                    Some(server.ip()),
                    pref,
                    mapped,
                );
                let local = self.add_local(Local {
                    candidate,
                    addr: relayed,
                    base: relayed,
                    relay: Some(index),
                });
                self.pair_with_remotes(now, local);
                // RFC 8445 §5.1.1.2: the Allocate response's mapped address is a
                // server-reflexive candidate too.
                if let (Some(mapped), Some(host)) =
                    (mapped, self.locals.iter().position(|l| l.base == host))
                {
                    self.add_server_reflexive(host, mapped, server);
                }
            }
            TurnEvent::Failed {
                operation: Operation::Allocate,
                ..
            } => self.relays[index].pending = false,
            TurnEvent::Data { peer, data } => {
                if let Some(relayed) = self.relays[index].client.relayed_address() {
                    self.on_payload(now, relayed, peer, &data);
                }
            }
            _ => {}
        }
    }

    /// RFC 8838 §13: gathering is complete once every started transaction ended.
    fn update_gathering(&mut self) {
        let pending = !self.gathers.is_empty() || self.relays.iter().any(|r| r.pending);
        if pending {
            self.gathering = GatheringState::Gathering;
        } else if self.gather_dirty {
            self.gather_dirty = false;
            self.gathering = GatheringState::Complete;
            self.emit(IceEvent::GatheringComplete);
        }
    }
}
