//! What arrives: demultiplexing (RFC 7983), Binding requests from the peer (RFC 8445 §7.3),
//! role conflicts (§7.3.1.1), peer-reflexive remote candidates (§7.3.1.3), triggered checks
//! (§7.3.1.4) and nomination on the controlled side (§7.3.1.5).

use core::net::SocketAddr;

use super::IceAgent;
use crate::ice::events::{IceEvent, PairState};
use crate::ice::pair::peer_reflexive_remote;
use crate::stun::{
    Attribute, Class, ErrorCode, Message, MessageBuilder, Method, is_stun, short_term_key,
};
use crate::{Datagram, Instant, Machine};

impl IceAgent {
    /// Routes a datagram: answers to gathering go to the STUN client, traffic of a TURN
    /// server to its client, the rest to the checks and the data path.
    pub(super) fn demux(&mut self, now: Instant, datagram: Datagram<'_>) {
        if is_stun(datagram.payload) {
            if let Ok(msg) = Message::parse(datagram.payload) {
                if msg.message_type().class != Class::Request
                    && self.gathers.contains_key(&msg.transaction_id())
                {
                    self.stun.handle_datagram(now, datagram);
                    return;
                }
            }
        }
        let relay = self.relays.iter_mut().find(|r| {
            r.client.config().server == datagram.source
                && r.client.config().local == datagram.destination
        });
        if let Some(relay) = relay {
            relay.client.handle_datagram(now, datagram);
            return;
        }
        self.on_payload(now, datagram.destination, datagram.source, datagram.payload);
    }

    /// A datagram that arrived on local socket (or relayed address) `local_addr` from
    /// `remote`. RFC 7983 §7: a first byte of 0 to 3 is STUN, anything else is the
    /// application's (DTLS, SRTP, ...), delivered when it comes over a known pair.
    pub(super) fn on_payload(
        &mut self,
        now: Instant,
        local_addr: SocketAddr,
        remote: SocketAddr,
        payload: &[u8],
    ) {
        if payload.first().is_some_and(|b| *b <= 3) {
            self.on_stun(now, local_addr, remote, payload);
            return;
        }
        let on_selected = self
            .selected
            .as_ref()
            .is_some_and(|s| s.info.local_base == local_addr && s.remote_addr == remote);
        if !on_selected && self.find_pair(local_addr, remote).is_none() {
            self.stats.unknown += 1;
            tracing::trace!(%remote, %local_addr, "data from outside the checklist dropped");
            return;
        }
        self.stats.data_received += 1;
        self.emit(IceEvent::Data {
            local: local_addr,
            remote,
            data: payload.to_vec(),
        });
    }

    fn on_stun(&mut self, now: Instant, local_addr: SocketAddr, remote: SocketAddr, bytes: &[u8]) {
        let Ok(msg) = Message::parse(bytes) else {
            self.stats.malformed += 1;
            tracing::debug!(%remote, "malformed STUN dropped");
            return;
        };
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            self.stats.malformed += 1;
            tracing::debug!(%remote, "STUN with a bad FINGERPRINT dropped");
            return;
        }
        if msg.message_type().method != Method::BINDING {
            self.stats.unknown += 1;
            return;
        }
        match msg.message_type().class {
            Class::Request => self.on_request(now, local_addr, remote, &msg),
            // RFC 8445 §11: Binding indications are keepalives; nothing to do.
            Class::Indication => {}
            Class::SuccessResponse | Class::ErrorResponse => {
                self.on_response(now, local_addr, remote, &msg);
            }
        }
    }

    /// The local candidate that owns socket (or relayed address) `addr`.
    fn socket_local(&self, addr: SocketAddr) -> Option<usize> {
        self.locals.iter().position(|l| l.base == addr && l.pairs())
    }

    fn on_request(
        &mut self,
        now: Instant,
        local_addr: SocketAddr,
        remote: SocketAddr,
        msg: &Message<'_>,
    ) {
        let Some(local) = self.socket_local(local_addr) else {
            self.stats.unknown += 1;
            return;
        };
        // RFC 8445 §7.3: USERNAME is "<our ufrag>:<their ufrag>", MESSAGE-INTEGRITY keyed
        // with our password (RFC 8489 §9.1.3: 400 when missing, 401 when wrong).
        let (Some(username), true) = (msg.username(), msg.has_integrity()) else {
            self.stats.malformed += 1;
            self.respond_error(now, local, remote, msg, ErrorCode::BAD_REQUEST, false);
            return;
        };
        let key = short_term_key(self.local_pwd.as_str());
        let ours = username
            .split_once(':')
            .is_some_and(|(mine, _)| mine == self.local_ufrag.as_str());
        if !ours || msg.verify_integrity(&key).is_err() {
            self.stats.malformed += 1;
            tracing::debug!(%remote, "Binding request failed authentication");
            self.respond_error(now, local, remote, msg, ErrorCode::UNAUTHENTICATED, false);
            return;
        }
        let Some(priority) = msg.priority() else {
            self.stats.malformed += 1;
            self.respond_error(now, local, remote, msg, ErrorCode::BAD_REQUEST, true);
            return;
        };
        self.stats.requests_received += 1;
        let unknown = msg.unknown_comprehension_required();
        if !unknown.is_empty() {
            // RFC 8489 §6.3.1.1: 420 listing the comprehension-required attributes not known.
            let mut response = MessageBuilder::unknown_attributes_response(msg, &unknown);
            response.add_message_integrity(&key);
            response.add_fingerprint();
            let _ = self.send_from(now, local, remote, response.finish());
            return;
        }
        if self.role_conflict(msg) {
            self.respond_error(now, local, remote, msg, ErrorCode::ROLE_CONFLICT, true);
            return;
        }
        let mut response = MessageBuilder::success_response(msg);
        response.add(&Attribute::XorMappedAddress(remote));
        response.add_message_integrity(&key);
        response.add_fingerprint();
        let _ = self.send_from(now, local, remote, response.finish());
        self.learn_from_request(now, local, remote, priority, msg.use_candidate());
    }

    /// RFC 8445 §7.3.1.1: both sides claim the same role; the larger tie-breaker (ours on a
    /// tie when controlling) keeps it. Returns whether to answer 487 Role Conflict.
    fn role_conflict(&mut self, msg: &Message<'_>) -> bool {
        if self.controlling {
            if let Some(theirs) = msg.ice_controlling() {
                self.stats.role_conflicts += 1;
                if self.tie_breaker >= theirs {
                    return true;
                }
                self.switch_role(false);
            }
        } else if let Some(theirs) = msg.ice_controlled() {
            self.stats.role_conflicts += 1;
            if self.tie_breaker >= theirs {
                self.switch_role(true);
            } else {
                return true;
            }
        }
        false
    }

    /// After answering a request: learn a peer-reflexive remote candidate (§7.3.1.3),
    /// queue a triggered check (§7.3.1.4), note a nomination (§7.3.1.5).
    fn learn_from_request(
        &mut self,
        now: Instant,
        local: usize,
        remote: SocketAddr,
        priority: u32,
        use_candidate: bool,
    ) {
        let base = self.locals[local].base;
        let pair = match self.find_pair(base, remote) {
            Some(pair) => pair,
            None => {
                let known = self.remotes.iter().position(|r| r.address == remote.into());
                let remote_index = match known {
                    Some(index) => index,
                    None if self.remotes.len() < self.config.max_remote_candidates => {
                        self.prflx_serial += 1;
                        let candidate = peer_reflexive_remote(remote, priority, self.prflx_serial);
                        self.remotes.push(candidate);
                        self.remotes.len() - 1
                    }
                    None => return,
                };
                match self.pair_up(now, local, remote_index) {
                    Some(pair) => pair,
                    None => return,
                }
            }
        };
        let entry = &mut self.checklist.pairs[pair];
        match entry.state {
            PairState::Frozen | PairState::Waiting | PairState::Failed => {
                entry.state = PairState::Waiting;
                self.checklist.trigger(pair);
            }
            // RFC 8445 §7.3.1.4: an immediate retransmit speeds things up when both sides
            // are behind NATs (our earlier request may have been filtered by the peer's).
            PairState::InProgress => self.retransmit_now(now, pair),
            PairState::Succeeded => {}
        }
        if use_candidate && !self.controlling {
            let entry = &mut self.checklist.pairs[pair];
            if entry.valid {
                entry.nominated = true;
                self.update_selected(now);
            } else {
                entry.nominate_on_success = true;
            }
        }
    }

    fn respond_error(
        &mut self,
        now: Instant,
        local: usize,
        remote: SocketAddr,
        msg: &Message<'_>,
        code: ErrorCode<'_>,
        authenticated: bool,
    ) {
        let mut response = MessageBuilder::error_response(msg, code);
        if authenticated {
            response.add_message_integrity(&short_term_key(self.local_pwd.as_str()));
        }
        response.add_fingerprint();
        let _ = self.send_from(now, local, remote, response.finish());
    }

    /// The pair that sends from `base` to `remote` (whatever its local candidate's type).
    pub(super) fn find_pair(&self, base: SocketAddr, remote: SocketAddr) -> Option<usize> {
        self.checklist.pairs.iter().position(|p| {
            self.locals[p.local].base == base && self.remotes[p.remote].address == remote.into()
        })
    }
}
