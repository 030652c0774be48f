//! Send side of user messages (RFC 9260 §6.1, §6.6, §6.9; RFC 8260 §2.2.2, §3.2): messages
//! wait in one queue per stream, are cut into DATA (or I-DATA) chunks the size of the path MTU
//! when they are first sent, and stay in `sent` (indexed by TSN from the cumulative TSN ack)
//! until acknowledged or abandoned.
//!
//! Streams take turns (RFC 8260 §3.2, the round-robin scheduler): with I-DATA the turn passes
//! after every chunk, so a large message on one stream does not hold back small ones on
//! others; with DATA, whose fragments need consecutive TSNs (RFC 9260 §6.9), it passes after
//! every whole message.
//!
//! A message's bytes are shared (`Arc`) between all its fragments: sending and retransmitting
//! copy payload straight into the packet buffer, with no allocation per chunk.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::Instant;
use crate::sctp::chunk::{Chunk, ForwardTsn, IForwardTsn, SkippedMessage, SkippedStream};

/// RFC 9260 §3.3.1: the E, B and U bits.
const FLAG_END: u8 = 0x01;
const FLAG_BEGINNING: u8 = 0x02;
const FLAG_UNORDERED: u8 = 0x04;
/// Chunk header plus the DATA fixed fields.
pub(crate) const DATA_HEADER_LEN: usize = 16;
/// Chunk header plus the I-DATA fixed fields (RFC 8260 §2.1).
pub(crate) const IDATA_HEADER_LEN: usize = 20;
/// RFC 8260 §2.1: the I-DATA chunk type.
const I_DATA: u8 = 64;
/// Entries in one I-FORWARD-TSN (8 bytes each), so that it always fits a packet.
const MAX_SKIPPED: usize = 64;
/// The smallest I-DATA fragment cut to fill the rest of a packet.
const MIN_FILL: usize = 256;

/// Per-message partial reliability (RFC 3758 §3.1, RFC 8831 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Retransmissions allowed (sends = this + 1); `None` for reliable.
    pub(crate) max_retransmits: Option<u16>,
    /// When the message is abandoned if not yet acknowledged.
    pub(crate) expires: Option<Instant>,
}

impl Policy {
    fn exhausted(&self, transmissions: u32, now: Instant) -> bool {
        self.max_retransmits
            .is_some_and(|n| transmissions > u32::from(n))
            || self.expires.is_some_and(|t| now >= t)
    }
}

/// A user message not yet completely sent.
#[derive(Debug)]
pub(crate) struct OutMessage {
    pub(crate) ppid: u32,
    pub(crate) unordered: bool,
    pub(crate) data: Arc<Vec<u8>>,
    pub(crate) policy: Policy,
    /// Bytes already cut into chunks.
    offset: usize,
    /// The SSN (DATA) or MID (I-DATA), assigned when the first chunk is cut.
    mid: u32,
    /// RFC 8260 §2.1: the Fragment Sequence Number of the next chunk.
    fsn: u32,
    id: u64,
}

/// Where a sent chunk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkState {
    /// Sent and counted in the flight size.
    InFlight,
    /// Waiting to be retransmitted; not counted in the flight size.
    Retransmit,
    /// Acknowledged by a gap block.
    GapAcked,
    /// Given up under its partial-reliability policy (RFC 3758 §3.5).
    Abandoned,
}

/// A DATA chunk sent at least once and not yet cumulatively acknowledged.
#[derive(Debug)]
pub(crate) struct Sent {
    pub(crate) tsn: u32,
    pub(crate) stream: u16,
    /// The SSN (DATA, low 16 bits) or MID (I-DATA).
    pub(crate) mid: u32,
    /// RFC 8260 §2.1: the Fragment Sequence Number (I-DATA only).
    pub(crate) fsn: u32,
    pub(crate) ppid: u32,
    pub(crate) flags: u8,
    data: Arc<Vec<u8>>,
    start: u32,
    len: u32,
    pub(crate) sent_at: Instant,
    pub(crate) transmissions: u32,
    pub(crate) state: ChunkState,
    /// RFC 9260 §7.2.4: miss indications from SACKs.
    pub(crate) misses: u8,
    pub(crate) fast_retransmitted: bool,
    pub(crate) policy: Policy,
    pub(crate) message: u64,
}

impl Sent {
    /// Bytes this chunk counts for in the flight size and windows.
    pub(crate) fn size(&self) -> u32 {
        self.len + DATA_HEADER_LEN as u32
    }

    pub(crate) fn unordered(&self) -> bool {
        self.flags & FLAG_UNORDERED != 0
    }

    pub(crate) fn payload(&self) -> &[u8] {
        &self.data[self.start as usize..(self.start + self.len) as usize]
    }
}

/// RFC 9260 §3.3.1 / RFC 8260 §2.1: appends a DATA or I-DATA chunk (its length is always a
/// multiple of four after the padding appended here).
pub(crate) fn write_data_chunk(out: &mut Vec<u8>, s: &Sent, interleaving: bool) {
    let payload = s.payload();
    let header = if interleaving {
        IDATA_HEADER_LEN
    } else {
        DATA_HEADER_LEN
    };
    let length = header + payload.len();
    out.push(if interleaving { I_DATA } else { 0 });
    out.push(s.flags);
    out.extend_from_slice(&u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&s.tsn.to_be_bytes());
    out.extend_from_slice(&s.stream.to_be_bytes());
    if interleaving {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&s.mid.to_be_bytes());
        // RFC 8260 §2.1: the first fragment carries the PPID, the others their FSN.
        let word = if s.flags & FLAG_BEGINNING != 0 {
            s.ppid
        } else {
            s.fsn
        };
        out.extend_from_slice(&word.to_be_bytes());
    } else {
        out.extend_from_slice(&(s.mid as u16).to_be_bytes());
        out.extend_from_slice(&s.ppid.to_be_bytes());
    }
    out.extend_from_slice(payload);
    out.resize(out.len() + (4 - length % 4) % 4, 0);
}

/// Everything the sender keeps about user data.
#[derive(Debug)]
pub(crate) struct SendQueue {
    /// Messages not yet wholly cut into chunks, per stream in the order given.
    queues: BTreeMap<u16, VecDeque<OutMessage>>,
    /// Streams with queued messages, in round-robin order (RFC 8260 §3.2); the front one is
    /// served next.
    ring: VecDeque<u16>,
    /// RFC 8260: I-DATA was negotiated, so chunks are I-DATA and messages interleave.
    pub(crate) interleaving: bool,
    /// The peer's receive buffer as its INIT announced it.
    peer_capacity: usize,
    /// Bytes of the messages started and not yet wholly cut (I-DATA only).
    open_bytes: usize,
    /// Unsent bytes per stream (the data channel's bufferedAmount).
    pub(crate) buffered: BTreeMap<u16, usize>,
    pub(crate) queued_bytes: usize,
    /// Chunks from the cumulative TSN ack + 1 onwards, in TSN order.
    pub(crate) sent: VecDeque<Sent>,
    pub(crate) cum_ack: u32,
    pub(crate) next_tsn: u32,
    pub(crate) flight: u32,
    pub(crate) peer_rwnd: u32,
    pub(crate) retransmit_count: usize,
    /// Next SSN (DATA) or ordered MID (I-DATA) per stream.
    next_ssn: BTreeMap<u16, u32>,
    /// RFC 8260 §2.2.2: unordered messages have MIDs of their own per stream.
    next_unordered_mid: BTreeMap<u16, u32>,
    /// Karn's rule (RFC 9260 §6.3.1 C5): the one chunk being timed.
    pub(crate) rtt_probe: Option<(u32, Instant)>,
    next_message: u64,
    /// RTCDataChannel bufferedAmountLowThreshold per stream (RFC 8831 leaves it to the API).
    pub(crate) low_threshold: BTreeMap<u16, usize>,
    /// Streams whose buffered amount fell to their threshold since the last look.
    pub(crate) went_low: Vec<u16>,
    /// TSNs fast-retransmitted in the current recovery, and whether the peer has since
    /// reported each as a duplicate (then the retransmission was spurious).
    pub(crate) fast_retransmitted: Vec<(u32, bool)>,
    /// Messages abandoned under partial reliability (RFC 3758), sent or not: `Stats::abandoned`.
    pub(crate) abandoned: u64,
}

impl SendQueue {
    pub(crate) fn new(initial_tsn: u32, peer_rwnd: u32) -> SendQueue {
        SendQueue {
            queues: BTreeMap::new(),
            ring: VecDeque::new(),
            interleaving: false,
            peer_capacity: peer_rwnd as usize,
            open_bytes: 0,
            buffered: BTreeMap::new(),
            queued_bytes: 0,
            sent: VecDeque::new(),
            cum_ack: initial_tsn.wrapping_sub(1),
            next_tsn: initial_tsn,
            flight: 0,
            peer_rwnd,
            retransmit_count: 0,
            next_ssn: BTreeMap::new(),
            next_unordered_mid: BTreeMap::new(),
            rtt_probe: None,
            next_message: 0,
            low_threshold: BTreeMap::new(),
            went_low: Vec::new(),
            fast_retransmitted: Vec::new(),
            abandoned: 0,
        }
    }

    pub(crate) fn push(
        &mut self,
        stream: u16,
        ppid: u32,
        unordered: bool,
        data: Vec<u8>,
        policy: Policy,
    ) {
        self.queued_bytes += data.len();
        *self.buffered.entry(stream).or_default() += data.len();
        let id = self.next_message;
        self.next_message += 1;
        let queue = self.queues.entry(stream).or_default();
        if queue.is_empty() {
            self.ring.push_back(stream);
        }
        queue.push_back(OutMessage {
            ppid,
            unordered,
            data: Arc::new(data),
            policy,
            offset: 0,
            mid: 0,
            fsn: 0,
            id,
        });
    }

    /// RFC 6525 §5.1.2 / RFC 8260 §2.3.2: a reset stream's SSNs (or ordered and unordered
    /// MIDs) start again at zero.
    pub(crate) fn reset_stream(&mut self, stream: u16) {
        self.next_ssn.remove(&stream);
        self.next_unordered_mid.remove(&stream);
    }

    fn unbuffer(&mut self, stream: u16, bytes: usize) {
        self.queued_bytes -= bytes;
        if let Some(b) = self.buffered.get_mut(&stream) {
            let before = *b;
            *b -= bytes;
            let after = *b;
            if after == 0 {
                self.buffered.remove(&stream);
            }
            let threshold = self.low_threshold.get(&stream).copied().unwrap_or(0);
            if before > threshold && after <= threshold && !self.went_low.contains(&stream) {
                self.went_low.push(stream);
            }
        }
    }

    /// Whether nothing is queued or outstanding.
    pub(crate) fn is_idle(&self) -> bool {
        self.ring.is_empty() && self.sent.is_empty()
    }

    /// Whether a message for one of `streams` (any when empty) is still queued.
    pub(crate) fn has_queued(&self, streams: &[u16]) -> bool {
        streams.is_empty() && !self.ring.is_empty()
            || streams.iter().any(|s| self.queues.contains_key(s))
    }

    /// The stream whose turn it is, after dropping messages that expired unsent. With
    /// I-DATA a stream whose next message would start is passed over while the messages
    /// already started would, with it, exceed what the peer can buffer: the receiver holds
    /// the fragments of every started message until each is whole, and could otherwise fill
    /// its window with parts of messages none of which can complete.
    fn next_stream(&mut self, now: Instant, mtu_payload: usize) -> Option<u16> {
        let mut passed = 0;
        while passed < self.ring.len() {
            let &stream = self.ring.front()?;
            let Some(queue) = self.queues.get_mut(&stream) else {
                self.ring.pop_front();
                continue;
            };
            let Some(msg) = queue.front() else {
                self.queues.remove(&stream);
                self.ring.pop_front();
                continue;
            };
            if msg.offset == 0 && msg.policy.expires.is_some_and(|t| now >= t) {
                // RFC 3758 §3.5: a message that expired before it was sent is dropped here.
                let len = msg.data.len();
                queue.pop_front();
                self.abandoned += 1;
                self.unbuffer(stream, len);
                continue;
            }
            let starts_large = msg.offset == 0 && msg.data.len() > mtu_payload;
            if self.interleaving
                && starts_large
                && self.open_bytes > 0
                && self.open_bytes + msg.data.len() > self.peer_capacity
            {
                self.ring.rotate_left(1);
                passed += 1;
                continue;
            }
            return Some(stream);
        }
        None
    }

    /// The TSN the next new chunk gets, minus one: the last TSN assigned.
    pub(crate) fn last_assigned_tsn(&self) -> u32 {
        self.next_tsn.wrapping_sub(1)
    }

    /// Appends retransmissions, then new chunks, to `out` while they fit in `room` bytes and
    /// the windows allow. `ignore_cwnd` lets a fast retransmission out regardless of cwnd
    /// (RFC 9260 §7.2.4 step 3). Returns how many chunks were written.
    pub(crate) fn write(
        &mut self,
        out: &mut Vec<u8>,
        room: usize,
        now: Instant,
        cwnd: u32,
        ignore_cwnd: bool,
        mtu_payload: usize,
    ) -> usize {
        let start_len = out.len();
        let mut written = 0;
        let interleaving = self.interleaving;
        let header = if interleaving {
            IDATA_HEADER_LEN
        } else {
            DATA_HEADER_LEN
        };
        // The caller counts a DATA header; an I-DATA one is four bytes longer. RFC 9260 §3.2:
        // every chunk is padded to four bytes on the wire, so a full fragment is a multiple of
        // four or its padding would overrun an MTU that is not (and it would never fit).
        let mtu_payload = (mtu_payload.saturating_sub(header - DATA_HEADER_LEN) & !3).max(4);
        let fits = |out: &Vec<u8>, size: usize| out.len() - start_len + size <= room;
        // RFC 9260 §6.1 rule B / §7.2.1: a new packet may leave while the flight is below cwnd.
        if self.retransmit_count > 0 && (ignore_cwnd || self.flight < cwnd) {
            for s in self.sent.iter_mut() {
                if s.state != ChunkState::Retransmit {
                    continue;
                }
                let size = (s.len as usize).div_ceil(4) * 4 + header;
                if !fits(out, size) {
                    break;
                }
                write_data_chunk(out, s, interleaving);
                s.state = ChunkState::InFlight;
                s.transmissions += 1;
                s.sent_at = now;
                self.flight += s.size();
                self.retransmit_count -= 1;
                written += 1;
                if self.retransmit_count == 0 {
                    break;
                }
            }
        }
        // RFC 9260 §6.1 rule A: with nothing in flight one chunk may probe a zero window.
        while self.flight < cwnd && self.retransmit_count == 0 {
            let Some(stream) = self.next_stream(now, mtu_payload) else {
                break;
            };
            // NOTE(unwrap): next_stream returned a stream with a queued message.
            let queue = self.queues.get_mut(&stream).expect("stream has a queue");
            let msg = queue.front_mut().expect("queue has a message");
            let remaining = msg.data.len() - msg.offset;
            let mut len = remaining.min(mtu_payload);
            let size = len.div_ceil(4) * 4 + header;
            if !fits(out, size) {
                // RFC 8260 §2.1: I-DATA fragments are told apart by FSN, not by consecutive
                // TSNs, so a message that needs several chunks anyway fills what is left of
                // the packet (after a SACK, or another stream's chunk) instead of waiting.
                let left = (room - (out.len() - start_len)).saturating_sub(header) & !3;
                if !(interleaving && remaining > mtu_payload && left >= MIN_FILL) {
                    break;
                }
                len = left;
            }
            let wire = (len + DATA_HEADER_LEN) as u32;
            if self.peer_rwnd < wire && self.flight > 0 {
                break;
            }
            if msg.offset == 0 {
                msg.mid = if interleaving {
                    // RFC 8260 §2.2.2: ordered and unordered messages count MIDs apart.
                    let counters = if msg.unordered {
                        &mut self.next_unordered_mid
                    } else {
                        &mut self.next_ssn
                    };
                    let next = counters.entry(stream).or_default();
                    let mid = *next;
                    *next = next.wrapping_add(1);
                    mid
                } else if msg.unordered {
                    0
                } else {
                    // RFC 9260 §6.5: SSNs are 16 bits and wrap.
                    let next = self.next_ssn.entry(stream).or_default();
                    let ssn = *next;
                    *next = u32::from((ssn as u16).wrapping_add(1));
                    ssn
                };
                if interleaving && len < remaining {
                    self.open_bytes += msg.data.len();
                }
            }
            let mut flags = 0;
            if msg.offset == 0 {
                flags |= FLAG_BEGINNING;
            }
            if len == remaining {
                flags |= FLAG_END;
            }
            if msg.unordered {
                flags |= FLAG_UNORDERED;
            }
            let tsn = self.next_tsn;
            self.next_tsn = tsn.wrapping_add(1);
            let sent = Sent {
                tsn,
                stream,
                mid: msg.mid,
                fsn: msg.fsn,
                ppid: msg.ppid,
                flags,
                data: Arc::clone(&msg.data),
                start: msg.offset as u32,
                len: len as u32,
                sent_at: now,
                transmissions: 1,
                state: ChunkState::InFlight,
                misses: 0,
                fast_retransmitted: false,
                policy: msg.policy,
                message: msg.id,
            };
            msg.offset += len;
            msg.fsn = msg.fsn.wrapping_add(1);
            let finished = msg.offset == msg.data.len();
            if finished {
                if interleaving && flags & FLAG_BEGINNING == 0 {
                    self.open_bytes -= msg.data.len();
                }
                queue.pop_front();
            }
            // RFC 8260 §3.2: with I-DATA the turn passes after each chunk, with DATA after
            // each whole message.
            if queue.is_empty() {
                self.queues.remove(&stream);
                self.ring.pop_front();
            } else if finished || interleaving {
                self.ring.rotate_left(1);
            }
            self.unbuffer(stream, len);
            write_data_chunk(out, &sent, interleaving);
            self.flight += sent.size();
            self.peer_rwnd = self.peer_rwnd.saturating_sub(sent.size());
            if self.rtt_probe.is_none() {
                self.rtt_probe = Some((tsn, now));
            }
            self.sent.push_back(sent);
            written += 1;
        }
        written
    }

    /// RFC 9260 §6.3.3 E3: the T3-rtx timer expired; every chunk in flight is marked for
    /// retransmission (and abandoned instead if its policy is exhausted).
    pub(crate) fn mark_all_for_retransmit(&mut self, now: Instant) {
        // Karn's rule: a retransmitted chunk is never timed.
        self.rtt_probe = None;
        self.fast_retransmitted.clear();
        let mut abandon = Vec::new();
        for s in self.sent.iter_mut() {
            if s.state == ChunkState::InFlight {
                self.flight -= s.size();
                if s.policy.exhausted(s.transmissions, now) {
                    abandon.push(s.message);
                    s.state = ChunkState::Abandoned;
                } else {
                    s.state = ChunkState::Retransmit;
                    self.retransmit_count += 1;
                }
            }
        }
        for id in abandon {
            self.abandon_message(id);
        }
    }

    /// RFC 3758 §3.5 A3: abandons every chunk of message `id`, and what of it is unsent.
    pub(crate) fn abandon_message(&mut self, id: u64) {
        let mut stream = None;
        let mut newly = false;
        for s in self.sent.iter_mut().filter(|s| s.message == id) {
            match s.state {
                ChunkState::InFlight => self.flight -= s.size(),
                ChunkState::Retransmit => self.retransmit_count -= 1,
                ChunkState::GapAcked | ChunkState::Abandoned => {}
            }
            newly |= s.state != ChunkState::Abandoned;
            s.state = ChunkState::Abandoned;
            stream = Some(s.stream);
        }
        // A message partly sent is at the front of its stream's queue.
        let Some(stream) = stream else {
            return;
        };
        if newly {
            self.abandoned += 1;
        }
        let Some(queue) = self.queues.get_mut(&stream) else {
            return;
        };
        if queue.front().is_some_and(|m| m.id == id)
            && let Some(m) = queue.pop_front()
        {
            if queue.is_empty() {
                self.queues.remove(&stream);
                self.ring.retain(|&s| s != stream);
            }
            if self.interleaving {
                self.open_bytes -= m.data.len();
            }
            self.unbuffer(stream, m.data.len() - m.offset);
        }
    }

    /// RFC 3758 §3.5 C: the Advanced.Peer.Ack.Point, and the ordered streams with the highest
    /// SSN skipped, when it is past the cumulative TSN ack.
    pub(crate) fn forward_tsn(&self) -> Option<(u32, Vec<(u16, u16)>)> {
        let mut point = None;
        let mut streams: Vec<(u16, u16)> = Vec::new();
        for s in self.sent.iter() {
            if s.state != ChunkState::Abandoned {
                break;
            }
            point = Some(s.tsn);
            if !s.unordered() {
                let ssn = s.mid as u16;
                match streams.iter_mut().find(|(id, _)| *id == s.stream) {
                    Some(entry) => entry.1 = ssn,
                    None => streams.push((s.stream, ssn)),
                }
            }
        }
        point.map(|p| (p, streams))
    }

    /// RFC 8260 §2.3.1: the I-FORWARD-TSN form of [`forward_tsn`](Self::forward_tsn): the
    /// largest abandoned MID per stream and U bit. The point stops early rather than list
    /// more than [`MAX_SKIPPED`] entries; the rest follows in the next one.
    fn i_forward_tsn(&self) -> Option<IForwardTsn> {
        let mut point = None;
        let mut skipped: Vec<SkippedMessage> = Vec::new();
        for s in self.sent.iter() {
            if s.state != ChunkState::Abandoned {
                break;
            }
            let unordered = s.unordered();
            let known = skipped
                .iter()
                .position(|e| e.stream_id == s.stream && e.unordered == unordered);
            match known {
                Some(i) => skipped[i].mid = s.mid,
                None if skipped.len() == MAX_SKIPPED => break,
                None => skipped.push(SkippedMessage {
                    stream_id: s.stream,
                    unordered,
                    mid: s.mid,
                }),
            }
            point = Some(s.tsn);
        }
        point.map(|new_cumulative_tsn| IForwardTsn {
            new_cumulative_tsn,
            skipped,
        })
    }

    /// The FORWARD TSN (DATA) or I-FORWARD-TSN (I-DATA) to send, if the Advanced.Peer.Ack.Point
    /// is past the cumulative TSN ack (RFC 3758 §3.5 C, RFC 8260 §2.3.1).
    pub(crate) fn forward_tsn_chunk(&self) -> Option<Chunk> {
        if self.interleaving {
            return self.i_forward_tsn().map(Chunk::IForwardTsn);
        }
        self.forward_tsn().map(|(point, streams)| {
            Chunk::ForwardTsn(ForwardTsn {
                new_cumulative_tsn: point,
                streams: streams
                    .into_iter()
                    .map(|(stream_id, ssn)| SkippedStream { stream_id, ssn })
                    .collect(),
            })
        })
    }

    pub(crate) fn policy_exhausted(s: &Sent, now: Instant) -> bool {
        s.policy.exhausted(s.transmissions, now)
    }
}

#[cfg(test)]
#[path = "send_queue_tests.rs"]
mod tests;
