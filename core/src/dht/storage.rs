//! Items stored on behalf of others (BEP 44), bounded and expiring.

use std::collections::BTreeMap;

use core::time::Duration;

use crate::dht::id::NodeId;
use crate::dht::item::{
    ERROR_CAS_MISMATCH, ERROR_INVALID_SIGNATURE, ERROR_SALT_TOO_BIG, ERROR_SEQ_LESS_THAN_CURRENT,
    ERROR_VALUE_TOO_BIG, Item, MAX_SALT_LEN, MAX_VALUE_LEN, MutableItem, immutable_target,
};
use crate::time::Instant;

/// Bounds of the item store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemStoreConfig {
    /// Items kept at once; the one put longest ago is evicted for a new one.
    pub max_items: usize,
    /// BEP 44: "Storing nodes may ... expire items after 2 hours" unless they are put again.
    pub ttl: Duration,
}

impl Default for ItemStoreConfig {
    fn default() -> ItemStoreConfig {
        ItemStoreConfig {
            max_items: 1024,
            ttl: Duration::from_secs(2 * 60 * 60),
        }
    }
}

/// Why a put was refused: the KRPC error code and its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PutRefused {
    /// BEP 44 code (205, 206, 207, 301, 302).
    pub code: i64,
    /// Text for the error message.
    pub message: &'static [u8],
}

struct Stored {
    item: Item,
    expires: Instant,
    /// Put order, for eviction of the oldest.
    generation: u64,
}

/// Target -> item.
pub struct ItemStore {
    config: ItemStoreConfig,
    items: BTreeMap<NodeId, Stored>,
    generation: u64,
}

impl ItemStore {
    /// An empty store.
    pub fn new(config: ItemStoreConfig) -> ItemStore {
        ItemStore {
            config,
            items: BTreeMap::new(),
            generation: 0,
        }
    }

    /// Items stored.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The item stored under `target`, if it has not expired.
    pub fn get(&self, now: Instant, target: &NodeId) -> Option<&Item> {
        self.items
            .get(target)
            .filter(|s| s.expires > now)
            .map(|s| &s.item)
    }

    /// Stores an immutable item (its target is the SHA-1 of `value`, the bencoded `v`).
    pub fn put_immutable(&mut self, now: Instant, value: &[u8]) -> Result<NodeId, PutRefused> {
        if value.len() > MAX_VALUE_LEN {
            return Err(TOO_BIG);
        }
        let target = immutable_target(value);
        self.insert(now, target, Item::Immutable(value.to_vec()));
        Ok(target)
    }

    /// Stores a mutable item after BEP 44's checks, in its order: size, salt, signature, then
    /// `cas` against the stored `seq`, then `seq` not lower than the stored one.
    pub fn put_mutable(
        &mut self,
        now: Instant,
        item: MutableItem,
        cas: Option<i64>,
    ) -> Result<NodeId, PutRefused> {
        if item.value.len() > MAX_VALUE_LEN {
            return Err(TOO_BIG);
        }
        if item.salt.len() > MAX_SALT_LEN {
            return Err(PutRefused {
                code: ERROR_SALT_TOO_BIG,
                message: b"salt (salt field) too big",
            });
        }
        if !item.verify() {
            return Err(PutRefused {
                code: ERROR_INVALID_SIGNATURE,
                message: b"invalid signature",
            });
        }
        let target = item.target();
        if let Some(Item::Mutable(current)) = self.get(now, &target) {
            // BEP 44: "if the cas ... does not match the sequence number of the current
            // value, the put is rejected with error 301".
            if cas.is_some_and(|cas| cas != current.seq) {
                return Err(PutRefused {
                    code: ERROR_CAS_MISMATCH,
                    message: b"the CAS hash mismatched, re-read value and try again",
                });
            }
            if item.seq < current.seq {
                return Err(PutRefused {
                    code: ERROR_SEQ_LESS_THAN_CURRENT,
                    message: b"sequence number less than current",
                });
            }
        }
        self.insert(now, target, Item::Mutable(item));
        Ok(target)
    }

    fn insert(&mut self, now: Instant, target: NodeId, item: Item) {
        if !self.items.contains_key(&target) && self.items.len() >= self.config.max_items {
            self.expire(now);
            if self.items.len() >= self.config.max_items {
                let oldest = self
                    .items
                    .iter()
                    .min_by_key(|(_, s)| s.generation)
                    .map(|(t, _)| *t);
                if let Some(oldest) = oldest {
                    self.items.remove(&oldest);
                }
            }
        }
        self.generation += 1;
        self.items.insert(
            target,
            Stored {
                item,
                expires: now + self.config.ttl,
                generation: self.generation,
            },
        );
    }

    /// Drops expired items.
    pub fn expire(&mut self, now: Instant) {
        self.items.retain(|_, s| s.expires > now);
    }
}

const TOO_BIG: PutRefused = PutRefused {
    code: ERROR_VALUE_TOO_BIG,
    message: b"message (v field) too big",
};

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn signed(seq: i64, value: &[u8]) -> MutableItem {
        let key = SigningKey::from_bytes(&[3; 32]);
        MutableItem::sign(&key, b"salt", seq, value.to_vec()).unwrap()
    }

    #[test]
    fn mutable_rules_and_errors() {
        let mut store = ItemStore::new(ItemStoreConfig::default());
        let now = Instant::ZERO;
        let target = store.put_mutable(now, signed(2, b"1:a"), None).unwrap();
        let lower = store.put_mutable(now, signed(1, b"1:b"), None);
        assert_eq!(lower.map_err(|e| e.code), Err(302));
        let cas = store.put_mutable(now, signed(3, b"1:c"), Some(1));
        assert_eq!(cas.map_err(|e| e.code), Err(301));
        assert!(store.put_mutable(now, signed(3, b"1:c"), Some(2)).is_ok());
        let Some(Item::Mutable(m)) = store.get(now, &target) else {
            panic!("stored");
        };
        assert_eq!((m.seq, &m.value[..]), (3, &b"1:c"[..]));
        let mut forged = signed(4, b"1:d");
        forged.value = b"1:e".to_vec();
        assert_eq!(
            store.put_mutable(now, forged, None).map_err(|e| e.code),
            Err(206)
        );
        let mut salty = signed(5, b"1:f");
        salty.salt = vec![0; 65];
        assert_eq!(
            store.put_mutable(now, salty, None).map_err(|e| e.code),
            Err(207)
        );
        let mut big = b"1000:".to_vec();
        big.extend([b'x'; 1000]);
        assert_eq!(store.put_immutable(now, &big).map_err(|e| e.code), Err(205));
    }

    #[test]
    fn expiry_and_eviction() {
        let config = ItemStoreConfig {
            max_items: 2,
            ..ItemStoreConfig::default()
        };
        let mut store = ItemStore::new(config);
        let t0 = Instant::ZERO;
        let a = store.put_immutable(t0, b"1:a").unwrap();
        let b = store.put_immutable(t0, b"1:b").unwrap();
        // Re-putting `a` makes `b` the oldest, so `c` evicts `b`.
        store
            .put_immutable(t0 + Duration::from_secs(1), b"1:a")
            .unwrap();
        let c = store.put_immutable(t0, b"1:c").unwrap();
        assert_eq!(store.len(), 2);
        assert!(store.get(t0, &b).is_none());
        assert!(store.get(t0, &a).is_some() && store.get(t0, &c).is_some());
        let later = t0 + Duration::from_secs(2 * 3600);
        assert!(store.get(later, &c).is_none());
        assert!(store.get(later, &a).is_some());
        store.expire(later + Duration::from_secs(1));
        assert!(store.is_empty());
    }
}
