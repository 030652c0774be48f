//! The same comparisons as the criterion bench, but interleaved: each round times a short
//! batch of every contender back to back, so load from other processes on a shared machine
//! hits all of them alike. Prints the best and the median batch of each, per operation.
//!   cargo run --release --manifest-path benches/compare-dtls/Cargo.toml --example interleaved

use std::time::Instant;

use compare_dtls::{
    DimplSetup, PigeonCerts, RECORD_PAYLOAD, RawAead, dimpl_handshake, dimpl_record,
    pigeon_handshake, pigeon_record_in_place, pigeon_record_queued,
};

const ROUNDS: usize = 40;

fn time(batch: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed().as_secs_f64() / batch as f64
}

fn summary(name: &str, unit: &str, scale: f64, mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let (best, median) = (samples[0], samples[samples.len() / 2]);
    println!(
        "{name:<28} best {:>9.3} {unit}  median {:>9.3} {unit}  ({:.0}/s at the median)",
        best * scale,
        median * scale,
        1.0 / median
    );
    (best, median)
}

fn main() {
    let data = vec![0x5a; RECORD_PAYLOAD];
    let certs = PigeonCerts::new();
    let setup = DimplSetup::new();
    let now = std::time::Instant::now();

    let (mut p_hs, mut d_hs) = (Vec::new(), Vec::new());
    let mut seed = 0;
    for _ in 0..ROUNDS / 2 {
        p_hs.push(time(20, || {
            seed += 1;
            pigeon_handshake(&certs, seed);
        }));
        d_hs.push(time(20, || {
            dimpl_handshake(&setup, now);
        }));
    }
    println!("full handshake, both sides (P-256, AES-128-GCM, cookie, mutual auth):");
    let p = summary("pigeon", "ms", 1e3, p_hs);
    let d = summary("dimpl", "ms", 1e3, d_hs);
    println!(
        "dimpl/pigeon time: best {:.2}x, median {:.2}x\n",
        d.0 / p.0,
        d.1 / p.1
    );

    let (mut c1, mut s1) = pigeon_handshake(&certs, 1);
    let (mut c2, mut s2) = pigeon_handshake(&certs, 2);
    let (mut dc, mut ds) = dimpl_handshake(&setup, now);
    let mut raw = RawAead::new();
    let mut wire = [0u8; 2048];
    let (mut b1, mut b2) = (vec![0u8; 2048], vec![0u8; 2048]);
    let mut samples = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        samples[0].push(time(10_000, || {
            pigeon_record_in_place(&mut c1, &mut s1, &data, &mut wire)
        }));
        samples[1].push(time(10_000, || {
            pigeon_record_queued(&mut c2, &mut s2, &data)
        }));
        samples[2].push(time(10_000, || {
            dimpl_record(&mut dc, &mut ds, &data, &mut b1, &mut b2)
        }));
        samples[3].push(time(10_000, || raw.seal_open(&data, &mut wire)));
    }
    let [a, b, c, d] = samples;
    println!("seal+open of one 1,200-byte record:");
    let a = summary("pigeon send_into/recv", "µs", 1e6, a);
    let b = summary("pigeon send/handle_packet", "µs", 1e6, b);
    let c = summary("dimpl", "µs", 1e6, c);
    let d = summary("aes-gcm crate alone", "µs", 1e6, d);
    println!(
        "records/s pigeon send_into/recv vs dimpl: best {:.2}x, median {:.2}x",
        c.0 / a.0,
        c.1 / a.1
    );
    println!(
        "records/s pigeon send/handle_packet vs dimpl: best {:.2}x, median {:.2}x",
        c.0 / b.0,
        c.1 / b.1
    );
    println!(
        "pigeon send_into/recv vs the AEAD alone: best {:.2}, median {:.2} of its speed",
        d.0 / a.0,
        d.1 / a.1
    );
}
