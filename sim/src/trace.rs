//! The record of a run: a hash that is always kept, and an optional text line per record.
//!
//! The hash covers every delivery (time, receiver, addresses, payload), every drop (time, reason,
//! addresses, length), every node event (its `Debug` text) and every NAT mapping made. It is
//! computed from those fields, never from the text, so it is the same whether or not text is on,
//! and the same on every platform (explicit little-endian words, no std `RandomState`).

use core::fmt::{self, Write as _};
use core::net::SocketAddr;
use std::io;

use pigeon::Instant;

use crate::NodeId;
use crate::rng::mix64;

/// Why the simulator dropped a datagram.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropReason {
    /// Random loss on the sender's link (uniform or Gilbert-Elliott).
    Loss,
    /// The sender's or receiver's link is down.
    LinkDown,
    /// Larger than the sender's link MTU (IP and UDP headers included).
    Mtu,
    /// The sender's bandwidth queue was full (tail drop).
    QueueFull,
    /// No host or NAT owns the destination address in any network on the way.
    NoRoute,
    /// The destination host exists but has no socket on that port.
    PortUnreachable,
    /// A NAT found no (live) mapping for the external address the datagram was sent to.
    NatNoMapping,
    /// A NAT's filter rejected the inbound datagram (RFC 4787 §5).
    NatFiltered,
    /// Sent to the NAT's own external address by an internal host, and hairpinning is off.
    HairpinOff,
    /// The NAT had no free external port.
    NatPortsExhausted,
    /// Sender and receiver are in different partitions.
    Partition,
    /// The machine sent from an address its node has not bound.
    UnboundSource,
    /// Source and destination are of different IP families.
    FamilyMismatch,
}

impl DropReason {
    /// Every reason, in a fixed order (the order of [`SimStats::dropped`](crate::SimStats)).
    pub const ALL: [DropReason; 13] = [
        DropReason::Loss,
        DropReason::LinkDown,
        DropReason::Mtu,
        DropReason::QueueFull,
        DropReason::NoRoute,
        DropReason::PortUnreachable,
        DropReason::NatNoMapping,
        DropReason::NatFiltered,
        DropReason::HairpinOff,
        DropReason::NatPortsExhausted,
        DropReason::Partition,
        DropReason::UnboundSource,
        DropReason::FamilyMismatch,
    ];

    /// Index into [`DropReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Short name used in the text trace.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::LinkDown => "link-down",
            DropReason::Mtu => "mtu",
            DropReason::QueueFull => "queue-full",
            DropReason::NoRoute => "no-route",
            DropReason::PortUnreachable => "port-unreachable",
            DropReason::NatNoMapping => "nat-no-mapping",
            DropReason::NatFiltered => "nat-filtered",
            DropReason::HairpinOff => "hairpin-off",
            DropReason::NatPortsExhausted => "nat-ports-exhausted",
            DropReason::Partition => "partition",
            DropReason::UnboundSource => "unbound-source",
            DropReason::FamilyMismatch => "family-mismatch",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Incremental 64-bit hash over words: `h = (rotl(h, 23) ^ w) * K`, finalised by SplitMix64.
#[derive(Clone, Copy)]
pub(crate) struct TraceHash {
    state: u64,
}

const TRACE_K: u64 = 0x9e37_79b9_7f4a_7c15;

impl TraceHash {
    fn new() -> TraceHash {
        TraceHash {
            state: 0x6a09_e667_f3bc_c908,
        }
    }

    #[inline]
    fn word(&mut self, w: u64) {
        self.state = (self.state.rotate_left(23) ^ w).wrapping_mul(TRACE_K);
    }

    #[inline]
    fn addr(&mut self, a: SocketAddr) {
        match a {
            SocketAddr::V4(v4) => {
                self.word(u64::from(u32::from(*v4.ip())) << 16 | u64::from(v4.port()));
            }
            SocketAddr::V6(v6) => {
                let ip = u128::from(*v6.ip());
                self.word(ip as u64);
                self.word((ip >> 64) as u64);
                self.word(1 << 32 | u64::from(v6.port()));
            }
        }
    }

    #[inline]
    fn bytes(&mut self, bytes: &[u8]) {
        self.word(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(w));
        }
    }

    fn finish(&self) -> u64 {
        mix64(self.state)
    }
}

/// Feeds formatted text into the hash without allocating.
struct HashWriter<'a>(&'a mut TraceHash);

impl fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.bytes(s.as_bytes());
        Ok(())
    }
}

/// Where text lines go.
enum TextSink {
    Memory(String),
    Writer(Box<dyn io::Write>),
}

/// The trace of one run.
pub(crate) struct Trace {
    hash: TraceHash,
    text: Option<TextSink>,
    line: String,
}

const TAG_DELIVER: u64 = 1;
const TAG_DROP: u64 = 2;
const TAG_EVENT: u64 = 3;
const TAG_MAP: u64 = 4;

impl Trace {
    pub(crate) fn new() -> Trace {
        Trace {
            hash: TraceHash::new(),
            text: None,
            line: String::new(),
        }
    }

    pub(crate) fn hash(&self) -> u64 {
        self.hash.finish()
    }

    pub(crate) fn record_in_memory(&mut self) {
        self.text = Some(TextSink::Memory(String::new()));
    }

    pub(crate) fn write_to(&mut self, writer: Box<dyn io::Write>) {
        self.text = Some(TextSink::Writer(writer));
    }

    pub(crate) fn text(&self) -> &str {
        match &self.text {
            Some(TextSink::Memory(s)) => s,
            _ => "",
        }
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match &mut self.text {
            Some(TextSink::Writer(w)) => w.flush(),
            _ => Ok(()),
        }
    }

    fn emit(&mut self) {
        self.line.push('\n');
        let failed = match &mut self.text {
            Some(TextSink::Memory(s)) => {
                s.push_str(&self.line);
                false
            }
            // A trace writer that fails (a closed pipe) loses trace text, not the run.
            Some(TextSink::Writer(w)) => w.write_all(self.line.as_bytes()).is_err(),
            None => false,
        };
        if failed {
            self.text = None;
        }
        self.line.clear();
    }

    #[inline]
    pub(crate) fn deliver(
        &mut self,
        now: Instant,
        node: NodeId,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) {
        let h = &mut self.hash;
        h.word(TAG_DELIVER);
        h.word(now.as_nanos());
        h.word(u64::from(node.0));
        h.addr(source);
        h.addr(destination);
        h.bytes(payload);
        if self.text.is_some() {
            let _ = write!(
                self.line,
                "{now} deliver {node} {source} -> {destination} len={}",
                payload.len()
            );
            self.emit();
        }
    }

    pub(crate) fn drop(
        &mut self,
        now: Instant,
        reason: DropReason,
        source: SocketAddr,
        destination: SocketAddr,
        len: usize,
    ) {
        let h = &mut self.hash;
        h.word(TAG_DROP);
        h.word(now.as_nanos());
        h.word(reason as u64);
        h.addr(source);
        h.addr(destination);
        h.word(len as u64);
        if self.text.is_some() {
            let _ = write!(
                self.line,
                "{now} drop {reason} {source} -> {destination} len={len}"
            );
            self.emit();
        }
    }

    pub(crate) fn event(&mut self, now: Instant, node: NodeId, event: &dyn fmt::Debug) {
        self.hash.word(TAG_EVENT);
        self.hash.word(now.as_nanos());
        self.hash.word(u64::from(node.0));
        let _ = write!(HashWriter(&mut self.hash), "{event:?}");
        if self.text.is_some() {
            let _ = write!(self.line, "{now} event {node} {event:?}");
            self.emit();
        }
    }

    pub(crate) fn mapping(
        &mut self,
        now: Instant,
        nat: u32,
        internal: SocketAddr,
        external: SocketAddr,
        destination: SocketAddr,
    ) {
        let h = &mut self.hash;
        h.word(TAG_MAP);
        h.word(now.as_nanos());
        h.word(u64::from(nat));
        h.addr(internal);
        h.addr(external);
        if self.text.is_some() {
            let _ = write!(
                self.line,
                "{now} nat{nat} map {internal} => {external} (first packet to {destination})"
            );
            self.emit();
        }
    }

    /// A free-form note (link changes, partitions): text only, and hashed.
    pub(crate) fn note(&mut self, now: Instant, note: fmt::Arguments<'_>) {
        self.hash.word(now.as_nanos());
        let _ = HashWriter(&mut self.hash).write_fmt(note);
        if self.text.is_some() {
            let _ = write!(self.line, "{now} {note}");
            self.emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_text_sink() {
        let a: SocketAddr = "10.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "[2001:db8::1]:2".parse().unwrap();
        let mut plain = Trace::new();
        let mut texty = Trace::new();
        texty.record_in_memory();
        for t in [&mut plain, &mut texty] {
            t.deliver(Instant::from_millis(5), NodeId(3), a, b, b"hello");
            t.drop(Instant::from_millis(6), DropReason::Loss, a, b, 5);
            t.event(Instant::from_millis(7), NodeId(1), &"done");
        }
        assert_eq!(plain.hash(), texty.hash());
        assert_eq!(texty.text().lines().count(), 3);
        assert!(
            texty
                .text()
                .contains("drop loss 10.0.0.1:1 -> [2001:db8::1]:2 len=5")
        );
    }

    #[test]
    fn hash_sees_payload_and_time() {
        let a: SocketAddr = "10.0.0.1:1".parse().unwrap();
        let run = |t: u64, p: &[u8]| {
            let mut tr = Trace::new();
            tr.deliver(Instant::from_nanos(t), NodeId(0), a, a, p);
            tr.hash()
        };
        assert_ne!(run(1, b"abc"), run(2, b"abc"));
        assert_ne!(run(1, b"abc"), run(1, b"abd"));
        assert_ne!(run(1, b"abcdefgh1"), run(1, b"abcdefgh2"));
    }

    #[test]
    fn reasons_index_in_order() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
