//! Runs the `nat-check` scenario and prints its table; with a path, also writes the pcap.
//!
//! `cargo run -p pigeon-sim --example nat_check [SEED] [PCAP]`

use std::fs::File;
use std::io::Write;

use pigeon_sim::scenarios::nat_check::nat_check;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut file = args.next().map(File::create).transpose()?;
    let report = nat_check(seed, file.as_mut().map(|f| f as &mut dyn Write));
    println!("{report}");
    if let Some(error) = &report.pcap_error {
        eprintln!("pcap: {error}");
    }
    std::process::exit(if report.all_ok() { 0 } else { 1 });
}
