//! Receive side of user messages (RFC 9260 §6.5, §6.6, §6.9): fragments are put back together,
//! ordered messages wait for their stream sequence number, unordered ones go straight up.
//!
//! RFC 9260 §6.9 gives the fragments of one message consecutive TSNs, so a message is complete
//! once the cumulative TSN passes its last fragment: fragments wait in `pending` keyed by
//! their unwrapped TSN and are joined when the cumulative TSN moves, resuming a scan where it
//! stopped so a 16 MiB message costs linear time. A single-fragment message is delivered
//! without waiting for the gaps before it. Every held byte counts against the receive window.

use std::collections::{BTreeMap, VecDeque};

use super::Event;
use crate::sctp::chunk::SkippedStream;

/// One received DATA fragment.
#[derive(Debug, Clone)]
pub(crate) struct Fragment {
    pub(crate) stream: u16,
    pub(crate) ssn: u16,
    pub(crate) ppid: u32,
    pub(crate) unordered: bool,
    pub(crate) beginning: bool,
    pub(crate) ending: bool,
    pub(crate) payload: Vec<u8>,
}

/// A complete message waiting for its turn on an ordered stream.
#[derive(Debug, Clone)]
struct Ready {
    ppid: u32,
    data: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
struct InStream {
    next_ssn: u16,
    ready: BTreeMap<u16, Ready>,
}

/// Where the scan of the oldest incomplete message stopped.
#[derive(Debug, Clone, Copy)]
struct Scan {
    start: u64,
    next: u64,
    bytes: usize,
}

/// A message grew past the configured maximum (RFC 8831 §6.6 max-message-size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// Fragments and ordered messages waiting for delivery.
#[derive(Debug, Clone)]
pub(crate) struct Reassembly {
    pending: BTreeMap<u64, Fragment>,
    scan: Option<Scan>,
    streams: BTreeMap<u16, InStream>,
    held: usize,
    max_message: usize,
}

/// RFC 9260 §1.6: serial comparison of 16-bit stream sequence numbers.
fn ssn_lt(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) < 0
}

impl Reassembly {
    pub(crate) fn new(max_message: usize) -> Reassembly {
        Reassembly {
            pending: BTreeMap::new(),
            scan: None,
            streams: BTreeMap::new(),
            held: 0,
            max_message,
        }
    }

    /// Bytes held (fragments and ordered messages not yet delivered).
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Takes the fragment with unwrapped TSN `tsn`; call [`drain`](Self::drain) once the
    /// packet's chunks are all in.
    pub(crate) fn insert(
        &mut self,
        tsn: u64,
        fragment: Fragment,
        out: &mut VecDeque<Event>,
    ) -> Result<(), TooLarge> {
        if fragment.beginning && fragment.ending {
            if fragment.payload.len() > self.max_message {
                return Err(TooLarge);
            }
            let Fragment {
                stream,
                ssn,
                ppid,
                unordered,
                payload,
                ..
            } = fragment;
            self.deliver(stream, ssn, unordered, ppid, payload, out);
            return Ok(());
        }
        self.held += fragment.payload.len();
        self.pending.insert(tsn, fragment);
        Ok(())
    }

    /// Joins every message whose fragments all lie at or below the cumulative TSN `cum`.
    pub(crate) fn drain(&mut self, cum: u64, out: &mut VecDeque<Event>) -> Result<(), TooLarge> {
        while let Some((&first, head)) = self.pending.first_key_value() {
            if first > cum {
                break;
            }
            if !head.beginning {
                // Its beginning was skipped by a FORWARD TSN (or never sent): drop it.
                self.remove_range(first, first);
                continue;
            }
            let mut scan = match self.scan {
                Some(s) if s.start == first => s,
                _ => Scan {
                    start: first,
                    next: first,
                    bytes: 0,
                },
            };
            let (stream, ssn, unordered) = (head.stream, head.ssn, head.unordered);
            let mut complete = false;
            let mut broken = false;
            while scan.next <= cum {
                let Some(f) = self.pending.get(&scan.next) else {
                    // A TSN at or below the cumulative TSN that is not pending was a whole
                    // message: RFC 9260 §6.9 forbids it inside a fragmented one.
                    broken = true;
                    break;
                };
                if (scan.next != first && f.beginning)
                    || f.stream != stream
                    || f.ssn != ssn
                    || f.unordered != unordered
                {
                    broken = true;
                    break;
                }
                scan.bytes += f.payload.len();
                if scan.bytes > self.max_message {
                    return Err(TooLarge);
                }
                if f.ending {
                    complete = true;
                    break;
                }
                scan.next += 1;
            }
            if broken {
                tracing::debug!(tsn = first, "SCTP: inconsistent fragments dropped");
                self.scan = None;
                self.remove_range(first, scan.next.saturating_sub(1).max(first));
                continue;
            }
            if !complete {
                self.scan = Some(scan);
                break;
            }
            self.scan = None;
            let mut rest = self.pending.split_off(&(scan.next + 1));
            core::mem::swap(&mut rest, &mut self.pending);
            let mut parts = rest.into_values();
            // NOTE(unwrap): the scan found the beginning fragment at `first`.
            let head = parts.next().expect("the scan saw the first fragment");
            let ppid = head.ppid;
            let mut data = head.payload;
            data.reserve(scan.bytes - data.len());
            for part in parts {
                data.extend_from_slice(&part.payload);
            }
            self.held -= scan.bytes;
            self.deliver(stream, ssn, unordered, ppid, data, out);
        }
        Ok(())
    }

    fn remove_range(&mut self, from: u64, to: u64) {
        let mut tail = self.pending.split_off(&(to + 1));
        let removed = self.pending.split_off(&from);
        core::mem::swap(&mut tail, &mut self.pending);
        self.pending.extend(tail);
        self.held -= removed.values().map(|f| f.payload.len()).sum::<usize>();
    }

    fn deliver(
        &mut self,
        stream: u16,
        ssn: u16,
        unordered: bool,
        ppid: u32,
        data: Vec<u8>,
        out: &mut VecDeque<Event>,
    ) {
        if unordered {
            out.push_back(Event::Message { stream, ppid, data });
            return;
        }
        let s = self.streams.entry(stream).or_default();
        if ssn == s.next_ssn {
            out.push_back(Event::Message { stream, ppid, data });
            s.next_ssn = s.next_ssn.wrapping_add(1);
            Self::release(s, &mut self.held, stream, out);
        } else if ssn_lt(s.next_ssn, ssn) {
            self.held += data.len();
            if let Some(old) = s.ready.insert(ssn, Ready { ppid, data }) {
                self.held -= old.data.len();
            }
        } else {
            tracing::debug!(stream, ssn, "SCTP: stale stream sequence number dropped");
        }
    }

    /// Delivers the ordered messages that are next in line.
    fn release(s: &mut InStream, held: &mut usize, stream: u16, out: &mut VecDeque<Event>) {
        while let Some(r) = s.ready.remove(&s.next_ssn) {
            *held -= r.data.len();
            out.push_back(Event::Message {
                stream,
                ppid: r.ppid,
                data: r.data,
            });
            s.next_ssn = s.next_ssn.wrapping_add(1);
        }
    }

    /// RFC 3758 §3.6: fragments at or below the new cumulative TSN are abandoned, and each
    /// listed ordered stream stops waiting for messages up to the skipped SSN, delivering what
    /// it holds in order.
    pub(crate) fn forward(
        &mut self,
        new_cum: u64,
        skipped: &[SkippedStream],
        out: &mut VecDeque<Event>,
    ) {
        if let Some((&first, _)) = self.pending.first_key_value()
            && first <= new_cum
        {
            self.remove_range(first, new_cum);
        }
        self.scan = None;
        for skip in skipped {
            let s = self.streams.entry(skip.stream_id).or_default();
            if ssn_lt(skip.ssn, s.next_ssn) {
                continue;
            }
            while !ssn_lt(skip.ssn, s.next_ssn) {
                if let Some(r) = s.ready.remove(&s.next_ssn) {
                    self.held -= r.data.len();
                    out.push_back(Event::Message {
                        stream: skip.stream_id,
                        ppid: r.ppid,
                        data: r.data,
                    });
                }
                s.next_ssn = s.next_ssn.wrapping_add(1);
            }
            Self::release(s, &mut self.held, skip.stream_id, out);
        }
    }

    /// RFC 6525 §5.2.2: the peer reset these outgoing streams (all when empty): their sequence
    /// numbers start again at zero.
    pub(crate) fn reset(&mut self, streams: &[u16]) {
        let clear = |s: &mut InStream, held: &mut usize| {
            *held -= s.ready.values().map(|r| r.data.len()).sum::<usize>();
            *s = InStream::default();
        };
        if streams.is_empty() {
            for s in self.streams.values_mut() {
                clear(s, &mut self.held);
            }
        } else {
            for id in streams {
                if let Some(s) = self.streams.get_mut(id) {
                    clear(s, &mut self.held);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(stream: u16, ssn: u16, b: bool, e: bool, unordered: bool, payload: &[u8]) -> Fragment {
        Fragment {
            stream,
            ssn,
            ppid: 51,
            unordered,
            beginning: b,
            ending: e,
            payload: payload.to_vec(),
        }
    }

    fn messages(out: &mut VecDeque<Event>) -> Vec<(u16, Vec<u8>)> {
        out.drain(..)
            .map(|e| match e {
                Event::Message { stream, data, .. } => (stream, data),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn fragments_join_once_the_cumulative_tsn_passes() {
        let mut r = Reassembly::new(1 << 20);
        let mut out = VecDeque::new();
        r.insert(12, frag(0, 0, false, true, false, b"ef"), &mut out)
            .unwrap();
        r.insert(10, frag(0, 0, true, false, false, b"ab"), &mut out)
            .unwrap();
        r.drain(10, &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(r.held(), 4);
        r.insert(11, frag(0, 0, false, false, false, b"cd"), &mut out)
            .unwrap();
        r.drain(12, &mut out).unwrap();
        assert_eq!(messages(&mut out), [(0, b"abcdef".to_vec())]);
        assert_eq!(r.held(), 0);
    }

    #[test]
    fn ordered_waits_unordered_does_not() {
        let mut r = Reassembly::new(1 << 20);
        let mut out = VecDeque::new();
        r.insert(2, frag(1, 1, true, true, false, b"second"), &mut out)
            .unwrap();
        r.insert(3, frag(1, 0, true, true, true, b"unordered"), &mut out)
            .unwrap();
        r.insert(4, frag(2, 0, true, true, false, b"other stream"), &mut out)
            .unwrap();
        assert_eq!(
            messages(&mut out),
            [(1, b"unordered".to_vec()), (2, b"other stream".to_vec())]
        );
        assert_eq!(r.held(), 6);
        r.insert(1, frag(1, 0, true, true, false, b"first"), &mut out)
            .unwrap();
        assert_eq!(
            messages(&mut out),
            [(1, b"first".to_vec()), (1, b"second".to_vec())]
        );
        assert_eq!(r.held(), 0);
    }

    #[test]
    fn bound_and_inconsistent_fragments() {
        let mut r = Reassembly::new(5);
        let mut out = VecDeque::new();
        assert_eq!(
            r.insert(1, frag(0, 0, true, true, false, b"toolong"), &mut out),
            Err(TooLarge)
        );
        r.insert(2, frag(0, 0, true, false, false, b"abc"), &mut out)
            .unwrap();
        r.insert(3, frag(0, 0, false, true, false, b"def"), &mut out)
            .unwrap();
        assert_eq!(r.drain(3, &mut out), Err(TooLarge));

        let mut r = Reassembly::new(100);
        // A fragment of another stream in the middle of a message: the message is dropped.
        r.insert(1, frag(0, 0, true, false, false, b"abc"), &mut out)
            .unwrap();
        r.insert(2, frag(3, 0, false, true, false, b"xyz"), &mut out)
            .unwrap();
        r.insert(3, frag(0, 0, true, false, false, b"ok"), &mut out)
            .unwrap();
        r.insert(4, frag(0, 0, false, true, false, b"!"), &mut out)
            .unwrap();
        r.drain(4, &mut out).unwrap();
        assert_eq!(messages(&mut out), [(0, b"ok!".to_vec())]);
        assert_eq!(r.held(), 0);
    }

    #[test]
    fn forward_tsn_releases_waiting_messages() {
        let mut r = Reassembly::new(100);
        let mut out = VecDeque::new();
        r.insert(5, frag(0, 0, true, false, false, b"lost-part"), &mut out)
            .unwrap();
        r.insert(8, frag(0, 2, true, true, false, b"two"), &mut out)
            .unwrap();
        r.forward(
            7,
            &[SkippedStream {
                stream_id: 0,
                ssn: 1,
            }],
            &mut out,
        );
        assert_eq!(messages(&mut out), [(0, b"two".to_vec())]);
        assert_eq!(r.held(), 0);
        r.reset(&[0]);
        r.insert(9, frag(0, 0, true, true, false, b"after reset"), &mut out)
            .unwrap();
        assert_eq!(messages(&mut out), [(0, b"after reset".to_vec())]);
    }
}
