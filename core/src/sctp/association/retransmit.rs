//! What a SACK does to the send side (RFC 9260 §6.2.1, §7.2.4): the cumulative TSN ack frees
//! chunks, gap blocks mark chunks acknowledged, and chunks reported missing three times are
//! fast-retransmitted (or abandoned under RFC 3758).
//!
//! A fast retransmission that is itself lost would, by the RFC alone, wait for the T3-rtx
//! timer (at least RTO.Min, one second, then a window of one MTU): on a long path losing 1%
//! of its packets that happens every few seconds and costs most of the rate. Here it gets
//! miss indications of its own, counted only from chunks acknowledged that were sent after
//! it (as RACK, RFC 8985 §6.2, reasons about send times): three more, and it goes again.

use super::congestion::Congestion;
use super::rto::Rto;
use super::send_queue::{ChunkState, SendQueue};
use super::tsn_lt;
use crate::Instant;
use crate::sctp::chunk::Sack;

/// RFC 9260 §7.2.4: miss indications that trigger a fast retransmit.
const FAST_RETRANSMIT_MISSES: u8 = 3;

/// True the first time it is called for a given flag.
fn outcome_first(flag: &mut bool) -> bool {
    core::mem::replace(flag, false)
}

/// What a SACK changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SackOutcome {
    /// The cumulative TSN ack moved.
    pub(crate) cum_advanced: bool,
    /// Chunks were marked for fast retransmission.
    pub(crate) fast_retransmit: bool,
}

/// Why a SACK was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SackError {
    /// RFC 9260 §6.2.1 D i): older than the cumulative TSN ack already known.
    Stale,
    /// It acknowledges a TSN never sent.
    Invalid,
}

impl SendQueue {
    /// Applies a SACK.
    pub(crate) fn on_sack(
        &mut self,
        sack: &Sack,
        now: Instant,
        rto: &mut Rto,
        cc: &mut Congestion,
    ) -> Result<SackOutcome, SackError> {
        let cum = sack.cumulative_tsn_ack;
        if tsn_lt(cum, self.cum_ack) {
            return Err(SackError::Stale);
        }
        if !tsn_lt(cum, self.next_tsn) {
            return Err(SackError::Invalid);
        }
        let flight_before = self.flight;
        let mut acked: u32 = 0;
        let mut acked_chunks: u32 = 0;
        let mut lost_chunks: u32 = 0;
        // The latest send time among the chunks this SACK newly acknowledges.
        let mut newest_acked: Option<Instant> = None;
        let cum_advanced = cum != self.cum_ack;
        while let Some(front) = self.sent.front() {
            if tsn_lt(cum, front.tsn) {
                break;
            }
            // NOTE(unwrap): front() just returned Some.
            let s = self.sent.pop_front().expect("front exists");
            if s.state == ChunkState::InFlight {
                newest_acked = newest_acked.max(Some(s.sent_at));
            }
            match s.state {
                ChunkState::InFlight => {
                    self.flight -= s.size();
                    acked += s.size();
                    acked_chunks += 1;
                }
                ChunkState::Retransmit => {
                    self.retransmit_count -= 1;
                    acked += s.size();
                    acked_chunks += 1;
                }
                ChunkState::GapAcked | ChunkState::Abandoned => {}
            }
            if let Some((tsn, sent_at)) = self.rtt_probe
                && tsn == s.tsn
            {
                self.rtt_probe = None;
                // RFC 9260 §6.3.1 C5 (Karn): only chunks sent once are timed.
                if s.transmissions == 1 {
                    rto.measure(now.saturating_duration_since(sent_at));
                }
            }
        }
        self.cum_ack = cum;
        if let Some((tsn, _)) = self.rtt_probe
            && tsn_lt(tsn, cum.wrapping_add(1))
        {
            self.rtt_probe = None;
        }

        // Gap blocks: offsets from the cumulative TSN ack; `sent` now starts at cum + 1.
        let mut highest_acked: Option<usize> = None;
        let len = self.sent.len();
        for block in &sack.gap_ack_blocks {
            if block.start == 0 || block.start > block.end {
                continue;
            }
            let from = usize::from(block.start) - 1;
            let to = (usize::from(block.end) - 1).min(len.saturating_sub(1));
            if from >= len {
                continue;
            }
            for s in self.sent.range_mut(from..=to) {
                match s.state {
                    ChunkState::InFlight => {
                        newest_acked = newest_acked.max(Some(s.sent_at));
                        self.flight -= s.size();
                        acked += s.size();
                        acked_chunks += 1;
                        // RFC 9260 §6.3.1 C5: a gap block acknowledges the timed chunk too;
                        // waiting for the cumulative ack would add the time a hole below it
                        // takes to fill (a round trip or more) to the measurement.
                        if let Some((tsn, sent_at)) = self.rtt_probe
                            && tsn == s.tsn
                        {
                            self.rtt_probe = None;
                            if s.transmissions == 1 {
                                rto.measure(now.saturating_duration_since(sent_at));
                            }
                        }
                    }
                    ChunkState::Retransmit => {
                        self.retransmit_count -= 1;
                        acked += s.size();
                        acked_chunks += 1;
                    }
                    ChunkState::GapAcked | ChunkState::Abandoned => continue,
                }
                s.state = ChunkState::GapAcked;
            }
            highest_acked = Some(highest_acked.map_or(to, |h| h.max(to)));
        }

        // RFC 9260 §7.2.4: every chunk still in flight below the highest TSN this SACK
        // acknowledges gets a miss indication; at three it is retransmitted at once.
        let mut outcome = SackOutcome {
            cum_advanced,
            fast_retransmit: false,
        };
        // Duplicate reports of every chunk the last fast retransmit resent: the originals
        // arrived after all, so the reduction is undone (see Congestion::undo_fast_retransmit).
        if !self.fast_retransmitted.is_empty() {
            for dup in &sack.duplicate_tsns {
                for (tsn, seen) in self.fast_retransmitted.iter_mut() {
                    if tsn == dup {
                        *seen = true;
                    }
                }
            }
            if self.fast_retransmitted.iter().all(|(_, seen)| *seen) {
                self.fast_retransmitted.clear();
                cc.undo_fast_retransmit();
            }
        }
        let mut abandon = Vec::new();
        let entering_recovery = !cc.in_fast_recovery();
        let mut fresh = true;
        if let Some(highest) = highest_acked {
            for s in self.sent.range_mut(..highest) {
                if s.state != ChunkState::InFlight {
                    continue;
                }
                // A retransmission counts a miss only from chunks sent after it.
                if s.fast_retransmitted && newest_acked.is_none_or(|t| t <= s.sent_at) {
                    continue;
                }
                s.misses = s.misses.saturating_add(1);
                // Three more for each retransmission already made.
                let needed = if s.fast_retransmitted {
                    u32::from(FAST_RETRANSMIT_MISSES) * s.transmissions
                } else {
                    u32::from(FAST_RETRANSMIT_MISSES)
                };
                if u32::from(s.misses) >= needed {
                    lost_chunks += 1;
                    self.flight -= s.size();
                    if SendQueue::policy_exhausted(s, now) {
                        s.state = ChunkState::Abandoned;
                        abandon.push(s.message);
                    } else {
                        s.state = ChunkState::Retransmit;
                        s.fast_retransmitted = true;
                        if entering_recovery && self.fast_retransmitted.len() < 64 {
                            if outcome_first(&mut fresh) {
                                self.fast_retransmitted.clear();
                            }
                            self.fast_retransmitted.push((s.tsn, false));
                        }
                        self.retransmit_count += 1;
                        outcome.fast_retransmit = true;
                        if self.rtt_probe.is_some_and(|(tsn, _)| tsn == s.tsn) {
                            self.rtt_probe = None;
                        }
                    }
                }
            }
        }
        for id in abandon {
            self.abandon_message(id);
        }

        // RFC 9260 §6.2.1: the peer's window less what is still in flight.
        self.peer_rwnd = sack.a_rwnd.saturating_sub(self.flight);
        if outcome.fast_retransmit {
            cc.on_fast_retransmit(self.last_assigned_tsn(), lost_chunks, rto);
        }
        cc.on_sack(acked, acked_chunks, flight_before, cum, now, rto);
        if self.sent.is_empty() {
            cc.on_all_acked();
        }
        Ok(outcome)
    }

    /// Whether chunks are outstanding (which keeps the T3-rtx timer running).
    pub(crate) fn has_outstanding(&self) -> bool {
        !self.sent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sctp::association::send_queue::Policy;
    use crate::sctp::chunk::GapAckBlock;
    use core::time::Duration;

    const RELIABLE: Policy = Policy {
        max_retransmits: None,
        expires: None,
    };

    fn setup(messages: usize) -> (SendQueue, Rto, Congestion) {
        let mut q = SendQueue::new(1000, 1 << 20);
        let mut cc = Congestion::new(1200, 1 << 20);
        let rto = Rto::new(
            Duration::from_secs(1),
            Duration::from_millis(100),
            Duration::from_secs(60),
        );
        for _ in 0..10 {
            cc.on_sack(1200, 1, 1 << 20, 0, Instant::ZERO, &rto);
        }
        for i in 0..messages {
            q.push(0, 51, false, vec![i as u8; 100], RELIABLE);
        }
        let mut out = Vec::new();
        let n = q.write(&mut out, usize::MAX, Instant::ZERO, cc.cwnd(), false, 1172);
        assert_eq!(n, messages);
        (q, rto, cc)
    }

    fn sack(cum: u32, blocks: &[(u16, u16)]) -> Sack {
        Sack {
            cumulative_tsn_ack: cum,
            a_rwnd: 1 << 20,
            gap_ack_blocks: blocks
                .iter()
                .map(|&(start, end)| GapAckBlock { start, end })
                .collect(),
            duplicate_tsns: vec![],
        }
    }

    #[test]
    fn cumulative_ack_frees_and_times() {
        let (mut q, mut rto, mut cc) = setup(4);
        assert_eq!(q.flight, 4 * 116);
        let now = Instant::from_millis(50);
        let out = q.on_sack(&sack(1001, &[]), now, &mut rto, &mut cc).unwrap();
        assert!(out.cum_advanced);
        assert_eq!(q.flight, 2 * 116);
        assert_eq!(rto.srtt(), Some(Duration::from_millis(50)));
        assert_eq!(
            q.on_sack(&sack(1000, &[]), now, &mut rto, &mut cc),
            Err(SackError::Stale)
        );
        assert_eq!(
            q.on_sack(&sack(1004, &[]), now, &mut rto, &mut cc),
            Err(SackError::Invalid)
        );
        q.on_sack(&sack(1003, &[]), now, &mut rto, &mut cc).unwrap();
        assert!(!q.has_outstanding());
        assert_eq!(q.flight, 0);
    }

    #[test]
    fn three_miss_indications_fast_retransmit() {
        let (mut q, mut rto, mut cc) = setup(6);
        let now = Instant::from_millis(10);
        let cwnd = cc.cwnd();
        // TSN 1000 lost; 1001.. arrive one by one.
        for (i, end) in [2u16, 3, 4].into_iter().enumerate() {
            let out = q
                .on_sack(&sack(999, &[(2, end)]), now, &mut rto, &mut cc)
                .unwrap();
            assert_eq!(out.fast_retransmit, i == 2, "after SACK {i}");
        }
        assert_eq!(q.retransmit_count, 1);
        assert_eq!(cc.cwnd(), (cwnd / 2).max(4800));
        let mut out = Vec::new();
        assert_eq!(q.write(&mut out, 1200, now, 0, true, 1172), 1);
        assert_eq!(u32::from_be_bytes([out[4], out[5], out[6], out[7]]), 1000);
        // A further miss does not retransmit it again.
        let out = q
            .on_sack(&sack(999, &[(2, 5)]), now, &mut rto, &mut cc)
            .unwrap();
        assert!(!out.fast_retransmit);
    }

    #[test]
    fn a_lost_fast_retransmission_goes_again_after_three_later_acks() {
        let (mut q, mut rto, mut cc) = setup(6);
        let t1 = Instant::from_millis(10);
        for end in [2u16, 3, 4] {
            q.on_sack(&sack(999, &[(2, end)]), t1, &mut rto, &mut cc)
                .unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(
            q.write(&mut out, 1200, t1, 0, true, 1172),
            1,
            "TSN 1000 again"
        );
        // Three new chunks sent after the retransmission.
        let t2 = Instant::from_millis(20);
        for i in 0..3 {
            q.push(0, 51, false, vec![i; 100], RELIABLE);
        }
        out.clear();
        assert_eq!(q.write(&mut out, usize::MAX, t2, 1 << 20, false, 1172), 3);
        // The retransmission is lost too: acknowledgements of chunks sent before it do not
        // count, the three sent after it do.
        let t3 = Instant::from_millis(40);
        let out = q
            .on_sack(&sack(999, &[(2, 6)]), t3, &mut rto, &mut cc)
            .unwrap();
        assert!(
            !out.fast_retransmit,
            "TSN 1005 was sent before the retransmission"
        );
        for (i, end) in [7u16, 8, 9].into_iter().enumerate() {
            let out = q
                .on_sack(&sack(999, &[(2, end)]), t3, &mut rto, &mut cc)
                .unwrap();
            assert_eq!(out.fast_retransmit, i == 2, "after the later chunk {end}");
        }
        assert_eq!(q.retransmit_count, 1);
    }

    #[test]
    fn max_retransmits_zero_abandons_instead() {
        let mut q = SendQueue::new(1, 1 << 20);
        let policy = Policy {
            max_retransmits: Some(0),
            expires: None,
        };
        q.push(3, 51, false, vec![1; 3000], policy);
        q.push(3, 51, false, vec![2; 10], RELIABLE);
        let mut out = Vec::new();
        q.write(&mut out, usize::MAX, Instant::ZERO, 1 << 20, false, 1172);
        assert_eq!(q.sent.len(), 4);
        q.mark_all_for_retransmit(Instant::from_secs(1));
        assert_eq!(q.retransmit_count, 1);
        let (point, streams) = q.forward_tsn().unwrap();
        assert_eq!(point, 3);
        assert_eq!(streams, [(3, 0)]);
    }
}
