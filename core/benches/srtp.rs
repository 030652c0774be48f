//! SRTP protect/unprotect of 1,200-byte RTP payloads per profile.
//! `cargo bench -p pigeon --bench srtp`; throughput is in packets (elements) per second.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pigeon::srtp::{Profile, SrtpConfig, SrtpSession};

const PAYLOAD: usize = 1200;

fn session(profile: Profile) -> SrtpSession {
    let key = vec![0x11; profile.master_key_len()];
    let salt = vec![0x22; profile.master_salt_len()];
    SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).expect("valid key lengths")
}

fn packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x60];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]);
    p.resize(12 + PAYLOAD, 0xab);
    p
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("srtp");
    group.throughput(Throughput::Elements(1));
    for profile in Profile::ALL {
        let name = format!("{profile:?}");
        let template = packet(0);
        let mut tx = session(profile);
        let mut buf = vec![0u8; template.len() + profile.srtp_overhead()];
        let mut seq = 0u16;
        group.bench_function(format!("protect/{name}"), |b| {
            b.iter(|| {
                buf[..template.len()].copy_from_slice(&template);
                buf[2..4].copy_from_slice(&seq.to_be_bytes());
                seq = seq.wrapping_add(1);
                tx.protect_rtp(&mut buf, template.len())
                    .expect("fresh index")
            })
        });
        // Each unprotected packet needs a fresh index (replay check): protect one per
        // iteration outside the timed part.
        let mut tx = session(profile);
        let mut rx = session(profile);
        let mut seq = 0u16;
        group.bench_function(format!("unprotect/{name}"), |b| {
            b.iter_batched_ref(
                || {
                    let mut p = packet(seq);
                    seq = seq.wrapping_add(1);
                    p.reserve(profile.srtp_overhead());
                    tx.protect_rtp_vec(&mut p).expect("fresh index");
                    p
                },
                |p| rx.unprotect_rtp(p).expect("authentic"),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
