//! One stack alone, for `perf record -g`:
//!   cargo build --release --manifest-path benches/compare-sctp/Cargo.toml --example profile
//!   perf record -g target/release/examples/profile pigeon 16384 2048
//! Arguments: `pigeon` or `sctp-proto`, message size, MiB to send.

use std::time::Instant;

use compare_sctp::{PigeonPair, ProtoPair};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "pigeon".into());
    let size: usize = args.next().map_or(16384, |s| s.parse().expect("size"));
    let total: usize = args.next().map_or(1024, |s| s.parse().expect("MiB")) << 20;
    let start = Instant::now();
    let n = match which.as_str() {
        "pigeon" => PigeonPair::new(1).transfer(total, size),
        "sctp-proto" => ProtoPair::new().transfer(total, size),
        other => panic!("unknown stack {other}"),
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{which}: {n} bytes in {secs:.3} s: {:.2} Gbit/s",
        n as f64 * 8.0 / secs / 1e9
    );
}
