//! A loop for `perf record`: `cargo run --release --example profile -- WHAT COUNT` with WHAT
//! one of pigeon-records, pigeon-queued, dimpl-records, pigeon-handshake, dimpl-handshake, raw-aead.

use compare_dtls::{
    DimplSetup, PigeonCerts, RECORD_PAYLOAD, dimpl_handshake, dimpl_record, pigeon_handshake,
    pigeon_record_in_place, pigeon_record_queued,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "pigeon-records".to_owned());
    let count: u64 = args
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1_000_000);
    let data = vec![0x5a; RECORD_PAYLOAD];
    let start = std::time::Instant::now();
    match what.as_str() {
        "pigeon-records" | "pigeon-queued" => {
            let (mut c, mut s) = pigeon_handshake(&PigeonCerts::new(), 1);
            let mut wire = [0u8; 2048];
            for _ in 0..count {
                if what == "pigeon-records" {
                    pigeon_record_in_place(&mut c, &mut s, &data, &mut wire);
                } else {
                    pigeon_record_queued(&mut c, &mut s, &data);
                }
            }
        }
        "dimpl-records" => {
            let (mut c, mut s) = dimpl_handshake(&DimplSetup::new(), std::time::Instant::now());
            let (mut b1, mut b2) = (vec![0u8; 2048], vec![0u8; 2048]);
            for _ in 0..count {
                dimpl_record(&mut c, &mut s, &data, &mut b1, &mut b2);
            }
        }
        "pigeon-handshake" => {
            let certs = PigeonCerts::new();
            for seed in 0..count {
                pigeon_handshake(&certs, seed);
            }
        }
        "dimpl-handshake" => {
            let setup = DimplSetup::new();
            let now = std::time::Instant::now();
            for _ in 0..count {
                dimpl_handshake(&setup, now);
            }
        }
        "raw-aead" => {
            let mut raw = compare_dtls::RawAead::new();
            let mut buf = [0u8; 2048];
            for _ in 0..count {
                raw.seal_open(&data, &mut buf);
            }
        }
        other => panic!("unknown {other}"),
    }
    let per = start.elapsed().as_secs_f64() / count as f64;
    println!("{what}: {:.3} µs each, {:.0}/s", per * 1e6, 1.0 / per);
}
