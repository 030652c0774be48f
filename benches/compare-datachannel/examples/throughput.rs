//! Payload throughput of a reliable ordered data channel over DTLS, in memory on one core:
//! pigeon and str0m alternately in one process, then the ratio.
//!
//!   cargo run --release --manifest-path benches/compare-datachannel/Cargo.toml \
//!       --example throughput [MIB] [ROUNDS]
//!
//! The sender keeps at most a given bufferedAmount queued. str0m's throughput falls as that
//! grows (its SCTP rescans what is in flight on every poll), pigeon's rises, so each level is
//! run for both and each stack's best level is compared. `DC_ONLY=pigeon` (or `str0m`) runs
//! one stack alone, for profiling.

use std::time::Duration;

use compare_datachannel::{pigeon_side, set_buffer_high, str0m_side};

const MESSAGE: usize = 16 * 1024;
const LEVELS: [usize; 4] = [16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024];

fn gbit(bytes: usize, took: Duration) -> f64 {
    bytes as f64 * 8.0 / took.as_secs_f64() / 1e9
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let total = mib * 1024 * 1024;
    println!("{mib} MiB per run in {MESSAGE}-byte messages, reliable ordered, {rounds} rounds");
    println!("bufferedAmount cap | pigeon Gbit/s (best of rounds) | str0m Gbit/s (best of rounds)");
    let (mut best_pigeon, mut best_str0m) = ((0f64, 0), (0f64, 0));
    for level in LEVELS {
        set_buffer_high(level);
        let (mut p, mut s) = (0f64, 0f64);
        for _ in 0..rounds {
            let only = std::env::var("DC_ONLY").unwrap_or_default();
            if only != "str0m" {
                p = p.max(gbit(total, pigeon_side::transfer(total, MESSAGE)));
            }
            if only != "pigeon" {
                s = s.max(gbit(total, str0m_side::transfer(total, MESSAGE)));
            }
        }
        println!("{:>7} KiB | {p:.2} | {s:.2}", level / 1024);
        if p > best_pigeon.0 {
            best_pigeon = (p, level);
        }
        if s > best_str0m.0 {
            best_str0m = (s, level);
        }
    }
    println!(
        "best: pigeon {:.2} Gbit/s ({} KiB), str0m {:.2} Gbit/s ({} KiB), ratio {:.2}",
        best_pigeon.0,
        best_pigeon.1 / 1024,
        best_str0m.0,
        best_str0m.1 / 1024,
        best_pigeon.0 / best_str0m.0
    );
}
