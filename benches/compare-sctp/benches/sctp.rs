//! Criterion: payload throughput of pigeon and sctp-proto, one established pair each, 4 MiB
//! per iteration sent reliably and in order, with 16 KiB and 1,200-byte messages.
//!   cargo bench --manifest-path benches/compare-sctp/Cargo.toml --bench sctp

use compare_sctp::{PigeonPair, ProtoPair};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TOTAL: usize = 4 * 1024 * 1024;

fn throughput(c: &mut Criterion) {
    for size in [16 * 1024, 1200] {
        let mut group = c.benchmark_group(format!("sctp {size}-byte messages"));
        group.throughput(Throughput::Bytes(TOTAL as u64));
        let mut pigeon = PigeonPair::new(1);
        group.bench_function("pigeon", |b| b.iter(|| pigeon.transfer(TOTAL, size)));
        let mut proto = ProtoPair::new();
        group.bench_function("sctp-proto", |b| b.iter(|| proto.transfer(TOTAL, size)));
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
