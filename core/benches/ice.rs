//! ICE agent throughput, in memory (no sockets, virtual time):
//!
//! - **checks handled/s**: a controlled agent with one host socket and 64 remote host
//!   candidates, every pair already succeeded, is fed authenticated Binding requests
//!   (USERNAME, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY, FINGERPRINT) from the 64
//!   remotes in turn; each is answered with an authenticated success response, which is
//!   drained. The requests are built beforehand, so only the agent's work is timed: parsing,
//!   FINGERPRINT and MESSAGE-INTEGRITY checks, the response, the pair lookup and its service.
//! - **connects/s**: two agents (one host candidate each) with credentials and candidates
//!   exchanged, wired with zero latency, run until both have selected a pair (checks, triggered
//!   checks, nomination).
//!
//! `cargo bench -p pigeon --bench ice`; throughput is in checks or connects per second.

use core::net::SocketAddr;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pigeon::ice::{IceAgent, IceConfig, IceEvent, PairState, parse_candidate};
use pigeon::stun::{
    Attribute, Class, Message, MessageBuilder, MessageType, TransactionId, short_term_key,
};
use pigeon::{Datagram, Instant, Machine, Transmit};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const REMOTES: u8 = 64;
const PEER_UFRAG: &str = "peer";
const PEER_PWD: &str = "peerpasswordpeerpassword";

fn local() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 10], 5000))
}

fn remote(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 1, 0, i], 6000))
}

fn rng(seed: u64) -> pigeon::Rng {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

/// The peer's authenticated success response to the agent's check `t`.
fn answer(t: &Transmit) -> Option<Vec<u8>> {
    let msg = Message::parse(&t.payload).ok()?;
    if msg.message_type().class != Class::Request {
        return None;
    }
    let mut b = MessageBuilder::success_response(&msg);
    b.add(&Attribute::XorMappedAddress(t.source));
    b.add_message_integrity(&short_term_key(PEER_PWD));
    b.add_fingerprint();
    Some(b.finish())
}

/// A controlled agent whose 64 pairs have all succeeded (its checks answered by the peer).
fn warmed_agent() -> IceAgent {
    let mut agent = IceAgent::new(IceConfig::new(false), rng(1));
    let mut now = Instant::ZERO;
    agent.add_local_address(now, local()).unwrap();
    agent
        .set_remote_credentials(now, PEER_UFRAG, PEER_PWD)
        .unwrap();
    for i in 0..REMOTES {
        let line = format!(
            "candidate:{i} 1 udp 2130706431 {} {} typ host",
            remote(i).ip(),
            remote(i).port()
        );
        agent
            .add_remote_candidate(now, parse_candidate(&line).unwrap())
            .unwrap();
    }
    for _ in 0..100_000 {
        while let Some(t) = agent.poll_transmit() {
            if let Some(response) = answer(&t) {
                let datagram = Datagram {
                    source: t.destination,
                    destination: t.source,
                    payload: &response,
                };
                agent.handle_datagram(now, datagram);
            }
        }
        while agent.poll_event().is_some() {}
        if agent
            .pairs()
            .iter()
            .all(|p| p.state == PairState::Succeeded)
        {
            return agent;
        }
        now = agent
            .poll_timeout()
            .unwrap_or(now + Duration::from_millis(1))
            .max(now);
        agent.handle_timeout(now);
    }
    panic!("pairs did not all succeed: {:?}", agent.pairs());
}

/// The peer's check from remote `i`, as the agent's credentials require.
fn request(agent: &IceAgent, i: u8) -> Vec<u8> {
    let (ufrag, pwd) = agent.local_credentials();
    let username = format!("{}:{PEER_UFRAG}", ufrag.as_str());
    let mut id = [0; 12];
    id[0] = i;
    let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId(id));
    b.add(&Attribute::Username(&username));
    b.add(&Attribute::Priority(1_862_270_975));
    b.add(&Attribute::IceControlling(0x0123_4567_89ab_cdef));
    b.add_message_integrity(&short_term_key(pwd.as_str()));
    b.add_fingerprint();
    b.finish()
}

fn checks(c: &mut Criterion) {
    let mut agent = warmed_agent();
    let requests: Vec<(SocketAddr, Vec<u8>)> = (0..REMOTES)
        .map(|i| (remote(i), request(&agent, i)))
        .collect();
    let now = Instant::from_secs(1);
    let before = agent.stats();
    let mut group = c.benchmark_group("ice");
    group.throughput(Throughput::Elements(1));
    let mut next = 0;
    group.bench_function("check handled", |b| {
        b.iter(|| {
            let (source, payload) = &requests[next % requests.len()];
            next += 1;
            agent.handle_datagram(
                now,
                Datagram {
                    source: *source,
                    destination: local(),
                    payload,
                },
            );
            while let Some(t) = agent.poll_transmit() {
                black_box(t);
            }
        })
    });
    group.finish();
    // Every request was authenticated and answered; nothing else was sent.
    let after = agent.stats();
    assert!(after.requests_received > before.requests_received);
    assert_eq!(after.malformed, before.malformed);
    assert_eq!(after.checks_sent, before.checks_sent);
}

/// Carries `from`'s candidates and datagrams to `to` at once; returns whether there were any.
fn pump(from: &mut IceAgent, to: &mut IceAgent, now: Instant) -> bool {
    let mut progress = false;
    while let Some(e) = from.poll_event() {
        if let IceEvent::LocalCandidate(c) = e {
            to.add_remote_candidate(now, c).unwrap();
        }
        progress = true;
    }
    while let Some(t) = from.poll_transmit() {
        let datagram = Datagram {
            source: t.source,
            destination: t.destination,
            payload: &t.payload,
        };
        to.handle_datagram(now, datagram);
        progress = true;
    }
    progress
}

/// Two agents connect over a zero-latency wire; returns the virtual time it took.
fn connect(seed: u64) -> Duration {
    let mut a = IceAgent::new(IceConfig::new(true), rng(seed));
    let mut b = IceAgent::new(IceConfig::new(false), rng(seed + 1));
    let mut now = Instant::ZERO;
    let (a_addr, b_addr) = (local(), remote(1));
    a.add_local_address(now, a_addr).unwrap();
    b.add_local_address(now, b_addr).unwrap();
    let creds = |x: &IceAgent| {
        let (u, p) = x.local_credentials();
        (u.as_str().to_owned(), p.as_str().to_owned())
    };
    let ((au, ap), (bu, bp)) = (creds(&a), creds(&b));
    a.set_remote_credentials(now, &bu, &bp).unwrap();
    b.set_remote_credentials(now, &au, &ap).unwrap();
    loop {
        while pump(&mut a, &mut b, now) | pump(&mut b, &mut a, now) {}
        if a.selected_pair().is_some() && b.selected_pair().is_some() {
            return now - Instant::ZERO;
        }
        let next = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .expect("a pending timer while connecting");
        now = next.max(now);
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
}

fn connects(c: &mut Criterion) {
    let took = connect(1);
    assert!(took < Duration::from_secs(2), "{took:?}");
    let mut group = c.benchmark_group("ice");
    group.throughput(Throughput::Elements(1));
    let mut seed = 0;
    group.bench_function("two agents connect", |b| {
        b.iter(|| {
            seed += 2;
            black_box(connect(seed))
        })
    });
    group.finish();
}

criterion_group!(benches, checks, connects);
criterion_main!(benches);
