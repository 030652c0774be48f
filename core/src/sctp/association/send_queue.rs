//! Send side of user messages (RFC 9260 §6.1, §6.6, §6.9): messages wait in a queue, are cut
//! into DATA chunks the size of the path MTU when they are first sent, and stay in `sent`
//! (indexed by TSN from the cumulative TSN ack) until acknowledged or abandoned.
//!
//! A message's bytes are shared (`Arc`) between all its fragments: sending and retransmitting
//! copy payload straight into the packet buffer, with no allocation per chunk.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::Instant;

/// RFC 9260 §3.3.1: the E, B and U bits.
const FLAG_END: u8 = 0x01;
const FLAG_BEGINNING: u8 = 0x02;
const FLAG_UNORDERED: u8 = 0x04;
/// Chunk header plus the DATA fixed fields.
pub(crate) const DATA_HEADER_LEN: usize = 16;

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
    pub(crate) stream: u16,
    pub(crate) ppid: u32,
    pub(crate) unordered: bool,
    pub(crate) data: Arc<Vec<u8>>,
    pub(crate) policy: Policy,
    /// Bytes already cut into chunks.
    offset: usize,
    ssn: u16,
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
    pub(crate) ssn: u16,
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

/// RFC 9260 §3.3.1: appends a DATA chunk (its length is always a multiple of four after the
/// padding appended here).
pub(crate) fn write_data_chunk(out: &mut Vec<u8>, s: &Sent) {
    let payload = s.payload();
    let length = DATA_HEADER_LEN + payload.len();
    out.push(0);
    out.push(s.flags);
    out.extend_from_slice(&u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&s.tsn.to_be_bytes());
    out.extend_from_slice(&s.stream.to_be_bytes());
    out.extend_from_slice(&s.ssn.to_be_bytes());
    out.extend_from_slice(&s.ppid.to_be_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len() + (4 - length % 4) % 4, 0);
}

/// Everything the sender keeps about user data.
#[derive(Debug)]
pub(crate) struct SendQueue {
    pub(crate) queue: VecDeque<OutMessage>,
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
    pub(crate) next_ssn: BTreeMap<u16, u16>,
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
}

impl SendQueue {
    pub(crate) fn new(initial_tsn: u32, peer_rwnd: u32) -> SendQueue {
        SendQueue {
            queue: VecDeque::new(),
            buffered: BTreeMap::new(),
            queued_bytes: 0,
            sent: VecDeque::new(),
            cum_ack: initial_tsn.wrapping_sub(1),
            next_tsn: initial_tsn,
            flight: 0,
            peer_rwnd,
            retransmit_count: 0,
            next_ssn: BTreeMap::new(),
            rtt_probe: None,
            next_message: 0,
            low_threshold: BTreeMap::new(),
            went_low: Vec::new(),
            fast_retransmitted: Vec::new(),
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
        self.queue.push_back(OutMessage {
            stream,
            ppid,
            unordered,
            data: Arc::new(data),
            policy,
            offset: 0,
            ssn: 0,
            id,
        });
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
        self.queue.is_empty() && self.sent.is_empty()
    }

    /// Whether a message for one of `streams` (any when empty) is still queued.
    pub(crate) fn has_queued(&self, streams: &[u16]) -> bool {
        streams.is_empty() && !self.queue.is_empty()
            || self.queue.iter().any(|m| streams.contains(&m.stream))
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
        let fits = |out: &Vec<u8>, size: usize| out.len() - start_len + size <= room;
        // RFC 9260 §6.1 rule B / §7.2.1: a new packet may leave while the flight is below cwnd.
        if self.retransmit_count > 0 && (ignore_cwnd || self.flight < cwnd) {
            for s in self.sent.iter_mut() {
                if s.state != ChunkState::Retransmit {
                    continue;
                }
                let size = (s.len as usize).div_ceil(4) * 4 + DATA_HEADER_LEN;
                if !fits(out, size) {
                    break;
                }
                write_data_chunk(out, s);
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
            let Some(msg) = self.queue.front_mut() else {
                break;
            };
            if msg.offset == 0 && msg.policy.expires.is_some_and(|t| now >= t) {
                // RFC 3758 §3.5: a message that expired before it was sent is dropped here.
                let (stream, len) = (msg.stream, msg.data.len());
                self.queue.pop_front();
                self.unbuffer(stream, len);
                continue;
            }
            let remaining = msg.data.len() - msg.offset;
            let len = remaining.min(mtu_payload);
            let size = len.div_ceil(4) * 4 + DATA_HEADER_LEN;
            if !fits(out, size) {
                break;
            }
            let wire = (len + DATA_HEADER_LEN) as u32;
            if self.peer_rwnd < wire && self.flight > 0 {
                break;
            }
            if msg.offset == 0 && !msg.unordered {
                let next = self.next_ssn.entry(msg.stream).or_default();
                msg.ssn = *next;
                *next = next.wrapping_add(1);
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
                stream: msg.stream,
                ssn: msg.ssn,
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
            let stream = msg.stream;
            if msg.offset == msg.data.len() {
                self.queue.pop_front();
            }
            self.unbuffer(stream, len);
            write_data_chunk(out, &sent);
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
        for s in self.sent.iter_mut().filter(|s| s.message == id) {
            match s.state {
                ChunkState::InFlight => self.flight -= s.size(),
                ChunkState::Retransmit => self.retransmit_count -= 1,
                ChunkState::GapAcked | ChunkState::Abandoned => {}
            }
            s.state = ChunkState::Abandoned;
        }
        if self.queue.front().is_some_and(|m| m.id == id)
            && let Some(m) = self.queue.pop_front()
        {
            self.unbuffer(m.stream, m.data.len() - m.offset);
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
                match streams.iter_mut().find(|(id, _)| *id == s.stream) {
                    Some(entry) => entry.1 = s.ssn,
                    None => streams.push((s.stream, s.ssn)),
                }
            }
        }
        point.map(|p| (p, streams))
    }

    pub(crate) fn policy_exhausted(s: &Sent, now: Instant) -> bool {
        s.policy.exhausted(s.transmissions, now)
    }
}
