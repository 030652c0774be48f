//! The receiver's view of TSNs (RFC 9260 §6.2, §6.7): the cumulative TSN, what arrived beyond
//! it, duplicates, and the SACK that reports them.
//!
//! TSNs are "unwrapped" into 64-bit counters relative to the cumulative TSN so that ordering
//! survives the 32-bit wrap (RFC 9260 §1.6 serial number arithmetic).

use std::collections::BTreeSet;

use crate::sctp::chunk::{GapAckBlock, Sack};

/// How far beyond the cumulative TSN a TSN may be and still be held: gap block offsets are
/// 16-bit (RFC 9260 §3.3.4), and this bounds the set of TSNs kept.
pub(crate) const MAX_AHEAD: u64 = u16::MAX as u64;
/// Duplicate TSNs remembered until the next SACK.
const MAX_DUPS: usize = 32;

/// What [`RecvTsns::classify`] says about a TSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsnClass {
    /// Not seen before; its unwrapped value.
    New(u64),
    /// Seen before (at or below the cumulative TSN, or already held).
    Duplicate,
    /// Too far ahead to hold; dropped without a trace.
    TooFar,
}

/// Received TSNs.
#[derive(Debug, Clone)]
pub(crate) struct RecvTsns {
    cum: u64,
    above: BTreeSet<u64>,
    dups: Vec<u32>,
}

impl RecvTsns {
    /// `peer_initial_tsn` is the first TSN the peer will send (RFC 9260 §5.1: the cumulative
    /// TSN starts one below it).
    pub(crate) fn new(peer_initial_tsn: u32) -> RecvTsns {
        RecvTsns {
            // Start high enough that unwrapping never goes below zero.
            cum: (1u64 << 32) + u64::from(peer_initial_tsn.wrapping_sub(1)),
            above: BTreeSet::new(),
            dups: Vec::new(),
        }
    }

    /// The cumulative TSN as the peer knows it.
    pub(crate) fn cum_tsn(&self) -> u32 {
        self.cum as u32
    }

    /// The cumulative TSN unwrapped.
    pub(crate) fn cum(&self) -> u64 {
        self.cum
    }

    /// The 64-bit TSN nearest the cumulative TSN whose low 32 bits are `tsn`.
    pub(crate) fn unwrap(&self, tsn: u32) -> u64 {
        let delta = i64::from(tsn.wrapping_sub(self.cum as u32) as i32);
        self.cum.wrapping_add_signed(delta)
    }

    /// Whether TSNs beyond the cumulative TSN are held (a gap exists).
    pub(crate) fn has_gaps(&self) -> bool {
        !self.above.is_empty()
    }

    /// Whether duplicates wait to be reported.
    pub(crate) fn has_dups(&self) -> bool {
        !self.dups.is_empty()
    }

    /// Classifies `tsn` without recording it; a duplicate is remembered for the next SACK.
    pub(crate) fn classify(&mut self, tsn: u32) -> TsnClass {
        let t = self.unwrap(tsn);
        if t <= self.cum || self.above.contains(&t) {
            if self.dups.len() < MAX_DUPS {
                self.dups.push(tsn);
            }
            TsnClass::Duplicate
        } else if t - self.cum > MAX_AHEAD {
            TsnClass::TooFar
        } else {
            TsnClass::New(t)
        }
    }

    /// Records a TSN [`classify`](Self::classify) called new; returns whether the cumulative
    /// TSN moved.
    pub(crate) fn record(&mut self, t: u64) -> bool {
        if t == self.cum + 1 {
            self.cum = t;
            self.advance();
            true
        } else {
            self.above.insert(t);
            false
        }
    }

    fn advance(&mut self) {
        while self.above.first() == Some(&(self.cum + 1)) {
            self.above.pop_first();
            self.cum += 1;
        }
    }

    /// RFC 3758 §3.6: FORWARD TSN moves the cumulative TSN as if everything up to it arrived.
    /// Returns the new cumulative TSN when it moved.
    pub(crate) fn forward(&mut self, new_cum: u32) -> Option<u64> {
        let t = self.unwrap(new_cum);
        if t <= self.cum || t - self.cum > MAX_AHEAD {
            return None;
        }
        self.cum = t;
        self.above = self.above.split_off(&(t + 1));
        self.advance();
        Some(self.cum)
    }

    /// RFC 9260 §3.3.4: the SACK for what is held now, with at most `max_blocks` gap blocks
    /// (the first ones: they matter most to the sender's fast retransmit). Duplicates are
    /// reported once.
    pub(crate) fn sack(&mut self, a_rwnd: u32, max_blocks: usize) -> Sack {
        let mut blocks = Vec::new();
        let mut run: Option<(u64, u64)> = None;
        for &t in &self.above {
            match run {
                Some((start, end)) if t == end + 1 => run = Some((start, t)),
                _ => {
                    if let Some(r) = run.take() {
                        blocks.push(r);
                    }
                    if blocks.len() == max_blocks {
                        break;
                    }
                    run = Some((t, t));
                }
            }
        }
        if let Some(r) = run
            && blocks.len() < max_blocks
        {
            blocks.push(r);
        }
        // MAX_AHEAD keeps every offset within 16 bits.
        let offset = |t: u64| u16::try_from(t - self.cum).unwrap_or(u16::MAX);
        Sack {
            cumulative_tsn_ack: self.cum_tsn(),
            a_rwnd,
            gap_ack_blocks: blocks
                .into_iter()
                .map(|(s, e)| GapAckBlock {
                    start: offset(s),
                    end: offset(e),
                })
                .collect(),
            duplicate_tsns: core::mem::take(&mut self.dups),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(r: &mut RecvTsns, tsn: u32) -> TsnClass {
        let class = r.classify(tsn);
        if let TsnClass::New(t) = class {
            r.record(t);
        }
        class
    }

    #[test]
    fn gap_blocks_and_duplicates() {
        let mut r = RecvTsns::new(100);
        assert_eq!(r.cum_tsn(), 99);
        for tsn in [100, 101, 103, 104, 107, 109, 110] {
            assert!(matches!(receive(&mut r, tsn), TsnClass::New(_)));
        }
        assert_eq!(receive(&mut r, 101), TsnClass::Duplicate);
        assert_eq!(receive(&mut r, 107), TsnClass::Duplicate);
        let sack = r.sack(1000, 16);
        assert_eq!(sack.cumulative_tsn_ack, 101);
        let blocks: Vec<_> = sack
            .gap_ack_blocks
            .iter()
            .map(|b| (b.start, b.end))
            .collect();
        assert_eq!(blocks, [(2, 3), (6, 6), (8, 9)]);
        assert_eq!(sack.duplicate_tsns, [101, 107]);
        assert!(r.sack(1000, 16).duplicate_tsns.is_empty(), "reported once");
        assert_eq!(r.sack(1000, 2).gap_ack_blocks.len(), 2);

        receive(&mut r, 102);
        assert_eq!(r.cum_tsn(), 104);
        receive(&mut r, 105);
        receive(&mut r, 106);
        receive(&mut r, 108);
        assert_eq!(r.cum_tsn(), 110);
        assert!(!r.has_gaps());
    }

    #[test]
    fn wraps_around_and_bounds() {
        let mut r = RecvTsns::new(u32::MAX - 1);
        for tsn in [u32::MAX - 1, u32::MAX, 0, 2] {
            receive(&mut r, tsn);
        }
        assert_eq!(r.cum_tsn(), 0);
        let sack = r.sack(0, 16);
        assert_eq!(sack.gap_ack_blocks, [GapAckBlock { start: 2, end: 2 }]);
        assert_eq!(receive(&mut r, 70_000), TsnClass::TooFar);
        assert_eq!(receive(&mut r, u32::MAX), TsnClass::Duplicate);
    }

    #[test]
    fn forward_tsn_skips() {
        let mut r = RecvTsns::new(1);
        receive(&mut r, 1);
        receive(&mut r, 5);
        receive(&mut r, 7);
        assert!(r.forward(4).is_some());
        assert_eq!(r.cum_tsn(), 5, "forwarded to 4, then 5 was already there");
        assert_eq!(r.forward(3), None);
        assert_eq!(
            r.sack(0, 4).gap_ack_blocks,
            [GapAckBlock { start: 2, end: 2 }]
        );
    }
}
