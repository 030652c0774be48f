//! Simulated datagrams per wall-clock second on one core, for ping meshes of 10, 1,000 and
//! 100,000 nodes (see `scenarios::ping`). Each iteration processes events until exactly
//! `BATCH` more datagrams have been delivered, so criterion's element throughput is datagrams/s.
//!
//! `cargo bench -p pigeon-sim --bench datagrams`

use std::hint::black_box;
use std::time::{Duration, Instant as WallClock};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pigeon_sim::LinkConfig;
use pigeon_sim::scenarios::ping::ping_mesh;

const BATCH: u64 = 100_000;

fn datagrams(c: &mut Criterion) {
    let mut group = c.benchmark_group("datagrams");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for nodes in [10usize, 1_000, 100_000] {
        // Two million datagrams per virtual second whatever the size.
        let interval = Duration::from_nanos(nodes as u64 * 1_000);
        let mut sim = ping_mesh(1, nodes, interval, LinkConfig::default());
        sim.run_for(Duration::from_secs(1));
        group.bench_function(format!("{nodes}_nodes"), |b| {
            b.iter_custom(|iters| {
                let start = WallClock::now();
                for _ in 0..iters {
                    let target = sim.stats().delivered + BATCH;
                    while sim.stats().delivered < target {
                        black_box(sim.step());
                    }
                }
                start.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, datagrams);
criterion_main!(benches);
