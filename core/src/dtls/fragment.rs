//! Handshake fragmentation to a path MTU and reassembly of fragments that arrive out of
//! order or duplicated (RFC 6347 §4.2.3), within a memory bound.

use std::collections::BTreeMap;

use crate::dtls::message::{HANDSHAKE_HEADER_LEN, HandshakeHeader, HandshakeType};

/// Splits one handshake message into fragments whose handshake header plus body fit in
/// `max_fragment` bytes, appending each (header included) through `emit`. RFC 6347 §4.2.3:
/// each fragment carries the whole message's length and its own offset and length.
pub fn fragment_message(
    msg_type: HandshakeType,
    message_seq: u16,
    body: &[u8],
    max_fragment: usize,
    mut emit: impl FnMut(Vec<u8>),
) {
    let room = max_fragment.saturating_sub(HANDSHAKE_HEADER_LEN).max(1);
    let length = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut offset = 0usize;
    loop {
        let end = (offset + room).min(body.len());
        let mut out = Vec::with_capacity(HANDSHAKE_HEADER_LEN + end - offset);
        HandshakeHeader {
            msg_type,
            length,
            message_seq,
            // Offsets and lengths are below `length`, itself a u24 for any message pigeon
            // builds (certificates of a few hundred bytes).
            fragment_offset: u32::try_from(offset).unwrap_or(u32::MAX),
            fragment_length: u32::try_from(end - offset).unwrap_or(u32::MAX),
        }
        .emit(&mut out);
        out.extend_from_slice(&body[offset..end]);
        emit(out);
        offset = end;
        if offset >= body.len() {
            break;
        }
    }
}

/// Bounds of the reassembly buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Largest handshake message accepted (a certificate chain is the big one).
    pub max_message_len: usize,
    /// Bytes buffered over all incomplete messages.
    pub max_buffered: usize,
    /// How far ahead of the next expected message_seq fragments are kept.
    pub max_ahead: u16,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_message_len: 32 * 1024,
            max_buffered: 64 * 1024,
            max_ahead: 8,
        }
    }
}

/// What happened to a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentOutcome {
    /// Stored (or already held: duplicates are harmless).
    Accepted,
    /// A message already delivered: the peer retransmitted its previous flight, which RFC 6347
    /// §4.2.4 takes as a sign that our last flight was lost.
    Retransmission,
    /// Refused: inconsistent with earlier fragments, too big, too far ahead, or over the bound.
    Dropped,
}

#[derive(Debug)]
struct Partial {
    msg_type: HandshakeType,
    body: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    ranges: Vec<(usize, usize)>,
}

impl Partial {
    fn insert(&mut self, start: usize, end: usize) {
        self.ranges.push((start, end));
        self.ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.ranges.len());
        for &(s, e) in &self.ranges {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.ranges = merged;
    }

    fn complete(&self) -> bool {
        self.body.is_empty() || self.ranges == [(0, self.body.len())]
    }
}

/// Reassembles the peer's handshake messages and hands them out in message_seq order.
#[derive(Debug)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    next_seq: u16,
    partial: BTreeMap<u16, Partial>,
    buffered: usize,
    /// Fragments refused so far.
    pub dropped: u64,
}

impl Reassembler {
    /// A reassembler expecting message_seq `next_seq` first.
    pub fn new(limits: ReassemblyLimits, next_seq: u16) -> Reassembler {
        Reassembler {
            limits,
            next_seq,
            partial: BTreeMap::new(),
            buffered: 0,
            dropped: 0,
        }
    }

    /// The message_seq expected next.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    /// Forgets everything and expects `next_seq` (the server does this after it verified a
    /// cookie, RFC 6347 §4.2.2).
    pub fn reset(&mut self, next_seq: u16) {
        self.next_seq = next_seq;
        self.partial.clear();
        self.buffered = 0;
    }

    /// Takes one fragment.
    pub fn push(&mut self, header: &HandshakeHeader, fragment: &[u8]) -> FragmentOutcome {
        if header.message_seq < self.next_seq {
            return FragmentOutcome::Retransmission;
        }
        let Ok(length) = usize::try_from(header.length) else {
            self.dropped += 1;
            return FragmentOutcome::Dropped;
        };
        if header.message_seq - self.next_seq > self.limits.max_ahead
            || length > self.limits.max_message_len
        {
            self.dropped += 1;
            return FragmentOutcome::Dropped;
        }
        // HandshakeHeader::parse checked offset + length <= message length.
        let start = usize::try_from(header.fragment_offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(fragment.len());
        if end > length {
            self.dropped += 1;
            return FragmentOutcome::Dropped;
        }
        if !self.partial.contains_key(&header.message_seq) {
            if self.buffered + length > self.limits.max_buffered {
                self.dropped += 1;
                tracing::debug!(
                    seq = header.message_seq,
                    "dtls: reassembly buffer full, fragment dropped"
                );
                return FragmentOutcome::Dropped;
            }
            self.buffered += length;
            self.partial.insert(
                header.message_seq,
                Partial {
                    msg_type: header.msg_type,
                    body: vec![0; length],
                    ranges: Vec::new(),
                },
            );
        }
        let Some(partial) = self.partial.get_mut(&header.message_seq) else {
            return FragmentOutcome::Dropped;
        };
        if partial.msg_type != header.msg_type || partial.body.len() != length {
            // RFC 6347 §4.2.3 requires every fragment to repeat the message's type and
            // length; a mismatch is a broken or hostile peer.
            self.dropped += 1;
            return FragmentOutcome::Dropped;
        }
        if partial.ranges.len() >= 256 {
            self.dropped += 1;
            return FragmentOutcome::Dropped;
        }
        partial.body[start..end].copy_from_slice(fragment);
        if start < end {
            partial.insert(start, end);
        }
        FragmentOutcome::Accepted
    }

    /// The next complete message in order: type, message_seq and body.
    pub fn pop(&mut self) -> Option<(HandshakeType, u16, Vec<u8>)> {
        let seq = self.next_seq;
        if !self.partial.get(&seq)?.complete() {
            return None;
        }
        let partial = self.partial.remove(&seq)?;
        self.buffered -= partial.body.len();
        self.next_seq = seq.wrapping_add(1);
        Some((partial.msg_type, seq, partial.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragments(body: &[u8], seq: u16, mtu: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        fragment_message(HandshakeType::CERTIFICATE, seq, body, mtu, |f| out.push(f));
        out
    }

    fn feed(r: &mut Reassembler, frag: &[u8]) -> FragmentOutcome {
        let (header, body, rest) = HandshakeHeader::parse(frag).unwrap();
        assert!(rest.is_empty());
        r.push(&header, body)
    }

    #[test]
    fn fragments_fit_and_cover() {
        let body: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let frags = fragments(&body, 2, 112);
        assert_eq!(frags.len(), 10);
        assert!(frags.iter().all(|f| f.len() <= 112));
        let empty = fragments(&[], 0, 100);
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].len(), HANDSHAKE_HEADER_LEN);
    }

    #[test]
    fn out_of_order_and_duplicates_reassemble() {
        let body: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut frags = fragments(&body, 0, 100);
        frags.reverse();
        let dup = frags[3].clone();
        frags.insert(0, dup);
        let mut r = Reassembler::new(ReassemblyLimits::default(), 0);
        for (i, f) in frags.iter().enumerate() {
            assert_eq!(r.pop(), None, "complete too early at {i}");
            assert_eq!(feed(&mut r, f), FragmentOutcome::Accepted);
        }
        assert_eq!(r.pop(), Some((HandshakeType::CERTIFICATE, 0, body)));
        assert_eq!(r.pop(), None);
        assert_eq!(feed(&mut r, &frags[0]), FragmentOutcome::Retransmission);
    }

    #[test]
    fn messages_come_out_in_sequence_order() {
        let mut r = Reassembler::new(ReassemblyLimits::default(), 0);
        for f in fragments(b"second", 1, 100) {
            feed(&mut r, &f);
        }
        assert_eq!(r.pop(), None, "message 0 is still missing");
        for f in fragments(b"first", 0, 100) {
            feed(&mut r, &f);
        }
        assert_eq!(r.pop().unwrap().2, b"first");
        assert_eq!(r.pop().unwrap().2, b"second");
    }

    #[test]
    fn bounds_and_inconsistency() {
        let limits = ReassemblyLimits {
            max_message_len: 500,
            max_buffered: 800,
            max_ahead: 2,
        };
        let mut r = Reassembler::new(limits, 0);
        assert_eq!(
            feed(&mut r, &fragments(&[0; 501], 0, 100)[0]),
            FragmentOutcome::Dropped
        );
        assert_eq!(
            feed(&mut r, &fragments(&[0; 10], 3, 100)[0]),
            FragmentOutcome::Dropped
        );
        assert_eq!(
            feed(&mut r, &fragments(&[0; 500], 0, 100)[0]),
            FragmentOutcome::Accepted
        );
        assert_eq!(
            feed(&mut r, &fragments(&[0; 400], 1, 100)[0]),
            FragmentOutcome::Dropped,
            "500 + 400 is over the 800-byte bound"
        );
        // Same seq, different length: inconsistent.
        assert_eq!(
            feed(&mut r, &fragments(&[0; 499], 0, 100)[0]),
            FragmentOutcome::Dropped
        );
        assert_eq!(r.dropped, 4);
    }
}
