//! pigeon and sctp-proto interleaved: each round times one batch of each stack back to back
//! (a fixed number of bytes sent reliably and in order through an established pair), so load
//! from other processes on a shared machine hits both alike. Prints the best and the median
//! batch of each, in Gbit/s of payload per second of this thread's CPU time (and of wall
//! time), for 16 KiB and 1,200-byte messages.
//!   cargo run --release --manifest-path benches/compare-sctp/Cargo.toml --example interleaved [rounds]

use std::time::Instant;

use compare_sctp::{PigeonPair, ProtoPair, thread_cpu_seconds};

/// Bytes per batch.
const BATCH: usize = 32 * 1024 * 1024;

/// Runs `f`, returning (Gbit/s by CPU time, Gbit/s by wall time).
fn measure(f: impl FnOnce() -> usize) -> (f64, f64) {
    let (wall, cpu) = (Instant::now(), thread_cpu_seconds());
    let bits = f() as f64 * 8.0;
    let cpu = thread_cpu_seconds() - cpu;
    (bits / cpu / 1e9, bits / wall.elapsed().as_secs_f64() / 1e9)
}

fn best_median(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() - 1], samples[samples.len() / 2])
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(20, |s| s.parse().expect("rounds"));
    for size in [16 * 1024, 1200] {
        let mut pigeon = PigeonPair::new(1);
        let mut proto = ProtoPair::new();
        // Warm up: slow start and buffers.
        pigeon.transfer(BATCH, size);
        proto.transfer(BATCH, size);
        let mut samples: [[Vec<f64>; 2]; 2] = Default::default();
        for _ in 0..rounds {
            for (i, (cpu, wall)) in [
                measure(|| pigeon.transfer(BATCH, size)),
                measure(|| proto.transfer(BATCH, size)),
            ]
            .into_iter()
            .enumerate()
            {
                samples[i][0].push(cpu);
                samples[i][1].push(wall);
            }
        }
        println!(
            "{size}-byte messages, reliable ordered, {rounds} rounds of {} MiB (Gbit/s of payload):",
            BATCH >> 20
        );
        let mut figures = Vec::new();
        for (name, [cpu, wall]) in ["pigeon", "sctp-proto"].into_iter().zip(samples) {
            let (cpu, wall) = (best_median(cpu), best_median(wall));
            println!(
                "  {name:<11} CPU time: best {:>6.2} median {:>6.2}   wall: best {:>6.2} median {:>6.2}",
                cpu.0, cpu.1, wall.0, wall.1
            );
            figures.push((cpu, wall));
        }
        let (p, s) = (figures[0], figures[1]);
        println!(
            "  pigeon/sctp-proto: CPU best {:.2}x median {:.2}x, wall best {:.2}x median {:.2}x\n",
            p.0.0 / s.0.0,
            p.0.1 / s.0.1,
            p.1.0 / s.1.0,
            p.1.1 / s.1.1
        );
    }
}
