//! Filling the wide far buckets across their whole range.
//!
//! A wide bucket (128, 64, 32 or 16 nodes, see `RoutingConfig::wide_far_buckets`) only
//! shortens a lookup if its nodes are spread over its range: the first hop of a lookup then
//! starts log2(capacity) bits nearer its target instead of 3. After bootstrap a bucket holds
//! what the bootstrap and its one refresh lookup met, which cluster around those lookups'
//! targets, and incoming queries fill the rest only slowly. So each part of a wide bucket
//! (a run of k slots, see `RoutingTable::slot_bits`) with an empty slot gets one
//! `find_node` for a target inside it, sent to the nearest node we know; the nodes the
//! answer names go to the table's free places (`heard_about`, which takes a node only where
//! its slot is empty). One query per part, not a lookup: about 30 queries after bootstrap
//! against the ~250 the bootstrap itself sends, then at most one such burst per refresh
//! period (15 min), and none for parts already full. With `bucket_factor` above 1 every
//! bucket is wider than k and is filled the same way.

use crate::dht::id::NodeId;
use crate::dht::krpc::Method;
use crate::dht::node::{DhtNode, Purpose};
use crate::dht::routing::RoutingTable;
use crate::time::Instant;

impl RoutingTable {
    /// One target in each part of a wide bucket (not the last) that has an empty slot: a
    /// part is the range of ids sharing the bucket's prefix and the next
    /// log2(capacity / k) bits.
    pub fn fill_targets(&self, rng: &mut dyn rand_core::CryptoRng) -> Vec<NodeId> {
        let own = self.own_id();
        let k = self.config().k.max(1);
        let mut targets = Vec::new();
        for i in 0..self.bucket_count().saturating_sub(1) {
            let parts = self.capacity(i) / k;
            if parts < 2 || !self.spread_kept(i) {
                continue;
            }
            let slot_bits = self.slot_bits(i);
            let part_bits = (parts.ilog2() as usize).min(slot_bits);
            let mut taken = vec![false; 1 << slot_bits];
            for id in self.bucket_ids(i) {
                taken[id.bits(i + 1, slot_bits) as usize] = true;
            }
            let per_part = 1 << (slot_bits - part_bits);
            for (part, slots) in taken.chunks(per_part).enumerate() {
                if slots.contains(&false) {
                    let target = own.random_in_bucket(i, rng);
                    targets.push(target.with_bits(i + 1, part_bits, part as u32));
                }
            }
        }
        targets
    }
}

impl DhtNode {
    /// Sends the fill queries of [`RoutingTable::fill_targets`], each to the nearest known
    /// node to its target, while `max_pending` leaves room for a lookup's requests; at most
    /// once per refresh period.
    pub(crate) fn fill_wide_buckets(&mut self, now: Instant) {
        if now < self.next_fill {
            return;
        }
        self.next_fill = now + self.config.routing.refresh_after;
        let targets = self.table.fill_targets(&mut *self.rng);
        for target in targets {
            if self.pending.len() * 2 >= self.config.max_pending {
                return;
            }
            let Some(to) = self.table.closest(now, &target, 1).first().copied() else {
                return;
            };
            let method = Method::FindNode { target };
            self.send_query(now, to.addr, Some(to.id), method, Purpose::Fill);
        }
    }
}
