//! Our Binding requests: connectivity checks (RFC 8445 §7.2.4), their retransmissions
//! (§14.3 with RFC 8489 §6.2.1), and what their responses mean (§7.2.5): role conflicts,
//! peer-reflexive local candidates, the valid list, nomination.

use core::net::SocketAddr;

use super::{IceAgent, Purpose, Transaction};
use crate::Instant;
use crate::ice::CandidateKind;
use crate::ice::events::{IceEvent, PairState};
use crate::ice::pair::{Local, make_candidate};
use crate::stun::{Attribute, Class, Message, MessageBuilder, MessageType, TransactionId};

/// RFC 8445 §7.2.5.1: 487 Role Conflict.
const ROLE_CONFLICT: u16 = 487;

/// What goes into one Binding request.
pub(super) struct Request<'a> {
    pub(super) purpose: Purpose,
    pub(super) local: usize,
    pub(super) remote: SocketAddr,
    pub(super) username: &'a str,
    pub(super) key: Vec<u8>,
    pub(super) nominate: bool,
    /// Transmissions before giving up (consent requests go once).
    pub(super) transmits: u32,
}

impl IceAgent {
    /// Sends a check on `pair` (RFC 8445 §7.2.4), with USE-CANDIDATE when `nominate`.
    pub(super) fn start_check(&mut self, now: Instant, pair: usize, nominate: bool) {
        let (Some(ufrag), Some(pwd)) = (&self.remote_ufrag, &self.remote_pwd) else {
            return;
        };
        let username = format!("{}:{}", ufrag.as_str(), self.local_ufrag.as_str());
        let key = crate::stun::short_term_key(pwd.as_str());
        let entry = &self.checklist.pairs[pair];
        let Some(remote) = self.remotes[entry.remote].address.socket_addr() else {
            return;
        };
        let local = entry.local;
        if !nominate {
            self.checklist.pairs[pair].state = PairState::InProgress;
        }
        self.send_request(
            now,
            Request {
                purpose: Purpose::Check { pair, nominate },
                local,
                remote,
                username: &username,
                key,
                nominate,
                transmits: self.config.check_max_transmits.max(1),
            },
        );
        self.stats.checks_sent += 1;
    }

    pub(super) fn send_request(&mut self, now: Instant, request: Request<'_>) -> TransactionId {
        let id = TransactionId::random(&mut self.rng.clone());
        // RFC 8445 §7.2.5.3.1: PRIORITY is what a peer-reflexive candidate learned from this
        // check would get: the type preference of prflx with the local candidate's other bits.
        let local_bits = self.locals[request.local].candidate.priority & 0x00FF_FFFF;
        let priority =
            (u32::from(CandidateKind::PeerReflexive.type_preference()) << 24) | local_bits;
        let mut builder = MessageBuilder::new(MessageType::BINDING_REQUEST, id);
        builder.add(&Attribute::Username(request.username));
        builder.add(&Attribute::Priority(priority));
        builder.add(&if self.controlling {
            Attribute::IceControlling(self.tie_breaker)
        } else {
            Attribute::IceControlled(self.tie_breaker)
        });
        if request.nominate {
            builder.add(&Attribute::UseCandidate);
        }
        builder.add_message_integrity(&request.key);
        builder.add_fingerprint();
        let bytes = builder.finish();
        // RFC 8445 §14.3: RTO = MAX(500 ms, Ta * (Num-Waiting + Num-In-Progress)).
        let busy = u32::try_from(self.checklist.waiting_and_in_progress()).unwrap_or(u32::MAX);
        let rto = self
            .config
            .check_rto
            .max(self.config.ta.saturating_mul(busy));
        let deadline = if request.transmits > 1 {
            now + rto
        } else {
            now + rto.saturating_mul(self.config.check_rm.max(1))
        };
        self.transactions.insert(
            id,
            Transaction {
                purpose: request.purpose,
                local: request.local,
                remote: request.remote,
                controlling: self.controlling,
                generation: self.generation,
                key: request.key,
                priority,
                request: bytes.clone(),
                sent: 1,
                max_sent: request.transmits,
                first_rto: rto,
                rto,
                deadline,
            },
        );
        let _ = self.send_from(now, request.local, request.remote, bytes);
        id
    }

    /// Retransmits due requests and fails the ones out of attempts (RFC 8489 §6.2.1: Rc
    /// transmissions with doubling RTO, then a wait of Rm times the first RTO).
    pub(super) fn run_transactions(&mut self, now: Instant) {
        let due: Vec<TransactionId> = self
            .transactions
            .iter()
            .filter(|(_, t)| t.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(txn) = self.transactions.get_mut(&id) else {
                continue;
            };
            if txn.sent < txn.max_sent {
                txn.sent += 1;
                txn.rto = txn.rto.saturating_mul(2);
                txn.deadline = if txn.sent < txn.max_sent {
                    now + txn.rto
                } else {
                    now + txn.first_rto.saturating_mul(self.config.check_rm.max(1))
                };
                let (local, remote, bytes) = (txn.local, txn.remote, txn.request.clone());
                self.stats.retransmissions += 1;
                let _ = self.send_from(now, local, remote, bytes);
                continue;
            }
            let Some(txn) = self.transactions.remove(&id) else {
                continue;
            };
            if let Purpose::Check { pair, nominate } = txn.purpose {
                if txn.generation == self.generation {
                    tracing::debug!(remote = %txn.remote, "check timed out");
                    self.pair_failed(pair, nominate);
                }
            }
        }
    }

    /// Makes the outstanding ordinary check of `pair` retransmit at once.
    pub(super) fn retransmit_now(&mut self, now: Instant, pair: usize) {
        let generation = self.generation;
        let txn = self.transactions.values_mut().find(|t| {
            t.generation == generation
                && t.purpose
                    == (Purpose::Check {
                        pair,
                        nominate: false,
                    })
                && t.sent < t.max_sent
        });
        if let Some(txn) = txn {
            txn.deadline = txn.deadline.min(now);
        }
    }

    fn pair_failed(&mut self, pair: usize, nominate: bool) {
        let entry = &mut self.checklist.pairs[pair];
        entry.state = PairState::Failed;
        if nominate {
            entry.valid = false;
            self.nominating = None;
        }
    }

    /// RFC 8445 §7.2.5: a response to one of our requests.
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        local_addr: SocketAddr,
        remote: SocketAddr,
        msg: &Message<'_>,
    ) {
        let id = msg.transaction_id();
        let Some(txn) = self.transactions.get(&id) else {
            self.stats.unknown += 1;
            return;
        };
        if msg.verify_integrity(&txn.key).is_err() {
            // An unauthenticated response is ignored; the transaction goes on.
            self.stats.malformed += 1;
            tracing::debug!(%remote, "response failed authentication");
            return;
        }
        let Some(txn) = self.transactions.remove(&id) else {
            return;
        };
        self.stats.responses_received += 1;
        let symmetric = txn.remote == remote && self.locals[txn.local].base == local_addr;
        match txn.purpose {
            Purpose::Consent => {
                if symmetric && msg.message_type().class == Class::SuccessResponse {
                    self.consent_confirmed(now, txn.local, txn.remote);
                }
            }
            Purpose::Check { pair, nominate } => {
                if txn.generation != self.generation {
                    return;
                }
                // RFC 8445 §7.2.5.2.1: a response from elsewhere fails the pair.
                if !symmetric {
                    self.pair_failed(pair, nominate);
                    return;
                }
                if msg.message_type().class == Class::ErrorResponse {
                    let code = msg.error_code().map(|e| e.code);
                    if code == Some(ROLE_CONFLICT) {
                        self.stats.role_conflicts += 1;
                        // RFC 8445 §7.2.5.1: switch only if the role is still the one sent.
                        if txn.controlling == self.controlling {
                            self.switch_role(!txn.controlling);
                        }
                        self.checklist.pairs[pair].state = PairState::Waiting;
                        self.checklist.trigger(pair);
                        if nominate {
                            self.nominating = None;
                        }
                        self.next_check.get_or_insert(now);
                    } else {
                        self.pair_failed(pair, nominate);
                    }
                    return;
                }
                let mapped = msg.xor_mapped_address();
                self.check_succeeded(now, pair, nominate, mapped, txn.priority);
            }
        }
    }

    /// RFC 8445 §7.2.5.3: the pair succeeds, the valid pair is built from the mapped address,
    /// the foundation unfreezes, and a nomination completes.
    fn check_succeeded(
        &mut self,
        now: Instant,
        pair: usize,
        nominate: bool,
        mapped: Option<SocketAddr>,
        priority: u32,
    ) {
        let local = self.checklist.pairs[pair].local;
        let base = self.locals[local].base;
        // RFC 8445 §7.2.5.3.1: the mapped address names the valid pair's local candidate;
        // an unknown one is a new peer-reflexive candidate on the same base.
        let valid_local = match mapped {
            Some(mapped) if mapped != self.locals[local].addr => {
                let known = self
                    .locals
                    .iter()
                    .position(|l| l.addr == mapped && l.base == base);
                match known {
                    Some(index) => index,
                    None if self.locals.len() < self.config.max_local_candidates => {
                        let mut candidate = make_candidate(
                            CandidateKind::PeerReflexive,
                            mapped,
                            base.ip(),
                            None,
                            0,
                            Some(base),
                        );
                        candidate.priority = priority;
                        let relay = self.locals[local].relay;
                        self.add_local(Local {
                            candidate,
                            addr: mapped,
                            base,
                            relay,
                        })
                    }
                    None => local,
                }
            }
            _ => local,
        };
        let entry = &mut self.checklist.pairs[pair];
        // RFC 8445 §7.2.5.3.2: the valid pair sends from the same base to the same remote as
        // the checked one, so it takes its place (§6.1.2.4 would prune the other).
        entry.local = valid_local;
        entry.state = PairState::Succeeded;
        entry.valid = true;
        if nominate || entry.nominate_on_success {
            entry.nominated = true;
        }
        let controlling = self.controlling;
        self.checklist.pairs[pair].prioritise(controlling, &self.locals, &self.remotes);
        self.checklist.unfreeze_foundation(pair);
        self.first_valid_at.get_or_insert(now);
        if nominate {
            self.nominating = None;
        }
        self.update_selected(now);
    }

    /// Takes the other role (RFC 8445 §7.3.1.1, §7.2.5.1) and reorders the checklist.
    pub(super) fn switch_role(&mut self, controlling: bool) {
        if self.controlling == controlling {
            return;
        }
        self.controlling = controlling;
        self.nominating = None;
        self.checklist
            .reprioritise(controlling, &self.locals, &self.remotes);
        self.emit(IceEvent::RoleChanged { controlling });
    }
}
