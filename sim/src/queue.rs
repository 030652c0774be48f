//! The event queue: a min-priority queue ordered by (virtual time, insertion sequence).
//!
//! The sequence number makes the order total: two events at the same nanosecond run in the order
//! they were scheduled, on every platform and every run.
//!
//! It is a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) over the 128-bit key
//! `time << 64 | sequence`. A radix heap needs every new key to be at least the last one taken
//! out, which a discrete-event simulator guarantees: nothing is scheduled in the past, and the
//! sequence only grows. Bucket `b` holds keys whose highest bit differing from the last key
//! taken is bit `b - 1`; taking the minimum empties the lowest non-empty bucket into lower ones.
//! Each entry moves down a few times over its life instead of sifting through a binary heap of
//! hundreds of thousands of entries, which is what keeps 100,000-node runs fast. Entries carry
//! their payload (a whole in-flight datagram) by value: the entry taken out was just moved into
//! bucket 0, so it is in cache, where an index into a side table would miss.

//!
//! Peeking also settles the minimum into bucket 0, which moves the radix reference `last` up to
//! the next event's key without taking it out. A driver that peeks, finds the next event beyond
//! its deadline and stops may then schedule something earlier than that (a command issued
//! between `run_for` calls). Such keys lie between the last key really taken out and `last`, so
//! they are smaller than everything in the radix buckets: they wait in a small binary heap that
//! is always served first.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

const BUCKETS: usize = 129;

pub(crate) struct EventQueue<T> {
    buckets: Vec<Vec<(u128, T)>>,
    /// The radix reference: every key in `buckets` is at least this.
    last: u128,
    /// The last key taken out: nothing may be scheduled before its time.
    popped: u128,
    /// Keys pushed below `last` after a peek moved it up; all smaller than any bucket's keys.
    early: BinaryHeap<Reverse<Early<T>>>,
    seq: u64,
    len: usize,
}

/// An entry of the `early` heap, ordered by key alone (keys are unique).
struct Early<T>(u128, T);

impl<T> PartialEq for Early<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T> Eq for Early<T> {}

impl<T> PartialOrd for Early<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Early<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl<T> Default for EventQueue<T> {
    fn default() -> EventQueue<T> {
        EventQueue {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            last: 0,
            popped: 0,
            early: BinaryHeap::new(),
            seq: 0,
            len: 0,
        }
    }
}

#[inline]
fn bucket(key: u128, last: u128) -> usize {
    (128 - (key ^ last).leading_zeros()) as usize
}

impl<T> EventQueue<T> {
    /// Schedules `item` at `time`, which must not precede the time of the last entry taken out
    /// (an earlier time is treated as that time).
    #[inline]
    pub(crate) fn push(&mut self, time: u64, item: T) {
        let seq = self.seq;
        self.seq += 1;
        let floor = (self.popped >> 64) as u64;
        let key = u128::from(time.max(floor)) << 64 | u128::from(seq);
        self.len += 1;
        if key < self.last {
            self.early.push(Reverse(Early(key, item)));
            return;
        }
        let b = bucket(key, self.last);
        self.buckets[b].push((key, item));
    }

    /// Makes bucket 0 hold the minimum, if there is anything.
    #[inline]
    fn settle(&mut self) -> bool {
        if !self.buckets[0].is_empty() {
            return true;
        }
        let Some(i) = self.buckets.iter().position(|b| !b.is_empty()) else {
            return false;
        };
        let mut moving = core::mem::take(&mut self.buckets[i]);
        // Bucket i was just found non-empty, so the fallback is never used.
        let min = moving.iter().map(|e| e.0).min().unwrap_or(self.last);
        self.last = min;
        for entry in moving.drain(..) {
            let b = bucket(entry.0, min);
            self.buckets[b].push(entry);
        }
        // Hand the (now empty) allocation back so the bucket does not regrow from zero.
        if self.buckets[i].is_empty() {
            self.buckets[i] = moving;
        }
        true
    }

    #[inline]
    pub(crate) fn peek_time(&mut self) -> Option<u64> {
        if let Some(Reverse(Early(key, _))) = self.early.peek() {
            return Some((key >> 64) as u64);
        }
        if self.settle() {
            self.buckets[0].last().map(|e| (e.0 >> 64) as u64)
        } else {
            None
        }
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u64, T)> {
        if let Some(Reverse(Early(key, item))) = self.early.pop() {
            self.popped = key;
            self.len -= 1;
            return Some(((key >> 64) as u64, item));
        }
        if !self.settle() {
            return None;
        }
        // Keys are unique (the sequence), so bucket 0 holds exactly the one equal to `last`.
        let (key, item) = self.buckets[0].pop()?;
        self.popped = key;
        self.len -= 1;
        Some(((key >> 64) as u64, item))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SimRng;

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Item {
        Deliver(u32),
        Timer(u32),
    }

    #[test]
    fn pops_by_time_then_insertion() {
        let mut q = EventQueue::default();
        q.push(5, Item::Timer(1));
        q.push(3, Item::Timer(2));
        q.push(5, Item::Deliver(3));
        q.push(3, Item::Deliver(4));
        let order: Vec<_> = core::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (3, Item::Timer(2)),
                (3, Item::Deliver(4)),
                (5, Item::Timer(1)),
                (5, Item::Deliver(3)),
            ]
        );
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn an_event_scheduled_after_a_peek_is_not_delayed() {
        // A driver peeks (the next event is at 100), stops at its deadline, then schedules
        // something at 50: it must come out at 50, before the event at 100.
        let mut q = EventQueue::default();
        q.push(10, Item::Timer(0));
        q.push(100, Item::Timer(1));
        assert_eq!(q.pop(), Some((10, Item::Timer(0))));
        assert_eq!(q.peek_time(), Some(100));
        q.push(50, Item::Deliver(2));
        q.push(60, Item::Deliver(3));
        assert_eq!(q.peek_time(), Some(50));
        assert_eq!(q.pop(), Some((50, Item::Deliver(2))));
        q.push(55, Item::Deliver(4));
        assert_eq!(q.pop(), Some((55, Item::Deliver(4))));
        assert_eq!(q.pop(), Some((60, Item::Deliver(3))));
        q.push(70, Item::Deliver(5));
        assert_eq!(q.pop(), Some((70, Item::Deliver(5))));
        assert_eq!(q.pop(), Some((100, Item::Timer(1))));
        assert_eq!(q.pop(), None);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn matches_a_binary_heap_under_monotone_use() {
        let mut q = EventQueue::default();
        let mut reference = BinaryHeap::new();
        let mut rng = SimRng::new(42);
        let mut seq = 0u64;
        let mut now = 0u64;
        for round in 0..20_000 {
            for _ in 0..rng.below(3) {
                let t = now + rng.below(if round % 7 == 0 { 1 << 40 } else { 1000 });
                q.push(t, Item::Timer(seq as u32));
                reference.push(core::cmp::Reverse((t, seq)));
                seq += 1;
            }
            assert_eq!(q.len(), reference.len());
            if rng.below(2) == 0 {
                let got = q.pop();
                let want = reference
                    .pop()
                    .map(|core::cmp::Reverse((t, s))| (t, Item::Timer(s as u32)));
                assert_eq!(got, want);
                if let Some((t, _)) = got {
                    now = t;
                }
            }
        }
    }
}
