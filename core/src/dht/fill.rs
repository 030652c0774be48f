//! Filling the wide far buckets across their whole range.
//!
//! A wide bucket (128, 64, 32 or 16 nodes, see `RoutingConfig::wide_far_buckets`) only
//! shortens a lookup if its nodes are spread over its range: the first hop of a lookup then
//! starts log2(capacity) bits nearer its target instead of 3. After bootstrap a bucket holds
//! what the bootstrap and its one refresh lookup met, which cluster around those lookups'
//! targets, and incoming queries fill the rest only slowly. So each part of a wide bucket
//! (a run of k slots, see `RoutingTable::slot_bits`) that lacks nodes gets one `find_node`
//! for a target inside it, sent to the nearest node we know; the nodes the answer names go
//! to the table's free slots (`heard_about`, which takes a node only where its slot is
//! empty). One query per part, not a lookup: about 30 queries after bootstrap against the
//! ~250 the bootstrap itself sends.

use crate::dht::id::NodeId;
use crate::dht::krpc::Method;
use crate::dht::node::{DhtNode, Purpose};
use crate::dht::routing::RoutingTable;
use crate::time::Instant;

impl RoutingTable {
    /// One target in each part of a wide bucket (not the last) that holds fewer than k
    /// nodes: a part is the range of ids sharing the bucket's prefix and the next
    /// log2(capacity / k) bits.
    pub fn fill_targets(&self, rng: &mut dyn rand_core::CryptoRng) -> Vec<NodeId> {
        let own = self.own_id();
        let k = self.config().k.max(1);
        let mut targets = Vec::new();
        for i in 0..self.bucket_count().saturating_sub(1) {
            let parts = self.capacity(i) / k;
            if parts < 2 {
                continue;
            }
            let bits = (usize::BITS - 1 - parts.leading_zeros()) as usize;
            let mut counts = vec![0usize; 1 << bits];
            for id in self.bucket_ids(i) {
                counts[id.bits(i + 1, bits) as usize] += 1;
            }
            for (part, count) in counts.iter().enumerate() {
                if *count < k {
                    let target = own.random_in_bucket(i, rng);
                    targets.push(target.with_bits(i + 1, bits, part as u32));
                }
            }
        }
        targets
    }
}

impl DhtNode {
    /// Sends the fill queries of [`RoutingTable::fill_targets`], each to the nearest known
    /// node to its target, while `max_pending` leaves room for a lookup's requests.
    pub(crate) fn fill_wide_buckets(&mut self, now: Instant) {
        if !self.config.routing.wide_far_buckets {
            return;
        }
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
