//! Fuzz body for the ICE agent (`pigeon::ice::IceAgent`) fed arbitrary datagrams, shared by the
//! `ice_agent` target and by `tests/tests/fuzz_corpus.rs`.
//!
//! The agent has one host address, known remote credentials and one remote candidate, so a
//! fuzzer that finds a valid check reaches the checklist. Input: one flag byte (bit 0:
//! controlling), then records of `[source selector] [milliseconds to advance] [length: u16 BE]
//! [payload]` (the last payload may be short). The agent must not panic, everything it
//! sends must leave from its host address, and after `handle_timeout(now)` it must not ask
//! to be woken at or before `now` again.

// The fuzz target calls `agent` and the corpus test also `seeds`; they are `pub` for the
// fuzz target although this file is a private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::ice::{Candidate, CandidateKind, IceAgent, IceConfig, candidate_priority};
use pigeon::stun::{Attribute, Message, MessageBuilder, MessageType, TransactionId};
use pigeon::{Datagram, Instant, Machine};
use rand_core::SeedableRng;

const HOST: &str = "192.0.2.10:5000";
const REMOTE: &str = "198.51.100.20:6000";
const REMOTE_UFRAG: &str = "fuzzpeer";
const REMOTE_PWD: &str = "fuzzpeerpasswordfuzzpeer";

fn addr(s: &str) -> SocketAddr {
    // NOTE(unwrap): the constants above are valid socket addresses.
    s.parse().expect("valid address")
}

/// Sources a record can come from: the remote candidate, a stranger, an IPv6 stranger.
fn source(selector: u8) -> SocketAddr {
    match selector % 4 {
        0 | 1 => addr(REMOTE),
        2 => SocketAddr::from(([203, 0, 113, 7], 40_000 + u16::from(selector >> 2))),
        _ => SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 7)),
    }
}

fn remote_candidate() -> Candidate {
    let a = addr(REMOTE);
    Candidate {
        // NOTE(unwrap): a fixed valid foundation.
        foundation: pigeon::ice::Foundation::new("1").expect("valid"),
        component: 1,
        transport: pigeon::ice::Transport::udp(),
        priority: candidate_priority(126, 65535, 1),
        address: a.into(),
        kind: CandidateKind::Host,
        related_address: None,
        extensions: Vec::new(),
    }
}

/// The agent every input starts from.
fn fresh(controlling: bool) -> IceAgent {
    let rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(0));
    let mut agent = IceAgent::new(IceConfig::new(controlling), rng);
    let now = Instant::ZERO;
    // NOTE(unwrap): fixed, valid inputs on a fresh agent.
    agent
        .add_local_address(now, addr(HOST))
        .expect("fresh agent");
    agent
        .set_remote_credentials(now, REMOTE_UFRAG, REMOTE_PWD)
        .expect("valid credentials");
    agent
        .add_remote_candidate(now, remote_candidate())
        .expect("fresh agent");
    agent
}

fn drain(agent: &mut IceAgent) -> Vec<pigeon::Transmit> {
    let mut out = Vec::new();
    while let Some(t) = agent.poll_transmit() {
        assert_eq!(t.source, addr(HOST), "{t:?}");
        out.push(t);
    }
    while agent.poll_event().is_some() {}
    out
}

/// Feeds the agent the datagrams `data` describes.
pub fn agent(data: &[u8]) {
    replay(data);
}

/// Whether replaying `data` leaves the agent with a selected pair (the `connect` seed must).
pub fn seed_connects(data: &[u8]) -> bool {
    replay(data).is_some_and(|agent| agent.selected_pair().is_some())
}

fn replay(data: &[u8]) -> Option<IceAgent> {
    let (&flags, mut rest) = data.split_first()?;
    let mut agent = fresh(flags & 1 != 0);
    drain(&mut agent);
    let mut now = Instant::ZERO;
    while let [src, advance, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        now += Duration::from_millis(u64::from(*advance) * 20);
        agent.handle_timeout(now);
        agent.handle_datagram(
            now,
            Datagram {
                source: source(*src),
                destination: addr(HOST),
                payload,
            },
        );
        drain(&mut agent);
        // After handling a time, the agent never asks to be woken for it again (no spin).
        agent.handle_timeout(now);
        drain(&mut agent);
        if let Some(at) = agent.poll_timeout() {
            assert!(at > now, "poll_timeout {at} not after {now}");
        }
    }
    let _ = agent.send(now, b"data");
    drain(&mut agent);
    Some(agent)
}

fn record(out: &mut Vec<u8>, src: u8, advance: u8, payload: &[u8]) {
    out.push(src);
    out.push(advance);
    // NOTE(unwrap): seeds are small.
    out.extend_from_slice(&u16::try_from(payload.len()).expect("small").to_be_bytes());
    out.extend_from_slice(payload);
}

/// Seeds: a valid check from the peer, a valid answer to the agent's first check (both
/// authenticated with the credentials the seeded agent uses), and application data.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    // The connect seed plays the controlling peer: its USE-CANDIDATE nominates the pair.
    let mut agent = fresh(false);
    let (local_ufrag, local_pwd) = agent.local_credentials();
    let (local_ufrag, local_pwd) = (
        local_ufrag.as_str().to_owned(),
        local_pwd.as_str().to_owned(),
    );
    let first = drain(&mut agent)
        .into_iter()
        .find(|t| Message::parse(&t.payload).is_ok())
        // NOTE(unwrap): the agent checks its only pair at once.
        .expect("a first check");
    // NOTE(unwrap): the agent's own check parses.
    let check_id = Message::parse(&first.payload)
        .expect("parses")
        .transaction_id();

    let peer_key = pigeon::stun::short_term_key(&local_pwd);
    let mut request = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([7; 12]));
    let username = format!("{local_ufrag}:{REMOTE_UFRAG}");
    request.add(&Attribute::Username(&username));
    request.add(&Attribute::Priority(candidate_priority(110, 65535, 1)));
    request.add(&Attribute::IceControlling(1));
    request.add(&Attribute::UseCandidate);
    request.add_message_integrity(&peer_key);
    request.add_fingerprint();
    let request = request.finish();

    let mut response = MessageBuilder::new(MessageType::BINDING_SUCCESS, check_id);
    response.add(&Attribute::XorMappedAddress(addr(HOST)));
    response.add_message_integrity(&pigeon::stun::short_term_key(REMOTE_PWD));
    response.add_fingerprint();
    let response = response.finish();

    let mut conflict = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([8; 12]));
    conflict.add(&Attribute::Username(&username));
    conflict.add(&Attribute::Priority(1));
    conflict.add(&Attribute::IceControlling(u64::MAX));
    conflict.add_message_integrity(&peer_key);
    conflict.add_fingerprint();
    let conflict = conflict.finish();

    let mut connect = vec![0x00];
    record(&mut connect, 0, 1, &request);
    record(&mut connect, 0, 1, &response);
    record(&mut connect, 0, 30, b"\x17\xfe\xfdapplication");
    let mut conflicted = vec![0x01];
    record(&mut conflicted, 0, 0, &conflict);
    record(&mut conflicted, 2, 0, &request);
    let mut garbage = vec![0x00];
    record(&mut garbage, 1, 200, &[0, 1, 0, 4, 0x21, 0x12, 0xa4, 0x42]);
    record(&mut garbage, 3, 200, b"hello");
    vec![
        ("connect", connect),
        ("role_conflict", conflicted),
        ("garbage", garbage),
    ]
}
