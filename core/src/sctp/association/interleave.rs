//! Receive side of I-DATA (RFC 8260 §2.1, §2.2.3): fragments are put back together per
//! message, keyed by (stream, U bit, MID) and ordered by their Fragment Sequence Number, so
//! fragments of different messages may arrive interleaved in any order. Ordered messages are
//! then delivered by MID, unordered ones as soon as they are whole.
//!
//! Unlike DATA, a message is not made of consecutive TSNs, so fragments stay here until their
//! message is complete, whatever the cumulative TSN. Every held byte counts against the
//! receive window, and the association bounds the number of entries (see [`entries`]).
//!
//! [`entries`]: Interleaved::entries

use std::collections::{BTreeMap, VecDeque};

use super::Event;
use super::reassembly::TooLarge;
use crate::sctp::chunk::SkippedMessage;

/// One received I-DATA fragment.
#[derive(Debug, Clone)]
pub(crate) struct IFragment {
    pub(crate) stream: u16,
    pub(crate) unordered: bool,
    pub(crate) mid: u32,
    /// RFC 8260 §2.1: 0 for the first fragment, whose PPID travels in its place.
    pub(crate) fsn: u32,
    pub(crate) ppid: u32,
    pub(crate) beginning: bool,
    pub(crate) ending: bool,
    pub(crate) payload: Vec<u8>,
}

/// The fragments of one message received so far.
#[derive(Debug, Clone, Default)]
struct Partial {
    ppid: u32,
    parts: BTreeMap<u32, Vec<u8>>,
    /// The FSN of the fragment with the E bit, once it came.
    last: Option<u32>,
    bytes: usize,
}

/// Ordered delivery state of one stream.
#[derive(Debug, Clone, Default)]
struct Ordered {
    next_mid: u32,
    /// Whole messages waiting for the MIDs before them, by MID.
    ready: BTreeMap<u32, (u32, Vec<u8>)>,
}

/// Messages being reassembled, and ordered ones waiting for their turn.
#[derive(Debug, Clone)]
pub(crate) struct Interleaved {
    partial: BTreeMap<(u16, bool, u32), Partial>,
    ordered: BTreeMap<u16, Ordered>,
    held: usize,
    entries: usize,
    max_message: usize,
}

/// RFC 8260 §2.1 with RFC 9260 §1.6 serial arithmetic: `a < b` for 32-bit MIDs.
fn mid_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl Interleaved {
    pub(crate) fn new(max_message: usize) -> Interleaved {
        Interleaved {
            partial: BTreeMap::new(),
            ordered: BTreeMap::new(),
            held: 0,
            entries: 0,
            max_message,
        }
    }

    /// Bytes held (fragments and ordered messages not yet delivered).
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Fragments and waiting messages held, each one allocation.
    pub(crate) fn entries(&self) -> usize {
        self.entries
    }

    /// Takes one fragment; delivers its message into `out` once whole. A message growing
    /// past the maximum message size is an error the association answers with ABORT.
    pub(crate) fn insert(
        &mut self,
        f: IFragment,
        out: &mut VecDeque<Event>,
    ) -> Result<(), TooLarge> {
        if !f.unordered
            && let Some(s) = self.ordered.get(&f.stream)
            && mid_lt(f.mid, s.next_mid)
        {
            tracing::debug!(stream = f.stream, mid = f.mid, "SCTP: stale I-DATA dropped");
            return Ok(());
        }
        if f.beginning && f.ending {
            if f.payload.len() > self.max_message {
                return Err(TooLarge);
            }
            self.deliver(f.stream, f.unordered, f.mid, f.ppid, f.payload, out);
            return Ok(());
        }
        let fsn = if f.beginning { 0 } else { f.fsn };
        let key = (f.stream, f.unordered, f.mid);
        let p = self.partial.entry(key).or_default();
        // RFC 8260 §2.1: FSN 0 is the first fragment (B bit); none lies beyond the last.
        let consistent = (f.beginning || fsn != 0)
            && !p.parts.contains_key(&fsn)
            && p.last
                .is_none_or(|last| fsn < last || (fsn == last && f.ending))
            && (!f.ending || p.parts.last_key_value().is_none_or(|(&k, _)| k < fsn));
        if !consistent {
            tracing::debug!(
                stream = f.stream,
                mid = f.mid,
                fsn,
                "SCTP: inconsistent I-DATA"
            );
            self.drop_partial(key);
            return Ok(());
        }
        p.bytes += f.payload.len();
        if p.bytes > self.max_message {
            return Err(TooLarge);
        }
        if f.beginning {
            p.ppid = f.ppid;
        }
        if f.ending {
            p.last = Some(fsn);
        }
        self.held += f.payload.len();
        self.entries += 1;
        p.parts.insert(fsn, f.payload);
        let complete = p
            .last
            .is_some_and(|last| p.parts.len() as u64 == u64::from(last) + 1);
        if complete && let Some(p) = self.partial.remove(&key) {
            self.held -= p.bytes;
            self.entries -= p.parts.len();
            let mut data = Vec::with_capacity(p.bytes);
            for part in p.parts.into_values() {
                data.extend_from_slice(&part);
            }
            self.deliver(f.stream, f.unordered, f.mid, p.ppid, data, out);
        }
        Ok(())
    }

    fn drop_partial(&mut self, key: (u16, bool, u32)) {
        if let Some(p) = self.partial.remove(&key) {
            self.held -= p.bytes;
            self.entries -= p.parts.len();
        }
    }

    fn deliver(
        &mut self,
        stream: u16,
        unordered: bool,
        mid: u32,
        ppid: u32,
        data: Vec<u8>,
        out: &mut VecDeque<Event>,
    ) {
        if unordered {
            out.push_back(Event::Message { stream, ppid, data });
            return;
        }
        let s = self.ordered.entry(stream).or_default();
        if mid == s.next_mid {
            out.push_back(Event::Message { stream, ppid, data });
            s.next_mid = s.next_mid.wrapping_add(1);
            Self::release(s, &mut self.held, &mut self.entries, stream, out);
        } else if mid_lt(s.next_mid, mid) {
            self.held += data.len();
            self.entries += 1;
            if let Some((_, old)) = s.ready.insert(mid, (ppid, data)) {
                self.held -= old.len();
                self.entries -= 1;
            }
        }
    }

    /// Delivers the ordered messages next in line.
    fn release(
        s: &mut Ordered,
        held: &mut usize,
        entries: &mut usize,
        stream: u16,
        out: &mut VecDeque<Event>,
    ) {
        while let Some((ppid, data)) = s.ready.remove(&s.next_mid) {
            *held -= data.len();
            *entries -= 1;
            out.push_back(Event::Message { stream, ppid, data });
            s.next_mid = s.next_mid.wrapping_add(1);
        }
    }

    /// RFC 8260 §2.3.1: I-FORWARD-TSN. The fragments of each listed stream and U bit with a
    /// MID up to the one given are dropped; an ordered stream stops waiting for those MIDs,
    /// delivering in order what it already holds.
    pub(crate) fn forward(&mut self, skipped: &[SkippedMessage], out: &mut VecDeque<Event>) {
        for skip in skipped {
            let doomed: Vec<_> = self
                .partial
                .range(
                    (skip.stream_id, skip.unordered, 0)
                        ..=(skip.stream_id, skip.unordered, u32::MAX),
                )
                .map(|(k, _)| *k)
                .filter(|k| !mid_lt(skip.mid, k.2))
                .collect();
            for key in doomed {
                self.drop_partial(key);
            }
            if skip.unordered {
                continue;
            }
            let s = self.ordered.entry(skip.stream_id).or_default();
            if mid_lt(skip.mid, s.next_mid) {
                continue;
            }
            // Walk the held messages, not the MIDs: a peer may skip billions of them.
            let base = s.next_mid;
            let span = skip.mid.wrapping_sub(base);
            let mut due: Vec<u32> = s
                .ready
                .keys()
                .copied()
                .filter(|m| m.wrapping_sub(base) <= span)
                .collect();
            due.sort_by_key(|m| m.wrapping_sub(base));
            for mid in due {
                if let Some((ppid, data)) = s.ready.remove(&mid) {
                    self.held -= data.len();
                    self.entries -= 1;
                    out.push_back(Event::Message {
                        stream: skip.stream_id,
                        ppid,
                        data,
                    });
                }
            }
            s.next_mid = skip.mid.wrapping_add(1);
            Self::release(s, &mut self.held, &mut self.entries, skip.stream_id, out);
        }
    }

    /// RFC 6525 §5.2.2 with RFC 8260 §2.3.2: the peer reset these outgoing streams (all when
    /// empty): their MIDs start again at zero and nothing of theirs is kept.
    pub(crate) fn reset(&mut self, streams: &[u16]) {
        let hit = |stream: u16| streams.is_empty() || streams.contains(&stream);
        let doomed: Vec<_> = self.partial.keys().filter(|k| hit(k.0)).copied().collect();
        for key in doomed {
            self.drop_partial(key);
        }
        for (&stream, s) in self.ordered.iter_mut() {
            if hit(stream) {
                self.held -= s.ready.values().map(|(_, d)| d.len()).sum::<usize>();
                self.entries -= s.ready.len();
                *s = Ordered::default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(stream: u16, unordered: bool, mid: u32, fsn: u32, e: bool, data: &[u8]) -> IFragment {
        IFragment {
            stream,
            unordered,
            mid,
            fsn,
            ppid: if fsn == 0 { 51 } else { 0 },
            beginning: fsn == 0,
            ending: e,
            payload: data.to_vec(),
        }
    }

    fn messages(out: &mut VecDeque<Event>) -> Vec<(u16, Vec<u8>)> {
        out.drain(..)
            .map(|e| match e {
                Event::Message { stream, data, ppid } => {
                    assert_eq!(ppid, 51);
                    (stream, data)
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn interleaved_fragments_join_by_stream_u_and_mid() {
        let mut r = Interleaved::new(1 << 20);
        let mut out = VecDeque::new();
        // Two messages on stream 1 (ordered MID 0, unordered MID 0) and one on stream 2,
        // fragments arriving mixed and out of order.
        r.insert(frag(1, false, 0, 2, true, b"ef"), &mut out)
            .unwrap();
        r.insert(frag(1, true, 0, 1, true, b"UV"), &mut out)
            .unwrap();
        r.insert(frag(2, false, 0, 0, false, b"p"), &mut out)
            .unwrap();
        r.insert(frag(1, false, 0, 0, false, b"ab"), &mut out)
            .unwrap();
        assert!(out.is_empty());
        assert_eq!((r.held(), r.entries()), (7, 4));
        r.insert(frag(1, true, 0, 0, false, b"ST"), &mut out)
            .unwrap();
        r.insert(frag(2, false, 0, 1, true, b"q"), &mut out)
            .unwrap();
        r.insert(frag(1, false, 0, 1, false, b"cd"), &mut out)
            .unwrap();
        assert_eq!(
            messages(&mut out),
            [
                (1, b"STUV".to_vec()),
                (2, b"pq".to_vec()),
                (1, b"abcdef".to_vec())
            ]
        );
        assert_eq!((r.held(), r.entries()), (0, 0));
    }

    #[test]
    fn ordered_by_mid_and_bounded() {
        let mut r = Interleaved::new(4);
        let mut out = VecDeque::new();
        r.insert(
            frag(3, false, 1, 0, true, b"second"[..4].as_ref()),
            &mut out,
        )
        .unwrap();
        assert!(out.is_empty());
        r.insert(frag(3, false, 0, 0, true, b"1st"), &mut out)
            .unwrap();
        assert_eq!(
            messages(&mut out),
            [(3, b"1st".to_vec()), (3, b"seco".to_vec())]
        );
        // A stale MID is dropped; a message past the bound is an error.
        r.insert(frag(3, false, 0, 0, true, b"old"), &mut out)
            .unwrap();
        assert!(out.is_empty());
        r.insert(frag(3, false, 2, 0, false, b"abc"), &mut out)
            .unwrap();
        assert_eq!(
            r.insert(frag(3, false, 2, 1, true, b"de"), &mut out),
            Err(TooLarge)
        );
        // Inconsistent fragments (a second last one) drop the message.
        let mut r = Interleaved::new(100);
        r.insert(frag(0, true, 5, 3, true, b"x"), &mut out).unwrap();
        r.insert(frag(0, true, 5, 4, false, b"y"), &mut out)
            .unwrap();
        assert_eq!((r.held(), r.entries()), (0, 0));
    }

    #[test]
    fn forward_and_reset() {
        let mut r = Interleaved::new(100);
        let mut out = VecDeque::new();
        r.insert(frag(0, false, 0, 0, false, b"lost"), &mut out)
            .unwrap();
        r.insert(frag(0, false, 2, 0, true, b"two"), &mut out)
            .unwrap();
        r.insert(frag(0, true, 7, 0, false, b"u"), &mut out)
            .unwrap();
        r.insert(frag(0, true, 9, 0, false, b"keep"), &mut out)
            .unwrap();
        r.forward(
            &[
                SkippedMessage {
                    stream_id: 0,
                    unordered: false,
                    mid: 1,
                },
                SkippedMessage {
                    stream_id: 0,
                    unordered: true,
                    mid: 7,
                },
            ],
            &mut out,
        );
        assert_eq!(messages(&mut out), [(0, b"two".to_vec())]);
        assert_eq!((r.held(), r.entries()), (4, 1));
        // A skip far ahead does not walk the MIDs one by one.
        r.forward(
            &[SkippedMessage {
                stream_id: 0,
                unordered: false,
                mid: 0x7fff_0000,
            }],
            &mut out,
        );
        r.insert(frag(0, false, 0x7fff_0001, 0, true, b"next"), &mut out)
            .unwrap();
        assert_eq!(messages(&mut out), [(0, b"next".to_vec())]);
        r.reset(&[0]);
        assert_eq!((r.held(), r.entries()), (0, 0));
        r.insert(frag(0, false, 0, 0, true, b"again"), &mut out)
            .unwrap();
        assert_eq!(messages(&mut out), [(0, b"again".to_vec())]);
    }
}
