//! One DHT node under load, in memory, and what its state costs.
//!
//! - Queries handled per second: a node whose routing table was filled by 10,000 senders
//!   answers ping, find_node, get_peers and announce_peer (with valid tokens) from those 10,000
//!   source addresses; every answer is drained. One criterion benchmark per method and one of
//!   the four mixed.
//! - Heap bytes per routing-table entry, per announced peer and per BEP 44 item (immutable and
//!   mutable), counted by a global allocator wrapper around the system allocator (live bytes
//!   requested, not allocator overhead), printed before the criterion runs.
//!
//! `cargo bench -p pigeon --bench dht`.

use core::net::SocketAddr;
use core::time::Duration;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pigeon::dht::krpc::{self, Body, Message, Method, NodeInfo, Query};
use pigeon::dht::peers::{PeerStore, PeerStoreConfig};
use pigeon::dht::routing::{Entry, RoutingConfig, RoutingTable};
use pigeon::dht::storage::{ItemStore, ItemStoreConfig};
use pigeon::dht::{DhtConfig, DhtNode, MutableItem, NodeId};
use pigeon::{Datagram, Instant, Machine};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Bytes allocated and not yet freed, over the whole process.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// GlobalAlloc is an unsafe trait: this forwards to the system allocator unchanged and only
// keeps a running total of the bytes asked for.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's, passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` (or `realloc`) above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as the caller's, passed through.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

const SOURCES: usize = 10_000;
const LOCAL: SocketAddr = SocketAddr::new(
    core::net::IpAddr::V4(core::net::Ipv4Addr::new(192, 0, 2, 1)),
    6881,
);

/// Source address `i`: distinct IPs, so the per-IP state (rate limiter, tokens) is exercised.
fn source(i: usize) -> SocketAddr {
    let [_, _, _, _, _, a, b, c] = (i as u64).to_be_bytes();
    SocketAddr::from(([10, a, b, c], 6881))
}

fn node() -> DhtNode {
    let mut config = DhtConfig::new(LOCAL);
    // Measure the handling, not the per-IP limit turning queries away.
    config.queries_per_ip_per_second = u32::MAX;
    // Every announce is stored (the default keeps 2,048 info-hashes and refuses the rest).
    config.peers.max_info_hashes = 2 * SOURCES;
    DhtNode::new(config, Box::new(ChaCha20Rng::seed_from_u64(1)))
}

fn query(tid: u32, id: NodeId, method: Method<'_>) -> Vec<u8> {
    let tid = tid.to_be_bytes();
    Message {
        transaction_id: &tid,
        body: Body::Query(Query {
            id,
            method,
            want: None,
        }),
        version: Some(b"BN01"),
        ip: None,
        read_only: false,
    }
    .to_bytes()
}

/// Feeds one datagram and drains what it caused; returns the answers.
fn feed(dht: &mut DhtNode, now: Instant, from: SocketAddr, payload: &[u8]) -> usize {
    dht.handle_datagram(
        now,
        Datagram {
            source: from,
            destination: LOCAL,
            payload,
        },
    );
    let mut answers = 0;
    while let Some(t) = dht.poll_transmit() {
        black_box(t);
        answers += 1;
    }
    while dht.poll_event().is_some() {}
    answers
}

/// One batch per method, each with one query from every source: (name, [(source, bytes)]).
type Batches = Vec<(&'static str, Vec<(SocketAddr, Vec<u8>)>)>;

/// A node that has heard from every source, and the query batches. Tokens for announce_peer
/// come from the node's own get_peers answers, as a real peer gets them.
fn loaded_node(now: Instant) -> (DhtNode, Batches) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let ids: Vec<NodeId> = (0..SOURCES).map(|_| NodeId::random(&mut rng)).collect();
    let hashes: Vec<NodeId> = (0..SOURCES).map(|_| NodeId::random(&mut rng)).collect();
    let mut dht = node();
    let mut tokens = Vec::with_capacity(SOURCES);
    for i in 0..SOURCES {
        let get = query(
            i as u32,
            ids[i],
            Method::GetPeers {
                info_hash: hashes[i],
            },
        );
        dht.handle_datagram(
            now,
            Datagram {
                source: source(i),
                destination: LOCAL,
                payload: &get,
            },
        );
        // The answer is the transmit to the asker (liveness pings of questionable table
        // entries may come out too).
        let mut token = None;
        while let Some(t) = dht.poll_transmit() {
            if t.destination != source(i) {
                continue;
            }
            if let Ok(Body::Response(r)) = krpc::decode(&t.payload).map(|m| m.body) {
                token = r.token.map(<[u8]>::to_vec);
            }
        }
        // NOTE(unwrap): BEP 5 get_peers answers carry a token (rate limit off).
        tokens.push(token.expect("token in the get_peers answer"));
    }
    let batch = |f: &dyn Fn(usize) -> Vec<u8>| -> Vec<(SocketAddr, Vec<u8>)> {
        (0..SOURCES).map(|i| (source(i), f(i))).collect()
    };
    let batches: Batches = vec![
        ("ping", batch(&|i| query(i as u32, ids[i], Method::Ping))),
        (
            "find_node",
            batch(&|i| {
                let target = hashes[(i + 1) % SOURCES];
                query(i as u32, ids[i], Method::FindNode { target })
            }),
        ),
        (
            "get_peers",
            batch(&|i| {
                query(
                    i as u32,
                    ids[i],
                    Method::GetPeers {
                        info_hash: hashes[i],
                    },
                )
            }),
        ),
        (
            "announce_peer",
            batch(&|i| {
                let method = Method::AnnouncePeer {
                    info_hash: hashes[i],
                    port: 6881,
                    token: &tokens[i],
                    implied_port: false,
                };
                query(i as u32, ids[i], method)
            }),
        ),
    ];
    (dht, batches)
}

fn messages(c: &mut Criterion) {
    let mut now = Instant::from_secs(1);
    let (mut dht, batches) = loaded_node(now);
    let mut answered = 0;
    let mut sent = 0;
    for (_, batch) in &batches {
        for (from, payload) in batch {
            answered += feed(&mut dht, now, *from, payload);
            sent += 1;
        }
    }
    let stats = dht.stats();
    println!(
        "dht bench: table of {} nodes; warm-up: {sent} queries, {answered} answers, {} bad \
         tokens, {} rate-limited",
        dht.routing_table().len(),
        stats.bad_tokens,
        stats.rate_limited,
    );
    assert_eq!(answered, sent, "every query answered");
    assert_eq!(stats.bad_tokens, 0, "announce tokens accepted");

    let mut group = c.benchmark_group("dht");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    for (name, batch) in &batches {
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                // A little time passes per batch; tokens stay valid (10 minutes).
                now += Duration::from_millis(1);
                for (from, payload) in batch {
                    feed(&mut dht, now, *from, black_box(payload));
                }
            })
        });
    }
    let mixed: Vec<&(SocketAddr, Vec<u8>)> = (0..SOURCES)
        .flat_map(|i| batches.iter().map(move |(_, b)| &b[i]))
        .collect();
    group.throughput(Throughput::Elements(mixed.len() as u64));
    group.bench_function("mixed", |b| {
        b.iter(|| {
            now += Duration::from_millis(1);
            for (from, payload) in &mixed {
                feed(&mut dht, now, *from, black_box(payload));
            }
        })
    });
    group.finish();
    assert_eq!(dht.stats().bad_tokens, 0, "announce tokens stayed valid");
}

/// Heap bytes per routing-table entry, per announced peer and per BEP 44 item, printed once.
fn memory() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let own = NodeId::random(&mut rng);
    let infos: Vec<NodeInfo> = (0..100_000)
        .map(|i| NodeInfo {
            id: NodeId::random(&mut rng),
            addr: source(i),
        })
        .collect();
    for replacements in [0, 8] {
        let config = RoutingConfig {
            replacements,
            ..RoutingConfig::default()
        };
        let before = live();
        let mut table = RoutingTable::new(own, config, Instant::ZERO);
        for info in &infos {
            table.on_response(Instant::ZERO, *info, None);
        }
        let bytes = live() - before;
        println!(
            "dht memory: routing table, {replacements} replacements per bucket: {} entries in \
             {} buckets = {bytes} bytes, {:.0} bytes per entry (size_of::<Entry>() = {})",
            table.len(),
            table.bucket_count(),
            bytes as f64 / table.len() as f64,
            size_of::<Entry>(),
        );
        black_box(&table);
    }

    let hashes: Vec<NodeId> = (0..1_000).map(|_| NodeId::random(&mut rng)).collect();
    for per_hash in [1, 50] {
        let before = live();
        let mut store = PeerStore::new(PeerStoreConfig::default());
        let mut stored = 0;
        for (i, hash) in hashes.iter().enumerate() {
            for p in 0..per_hash {
                stored += usize::from(store.announce(Instant::ZERO, *hash, source(i * 50 + p)));
            }
        }
        let bytes = live() - before;
        println!(
            "dht memory: peer store, {stored} peers over {} info-hashes = {bytes} bytes, {:.0} \
             bytes per stored peer",
            hashes.len(),
            bytes as f64 / stored as f64
        );
        black_box(&store);
    }

    // BEP 44: 1,000 items with a 100-byte bencoded `v` (a 96-byte string).
    let value = |i: usize| format!("96:{:096}", i).into_bytes();
    let config = ItemStoreConfig {
        max_items: 1_000,
        ..ItemStoreConfig::default()
    };
    let before = live();
    let mut store = ItemStore::new(config);
    for i in 0..1_000 {
        // NOTE(unwrap): 100 bytes is within BEP 44's 1,000-byte bound.
        store
            .put_immutable(Instant::ZERO, &value(i))
            .expect("stored");
    }
    let bytes = live() - before;
    println!(
        "dht memory: {} immutable items (v = 100 bytes) = {bytes} bytes, {:.0} bytes per item",
        store.len(),
        bytes as f64 / store.len() as f64
    );
    black_box(&store);
    // Counted from before the items are built: their `v` and salt move into the store.
    let before = live();
    let items: Vec<MutableItem> = (0..1_000u32)
        .map(|i| {
            let mut seed = [7u8; 32];
            seed[..4].copy_from_slice(&i.to_be_bytes());
            // NOTE(unwrap): value and salt are within BEP 44's bounds.
            MutableItem::sign_with_seed(&seed, b"salt0001", 1, value(i as usize)).expect("signed")
        })
        .collect();
    let mut store = ItemStore::new(config);
    for item in items {
        // NOTE(unwrap): a freshly signed item with no cas is accepted.
        store
            .put_mutable(Instant::ZERO, item, None)
            .expect("stored");
    }
    let bytes = live() - before;
    println!(
        "dht memory: {} mutable items (v = 100 bytes, salt = 8 bytes) = {bytes} bytes, {:.0} \
         bytes per item",
        store.len(),
        bytes as f64 / store.len() as f64
    );
    black_box(&store);

    let before = live();
    let fresh = node();
    println!("dht memory: a new node = {} bytes", live() - before);
    black_box(&fresh);
    let before = live();
    let (loaded, batches) = loaded_node(Instant::from_secs(1));
    let batch_bytes: usize = batches
        .iter()
        .map(|(_, b)| {
            b.capacity() * size_of::<(SocketAddr, Vec<u8>)>()
                + b.iter().map(|(_, p)| p.capacity()).sum::<usize>()
        })
        .sum();
    println!(
        "dht memory: a node after get_peers from {SOURCES} sources = about {} bytes ({} nodes \
         in its table)",
        live() - before - batch_bytes as isize,
        loaded.routing_table().len()
    );
}

fn all(c: &mut Criterion) {
    memory();
    messages(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
