//! 1,000 DHT nodes on the simulator's public network: one-way link latency drawn from
//! 10-150 ms per node (so round trips are 20-300 ms) and 1% loss on every link. They bootstrap,
//! look up random keys, announce and get peers; the test prints hops, messages per lookup,
//! success rate and latency percentiles.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use pigeon::dht::{DhtConfig, DhtEvent, DhtNode, LookupResult, NodeId, QueryId};
use pigeon_sim::{LinkConfig, LossModel, NetworkId, NodeId as SimNode, Sim};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

const NODES: usize = 1000;
const LOOKUPS: usize = 1000;
const ANNOUNCES: usize = 50;

fn ip(i: usize) -> IpAddr {
    // Spread over many /8s so BEP 42 ids differ in their masked bits.
    IpAddr::V4(Ipv4Addr::new(
        11 + (i % 200) as u8,
        (i / 200) as u8,
        7,
        1 + (i % 250) as u8,
    ))
}

struct World {
    sim: Sim,
    nodes: Vec<SimNode>,
    ids: Vec<NodeId>,
    rng: ChaCha20Rng,
}

fn build(seed: u64) -> World {
    let mut sim = Sim::new(seed);
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut nodes = Vec::new();
    let mut ids = Vec::new();
    for i in 0..NODES {
        let addr = SocketAddr::new(ip(i), 6881);
        let mut config = DhtConfig::new(addr);
        config.external_ip = Some(addr.ip());
        let machine = DhtNode::new(config, sim.fork_rng(&format!("dht/{i}")));
        ids.push(machine.id());
        let link = LinkConfig {
            latency: Duration::from_millis(10 + rng.next_u64() % 141),
            loss: LossModel::Uniform(0.01),
            ..LinkConfig::default()
        };
        let id = sim
            .add_node(NetworkId::PUBLIC, &[addr], machine, link)
            .unwrap();
        nodes.push(id);
    }
    // Nodes join one every 20 ms, each from up to four nodes that joined before it.
    for (i, node) in nodes.iter().enumerate().skip(1) {
        let seeds: Vec<SocketAddr> = (0..4)
            .map(|_| SocketAddr::new(ip(rng.next_u64() as usize % i), 6881))
            .collect();
        sim.command(*node, |m: &mut DhtNode, now| m.bootstrap(now, &seeds));
        run(&mut sim, Duration::from_millis(20));
    }
    run(&mut sim, Duration::from_secs(60));
    for n in &nodes {
        sim.take_events::<DhtNode>(*n);
    }
    let sizes: Vec<usize> = nodes
        .iter()
        .map(|n| sim.machine::<DhtNode>(*n).unwrap().routing_table().len())
        .collect();
    let stats = sim.machine::<DhtNode>(nodes[500]).unwrap().stats();
    println!(
        "dht_sim: routing table sizes min {} max {} mean {:.1}; node 500 {stats:?}",
        sizes.iter().min().unwrap(),
        sizes.iter().max().unwrap(),
        sizes.iter().sum::<usize>() as f64 / NODES as f64
    );
    World {
        sim,
        nodes,
        ids,
        rng,
    }
}

/// Runs the simulation for `duration` by stepping event by event, so the clock always stands
/// at the last event processed. `Sim::run_for` looks at the first event past its deadline,
/// and a command issued afterwards has its datagrams held back until that event's time (the
/// radix queue clamps new times to the last key it settled on), which would distort latencies.
fn run(sim: &mut Sim, duration: Duration) {
    let end = sim.now() + duration;
    while sim.now() < end {
        if !sim.step() {
            break;
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Every finished lookup so far, by (node index, query), with announce acknowledgements.
fn collect(w: &mut World) -> BTreeMap<(usize, QueryId), (LookupResult, Option<usize>)> {
    let mut out = BTreeMap::new();
    for (i, n) in w.nodes.iter().enumerate() {
        for e in w.sim.take_events::<DhtNode>(*n) {
            match e {
                DhtEvent::LookupDone(r) => {
                    out.insert((i, r.query), (r, None));
                }
                DhtEvent::Announced { result, stored } => {
                    out.insert((i, result.query), (result, Some(stored)));
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn thousand_nodes_lookups_and_announces() {
    let mut w = build(2026);
    let mut started: Vec<(usize, QueryId, NodeId)> = Vec::new();
    // Twenty lookups every 200 ms from random nodes to random keys.
    for _ in 0..LOOKUPS / 20 {
        for _ in 0..20 {
            let from = w.rng.next_u64() as usize % NODES;
            let mut key = [0u8; 20];
            w.rng.fill_bytes(&mut key);
            let target = NodeId(key);
            let q = w
                .sim
                .command(w.nodes[from], |m: &mut DhtNode, now| {
                    m.find_node(now, target)
                })
                .unwrap();
            started.push((from, q, target));
        }
        run(&mut w.sim, Duration::from_millis(200));
    }
    run(&mut w.sim, Duration::from_secs(30));
    let results = collect(&mut w);
    let mut latencies = Vec::new();
    let mut nearest = Vec::new();
    let (mut ok, mut hops, mut messages, mut k_found) = (0usize, 0u64, 0u64, 0usize);
    for (from, q, target) in &started {
        let Some((r, _)) = results.get(&(*from, *q)) else {
            continue;
        };
        let mut truth: Vec<NodeId> = w
            .ids
            .iter()
            .copied()
            .filter(|id| *id != w.ids[*from])
            .collect();
        truth.sort_by(|a, b| target.cmp_distance(a, b));
        let got: Vec<NodeId> = r.closest.iter().map(|n| n.id).collect();
        if got.first() == truth.first() {
            ok += 1;
        }
        k_found += got.iter().filter(|id| truth[..8].contains(id)).count();
        latencies.push(r.elapsed);
        nearest.push(r.nearest_after);
        hops += u64::from(r.hops);
        messages += u64::from(r.messages);
    }
    latencies.sort();
    nearest.sort();
    let n = latencies.len().max(1) as f64;
    let success = ok as f64 / LOOKUPS as f64;
    println!(
        "dht_sim: {NODES} nodes, {LOOKUPS} lookups: success {:.1}% (closest node found), \
         {:.1}% of the true 8 closest found, {} finished, hops {:.2}, messages/lookup {:.1}, \
         latency until the 8 closest answered p50 {:?} p90 {:?} p99 {:?} max {:?}; \
         until the nearest answered p50 {:?} p90 {:?} p99 {:?}",
        success * 100.0,
        k_found as f64 / (8.0 * LOOKUPS as f64) * 100.0,
        latencies.len(),
        hops as f64 / n,
        messages as f64 / n,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default(),
        percentile(&nearest, 0.5),
        percentile(&nearest, 0.9),
        percentile(&nearest, 0.99),
    );
    // Announce from one node, then get_peers for the same info-hash from another.
    let mut announced = Vec::new();
    for _ in 0..ANNOUNCES {
        let from = w.rng.next_u64() as usize % NODES;
        let mut key = [0u8; 20];
        w.rng.fill_bytes(&mut key);
        let info_hash = NodeId(key);
        let q = w
            .sim
            .command(w.nodes[from], |m: &mut DhtNode, now| {
                m.announce(now, info_hash, 6881)
            })
            .unwrap();
        announced.push((from, q, info_hash));
        run(&mut w.sim, Duration::from_millis(100));
    }
    run(&mut w.sim, Duration::from_secs(30));
    let announces = collect(&mut w);
    let mut asked = Vec::new();
    let mut stored_total = 0;
    for (from, q, info_hash) in &announced {
        if let Some((_, Some(stored))) = announces.get(&(*from, *q)) {
            stored_total += stored;
        }
        let other = (from + 1 + w.rng.next_u64() as usize % (NODES - 1)) % NODES;
        let q = w
            .sim
            .command(w.nodes[other], |m: &mut DhtNode, now| {
                m.get_peers(now, *info_hash)
            })
            .unwrap();
        asked.push((other, q, SocketAddr::new(ip(*from), 6881)));
        run(&mut w.sim, Duration::from_millis(100));
    }
    run(&mut w.sim, Duration::from_secs(30));
    let gets = collect(&mut w);
    let found = asked
        .iter()
        .filter(|(i, q, peer)| {
            gets.get(&(*i, *q))
                .is_some_and(|(r, _)| r.peers.contains(peer))
        })
        .count();
    println!(
        "dht_sim: {ANNOUNCES} announces stored on {:.1} nodes each; get_peers from another node found the peer {found}/{ANNOUNCES}",
        stored_total as f64 / ANNOUNCES as f64
    );
    assert!(
        found * 1000 >= ANNOUNCES * 995,
        "announce/get_peers {found}/{ANNOUNCES}"
    );
    assert!(success >= 0.995, "success {success}");
    // TARGET NOT MET. Issue 3 asks for a median lookup latency below 200 ms. With one-way
    // latencies of 10-150 ms per node (mean round trip 160 ms) and termination only once the
    // 8 closest nodes have all answered (about four round trips at alpha = 3), seed 2026
    // measures p50 669 ms, p99 1.21 s (and 354 ms until the nearest node answered). These
    // bounds guard against regressions at the measured level; they are not the target.
    let p50 = percentile(&latencies, 0.5);
    let p99 = percentile(&latencies, 0.99);
    assert!(p50 < Duration::from_millis(800), "median {p50:?}");
    assert!(p99 < Duration::from_millis(1500), "p99 {p99:?}");
}
