//! BEP 44 items and saved state on a [`DualStackNode`]: a `get` or `put` runs in both
//! families (BEP 32: the two DHTs are independent, so an item stored by an IPv4-only writer
//! lives only on IPv4 nodes) and ends in one event; the saved state holds both tables.

use core::net::SocketAddr;

use crate::dht::dual::{DualStackNode, V4, V6};
use crate::dht::id::NodeId;
use crate::dht::item::{Item, ItemError, MutableItem, immutable_target};
use crate::dht::item_client::item_target;
use crate::dht::lookup::QueryId;
use crate::dht::persist::{MAX_SAVED_NODES, SavedState};
use crate::dht::republish::KeepError;
use crate::time::Instant;

impl DualStackNode {
    /// BEP 44 `get` in both families; ends with one
    /// [`DhtEvent::ItemFound`](crate::dht::DhtEvent::ItemFound) holding the item of the
    /// higher `seq` when both found one (see [`DhtNode::get_item`](crate::dht::DhtNode::get_item)).
    pub fn get_item(&mut self, now: Instant, target: NodeId, salt: &[u8]) -> QueryId {
        self.joint(|half| half.get_item(now, target, salt))
    }

    /// BEP 44 `put` of an immutable item (`value` bencoded) to the closest nodes of both
    /// families; ends with one [`DhtEvent::ItemStored`](crate::dht::DhtEvent::ItemStored)
    /// whose `stored` is the sum.
    pub fn put_immutable(
        &mut self,
        now: Instant,
        value: Vec<u8>,
    ) -> Result<(QueryId, NodeId), ItemError> {
        let query = self.try_joint(|half| {
            half.put_immutable(now, value.clone())
                .map(|(query, _)| query)
        })?;
        Ok((query, immutable_target(&value)))
    }

    /// BEP 44 `put` of a signed mutable item (with `cas` if wanted) in both families; ends
    /// with one [`DhtEvent::ItemStored`](crate::dht::DhtEvent::ItemStored).
    pub fn put_mutable(
        &mut self,
        now: Instant,
        item: MutableItem,
        cas: Option<i64>,
    ) -> Result<(QueryId, NodeId), ItemError> {
        let target = item.target();
        let query = self.try_joint(|half| {
            half.put_mutable(now, item.clone(), cas)
                .map(|(query, _)| query)
        })?;
        Ok((query, target))
    }

    /// [`DhtNode::keep_item`](crate::dht::DhtNode::keep_item) in both families: the first put
    /// ends in one [`DhtEvent::ItemStored`](crate::dht::DhtEvent::ItemStored); each family's
    /// repeats are reported by that family, under query ids of their own.
    pub fn keep_item(&mut self, now: Instant, item: Item) -> Result<(QueryId, NodeId), KeepError> {
        let target = item_target(&item);
        let query = self.keep_on_both(&target, |half| {
            half.keep_item(now, item.clone()).map(|(q, _)| q)
        })?;
        Ok((query, target))
    }

    /// [`DhtNode::keep_announced`](crate::dht::DhtNode::keep_announced) in both families: the
    /// first announce ends in one [`DhtEvent::Announced`](crate::dht::DhtEvent::Announced),
    /// repeats are reported per family.
    pub fn keep_announced(
        &mut self,
        now: Instant,
        info_hash: NodeId,
        port: u16,
    ) -> Result<QueryId, KeepError> {
        self.keep_on_both(&info_hash, |half| half.keep_announced(now, info_hash, port))
    }

    /// Starts a keep of `target` on both halves. Both must have room first (their `max_kept`
    /// may differ), so that a keep is refused before either half starts anything; should the
    /// IPv6 half still refuse after the IPv4 half kept it, the IPv4 half stops too.
    fn keep_on_both(
        &mut self,
        target: &NodeId,
        mut keep: impl FnMut(&mut crate::dht::DhtNode) -> Result<QueryId, KeepError>,
    ) -> Result<QueryId, KeepError> {
        for half in &self.halves {
            half.room_for(target)?;
        }
        let mut accepted = 0;
        let query = self.try_joint(|half| {
            let kept = keep(half);
            accepted += usize::from(kept.is_ok());
            kept
        });
        if query.is_err() && accepted == 1 {
            self.halves[V4].stop_keeping(target);
        }
        query
    }

    /// Stops the repeats of `target` in both families; false if neither kept it.
    pub fn stop_keeping(&mut self, target: &NodeId) -> bool {
        let four = self.halves[V4].stop_keeping(target);
        let six = self.halves[V6].stop_keeping(target);
        four || six
    }

    /// The id and both routing tables' nodes (each family's good ones first), to save; each
    /// family gets up to half of [`MAX_SAVED_NODES`].
    pub fn save(&self, now: Instant) -> SavedState {
        let mut nodes = Vec::new();
        for half in &self.halves {
            nodes.extend(half.save(now).nodes.into_iter().take(MAX_SAVED_NODES / 2));
        }
        SavedState {
            id: self.halves[V4].id(),
            nodes,
        }
    }

    /// Joins again from a saved state: the halves take its id (BEP 32's shared id; an IPv6
    /// half configured with an id of its own keeps it) and the nodes of their family, and
    /// bootstrap through them and the `extra` addresses of their family. One
    /// [`DhtEvent::Bootstrapped`](crate::dht::DhtEvent::Bootstrapped) follows.
    pub fn restore(&mut self, now: Instant, state: &SavedState, extra: &[SocketAddr]) {
        self.bootstrapped = [false; 2];
        let own_v6 = self.halves[V6].id() != self.halves[V4].id();
        for family in [V4, V6] {
            let mine: Vec<SocketAddr> = extra
                .iter()
                .copied()
                .filter(|a| a.is_ipv4() == (family == V4))
                .collect();
            let mut state = state.clone();
            if family == V6 && own_v6 {
                state.id = self.halves[V6].id();
            }
            self.halves[family].restore(now, &state, &mine);
        }
        self.pump();
    }
}
