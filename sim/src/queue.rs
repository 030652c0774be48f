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

const BUCKETS: usize = 129;

pub(crate) struct EventQueue<T> {
    buckets: Vec<Vec<(u128, T)>>,
    /// The last key taken out (or the floor every key must reach).
    last: u128,
    seq: u64,
    len: usize,
}

impl<T> Default for EventQueue<T> {
    fn default() -> EventQueue<T> {
        EventQueue {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            last: 0,
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
        let floor = (self.last >> 64) as u64;
        let key = u128::from(time.max(floor)) << 64 | u128::from(seq);
        let b = bucket(key, self.last);
        self.buckets[b].push((key, item));
        self.len += 1;
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
        if self.settle() {
            self.buckets[0].last().map(|e| (e.0 >> 64) as u64)
        } else {
            None
        }
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u64, T)> {
        if !self.settle() {
            return None;
        }
        // Keys are unique (the sequence), so bucket 0 holds exactly the one equal to `last`.
        let (key, item) = self.buckets[0].pop()?;
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
    use std::collections::BinaryHeap;

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
