//! Memory per idle association, counted by a global allocator (live heap bytes) plus the
//! inline size of the association value, for pigeon and sctp-proto side by side: `N`
//! established pairs (handshake done, nothing queued or in flight) are kept, and the growth
//! of the live heap is divided by the number of associations.
//!   cargo run --release --manifest-path benches/compare-sctp/Cargo.toml --example memory

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use compare_sctp::{PigeonPair, ProtoPair};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const N: usize = 1000;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() {
    // Warm-up: lazily created statics (thread-locals, the allocator's own) are not counted.
    drop(PigeonPair::new(0));
    drop(ProtoPair::connect());

    let before = live();
    let mut pigeon = Vec::with_capacity(2 * N);
    for i in 0..N {
        let PigeonPair { a, b, .. } = PigeonPair::new(2 * i as u64 + 10);
        pigeon.push(a);
        pigeon.push(b);
    }
    let pigeon_bytes = (live() - before) as f64 / (2 * N) as f64;
    println!(
        "pigeon      {:>7.0} bytes per idle association (inline {} bytes, the rest heap)",
        pigeon_bytes,
        size_of::<pigeon::sctp::Association>()
    );
    drop(pigeon);

    let before = live();
    let mut associations = Vec::with_capacity(2 * N);
    let mut endpoints = Vec::with_capacity(2 * N);
    for _ in 0..N {
        let pair = ProtoPair::connect();
        for peer in [pair.a, pair.b] {
            let (_, association) = peer.association.expect("established");
            associations.push(association);
            endpoints.push(peer.endpoint);
        }
    }
    let with_endpoints = live() - before;
    drop(endpoints);
    let alone = live() - before;
    println!(
        "sctp-proto  {:>7.0} bytes per idle association (inline {} bytes); {:.0} with the \
         Endpoint each one needs to receive packets",
        alone as f64 / (2 * N) as f64,
        size_of::<sctp_proto::Association>(),
        with_endpoints as f64 / (2 * N) as f64,
    );
    drop(associations);
}
