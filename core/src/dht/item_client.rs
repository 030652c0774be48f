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

/// What a writer's mutable item must satisfy before it is put (BEP 44: size, salt, signature).
pub(crate) fn check_mutable(item: &MutableItem) -> Result<(), ItemError> {
    check_value(&item.value)?;
    if item.salt.len() > crate::dht::item::MAX_SALT_LEN {
        return Err(ItemError::SaltTooBig);
    }
    if !item.verify() {
        return Err(ItemError::InvalidSignature);
    }
    Ok(())
}

pub(crate) fn item_target(item: &Item) -> NodeId {
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
        check_mutable(&item)?;
        self.refresh_kept(&item);
        let target = item.target();
        Ok((
            self.start_put(now, target, Item::Mutable(item), cas),
            target,
        ))
    }

    pub(crate) fn start_put(
        &mut self,
        now: Instant,
        target: NodeId,
        item: Item,
        cas: Option<i64>,
    ) -> QueryId {
        let query = self.new_query_id();
        self.item_lookups
            .insert(query, ItemLookup::Put { item, cas });
        self.run_lookup(now, query, target, LookupKind::GetPeers, Origin::User);
        query
    }

    /// Looks at the item fields of a `get` answer to one of our item lookups. Returns true
    /// when the `get` is done: a valid immutable item was found. The lookup then sends nothing
    /// more; the caller finishes it with [`finish_item`](Self::finish_item) once the answer's
    /// nodes are taken in.
    pub(crate) fn collect_item(
        &mut self,
        query: QueryId,
        target: NodeId,
        response: &Response<'_>,
    ) -> bool {
        let Some(ItemLookup::Get { salt, best }) = self.item_lookups.get_mut(&query) else {
            return false;
        };
        let Some(value) = &response.value else {
            return false;
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
            return false;
        };
        // BEP 44: an immutable item's target is the hash of its value, so the first one that
        // hashes to the target is the item and asking further nodes cannot improve on it. A
        // mutable item may exist at a higher `seq` elsewhere: that `get` runs to the end.
        let done = matches!(found, Item::Immutable(_));
        let newer = match (&*best, &found) {
            (None, _) => true,
            (Some(Item::Mutable(old)), Item::Mutable(new)) => new.seq > old.seq,
            _ => false,
        };
        if newer {
            *best = Some(found);
        }
        if done {
            // Freeze the lookup as an announce phase does: `advance` sends no further query,
            // and answers to the ones in flight find no lookup once it is finished.
            if let Some(lookup) = self.lookups.get_mut(&query) {
                lookup.announcing = Some((0, 0));
            }
        }
        done
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use core::net::{IpAddr, Ipv4Addr, SocketAddr};

    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::dht::krpc::{self, Body, Message, Query};
    use crate::dht::node::{DhtConfig, LookupResult};
    use crate::io::{Datagram, Machine};

    const LOCAL: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 6881);

    fn datagram(node: &mut DhtNode, now: Instant, from: SocketAddr, message: &Message<'_>) {
        let payload = message.to_bytes();
        let d = Datagram {
            source: from,
            destination: LOCAL,
            payload: &payload,
        };
        node.handle_datagram(now, d);
    }

    /// A node that learnt of twelve others (they pinged it), so a lookup has candidates.
    fn node_with_contacts() -> (DhtNode, BTreeMap<SocketAddr, NodeId>) {
        let mut rng = ChaCha20Rng::seed_from_u64(44);
        let mut node = DhtNode::new(DhtConfig::new(LOCAL), Box::new(rng.clone()));
        let mut contacts = BTreeMap::new();
        for i in 0..12u8 {
            let from = SocketAddr::from(([198, 51, 100, i + 1], 6881));
            let id = NodeId::random(&mut rng);
            let ping = Message {
                transaction_id: b"pi",
                body: Body::Query(Query {
                    id,
                    method: Method::Ping,
                    want: None,
                }),
                version: None,
                ip: None,
                read_only: false,
            };
            datagram(&mut node, Instant::ZERO, from, &ping);
            contacts.insert(from, id);
        }
        while node.poll_transmit().is_some() {}
        assert!(node.routing_table().len() >= 8);
        (node, contacts)
    }

    /// The `get` queries the node sent: (destination, transaction id).
    fn sent_gets(node: &mut DhtNode) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(t) = node.poll_transmit() {
            // NOTE(unwrap): the node's own encoder wrote it.
            let m = krpc::decode(&t.payload).expect("own query decodes");
            assert!(matches!(
                m.body,
                Body::Query(Query {
                    method: Method::Get { .. },
                    ..
                })
            ));
            out.push((t.destination, m.transaction_id.to_vec()));
        }
        out
    }

    fn answer(
        node: &mut DhtNode,
        now: Instant,
        (to, tid): &(SocketAddr, Vec<u8>),
        contacts: &BTreeMap<SocketAddr, NodeId>,
        value: &[u8],
    ) {
        let response = Response {
            id: contacts[to],
            token: Some(b"tk"),
            value: Some(value.to_vec()),
            ..Response::default()
        };
        let m = Message {
            transaction_id: tid,
            body: Body::Response(response),
            version: None,
            ip: None,
            read_only: false,
        };
        datagram(node, now, *to, &m);
    }

    /// Drains the events; the `ItemFound` among them, if any (progress events are skipped).
    fn item_found(node: &mut DhtNode) -> Option<(LookupResult, Option<Item>)> {
        let mut found = None;
        while let Some(e) = node.poll_event() {
            if let DhtEvent::ItemFound { result, item } = e {
                assert!(found.is_none(), "one ItemFound per get");
                found = Some((result, item));
            }
        }
        found
    }

    #[test]
    fn immutable_get_stops_at_the_first_valid_item() {
        let (mut node, contacts) = node_with_contacts();
        let value = b"12:Hello World!".to_vec();
        let target = immutable_target(&value);
        let now = Instant::from_millis(10);
        let q = node.get_item(now, target, b"");
        let first = sent_gets(&mut node);
        assert_eq!(first.len(), 3, "alpha queries in flight");

        // A value that does not hash to the target is rejected; the lookup goes on and asks
        // the next candidate in the freed slot.
        let now = Instant::from_millis(50);
        answer(&mut node, now, &first[0], &contacts, b"5:wrong");
        assert_eq!(node.stats().bad_items, 1);
        assert!(item_found(&mut node).is_none());
        let next = sent_gets(&mut node);
        assert_eq!(next.len(), 1);

        // The item: the get ends at once, with nothing more sent.
        let now = Instant::from_millis(80);
        answer(&mut node, now, &first[1], &contacts, &value);
        assert!(node.poll_transmit().is_none(), "no query after the item");
        let (result, item) = item_found(&mut node).expect("ItemFound at the first valid item");
        assert_eq!(result.query, q);
        assert_eq!(item, Some(Item::Immutable(value.clone())));
        assert_eq!(result.messages, 4);
        assert_eq!(result.elapsed, core::time::Duration::from_millis(70));
        assert!(result.closest.iter().any(|n| n.addr == first[1].0));
        assert_eq!(node.lookups_in_flight(), 0);

        // Answers still in flight find no lookup: no second event, nothing sent.
        answer(&mut node, now, &first[2], &contacts, &value);
        answer(&mut node, now, &next[0], &contacts, &value);
        assert!(node.poll_event().is_none());
        assert_eq!(node.stats().bad_items, 1);
        assert!(node.poll_transmit().is_none());
    }

    #[test]
    fn mutable_get_runs_to_the_end() {
        let (mut node, contacts) = node_with_contacts();
        let item =
            MutableItem::sign_with_seed(&[7; 32], b"", 1, b"1:x".to_vec()).expect("valid item");
        let target = item.target();
        let now = Instant::from_millis(10);
        node.get_item(now, target, b"");
        let first = sent_gets(&mut node);
        let response = Response {
            id: contacts[&first[0].0],
            token: Some(b"tk"),
            value: Some(item.value.clone()),
            key: Some(item.key),
            signature: Some(item.signature),
            seq: Some(item.seq),
            ..Response::default()
        };
        let m = Message {
            transaction_id: &first[0].1,
            body: Body::Response(response),
            version: None,
            ip: None,
            read_only: false,
        };
        datagram(&mut node, Instant::from_millis(40), first[0].0, &m);
        // A higher seq may be stored elsewhere: the lookup asks on.
        assert_eq!(sent_gets(&mut node).len(), 1);
        assert_eq!(node.lookups_in_flight(), 1);
        assert!(item_found(&mut node).is_none());
    }
}
