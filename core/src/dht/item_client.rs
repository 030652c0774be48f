//! BEP 44 from the asking side: `get` lookups that collect an item, and `put`s that first
//! collect write tokens from the k closest nodes.

use crate::dht::id::NodeId;
use crate::dht::item::{Item, ItemError, MutableItem, check_value, immutable_target};
use crate::dht::krpc::{Method, NodeInfo, Put, Response};
use crate::dht::lookup::{LookupKind, Origin, QueryId, Status};
use crate::dht::node::{DhtEvent, DhtNode, Purpose};
use crate::time::Instant;

/// What an item lookup is for.
pub(crate) enum ItemLookup {
    /// Collect the item stored under the target; `salt` checks mutable answers.
    Get { salt: Vec<u8>, best: Option<Item> },
    /// Put `item` to the closest nodes once the lookup has their tokens.
    Put { item: Item, cas: Option<i64> },
}

fn item_target(item: &Item) -> NodeId {
    match item {
        Item::Immutable(value) => immutable_target(value),
        Item::Mutable(m) => m.target(),
    }
}

impl DhtNode {
    /// BEP 44 `get`: looks up the item stored under `target` (give the `salt` a mutable item
    /// was stored with, or empty). Ends with [`DhtEvent::ItemFound`]; progress is reported as
    /// for other lookups.
    pub fn get_item(&mut self, now: Instant, target: NodeId, salt: &[u8]) -> QueryId {
        let query = self.new_query_id();
        let op = ItemLookup::Get {
            salt: salt.to_vec(),
            best: None,
        };
        self.item_lookups.insert(query, op);
        self.run_lookup(now, query, target, LookupKind::GetPeers, Origin::User);
        query
    }

    /// BEP 44 `put` of an immutable item: `value` is the bencoded `v`. Returns the lookup and
    /// the item's target; ends with [`DhtEvent::ItemStored`].
    pub fn put_immutable(
        &mut self,
        now: Instant,
        value: Vec<u8>,
    ) -> Result<(QueryId, NodeId), ItemError> {
        check_value(&value)?;
        let target = immutable_target(&value);
        Ok((
            self.start_put(now, target, Item::Immutable(value), None),
            target,
        ))
    }

    /// BEP 44 `put` of a signed mutable item, with `cas` (the `seq` it should replace) if
    /// wanted. Ends with [`DhtEvent::ItemStored`].
    pub fn put_mutable(
        &mut self,
        now: Instant,
        item: MutableItem,
        cas: Option<i64>,
    ) -> Result<(QueryId, NodeId), ItemError> {
        check_value(&item.value)?;
        if item.salt.len() > crate::dht::item::MAX_SALT_LEN {
            return Err(ItemError::SaltTooBig);
        }
        if !item.verify() {
            return Err(ItemError::InvalidSignature);
        }
        let target = item.target();
        Ok((
            self.start_put(now, target, Item::Mutable(item), cas),
            target,
        ))
    }

    fn start_put(&mut self, now: Instant, target: NodeId, item: Item, cas: Option<i64>) -> QueryId {
        let query = self.new_query_id();
        self.item_lookups
            .insert(query, ItemLookup::Put { item, cas });
        self.run_lookup(now, query, target, LookupKind::GetPeers, Origin::User);
        query
    }

    /// Looks at the item fields of a `get` answer to one of our item lookups.
    pub(crate) fn collect_item(&mut self, query: QueryId, target: NodeId, response: &Response<'_>) {
        let Some(ItemLookup::Get { salt, best }) = self.item_lookups.get_mut(&query) else {
            return;
        };
        let Some(value) = &response.value else {
            return;
        };
        let found = match (response.key, response.signature, response.seq) {
            (Some(key), Some(signature), Some(seq)) => {
                let item = MutableItem {
                    key,
                    salt: salt.clone(),
                    seq,
                    value: value.clone(),
                    signature,
                };
                // BEP 44: readers check the key against the target and the signature.
                (item.target() == target && item.verify()).then_some(Item::Mutable(item))
            }
            (None, None, _) => {
                (immutable_target(value) == target).then(|| Item::Immutable(value.clone()))
            }
            _ => None,
        };
        let Some(found) = found else {
            self.stats.bad_items += 1;
            tracing::debug!(
                ?target,
                "dht: item that fails its target or signature ignored"
            );
            return;
        };
        let newer = match (&*best, &found) {
            (None, _) => true,
            (Some(Item::Mutable(old)), Item::Mutable(new)) => new.seq > old.seq,
            _ => false,
        };
        if newer {
            *best = Some(found);
        }
    }

    /// The lookup part of an item command is done: report a `get`, or send the `put`s.
    pub(crate) fn finish_item(&mut self, now: Instant, query: QueryId) {
        let announcing = self.lookups.get(&query).and_then(|l| l.announcing);
        let is_put = matches!(self.item_lookups.get(&query), Some(ItemLookup::Put { .. }));
        if is_put && announcing.is_none() && self.lookups.contains_key(&query) {
            return self.send_puts(now, query);
        }
        let Some(lookup) = self.lookups.remove(&query) else {
            self.item_lookups.remove(&query);
            return;
        };
        let result = self.result(now, &lookup);
        match self.item_lookups.remove(&query) {
            Some(ItemLookup::Get { best, .. }) => {
                self.push_event(DhtEvent::ItemFound { result, item: best });
            }
            Some(ItemLookup::Put { .. }) => {
                let stored = announcing.map_or(0, |(_, stored)| stored);
                self.push_event(DhtEvent::ItemStored { result, stored });
            }
            None => {}
        }
    }

    /// BEP 44: put to the k closest nodes that answered `get` with a token (as BEP 5
    /// announce_peer does with get_peers tokens).
    fn send_puts(&mut self, now: Instant, query: QueryId) {
        let k = self.config.routing.k;
        let Some(lookup) = self.lookups.get_mut(&query) else {
            return;
        };
        let targets: Vec<(NodeInfo, Vec<u8>)> = lookup
            .candidates
            .iter()
            .filter(|c| c.status == Status::Responded)
            .take(k)
            .filter_map(|c| c.token.clone().map(|t| (c.info, t)))
            .collect();
        lookup.announcing = Some((0, 0));
        let Some(ItemLookup::Put { item, cas }) = self.item_lookups.get(&query) else {
            return;
        };
        let (item, cas) = (item.clone(), *cas);
        let target = item_target(&item);
        for (info, token) in targets {
            let put = match &item {
                Item::Immutable(value) => Put {
                    token: &token,
                    value: value.clone(),
                    key: None,
                    signature: None,
                    seq: None,
                    salt: b"",
                    cas: None,
                    target: Some(target),
                },
                Item::Mutable(m) => Put {
                    token: &token,
                    value: m.value.clone(),
                    key: Some(m.key),
                    signature: Some(m.signature),
                    seq: Some(m.seq),
                    salt: &m.salt,
                    cas,
                    target: Some(target),
                },
            };
            // Answers and failures of puts are counted like announce_peer's.
            let sent = self.send_query(
                now,
                info.addr,
                Some(info.id),
                Method::Put(put),
                Purpose::Announce(query),
            );
            if let Some(l) = self.lookups.get_mut(&query).filter(|_| sent) {
                l.messages += 1;
                if let Some((outstanding, _)) = &mut l.announcing {
                    *outstanding += 1;
                }
            }
        }
        self.maybe_finish_announce(now, query);
    }
}
