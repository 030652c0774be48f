//! pigeon against dimpl in one criterion run: full handshake CPU time for both sides
//! together, and seal+open of 1,200-byte application-data records.

use compare_dtls::{
    DimplSetup, PigeonCerts, RECORD_PAYLOAD, RawAead, dimpl_handshake, dimpl_record,
    pigeon_handshake, pigeon_record_in_place, pigeon_record_queued,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("dtls12_handshake_p256_aes128gcm_cookie_mutual");
    let certs = PigeonCerts::new();
    let mut seed = 0u64;
    group.bench_function("pigeon", |b| {
        b.iter(|| {
            seed += 1;
            pigeon_handshake(&certs, seed)
        })
    });
    let setup = DimplSetup::new();
    let now = std::time::Instant::now();
    group.bench_function("dimpl", |b| b.iter(|| dimpl_handshake(&setup, now)));
    group.finish();
}

fn records(c: &mut Criterion) {
    let mut group = c.benchmark_group("dtls12_record_seal_open_1200B");
    group.throughput(Throughput::Elements(1));
    let data = vec![0x5a; RECORD_PAYLOAD];

    let certs = PigeonCerts::new();
    let (mut client, mut server) = pigeon_handshake(&certs, 1);
    let mut wire = [0u8; 2048];
    group.bench_function("pigeon_send_into_recv", |b| {
        b.iter(|| pigeon_record_in_place(&mut client, &mut server, &data, &mut wire))
    });
    let (mut client, mut server) = pigeon_handshake(&certs, 2);
    group.bench_function("pigeon_send_handle_packet", |b| {
        b.iter(|| pigeon_record_queued(&mut client, &mut server, &data))
    });

    let setup = DimplSetup::new();
    let (mut client, mut server) = dimpl_handshake(&setup, std::time::Instant::now());
    let (mut b1, mut b2) = (vec![0u8; 2048], vec![0u8; 2048]);
    group.bench_function("dimpl", |b| {
        b.iter(|| dimpl_record(&mut client, &mut server, &data, &mut b1, &mut b2))
    });

    let mut raw = RawAead::new();
    group.bench_function("aes_gcm_crate_alone", |b| {
        b.iter(|| raw.seal_open(&data, &mut wire))
    });
    group.finish();
}

criterion_group!(benches, handshake, records);
criterion_main!(benches);
