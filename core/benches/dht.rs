//! One DHT node under load, in memory: KRPC queries handled per second (a mix of ping,
//! find_node and get_peers from 10,000 source addresses, each answer drained), and the heap
//! bytes one routing-table entry and one stored peer cost, counted by a global allocator
//! wrapper. `cargo bench -p pigeon --bench dht`; the memory figures are printed before the
//! criterion runs.

use core::net::SocketAddr;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pigeon::dht::krpc::{Body, Message, Method, NodeInfo, Query};
use pigeon::dht::peers::{PeerStore, PeerStoreConfig};
use pigeon::dht::routing::{RoutingConfig, RoutingTable};
use pigeon::dht::{DhtConfig, DhtNode, NodeId};
use pigeon::{Datagram, Instant, Machine};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Bytes allocated and not yet freed, over the whole process.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// The one unsafe item in the benches: GlobalAlloc is an unsafe trait. It forwards to the
// system allocator unchanged and only keeps a running total.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's, passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

const SOURCES: usize = 10_000;

fn source(i: usize) -> SocketAddr {
    let [_, _, _, _, _, a, b, c] = (i as u64).to_be_bytes();
    SocketAddr::from(([10, a, b, c], 6881))
}

fn random_id(rng: &mut ChaCha20Rng) -> NodeId {
    NodeId::random(rng)
}

/// Query `i`: ping, find_node or get_peers in turn, from source `i % SOURCES`.
fn queries(rng: &mut ChaCha20Rng) -> Vec<(SocketAddr, Vec<u8>)> {
    (0..SOURCES * 3)
        .map(|i| {
            let target = random_id(rng);
            let method = match i % 3 {
                0 => Method::Ping,
                1 => Method::FindNode { target },
                _ => Method::GetPeers { info_hash: target },
            };
            let tid = (i as u32).to_be_bytes();
            let message = Message {
                transaction_id: &tid,
                body: Body::Query(Query {
                    id: random_id(rng),
                    method,
                    want: None,
                }),
                version: Some(b"BN01"),
                ip: None,
                read_only: false,
            };
            (source(i % SOURCES), message.to_bytes())
        })
        .collect()
}

fn node() -> DhtNode {
    let mut config = DhtConfig::new(SocketAddr::from(([192, 0, 2, 1], 6881)));
    // Measure the handling, not the per-IP limit turning queries away.
    config.queries_per_ip_per_second = u32::MAX;
    DhtNode::new(config, Box::new(ChaCha20Rng::seed_from_u64(1)))
}

fn messages(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let batch = queries(&mut rng);
    let local = SocketAddr::from(([192, 0, 2, 1], 6881));
    let mut dht = node();
    let mut now = Instant::ZERO;
    // One pass first: the senders fill the routing table, as on a busy live node.
    for (from, payload) in &batch {
        dht.handle_datagram(
            now,
            Datagram {
                source: *from,
                destination: local,
                payload,
            },
        );
        while dht.poll_transmit().is_some() {}
    }
    println!(
        "dht bench: routing table holds {} nodes after {} queries",
        dht.routing_table().len(),
        batch.len()
    );
    let mut group = c.benchmark_group("dht");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("queries_mixed", |b| {
        b.iter(|| {
            now += core::time::Duration::from_secs(1);
            for (from, payload) in &batch {
                dht.handle_datagram(
                    now,
                    Datagram {
                        source: *from,
                        destination: local,
                        payload: black_box(payload),
                    },
                );
                while let Some(t) = dht.poll_transmit() {
                    black_box(t);
                }
            }
        })
    });
    group.finish();
}

/// Heap bytes per routing-table entry and per stored peer, printed once.
fn memory() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let own = random_id(&mut rng);
    let ids: Vec<NodeInfo> = (0..100_000)
        .map(|i| NodeInfo {
            id: random_id(&mut rng),
            addr: source(i),
        })
        .collect();
    let before = live();
    let mut table = RoutingTable::new(own, RoutingConfig::default(), Instant::ZERO);
    for info in &ids {
        table.on_response(Instant::ZERO, *info, None);
    }
    let table_bytes = live() - before;
    println!(
        "dht memory: routing table of {} entries in {} buckets (replacement caches full) = {} \
         bytes, {:.0} bytes per entry",
        table.len(),
        table.bucket_count(),
        table_bytes,
        table_bytes as f64 / table.len() as f64
    );
    black_box(&table);

    let config = PeerStoreConfig {
        max_info_hashes: 10_000,
        ..PeerStoreConfig::default()
    };
    let hashes: Vec<NodeId> = (0..1_000).map(|_| random_id(&mut rng)).collect();
    let before = live();
    let mut store = PeerStore::new(config);
    let mut stored = 0;
    for (i, hash) in hashes.iter().enumerate() {
        for p in 0..50 {
            stored += usize::from(store.announce(Instant::ZERO, *hash, source(i * 50 + p)));
        }
    }
    let store_bytes = live() - before;
    println!(
        "dht memory: {stored} peers over {} info-hashes = {store_bytes} bytes, {:.0} bytes per \
         stored peer",
        hashes.len(),
        store_bytes as f64 / stored as f64
    );
    black_box(&store);

    let before = live();
    let mut dht = node();
    let local = SocketAddr::from(([192, 0, 2, 1], 6881));
    let batch = queries(&mut rng);
    let batch_bytes = live() - before;
    for (from, payload) in &batch {
        dht.handle_datagram(
            Instant::ZERO,
            Datagram {
                source: *from,
                destination: local,
                payload,
            },
        );
        while dht.poll_transmit().is_some() {}
    }
    println!(
        "dht memory: one node after {} queries from {SOURCES} sources = {} bytes ({} nodes in \
         its table)",
        batch.len(),
        live() - before - batch_bytes,
        dht.routing_table().len()
    );
}

fn all(c: &mut Criterion) {
    memory();
    messages(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
