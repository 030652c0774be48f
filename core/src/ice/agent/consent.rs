//! Time-driven work: pacing checks (RFC 8445 §6.1.4.2), regular nomination (§8.1.1), the
//! selected pair, consent freshness (RFC 7675 §5.1), keepalives (RFC 8445 §11) and the
//! overall state.

use core::net::SocketAddr;
use core::time::Duration;

use super::check::Request;
use super::{IceAgent, Purpose};
use crate::Instant;
use crate::ice::events::{IceEvent, IceState};
use crate::ice::pair::Selected;
use crate::stun::{MessageBuilder, MessageType, TransactionId};

impl IceAgent {
    /// Everything due at `now`; harmless when called early.
    pub(super) fn service(&mut self, now: Instant) {
        self.run_transactions(now);
        self.pace(now);
        self.nominate(now);
        self.refresh_consent(now);
        self.pump(now);
        self.update_state();
    }

    /// RFC 8445 §6.1.4.2: one new check per Ta.
    fn pace(&mut self, now: Instant) {
        if self.remote_pwd.is_none() {
            return;
        }
        // Idle (`None`) means the last tick found nothing; a success or failure since may
        // have unfrozen a pair, so try again (Ta has passed since the last check).
        if self.next_check.is_some_and(|at| at > now) {
            return;
        }
        match self.checklist.next_check() {
            Some(pair) => {
                self.start_check(now, pair, false);
                self.next_check = Some(now + self.config.ta);
            }
            None => self.next_check = None,
        }
    }

    /// RFC 8445 §8.1.1: the controlling agent nominates the best valid pair once no better
    /// pair can still succeed, or after `nomination_wait` from the first valid pair.
    fn nominate(&mut self, now: Instant) {
        if !self.controlling || self.nominating.is_some() || self.remote_pwd.is_none() {
            return;
        }
        if self.checklist.pairs.iter().any(|p| p.nominated) {
            return;
        }
        let Some(best) = self.checklist.best(|p| p.valid) else {
            return;
        };
        let waited = self
            .first_valid_at
            .is_some_and(|t| now >= t + self.config.nomination_wait);
        if waited
            || !self
                .checklist
                .better_pending(self.checklist.pairs[best].priority)
        {
            self.nominating = Some(best);
            self.start_check(now, best, true);
        }
    }

    pub(super) fn nomination_deadline(&self) -> Option<Instant> {
        if !self.controlling || self.nominating.is_some() {
            return None;
        }
        let pairs = &self.checklist.pairs;
        if pairs.iter().any(|p| p.nominated) || !pairs.iter().any(|p| p.valid) {
            return None;
        }
        self.first_valid_at.map(|t| t + self.config.nomination_wait)
    }

    /// Makes the nominated valid pair of highest priority the selected one.
    pub(super) fn update_selected(&mut self, now: Instant) {
        let Some(best) = self.checklist.best(|p| p.valid && p.nominated) else {
            return;
        };
        let pair = &self.checklist.pairs[best];
        let info = pair.info(&self.locals, &self.remotes);
        let Some(remote_addr) = info.remote.address.socket_addr() else {
            return;
        };
        if let Some(current) = &self.selected {
            if current.info.local_base == info.local_base
                && current.remote_addr == remote_addr
                && current.generation == self.generation
            {
                return;
            }
        }
        let (Some(ufrag), Some(pwd)) = (&self.remote_ufrag, &self.remote_pwd) else {
            return;
        };
        let username = format!("{}:{}", ufrag.as_str(), self.local_ufrag.as_str());
        let key = crate::stun::short_term_key(pwd.as_str());
        let local = pair.local;
        let next_consent = now + self.consent_interval();
        self.selected = Some(Selected {
            info: info.clone(),
            local,
            remote_addr,
            generation: self.generation,
            username,
            key,
            consent_at: now,
            next_consent,
            last_sent: now,
            disconnected: false,
        });
        self.consent_lost = false;
        // RFC 8656 §12: a channel makes relayed data 4 bytes of overhead instead of 36.
        if let Some(relay) = self.locals[local].relay {
            let _ = self.relays[relay].client.bind_channel(now, remote_addr);
        }
        self.emit(IceEvent::SelectedPairChanged(Box::new(info)));
    }

    /// RFC 7675 §5.1: 0.8 to 1.2 times the consent interval, uniformly.
    fn consent_interval(&self) -> Duration {
        let base = self.config.consent_interval;
        let factor = 800 + u64::from(self.rng.u32() % 401);
        let nanos = u64::try_from(base.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(nanos / 1000 * factor)
    }

    fn refresh_consent(&mut self, now: Instant) {
        let Some(selected) = &self.selected else {
            return;
        };
        if now >= selected.consent_at + self.config.consent_timeout {
            // RFC 7675 §5.1: consent expired; stop sending on the pair.
            tracing::debug!(remote = %selected.remote_addr, "consent lost");
            self.selected = None;
            self.consent_lost = true;
            self.transactions
                .retain(|_, t| !matches!(t.purpose, Purpose::Consent));
            self.emit(IceEvent::ConsentLost);
            return;
        }
        let disconnected = now >= selected.consent_at + self.config.disconnected_timeout;
        let (local, remote) = (selected.local, selected.remote_addr);
        if now >= selected.next_consent {
            let interval = self.consent_interval();
            let username = selected.username.clone();
            let key = selected.key.clone();
            if let Some(s) = self.selected.as_mut() {
                s.next_consent = now + interval;
                s.last_sent = now;
            }
            self.stats.consent_sent += 1;
            // RFC 7675 §5.1: each consent request has a new transaction id and is sent once
            // only; a response to any request of the last consent timeout (30 s) counts, so
            // the transaction waits that long for a late answer.
            let id = self.send_request(
                now,
                Request {
                    purpose: Purpose::Consent,
                    local,
                    remote,
                    username: &username,
                    key,
                    nominate: false,
                    transmits: 1,
                },
            );
            let window = self.config.consent_timeout;
            if let Some(txn) = self.transactions.get_mut(&id) {
                txn.deadline = now + window;
            }
        }
        let keepalive_due = self.config.keepalive_interval.and_then(|interval| {
            let s = self.selected.as_ref()?;
            (now >= s.last_sent + interval).then_some(())
        });
        if keepalive_due.is_some() {
            // RFC 8445 §11: a Binding indication keeps NAT bindings open.
            let id = TransactionId::random(&mut self.rng.clone());
            let mut builder = MessageBuilder::new(MessageType::BINDING_INDICATION, id);
            builder.add_fingerprint();
            self.stats.keepalives_sent += 1;
            let _ = self.send_from(now, local, remote, builder.finish());
            if let Some(s) = self.selected.as_mut() {
                s.last_sent = now;
            }
        }
        if let Some(s) = self.selected.as_mut() {
            s.disconnected = disconnected;
        }
    }

    /// A consent response came back from `remote` to local candidate `local`: it refreshes
    /// consent only for that 5-tuple (RFC 7675 §5.1), not for a pair selected since.
    pub(super) fn consent_confirmed(&mut self, now: Instant, local: usize, remote: SocketAddr) {
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        if self.locals[selected.local].base != self.locals[local].base
            || selected.remote_addr != remote
        {
            return;
        }
        selected.consent_at = now;
        selected.disconnected = false;
    }

    /// The next consent, disconnection, expiry or keepalive time of the selected pair.
    pub(super) fn consent_deadline(&self) -> Option<Instant> {
        let s = self.selected.as_ref()?;
        let mut next = s
            .next_consent
            .min(s.consent_at + self.config.consent_timeout);
        if !s.disconnected {
            next = next.min(s.consent_at + self.config.disconnected_timeout);
        }
        if let Some(interval) = self.config.keepalive_interval {
            next = next.min(s.last_sent + interval);
        }
        Some(next)
    }

    /// Derives the overall state and reports a change.
    fn update_state(&mut self) {
        let gathered = self.gathers.is_empty() && self.relays.iter().all(|r| !r.pending);
        let state = if let Some(selected) = &self.selected {
            if selected.disconnected {
                IceState::Disconnected
            } else if self.remote_end_of_candidates && gathered && self.checklist.finished() {
                IceState::Completed
            } else {
                IceState::Connected
            }
        } else if self.consent_lost {
            IceState::Failed
        } else if self.remote_pwd.is_some() && !self.checklist.pairs.is_empty() {
            let no_hope = self.checklist.all_failed()
                && self.remote_end_of_candidates
                && gathered
                && !self
                    .transactions
                    .values()
                    .any(|t| !matches!(t.purpose, Purpose::Consent));
            if no_hope {
                IceState::Failed
            } else {
                IceState::Checking
            }
        } else {
            self.state_without_pairs()
        };
        if state != self.state {
            tracing::debug!(from = ?self.state, to = ?state, "ICE state");
            self.state = state;
            self.emit(IceEvent::StateChanged(state));
        }
    }

    /// Before checks can run: `New`, or still `Checking` across a restart.
    fn state_without_pairs(&self) -> IceState {
        match self.state {
            IceState::New => IceState::New,
            _ if self.remote_end_of_candidates && self.remote_pwd.is_some() => IceState::Failed,
            _ => IceState::Checking,
        }
    }
}

#[cfg(test)]
mod tests {
    use core::net::SocketAddr;

    use rand_core::SeedableRng;

    use crate::ice::pair::make_candidate;
    use crate::ice::{CandidateKind, IceAgent, IceConfig, IceEvent, IceState};
    use crate::stun::{Attribute, Class, Message, MessageBuilder, short_term_key};
    use crate::{Datagram, Instant, Machine};

    const LOCAL: &str = "192.0.2.10:5000";
    const PEER: &str = "192.0.2.20:6000";
    const PEER_PWD: &str = "peerpasswordpeerpassword";

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A controlling agent with one host candidate and one remote host candidate.
    fn agent() -> IceAgent {
        let rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(7));
        let mut agent = IceAgent::new(IceConfig::new(true), rng);
        let now = Instant::ZERO;
        agent.add_local_address(now, addr(LOCAL)).unwrap();
        agent.set_remote_credentials(now, "peer", PEER_PWD).unwrap();
        let remote = make_candidate(
            CandidateKind::Host,
            addr(PEER),
            addr(PEER).ip(),
            None,
            65535,
            None,
        );
        agent.add_remote_candidate(now, remote).unwrap();
        agent
    }

    /// The peer's authenticated success response to `request`.
    fn response(request: &[u8]) -> Vec<u8> {
        let msg = Message::parse(request).unwrap();
        let mut builder = MessageBuilder::success_response(&msg);
        builder.add(&Attribute::XorMappedAddress(addr(LOCAL)));
        builder.add_message_integrity(&short_term_key(PEER_PWD));
        builder.add_fingerprint();
        builder.finish()
    }

    fn deliver(agent: &mut IceAgent, now: Instant, payload: &[u8]) {
        let datagram = Datagram {
            source: addr(PEER),
            destination: addr(LOCAL),
            payload,
        };
        agent.handle_datagram(now, datagram);
    }

    /// Runs the agent until `until`; Binding requests are answered at once when `answer`,
    /// otherwise returned (in the order sent).
    fn run(agent: &mut IceAgent, now: &mut Instant, until: Instant, answer: bool) -> Vec<Vec<u8>> {
        let mut held = Vec::new();
        loop {
            while let Some(t) = agent.poll_transmit() {
                let request = Message::parse(&t.payload)
                    .is_ok_and(|m| m.message_type().class == Class::Request);
                if !request {
                    continue;
                }
                if answer {
                    deliver(agent, *now, &response(&t.payload));
                } else {
                    held.push(t.payload);
                }
            }
            match agent.poll_timeout() {
                Some(at) if at <= until => {
                    *now = at.max(*now);
                    agent.handle_timeout(*now);
                }
                _ => break,
            }
        }
        *now = until;
        held
    }

    #[test]
    fn consent_requests_go_once_and_a_late_answer_still_counts() {
        let mut agent = agent();
        let mut now = Instant::ZERO;
        run(&mut agent, &mut now, Instant::from_secs(2), true);
        assert_eq!(agent.state(), IceState::Connected);
        let retransmissions = agent.stats().retransmissions;

        // RFC 7675 §5.1: every consent request has a new transaction id and goes once.
        let held = run(&mut agent, &mut now, Instant::from_secs(24), false);
        assert!(held.len() >= 3, "{} consent requests", held.len());
        let mut ids: Vec<_> = held
            .iter()
            .map(|r| Message::parse(r).unwrap().transaction_id())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), held.len(), "a consent request was sent twice");
        assert_eq!(agent.stats().retransmissions, retransmissions);
        assert_eq!(agent.state(), IceState::Disconnected);

        // The answer to the first of them, some 20 s late, is still within the 30 s window.
        deliver(&mut agent, now, &response(&held[0]));
        assert_eq!(agent.state(), IceState::Connected);

        // Then silence: consent expires 30 s after that answer, and the pair is given up.
        run(&mut agent, &mut now, Instant::from_secs(50), false);
        assert_eq!(agent.state(), IceState::Disconnected);
        run(&mut agent, &mut now, Instant::from_secs(56), false);
        let mut events = Vec::new();
        while let Some(e) = agent.poll_event() {
            events.push(e);
        }
        assert!(events.contains(&IceEvent::ConsentLost), "{events:?}");
        assert_eq!(agent.state(), IceState::Failed);
        assert_eq!(agent.stats().unknown, 0);
    }
}
