//! Prints simulated datagrams per wall-clock second for ping meshes of several sizes.
//!
//! `cargo run --release -p pigeon-sim --example throughput [NODES...]` (default 10 1000 100000).
//! Each mesh pings so that the whole mesh sends about two million datagrams per virtual second;
//! after one virtual second of warm-up, the run is timed until at least `TARGET` datagrams have
//! been delivered.

use std::time::{Duration, Instant as WallClock};

use pigeon_sim::LinkConfig;
use pigeon_sim::scenarios::ping::ping_mesh;

const TARGET: u64 = 5_000_000;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 1_000, 100_000]
    } else {
        sizes
    };
    println!(
        "{:>8} {:>12} {:>10} {:>14}",
        "nodes", "datagrams", "wall s", "datagrams/s"
    );
    for nodes in sizes {
        // One ping per node per `interval` = two datagrams: 2 M datagrams per virtual second.
        let interval = Duration::from_nanos(nodes as u64 * 1_000);
        let built = WallClock::now();
        let mut sim = ping_mesh(1, nodes, interval, LinkConfig::default());
        let build_time = built.elapsed();
        sim.run_for(Duration::from_secs(1));
        let before = sim.stats().delivered;
        let start = WallClock::now();
        while sim.stats().delivered - before < TARGET {
            sim.run_for(Duration::from_millis(100));
        }
        let wall = start.elapsed().as_secs_f64();
        let delivered = sim.stats().delivered - before;
        println!(
            "{nodes:>8} {delivered:>12} {wall:>10.3} {:>14.0}   (built in {:.2} s, hash {:016x})",
            delivered as f64 / wall,
            build_time.as_secs_f64(),
            sim.trace_hash()
        );
    }
}
