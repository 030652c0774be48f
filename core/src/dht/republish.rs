//! Keeping what we publish alive. Storing nodes forget: BEP 44 "Nodes ... MAY expire items
//! after 2 hours" unless they are put again, and announced peers leave peer stores after a
//! TTL (30 minutes here and in common clients). The publisher puts and announces again; a
//! node asked to keep an item or an announce repeats it on a schedule until told to stop.

use std::collections::BTreeMap;

use core::fmt;
use core::time::Duration;

use crate::dht::id::NodeId;
use crate::dht::item::{Item, ItemError, MutableItem, check_value};
use crate::dht::item_client::{check_mutable, item_target};
use crate::dht::lookup::QueryId;
use crate::dht::node::DhtNode;
use crate::time::Instant;

/// How often kept items and announces are repeated, and how many may be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepublishConfig {
    /// Between puts of a kept item: half of BEP 44's 2-hour expiry, so one lost put still
    /// leaves the item stored.
    pub item_every: Duration,
    /// Between announces of a kept info-hash: half of the common 30-minute peer TTL.
    pub announce_every: Duration,
    /// Items and announces kept at once (each is a lookup per period).
    pub max_kept: usize,
}

impl Default for RepublishConfig {
    fn default() -> RepublishConfig {
        RepublishConfig {
            item_every: Duration::from_secs(60 * 60),
            announce_every: Duration::from_secs(15 * 60),
            max_kept: 64,
        }
    }
}

/// Why [`DhtNode::keep_item`] or [`DhtNode::keep_announced`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepError {
    /// The item is not valid (nothing was put).
    Item(ItemError),
    /// [`RepublishConfig::max_kept`] targets are kept already.
    Full,
    /// A newer `seq` of this mutable item is kept already.
    StaleSeq,
}

impl fmt::Display for KeepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepError::Item(e) => write!(f, "{e}"),
            KeepError::Full => write!(f, "too many items and announces kept"),
            KeepError::StaleSeq => write!(f, "a newer seq of this item is kept already"),
        }
    }
}

impl core::error::Error for KeepError {}

impl From<ItemError> for KeepError {
    fn from(e: ItemError) -> KeepError {
        KeepError::Item(e)
    }
}

/// What is repeated for one target.
#[derive(Clone, Debug)]
enum Job {
    Item(Item),
    Announce { port: u16 },
}

#[derive(Clone, Debug)]
struct Kept {
    job: Job,
    next: Instant,
}

/// The shortest period between repeats, whatever the configuration says: a repeat starts a
/// lookup, and a zero period would start one at every timeout.
const MIN_PERIOD: Duration = Duration::from_secs(60);

/// Kept items and announces by target.
#[derive(Default)]
pub(crate) struct Republisher {
    kept: BTreeMap<NodeId, Kept>,
}

impl RepublishConfig {
    fn period(&self, job: &Job) -> Duration {
        match job {
            Job::Item(_) => self.item_every,
            Job::Announce { .. } => self.announce_every,
        }
        .max(MIN_PERIOD)
    }
}

impl Republisher {
    /// When the next repeat is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.kept.values().map(|k| k.next).min()
    }
}

impl DhtNode {
    /// Puts `item` now ([`put_immutable`](Self::put_immutable) /
    /// [`put_mutable`](Self::put_mutable)) and again every [`RepublishConfig::item_every`]
    /// until [`stop_keeping`](Self::stop_keeping).
    /// Keeping a mutable item of the same target again replaces it (a lower `seq` than the
    /// kept one is refused, [`KeepError::StaleSeq`]); so does a plain `put_mutable` of a
    /// newer `seq`, so the repeats never put an outdated version. Every put
    /// ends with a [`DhtEvent::ItemStored`](crate::dht::DhtEvent::ItemStored); the repeats carry
    /// query ids of their own.
    pub fn keep_item(&mut self, now: Instant, item: Item) -> Result<(QueryId, NodeId), KeepError> {
        match &item {
            Item::Immutable(value) => check_value(value)?,
            Item::Mutable(m) => check_mutable(m)?,
        }
        let target = item_target(&item);
        self.room_for(&target)?;
        if let (Item::Mutable(new), Some(old)) = (&item, self.kept_mutable(&target)) {
            if new.seq < old.seq {
                return Err(KeepError::StaleSeq);
            }
        }
        let started = match item.clone() {
            Item::Immutable(value) => self.put_immutable(now, value)?,
            Item::Mutable(m) => self.put_mutable(now, m, None)?,
        };
        let job = Job::Item(item);
        let next = now + self.config.republish.period(&job);
        self.republisher.kept.insert(target, Kept { job, next });
        Ok(started)
    }

    /// Announces `info_hash` on `port` now ([`announce`](Self::announce)) and again every
    /// [`RepublishConfig::announce_every`] until [`stop_keeping`](Self::stop_keeping); every
    /// announce ends with a [`DhtEvent::Announced`](crate::dht::DhtEvent::Announced).
    pub fn keep_announced(
        &mut self,
        now: Instant,
        info_hash: NodeId,
        port: u16,
    ) -> Result<QueryId, KeepError> {
        self.room_for(&info_hash)?;
        let query = self.announce(now, info_hash, port);
        let job = Job::Announce { port };
        let next = now + self.config.republish.period(&job);
        self.republisher.kept.insert(info_hash, Kept { job, next });
        Ok(query)
    }

    /// Stops repeating the item or announce of `target`; false if it was not kept. What was
    /// stored expires on its own.
    pub fn stop_keeping(&mut self, target: &NodeId) -> bool {
        self.republisher.kept.remove(target).is_some()
    }

    /// Targets whose item or announce is kept.
    pub fn kept(&self) -> impl Iterator<Item = &NodeId> {
        self.republisher.kept.keys()
    }

    /// The kept mutable item of `target`, if one is kept.
    fn kept_mutable(&self, target: &NodeId) -> Option<&MutableItem> {
        match self.republisher.kept.get(target).map(|k| &k.job) {
            Some(Job::Item(Item::Mutable(m))) => Some(m),
            _ => None,
        }
    }

    /// A mutable item is being put: when its target is kept with an older `seq`, the repeats
    /// put this one from now on (on the same schedule).
    pub(crate) fn refresh_kept(&mut self, item: &MutableItem) {
        let target = item.target();
        if self
            .kept_mutable(&target)
            .is_some_and(|old| old.seq < item.seq)
        {
            if let Some(kept) = self.republisher.kept.get_mut(&target) {
                kept.job = Job::Item(Item::Mutable(item.clone()));
            }
        }
    }

    pub(crate) fn room_for(&self, target: &NodeId) -> Result<(), KeepError> {
        let kept = &self.republisher.kept;
        if kept.contains_key(target) || kept.len() < self.config.republish.max_kept {
            Ok(())
        } else {
            Err(KeepError::Full)
        }
    }

    /// Starts the repeats that are due (called from `handle_timeout`).
    pub(crate) fn republish_due(&mut self, now: Instant) {
        let due: Vec<NodeId> = self
            .republisher
            .kept
            .iter()
            .filter(|(_, k)| k.next <= now)
            .map(|(target, _)| *target)
            .collect();
        let config = self.config.republish;
        for target in due {
            let Some(kept) = self.republisher.kept.get_mut(&target) else {
                continue;
            };
            let job = kept.job.clone();
            kept.next = now + config.period(&job);
            match job {
                Job::Item(item) => {
                    self.start_put(now, target, item, None);
                }
                Job::Announce { port } => {
                    self.announce(now, target, port);
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "republish_tests.rs"]
mod tests;
