//! Two agents wired in memory on virtual time: host-host connections with and without loss,
//! role conflicts, peer-reflexive candidates behind a toy NAT, consent, restart, failure.

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng};

use super::{CandidateKind, IceAgent, IceConfig, IceEvent, IceState};
use crate::{Instant, Machine, Transmit};

const A: &str = "10.0.0.1:5000";
const B: &str = "10.0.0.2:6000";
/// Where the toy NAT maps B when `nat_b` is on.
const B_MAPPED: &str = "203.0.113.2:7000";
const LATENCY: Duration = Duration::from_millis(10);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn rng(seed: u64) -> crate::Rng {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

/// Two agents, a lossy wire, and signaling with no delay.
struct Net {
    a: IceAgent,
    b: IceAgent,
    now: Instant,
    /// Percent of datagrams lost.
    loss: u32,
    /// B's candidates are not signalled to A (A must learn them from checks).
    hide_b: bool,
    /// B sits behind a NAT that maps B to B_MAPPED.
    nat_b: bool,
    wire_rng: ChaCha20Rng,
    in_flight: BTreeMap<(Instant, u64), (bool, Transmit)>,
    seq: u64,
    a_events: Vec<IceEvent>,
    b_events: Vec<IceEvent>,
    log: Vec<Vec<u8>>,
}

impl Net {
    fn new(a: IceConfig, b: IceConfig) -> Net {
        let mut net = Net {
            a: IceAgent::new(a, rng(1)),
            b: IceAgent::new(b, rng(2)),
            now: Instant::from_secs(1),
            loss: 0,
            hide_b: false,
            nat_b: false,
            wire_rng: ChaCha20Rng::seed_from_u64(3),
            in_flight: BTreeMap::new(),
            seq: 0,
            a_events: Vec::new(),
            b_events: Vec::new(),
            log: Vec::new(),
        };
        net.exchange_credentials();
        net
    }

    fn pair() -> Net {
        Net::new(IceConfig::new(true), IceConfig::new(false))
    }

    fn exchange_credentials(&mut self) {
        let (u, p) = self.a.local_credentials();
        let (u, p) = (u.as_str().to_owned(), p.as_str().to_owned());
        self.b.set_remote_credentials(self.now, &u, &p).unwrap();
        let (u, p) = self.b.local_credentials();
        let (u, p) = (u.as_str().to_owned(), p.as_str().to_owned());
        self.a.set_remote_credentials(self.now, &u, &p).unwrap();
    }

    fn start(&mut self) {
        self.a.add_local_address(self.now, addr(A)).unwrap();
        self.b.add_local_address(self.now, addr(B)).unwrap();
        self.drain();
    }

    /// Moves transmits onto the wire and events to their lists (candidates are signalled).
    fn drain(&mut self) {
        loop {
            let mut progress = false;
            while let Some(t) = self.a.poll_transmit() {
                self.put(true, t);
                progress = true;
            }
            while let Some(t) = self.b.poll_transmit() {
                self.put(false, t);
                progress = true;
            }
            while let Some(e) = self.a.poll_event() {
                if let IceEvent::LocalCandidate(c) = &e {
                    let _ = self.b.add_remote_candidate(self.now, c.clone());
                }
                self.a_events.push(e);
                progress = true;
            }
            while let Some(e) = self.b.poll_event() {
                if let IceEvent::LocalCandidate(c) = &e {
                    if !self.hide_b {
                        let _ = self.a.add_remote_candidate(self.now, c.clone());
                    }
                }
                self.b_events.push(e);
                progress = true;
            }
            if !progress {
                break;
            }
        }
    }

    fn put(&mut self, from_a: bool, mut t: Transmit) {
        self.log.push(t.payload.clone());
        if self.wire_rng.next_u32() % 100 < self.loss {
            return;
        }
        if !from_a && self.nat_b && t.source == addr(B) {
            t.source = addr(B_MAPPED);
        }
        self.seq += 1;
        self.in_flight
            .insert((self.now + LATENCY, self.seq), (!from_a, t));
    }

    fn run_for(&mut self, duration: Duration) {
        let until = self.now + duration;
        loop {
            self.drain();
            let wire = self.in_flight.keys().next().map(|k| k.0);
            let next = [wire, self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next.filter(|n| *n <= until) else {
                break;
            };
            self.now = self.now.max(next);
            while let Some(entry) = self.in_flight.first_entry() {
                if entry.key().0 > self.now {
                    break;
                }
                let (to_a, mut t) = entry.remove();
                if to_a {
                    if t.destination == addr(A) {
                        self.a.handle_datagram(self.now, t.as_datagram());
                    }
                } else {
                    if self.nat_b && t.destination == addr(B_MAPPED) {
                        t.destination = addr(B);
                    }
                    if t.destination == addr(B) {
                        self.b.handle_datagram(self.now, t.as_datagram());
                    }
                }
            }
            if self.a.poll_timeout().is_some_and(|t| t <= self.now) {
                self.a.handle_timeout(self.now);
            }
            if self.b.poll_timeout().is_some_and(|t| t <= self.now) {
                self.b.handle_timeout(self.now);
            }
        }
        self.now = until;
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.drain();
    }
}

fn connected(events: &[IceEvent]) -> bool {
    events.contains(&IceEvent::StateChanged(IceState::Connected))
}

fn data(events: &[IceEvent]) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            IceEvent::Data { data, .. } => Some(data.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn host_to_host_connects_and_carries_data() {
    let mut net = Net::pair();
    net.start();
    net.run_for(Duration::from_secs(2));
    assert!(connected(&net.a_events) && connected(&net.b_events));
    let selected = net.a.selected_pair().unwrap();
    assert_eq!(selected.local.kind, CandidateKind::Host);
    assert_eq!(selected.remote.kind, CandidateKind::Host);
    assert!(selected.nominated);
    assert!(net.b.selected_pair().unwrap().nominated);
    net.a.send(net.now, b"hello b").unwrap();
    net.b.send(net.now, b"hello a").unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!(data(&net.b_events), vec![b"hello b".to_vec()]);
    assert_eq!(data(&net.a_events), vec![b"hello a".to_vec()]);
    assert!(net.a.stats().checks_sent >= 2, "{:?}", net.a.stats());
}

#[test]
fn connects_through_heavy_loss() {
    let mut net = Net::pair();
    net.loss = 40;
    net.start();
    net.run_for(Duration::from_secs(20));
    assert!(connected(&net.a_events), "{:?}", net.a.stats());
    assert!(connected(&net.b_events), "{:?}", net.b.stats());
    assert!(net.a.stats().retransmissions > 0);
}

#[test]
fn role_conflict_is_resolved_by_tie_breakers() {
    let mut net = Net::new(IceConfig::new(true), IceConfig::new(true));
    net.start();
    net.run_for(Duration::from_secs(3));
    assert!(connected(&net.a_events) && connected(&net.b_events));
    // Exactly one of them gave the controlling role up: the smaller tie-breaker.
    assert_ne!(net.a.is_controlling(), net.b.is_controlling());
    let loser_is_a = net.a.tie_breaker() < net.b.tie_breaker();
    assert_eq!(net.a.is_controlling(), !loser_is_a);
    let switched = if loser_is_a {
        &net.a_events
    } else {
        &net.b_events
    };
    assert!(switched.contains(&IceEvent::RoleChanged { controlling: false }));
}

#[test]
fn both_controlled_resolve_too() {
    let mut net = Net::new(IceConfig::new(false), IceConfig::new(false));
    net.start();
    net.run_for(Duration::from_secs(3));
    assert!(connected(&net.a_events) && connected(&net.b_events));
    assert_ne!(net.a.is_controlling(), net.b.is_controlling());
}

#[test]
fn peer_reflexive_candidates_on_both_sides() {
    let mut net = Net::pair();
    net.hide_b = true;
    net.nat_b = true;
    net.start();
    net.run_for(Duration::from_secs(3));
    assert!(connected(&net.a_events) && connected(&net.b_events));
    // A never heard of B's address: it learned it from B's check (RFC 8445 §7.3.1.3).
    let a_pair = net.a.selected_pair().unwrap();
    assert_eq!(a_pair.remote.kind, CandidateKind::PeerReflexive);
    assert_eq!(a_pair.remote.address, addr(B_MAPPED).into());
    // B learned its mapped address from A's response (RFC 8445 §7.2.5.3.1).
    let b_pair = net.b.selected_pair().unwrap();
    assert_eq!(b_pair.local.kind, CandidateKind::PeerReflexive);
    assert_eq!(b_pair.local.address, addr(B_MAPPED).into());
    assert_eq!(b_pair.local_base, addr(B));
    net.b.send(net.now, b"via nat").unwrap();
    net.run_for(Duration::from_millis(50));
    assert_eq!(data(&net.a_events), vec![b"via nat".to_vec()]);
}

#[test]
fn controlled_side_selects_only_after_nomination() {
    let mut config = IceConfig::new(true);
    config.nomination_wait = Duration::from_secs(3);
    let mut net = Net::new(config, IceConfig::new(false));
    // With one pair, the controlling side nominates as soon as it succeeds (nothing better
    // is pending), without waiting for `nomination_wait`; before that B selects nothing.
    net.start();
    net.run_for(Duration::from_millis(25));
    assert!(net.b.selected_pair().is_none());
    net.run_for(Duration::from_secs(1));
    assert!(net.b.selected_pair().is_some_and(|p| p.nominated));
}

#[test]
fn consent_keeps_a_quiet_pair_alive_and_expires_when_cut() {
    let mut net = Net::pair();
    net.start();
    net.run_for(Duration::from_secs(2));
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.a.state(), IceState::Connected);
    assert!(net.a.stats().consent_sent >= 9, "{:?}", net.a.stats());
    net.loss = 100;
    net.run_for(Duration::from_secs(12));
    assert_eq!(net.a.state(), IceState::Disconnected);
    net.run_for(Duration::from_secs(20));
    assert!(net.a_events.contains(&IceEvent::ConsentLost));
    assert_eq!(net.a.state(), IceState::Failed);
    assert_eq!(
        net.a.send(net.now, b"x"),
        Err(super::IceError::NotConnected)
    );
}

#[test]
fn keepalives_go_out_when_consent_is_slow() {
    let mut config = IceConfig::new(true);
    config.consent_interval = Duration::from_secs(25);
    config.keepalive_interval = Some(Duration::from_secs(2));
    let mut net = Net::new(config, IceConfig::new(false));
    net.start();
    net.run_for(Duration::from_secs(10));
    assert!(net.a.stats().keepalives_sent >= 3, "{:?}", net.a.stats());
}

#[test]
fn restart_keeps_data_flowing_until_a_new_pair_is_selected() {
    let mut net = Net::pair();
    net.start();
    net.run_for(Duration::from_secs(2));
    let before = net.a_events.len();
    net.a.restart(net.now);
    net.b.restart(net.now);
    // The old pair still carries data while the new checks run.
    net.a.send(net.now, b"during").unwrap();
    net.run_for(Duration::from_millis(50));
    assert_eq!(data(&net.b_events), vec![b"during".to_vec()]);
    net.exchange_credentials();
    for c in net.a.local_candidates() {
        net.b.add_remote_candidate(net.now, c).unwrap();
    }
    for c in net.b.local_candidates() {
        net.a.add_remote_candidate(net.now, c).unwrap();
    }
    net.run_for(Duration::from_secs(2));
    let after: Vec<_> = net.a_events[before..].to_vec();
    assert!(
        after
            .iter()
            .any(|e| matches!(e, IceEvent::SelectedPairChanged(_))),
        "{after:?}"
    );
    assert_eq!(net.a.state(), IceState::Connected);
    net.run_for(Duration::from_secs(40));
    assert_eq!(
        net.a.state(),
        IceState::Connected,
        "consent on the new pair"
    );
}

#[test]
fn new_remote_credentials_restart_the_other_side() {
    let mut net = Net::pair();
    net.start();
    net.run_for(Duration::from_secs(2));
    let b_ufrag = net.b.local_credentials().0.clone();
    let before = net.b_events.len();
    // Only A restarts; B sees A's new credentials (RFC 8445 §9) and restarts too.
    net.a.restart(net.now);
    let (u, p) = net.a.local_credentials();
    let (u, p) = (u.as_str().to_owned(), p.as_str().to_owned());
    net.b.set_remote_credentials(net.now, &u, &p).unwrap();
    assert_ne!(net.b.local_credentials().0, &b_ufrag);
    assert!(
        net.b.remote_candidates().is_empty(),
        "old candidates dropped"
    );
    // The same credentials again are no restart.
    let b_new = net.b.local_credentials().0.clone();
    net.b.set_remote_credentials(net.now, &u, &p).unwrap();
    assert_eq!(net.b.local_credentials().0, &b_new);
    // B's new credentials and both sides' candidates go back (a JSEP answer).
    let (u, p) = net.b.local_credentials();
    let (u, p) = (u.as_str().to_owned(), p.as_str().to_owned());
    net.a.set_remote_credentials(net.now, &u, &p).unwrap();
    for c in net.a.local_candidates() {
        net.b.add_remote_candidate(net.now, c).unwrap();
    }
    for c in net.b.local_candidates() {
        net.a.add_remote_candidate(net.now, c).unwrap();
    }
    net.run_for(Duration::from_secs(2));
    assert!(
        net.b_events[before..]
            .iter()
            .any(|e| matches!(e, IceEvent::SelectedPairChanged(_))),
        "{:?}",
        &net.b_events[before..]
    );
    assert_eq!(net.a.state(), IceState::Connected);
    assert_eq!(net.b.state(), IceState::Connected);
    net.b.send(net.now, b"again").unwrap();
    net.run_for(Duration::from_millis(50));
    assert!(data(&net.a_events).contains(&b"again".to_vec()));
}

#[test]
fn all_pairs_failing_fails_the_agent() {
    let mut config = IceConfig::new(true);
    config.check_max_transmits = 3;
    config.check_rm = 2;
    let mut net = Net::new(config, IceConfig::new(false));
    net.loss = 100;
    net.start();
    net.a.end_of_remote_candidates(net.now);
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.a.state(), IceState::Failed);
    assert!(
        net.a_events
            .contains(&IceEvent::StateChanged(IceState::Failed))
    );
}

#[test]
fn same_seeds_same_bytes() {
    let run = || {
        let mut net = Net::pair();
        net.loss = 10;
        net.start();
        net.run_for(Duration::from_secs(5));
        net.log
    };
    assert_eq!(run(), run());
}

#[test]
fn garbage_and_strangers_are_dropped() {
    let mut net = Net::pair();
    net.start();
    net.run_for(Duration::from_secs(2));
    let junk: [&[u8]; 3] = [&[0, 1, 0, 0], &[0x17, 0xfe, 0xfd], b""];
    for payload in junk {
        net.a.handle_datagram(
            net.now,
            crate::Datagram {
                source: addr("192.0.2.66:1"),
                destination: addr(A),
                payload,
            },
        );
    }
    assert!(data(&net.a_events).is_empty());
    assert!(net.a.stats().malformed + net.a.stats().unknown >= 2);
    assert_eq!(net.a.state(), IceState::Connected);
}

/// A request from "the peer" at `B` to agent `a`, authenticated with `a`'s password.
fn peer_request(a: &IceAgent, id: u8, extra: &[crate::stun::Attribute<'_>]) -> Vec<u8> {
    use crate::stun::{Attribute, MessageBuilder, MessageType, TransactionId, short_term_key};
    let (ufrag, pwd) = a.local_credentials();
    let username = format!("{}:peer", ufrag.as_str());
    let mut request = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([id; 12]));
    request.add(&Attribute::Username(&username));
    request.add(&Attribute::Priority(super::candidate_priority(
        110, 65535, 1,
    )));
    for attr in extra {
        request.add(attr);
    }
    request.add_message_integrity(&short_term_key(pwd.as_str()));
    request.add_fingerprint();
    request.finish()
}

/// Hands `payload` from B to `agent` and returns the ERROR-CODE of its answer (`None` for a
/// success response).
fn answer(agent: &mut IceAgent, now: Instant, payload: &[u8]) -> Option<u16> {
    agent.handle_datagram(
        now,
        crate::Datagram {
            source: addr(B),
            destination: addr(A),
            payload,
        },
    );
    let mut code = None;
    let mut answered = false;
    while let Some(t) = agent.poll_transmit() {
        let msg = crate::stun::Message::parse(&t.payload).unwrap();
        if msg.message_type().class != crate::stun::Class::Request {
            answered = true;
            code = msg.error_code().map(|e| e.code);
        }
    }
    assert!(answered, "no response");
    code
}

#[test]
fn role_conflict_answers_487_or_yields_by_tie_breaker() {
    use crate::stun::Attribute;
    let now = Instant::ZERO;
    let mut a = IceAgent::new(IceConfig::new(true), rng(9));
    a.add_local_address(now, addr(A)).unwrap();
    // RFC 8445 §7.3.1.1: controlling vs controlling, ours larger (or equal) => 487.
    let low = peer_request(&a, 1, &[Attribute::IceControlling(0)]);
    assert_eq!(answer(&mut a, now, &low), Some(487));
    assert!(a.is_controlling());
    // Theirs larger => we become controlled and answer with success.
    let high = peer_request(&a, 2, &[Attribute::IceControlling(u64::MAX)]);
    assert_eq!(answer(&mut a, now, &high), None);
    assert!(!a.is_controlling());
    // Controlled vs controlled, ours smaller => 487, we stay controlled.
    let controlled = peer_request(&a, 3, &[Attribute::IceControlled(u64::MAX)]);
    assert_eq!(answer(&mut a, now, &controlled), Some(487));
    assert_eq!(a.stats().role_conflicts, 3);
}

#[test]
fn requests_are_authenticated_and_learn_peer_reflexive_remotes() {
    use crate::stun::{Attribute, AttributeType};
    let now = Instant::ZERO;
    let mut a = IceAgent::new(IceConfig::new(true), rng(9));
    a.add_local_address(now, addr(A)).unwrap();
    let mut forged = peer_request(&a, 1, &[]);
    let last = forged.len() - 9;
    forged[last] ^= 1; // inside MESSAGE-INTEGRITY; FINGERPRINT no longer matches either
    a.handle_datagram(
        now,
        crate::Datagram {
            source: addr(B),
            destination: addr(A),
            payload: &forged,
        },
    );
    assert!(
        a.poll_transmit().is_none(),
        "bad fingerprint: dropped silently"
    );
    let unknown = Attribute::Unknown {
        ty: AttributeType(0x0042),
        value: b"x",
    };
    let request = peer_request(&a, 2, &[unknown]);
    assert_eq!(answer(&mut a, now, &request), Some(420));
    assert!(a.remote_candidates().is_empty());
    let request = peer_request(&a, 3, &[]);
    assert_eq!(answer(&mut a, now, &request), None);
    // RFC 8445 §7.3.1.3: the source became a peer-reflexive remote candidate, paired.
    let remote = &a.remote_candidates()[0];
    assert_eq!(remote.kind, CandidateKind::PeerReflexive);
    assert_eq!(remote.priority, super::candidate_priority(110, 65535, 1));
    assert_eq!(a.pairs().len(), 1);
}

#[test]
fn checks_retransmit_on_rfc_8489_schedule_then_fail() {
    let mut config = IceConfig::new(true);
    config.check_max_transmits = 4;
    config.check_rm = 2;
    let mut a = IceAgent::new(config, rng(4));
    let mut now = Instant::ZERO;
    a.add_local_address(now, addr(A)).unwrap();
    a.set_remote_credentials(now, "peer", "peerpasswordpeerpassword")
        .unwrap();
    let remote = super::pair::make_candidate(
        CandidateKind::Host,
        addr(B),
        addr(B).ip(),
        None,
        65535,
        None,
    );
    a.add_remote_candidate(now, remote).unwrap();
    a.end_of_remote_candidates(now);
    let mut sent = Vec::new();
    for _ in 0..20 {
        while let Some(t) = a.poll_transmit() {
            assert_eq!((t.source, t.destination), (addr(A), addr(B)));
            sent.push(now.as_nanos() / 1_000_000);
        }
        let Some(next) = a.poll_timeout() else { break };
        now = next;
        a.handle_timeout(now);
    }
    // RFC 8445 §14.3: RTO = max(500 ms, Ta x 1); doubling per RFC 8489 §6.2.1.
    assert_eq!(sent, [0, 500, 1500, 3500]);
    // Rm x RTO after the last one: the pair and, with nothing else to try, the agent fail.
    assert_eq!(a.state(), IceState::Failed);
    assert_eq!(now, Instant::from_millis(4500));
    assert_eq!(a.pairs()[0].state, super::PairState::Failed);
    assert_eq!(a.poll_timeout(), None, "nothing left to wake up for");
}

#[test]
fn disconnected_recovers_when_consent_returns() {
    let mut net = Net::pair();
    net.start();
    net.run_for(Duration::from_secs(2));
    net.loss = 100;
    net.run_for(Duration::from_secs(14));
    assert_eq!(net.a.state(), IceState::Disconnected);
    net.loss = 0;
    net.run_for(Duration::from_secs(8));
    assert_eq!(net.a.state(), IceState::Connected);
    assert!(!net.a_events.contains(&IceEvent::ConsentLost));
    let states: Vec<_> = net
        .a_events
        .iter()
        .filter_map(|e| match e {
            IceEvent::StateChanged(s) => Some(*s),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            IceState::Checking,
            IceState::Connected,
            IceState::Disconnected,
            IceState::Connected
        ]
    );
}
