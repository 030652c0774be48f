//! TURN server throughput, in memory: allocations per second (the unauthenticated Allocate
//! answered with 401, then the authenticated Allocate answered with success, from many client
//! addresses) and relayed packets per second (1,200-byte ChannelData and Send indications
//! through one allocation to a peer, and the peer's datagrams back as ChannelData and Data
//! indications). `cargo bench -p pigeon --bench turn`; throughput is in elements per second
//! (allocations or packets).

use core::net::{IpAddr, SocketAddr};
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pigeon::stun::{
    Attribute, Class, Message, MessageBuilder, MessageType, Method, PasswordAlgorithm,
    TransactionId, long_term_key,
};
use pigeon::turn::{
    ChannelData, TRANSPORT_UDP, TurnClient, TurnClientConfig, TurnEvent, TurnServer,
    TurnServerConfig,
};
use pigeon::{Datagram, Instant, Machine};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const PAYLOAD: usize = 1200;
/// Allocations made on one server before a fresh one replaces it (the port range holds them).
const ROUND: u64 = 20_000;
const REALM: &str = "example.org";

fn listen() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 3478))
}

fn server() -> TurnServer {
    let mut config = TurnServerConfig::new(
        listen(),
        IpAddr::from([192, 0, 2, 1]),
        (1024, 65_535),
        REALM,
    )
    .with_user("alice", "secret");
    config.max_allocations = usize::MAX;
    config.max_allocations_per_user = usize::MAX;
    TurnServer::new(config, Box::new(ChaCha20Rng::seed_from_u64(1)))
}

/// Client `i`'s address: distinct for every allocation of a round.
fn client_addr(i: u64) -> SocketAddr {
    let [_, _, _, _, _, a, b, c] = i.to_be_bytes();
    SocketAddr::from(([10, a, b, c], 5000))
}

fn allocate_request(i: u64, auth: Option<(&str, &[u8])>) -> Vec<u8> {
    let ty = MessageType::new(Method::ALLOCATE, Class::Request);
    let mut id = [0; 12];
    id[..8].copy_from_slice(&i.to_be_bytes());
    id[8] = u8::from(auth.is_some());
    let mut b = MessageBuilder::new(ty, TransactionId(id));
    b.add(&Attribute::RequestedTransport(TRANSPORT_UDP));
    if let Some((nonce, key)) = auth {
        b.add(&Attribute::Username("alice"));
        b.add(&Attribute::Realm(REALM));
        b.add(&Attribute::Nonce(nonce));
        b.add_message_integrity(key);
    }
    b.finish()
}

/// The last thing the server sends back for `request` from `client`.
fn exchange(
    server: &mut TurnServer,
    now: Instant,
    client: SocketAddr,
    request: &[u8],
) -> Option<Vec<u8>> {
    server.handle_datagram(
        now,
        Datagram {
            source: client,
            destination: listen(),
            payload: request,
        },
    );
    let mut answer = None;
    while let Some(t) = server.poll_transmit() {
        answer = Some(t.payload);
    }
    while server.poll_event().is_some() {}
    answer
}

/// Only the server's work is timed: requests are built beforehand (the nonce of a 401 is
/// not bound to a client, so one serves the whole round).
fn allocations(c: &mut Criterion) {
    let mut group = c.benchmark_group("turn_server");
    group.throughput(Throughput::Elements(1));
    group.bench_function("allocate_401_then_authenticated", |b| {
        b.iter_custom(|iters| {
            let key = long_term_key(PasswordAlgorithm::Md5, "alice", REALM, "secret");
            let now = Instant::from_secs(1);
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = (iters - done).min(ROUND);
                let mut server = server();
                let probe = exchange(&mut server, now, client_addr(0), &allocate_request(0, None))
                    .expect("a 401");
                let nonce = Message::parse(&probe)
                    .ok()
                    .and_then(|m| m.nonce().map(str::to_owned))
                    .expect("401 carries a NONCE");
                let requests: Vec<(SocketAddr, Vec<u8>, Vec<u8>)> = (1..=n)
                    .map(|i| {
                        let auth = allocate_request(i, Some((&nonce, &key)));
                        (client_addr(i), allocate_request(i, None), auth)
                    })
                    .collect();
                let start = std::time::Instant::now();
                for (client, plain, auth) in &requests {
                    black_box(exchange(&mut server, now, *client, plain));
                    black_box(exchange(&mut server, now, *client, auth));
                }
                total += start.elapsed();
                assert_eq!(server.allocation_count() as u64, n);
                done += n;
            }
            total
        })
    });
    group.finish();
}

/// A server with one allocation, a channel to `peer` and a permission (no channel) for
/// `other`, set up by a real [`TurnClient`]; returns (server, relayed address, channel).
fn relay_setup(peer: SocketAddr, other: SocketAddr) -> (TurnServer, SocketAddr, u16) {
    let mut server = server();
    let local = client_addr(1);
    let config = TurnClientConfig::new(listen(), local, "alice", "secret");
    let mut client = TurnClient::new(config, Box::new(ChaCha20Rng::seed_from_u64(2)));
    let now = Instant::from_secs(1);
    let mut relayed = None;
    let mut channel = None;
    let step = |client: &mut TurnClient, server: &mut TurnServer| {
        for _ in 0..8 {
            while let Some(t) = client.poll_transmit() {
                server.handle_datagram(now, t.as_datagram());
            }
            while let Some(t) = server.poll_transmit() {
                client.handle_datagram(now, t.as_datagram());
            }
        }
        while server.poll_event().is_some() {}
        let mut events = Vec::new();
        while let Some(e) = client.poll_event() {
            events.push(e);
        }
        events
    };
    client.allocate(now).expect("allocate");
    for e in step(&mut client, &mut server) {
        if let TurnEvent::Allocated { relayed: r, .. } = e {
            relayed = Some(r);
        }
    }
    client.bind_channel(now, peer).expect("bind");
    client
        .create_permission(now, other.ip())
        .expect("permission");
    for e in step(&mut client, &mut server) {
        if let TurnEvent::ChannelBound { channel: n, .. } = e {
            channel = Some(n);
        }
    }
    (
        server,
        relayed.expect("allocated"),
        channel.expect("channel bound"),
    )
}

fn relay(c: &mut Criterion) {
    let peer = SocketAddr::from(([198, 51, 100, 9], 7000));
    let other = SocketAddr::from(([198, 51, 100, 10], 7000));
    let (mut server, relayed, channel) = relay_setup(peer, other);
    let client = client_addr(1);
    let now = Instant::from_secs(2);
    let data = vec![0xab; PAYLOAD];
    let channel_data = ChannelData {
        channel,
        data: &data,
    }
    .to_vec();
    let send = {
        let ty = MessageType::new(Method::SEND, Class::Indication);
        let mut b = MessageBuilder::new(ty, TransactionId([9; 12]));
        b.add(&Attribute::XorPeerAddress(other));
        b.add(&Attribute::Data(&data));
        b.finish()
    };
    let mut group = c.benchmark_group("turn_relay");
    group.throughput(Throughput::Elements(1));
    let mut run = |name: &str, source: SocketAddr, destination: SocketAddr, payload: &[u8]| {
        let before = server.stats();
        group.bench_function(name, |b| {
            b.iter(|| {
                server.handle_datagram(
                    now,
                    Datagram {
                        source,
                        destination,
                        payload,
                    },
                );
                black_box(server.poll_transmit().expect("relayed"))
            })
        });
        let after = server.stats();
        assert_eq!(after.dropped, before.dropped, "{name}: nothing dropped");
    };
    run("channel_data_to_peer", client, listen(), &channel_data);
    run("send_indication_to_peer", client, listen(), &send);
    run("peer_to_channel_data", peer, relayed, &data);
    run("peer_to_data_indication", other, relayed, &data);
    group.finish();
}

criterion_group!(benches, allocations, relay);
criterion_main!(benches);
