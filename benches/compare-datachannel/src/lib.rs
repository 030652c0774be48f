//! Two WebRTC data-channel stacks, each as a pair of peers wired together in memory on one
//! thread: pigeon's `DataChannelPeer` (DTLS 1.2 + SCTP + DCEP) and str0m's `Rtc` (ICE + DTLS
//! + SCTP + DCEP). Each side's `transfer` sends `total` bytes as `message`-byte binary
//! messages on one reliable ordered channel and returns the wall time the receiver needed to
//! get them all. `examples/throughput.rs` runs them side by side.

pub mod pigeon_side;
pub mod str0m_side;

use std::cell::Cell;

thread_local! {
    static BUFFER_HIGH: Cell<usize> = const { Cell::new(256 * 1024) };
}

/// At most this many bytes wait in a sender's buffer (the data channel's bufferedAmount);
/// the driver refills as it drains.
pub fn buffer_high() -> usize {
    BUFFER_HIGH.with(Cell::get)
}

/// Sets [`buffer_high`] for the runs that follow on this thread.
pub fn set_buffer_high(bytes: usize) {
    BUFFER_HIGH.with(|b| b.set(bytes));
}
