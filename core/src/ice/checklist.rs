//! The checklist of one data stream (RFC 8445 §6.1.2): pairs, their states, the triggered-check
//! queue, the order checks go out in (§6.1.4.2) and unfreezing (§6.1.2.6, §7.2.5.3.3).
//!
//! Pairs are never removed while the list lives (indices stay valid for transactions); an ICE
//! restart builds a new list.

use std::collections::VecDeque;

use super::Candidate;
use super::events::PairState;
use super::pair::{Local, Pair};

/// Pairs and the triggered-check queue.
#[derive(Clone, Debug, Default)]
pub(crate) struct Checklist {
    pub(crate) pairs: Vec<Pair>,
    pub(crate) triggered: VecDeque<usize>,
}

impl Checklist {
    /// A pair that sends from `base` to `remote`: RFC 8445 §6.1.2.4 calls pairs with the same
    /// local base and remote candidate redundant.
    pub(crate) fn find_redundant(
        &self,
        pair: &Pair,
        locals: &[Local],
        remotes: &[Candidate],
    ) -> Option<usize> {
        let base = locals[pair.local].base;
        let remote = &remotes[pair.remote].address;
        self.pairs
            .iter()
            .position(|p| locals[p.local].base == base && remotes[p.remote].address == *remote)
    }

    /// Adds `pair` unless a redundant one exists (then the one of higher priority stays, by
    /// taking the new candidates if they rank higher) or the list is full. Returns its index
    /// and whether it is new.
    pub(crate) fn add(
        &mut self,
        mut pair: Pair,
        max: usize,
        locals: &[Local],
        remotes: &[Candidate],
    ) -> Option<(usize, bool)> {
        if let Some(existing) = self.find_redundant(&pair, locals, remotes) {
            let old = &mut self.pairs[existing];
            // RFC 8445 §6.1.2.4: keep the redundant pair of highest priority.
            if pair.priority > old.priority && !old.valid {
                old.local = pair.local;
                old.remote = pair.remote;
                old.priority = pair.priority;
                old.foundation = pair.foundation;
            }
            return Some((existing, false));
        }
        if self.pairs.len() >= max {
            return None;
        }
        pair.state = self.initial_state(&pair);
        self.pairs.push(pair);
        Some((self.pairs.len() - 1, true))
    }

    /// RFC 8445 §6.1.2.6 with RFC 8838 §10: one pair per foundation is Waiting at a time; a
    /// pair whose foundation already has one Waiting or In-Progress starts Frozen.
    fn initial_state(&self, pair: &Pair) -> PairState {
        let busy = self.pairs.iter().any(|p| {
            p.foundation == pair.foundation
                && matches!(p.state, PairState::Waiting | PairState::InProgress)
        });
        if busy {
            PairState::Frozen
        } else {
            PairState::Waiting
        }
    }

    /// RFC 8445 §7.2.5.3.3: a success unfreezes the Frozen pairs of the same foundation.
    pub(crate) fn unfreeze_foundation(&mut self, index: usize) {
        let foundation = self.pairs[index].foundation.clone();
        for pair in &mut self.pairs {
            if pair.foundation == foundation && pair.state == PairState::Frozen {
                pair.state = PairState::Waiting;
            }
        }
    }

    /// Queues a triggered check (RFC 8445 §7.3.1.4), once.
    pub(crate) fn trigger(&mut self, index: usize) {
        if !self.triggered.contains(&index) {
            self.triggered.push_back(index);
        }
    }

    /// RFC 8445 §6.1.4.2: what to check when Ta fires. The triggered queue first; then the
    /// Waiting pair of highest priority; then the Frozen pair of highest priority whose
    /// foundation has no Waiting or In-Progress pair, unfrozen.
    pub(crate) fn next_check(&mut self) -> Option<usize> {
        while let Some(index) = self.triggered.pop_front() {
            if self.pairs[index].state != PairState::InProgress {
                return Some(index);
            }
        }
        if let Some(index) = self.best(|p| p.state == PairState::Waiting) {
            return Some(index);
        }
        let index = self.best(|p| {
            p.state == PairState::Frozen
                && !self.pairs.iter().any(|q| {
                    q.foundation == p.foundation
                        && matches!(q.state, PairState::Waiting | PairState::InProgress)
                })
        })?;
        Some(index)
    }

    /// The pair of highest priority among those `keep` selects (the earliest on ties).
    pub(crate) fn best(&self, keep: impl Fn(&Pair) -> bool) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, pair) in self.pairs.iter().enumerate() {
            if keep(pair) && best.is_none_or(|b| pair.priority > self.pairs[b].priority) {
                best = Some(i);
            }
        }
        best
    }

    /// Whether a pair ranked above `priority` may still succeed.
    pub(crate) fn better_pending(&self, priority: u64) -> bool {
        self.pairs.iter().any(|p| {
            p.priority > priority
                && matches!(
                    p.state,
                    PairState::Frozen | PairState::Waiting | PairState::InProgress
                )
        })
    }

    /// Whether every pair failed (and there is at least one).
    pub(crate) fn all_failed(&self) -> bool {
        !self.pairs.is_empty()
            && self.triggered.is_empty()
            && self.pairs.iter().all(|p| p.state == PairState::Failed)
    }

    /// Whether no pair is left to check.
    pub(crate) fn finished(&self) -> bool {
        self.triggered.is_empty()
            && self
                .pairs
                .iter()
                .all(|p| matches!(p.state, PairState::Succeeded | PairState::Failed))
    }

    /// Recomputes priorities after a role change (RFC 8445 §7.2.5.1).
    pub(crate) fn reprioritise(
        &mut self,
        controlling: bool,
        locals: &[Local],
        remotes: &[Candidate],
    ) {
        for pair in &mut self.pairs {
            pair.prioritise(controlling, locals, remotes);
        }
    }

    /// Counts for the check RTO (RFC 8445 §14.3).
    pub(crate) fn waiting_and_in_progress(&self) -> usize {
        self.pairs
            .iter()
            .filter(|p| matches!(p.state, PairState::Waiting | PairState::InProgress))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use core::net::SocketAddr;

    use super::*;
    use crate::ice::CandidateKind;
    use crate::ice::pair::make_candidate;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn host(a: &str, pref: u16) -> Local {
        let a = addr(a);
        Local {
            candidate: make_candidate(CandidateKind::Host, a, a.ip(), None, pref, None),
            addr: a,
            base: a,
            relay: None,
        }
    }

    fn remote(a: &str, kind: CandidateKind, pref: u16) -> Candidate {
        let a = addr(a);
        make_candidate(kind, a, a.ip(), None, pref, None)
    }

    fn list(locals: &[Local], remotes: &[Candidate]) -> Checklist {
        let mut list = Checklist::default();
        for l in 0..locals.len() {
            for r in 0..remotes.len() {
                let mut pair = Pair::new(l, r, locals, remotes);
                pair.prioritise(true, locals, remotes);
                list.add(pair, 100, locals, remotes).unwrap();
            }
        }
        list
    }

    #[test]
    fn checks_go_out_by_priority_one_per_foundation() {
        let locals = [host("10.0.0.1:1", 65535)];
        // Two remotes of one foundation (same type and base IP), one of another.
        let remotes = [
            remote("192.0.2.1:1", CandidateKind::Host, 100),
            remote("192.0.2.1:2", CandidateKind::Host, 200),
            remote("192.0.2.9:1", CandidateKind::ServerReflexive, 65535),
        ];
        let mut list = list(&locals, &remotes);
        let states: Vec<_> = list.pairs.iter().map(|p| p.state).collect();
        assert_eq!(
            states,
            [PairState::Waiting, PairState::Frozen, PairState::Waiting]
        );
        // The Waiting host pair outranks the srflx one and goes first.
        assert_eq!(list.next_check(), Some(0));
        list.pairs[0].state = PairState::InProgress;
        assert_eq!(list.next_check(), Some(2));
        list.pairs[2].state = PairState::InProgress;
        // Pair 1's foundation is busy: nothing more until pair 0 ends.
        assert_eq!(list.next_check(), None);
        list.pairs[0].state = PairState::Succeeded;
        list.unfreeze_foundation(0);
        assert_eq!(list.pairs[1].state, PairState::Waiting);
        assert_eq!(list.next_check(), Some(1));
    }

    #[test]
    fn a_failure_lets_a_frozen_pair_of_its_foundation_run() {
        let locals = [host("10.0.0.1:1", 65535)];
        let remotes = [
            remote("192.0.2.1:1", CandidateKind::Host, 100),
            remote("192.0.2.1:2", CandidateKind::Host, 200),
        ];
        let mut list = list(&locals, &remotes);
        list.pairs[0].state = PairState::Failed;
        assert_eq!(list.next_check(), Some(1));
    }

    #[test]
    fn triggered_checks_jump_the_queue_and_redundant_pairs_merge() {
        let locals = [host("10.0.0.1:1", 65535)];
        let remotes = [
            remote("192.0.2.1:1", CandidateKind::Host, 100),
            remote("192.0.2.2:1", CandidateKind::Relayed, 100),
            remote("192.0.2.1:1", CandidateKind::ServerReflexive, 100),
        ];
        let mut list = list(&locals, &remotes);
        // The srflx remote with the host's address is redundant with pair 0.
        assert_eq!(list.pairs.len(), 2);
        list.trigger(1);
        list.trigger(1);
        assert_eq!(list.next_check(), Some(1));
        assert_eq!(list.next_check(), Some(0));
    }

    #[test]
    fn role_changes_reorder_pairs() {
        let locals = [host("10.0.0.1:1", 65535)];
        let remotes = [remote("192.0.2.1:1", CandidateKind::Relayed, 100)];
        let mut list = list(&locals, &remotes);
        let as_controlling = list.pairs[0].priority;
        list.reprioritise(false, &locals, &remotes);
        let as_controlled = list.pairs[0].priority;
        // Same MIN and MAX; only the last bit (G > D) differs.
        assert_eq!(as_controlling, as_controlled + 1);
        assert!(list.better_pending(0));
        list.pairs[0].state = PairState::Failed;
        assert!(list.all_failed());
        assert!(list.finished());
    }
}
