//! The routing table (BEP 5): k-buckets that split around our own id, node states, replacement
//! caches and the refresh schedule.

use core::time::Duration;

use crate::dht::id::{Distance, ID_BITS, NodeId, bep42_verify};
use crate::dht::krpc::NodeInfo;
use crate::time::Instant;

/// At most 2^10 slots per bucket (see `RoutingTable::slot_bits`).
const SLOT_BITS_MAX: u32 = 10;

/// Knobs of the routing table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutingConfig {
    /// Nodes per bucket. BEP 5: "Each bucket can only hold K nodes, currently eight".
    pub k: usize,
    /// Replacement candidates kept per bucket.
    pub replacements: usize,
    /// BEP 5: "After 15 minutes of inactivity, a node becomes questionable".
    pub questionable_after: Duration,
    /// Consecutive unanswered queries after which a node is bad.
    pub bad_after_failures: u32,
    /// BEP 5: "Buckets that have not been changed in 15 minutes should be refreshed".
    pub refresh_after: Duration,
    /// The farthest buckets hold more than k: 16k, 8k, 4k, 2k for buckets 0-3 (libtorrent's
    /// extended routing table). They cover most of the id space, so a larger first hop
    /// lands nearer the target and saves a round trip per lookup, for ~30 KiB per node.
    pub wide_far_buckets: bool,
    /// Every bucket holds at least `k × bucket_factor` nodes (1, the default, is BEP 5's
    /// "K nodes"). Answers still carry the k closest: a larger table lets a node name nodes
    /// nearer a target, so lookups through it take fewer hops (measured in docs/dht.md: at
    /// 20,000 nodes a factor of 4 took 3.31 hops to 2.80 for ~40% more entries).
    pub bucket_factor: usize,
    /// Nodes heard of in lookup answers (not yet verified) take free slots; they count as
    /// questionable until they answer, so a full bucket pings them before anything else.
    pub admit_heard: bool,
}

impl Default for RoutingConfig {
    fn default() -> RoutingConfig {
        RoutingConfig {
            k: 8,
            replacements: 8,
            questionable_after: Duration::from_secs(15 * 60),
            bad_after_failures: 2,
            refresh_after: Duration::from_secs(15 * 60),
            wide_far_buckets: true,
            bucket_factor: 1,
            admit_heard: true,
        }
    }
}

/// BEP 5's three node states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Answered us within the last 15 minutes (or answered once and queried us since).
    Good,
    /// Not heard from recently; worth a ping before it is evicted.
    Questionable,
    /// Failed to answer several queries in a row.
    Bad,
}

/// One node in a bucket. Kept small (80 bytes, against 112 with `Option` fields): a node's
/// table holds hundreds of entries, and scanning them is most of what a busy node does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its id and address.
    pub info: NodeInfo,
    last_response: Nanos,
    last_query: Nanos,
    srtt: Nanos,
    failures: u16,
    pinging: bool,
}

/// An optional instant or duration in nanoseconds, `u64::MAX` for none: half the size of an
/// `Option<Instant>` and the same value in the same unit, so nothing is rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Nanos(u64);

impl Nanos {
    const NONE: Nanos = Nanos(u64::MAX);

    fn instant(at: Instant) -> Nanos {
        Nanos(at.as_nanos().min(u64::MAX - 1))
    }

    fn duration(d: Duration) -> Nanos {
        Nanos(
            u64::try_from(d.as_nanos())
                .unwrap_or(u64::MAX)
                .min(u64::MAX - 1),
        )
    }

    fn as_instant(self) -> Option<Instant> {
        (self != Nanos::NONE).then(|| Instant::from_nanos(self.0))
    }

    fn as_duration(self) -> Option<Duration> {
        (self != Nanos::NONE).then(|| Duration::from_nanos(self.0))
    }
}

impl Entry {
    fn new(info: NodeInfo) -> Entry {
        Entry {
            info,
            last_response: Nanos::NONE,
            last_query: Nanos::NONE,
            srtt: Nanos::NONE,
            failures: 0,
            pinging: false,
        }
    }

    /// When it last answered one of our queries.
    pub fn last_response(&self) -> Option<Instant> {
        self.last_response.as_instant()
    }

    /// When it last queried us.
    pub fn last_query(&self) -> Option<Instant> {
        self.last_query.as_instant()
    }

    /// Queries in a row it did not answer.
    pub fn failures(&self) -> u32 {
        u32::from(self.failures)
    }

    /// Smoothed round-trip time of its answers.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt.as_duration()
    }

    /// A liveness ping is outstanding (it is questionable and a candidate waits).
    pub fn pinging(&self) -> bool {
        self.pinging
    }

    /// The node's state at `now` (BEP 5 "Routing Table").
    pub fn state(&self, now: Instant, config: &RoutingConfig) -> NodeState {
        // `failures` saturates at u16::MAX: a larger setting means that many.
        if self.failures() >= config.bad_after_failures.min(u32::from(u16::MAX)) {
            return NodeState::Bad;
        }
        let recent = |t: Option<Instant>| {
            t.is_some_and(|t| now.saturating_duration_since(t) < config.questionable_after)
        };
        let last_response = self.last_response();
        if recent(last_response) || (last_response.is_some() && recent(self.last_query())) {
            NodeState::Good
        } else {
            NodeState::Questionable
        }
    }
}

struct Bucket {
    nodes: Vec<Entry>,
    replacements: Vec<NodeInfo>,
    last_changed: Instant,
}

impl Bucket {
    fn new(now: Instant) -> Bucket {
        Bucket {
            nodes: Vec::new(),
            replacements: Vec::new(),
            last_changed: now,
        }
    }

    /// Queues `info` in the replacement cache of at most `keep` candidates, the oldest
    /// leaving first; `keep = 0` keeps no cache (and must not remove from an empty one).
    fn queue_candidate(&mut self, info: NodeInfo, keep: usize) {
        if keep == 0 || self.replacements.contains(&info) {
            return;
        }
        if self.replacements.len() >= keep {
            self.replacements.remove(0);
        }
        self.replacements.push(info);
    }
}

/// What [`RoutingTable::insert`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Insert {
    /// The node is in the table (new or refreshed).
    Added,
    /// The bucket is full; the node waits in the replacement cache. The listed questionable
    /// nodes should be pinged: if they fail, the candidate takes a slot.
    Pending(Vec<NodeInfo>),
    /// The bucket is full of good nodes; the node is only a replacement candidate.
    Full,
    /// Not inserted (our own id, or the id is known at another address).
    Rejected,
}

/// The routing table. Bucket `i` (before the last) holds nodes sharing exactly `i` leading bits
/// with our id; the last bucket holds the rest and is the only one that splits, which is BEP
/// 5's "only the bucket our own node id falls in may be split" in list form.
pub struct RoutingTable {
    own: NodeId,
    config: RoutingConfig,
    buckets: Vec<Bucket>,
}

impl RoutingTable {
    /// An empty table around `own`.
    pub fn new(own: NodeId, config: RoutingConfig, now: Instant) -> RoutingTable {
        RoutingTable {
            own,
            config,
            buckets: vec![Bucket::new(now)],
        }
    }

    /// Our own id.
    pub fn own_id(&self) -> NodeId {
        self.own
    }

    /// The table's configuration.
    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    /// Nodes in the table.
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.nodes.len()).sum()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of buckets.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// How many nodes bucket `i` holds (see [`RoutingConfig::wide_far_buckets`]).
    pub fn capacity(&self, i: usize) -> usize {
        let base = self
            .config
            .k
            .saturating_mul(self.config.bucket_factor.max(1));
        if self.config.wide_far_buckets && i < 4 {
            base.max(self.config.k << (4 - i))
        } else {
            base
        }
    }

    fn index(&self, id: &NodeId) -> usize {
        self.own.common_prefix_len(id).min(self.buckets.len() - 1)
    }

    /// The entry for `id`, if present.
    pub fn get(&self, id: &NodeId) -> Option<&Entry> {
        self.buckets[self.index(id)]
            .nodes
            .iter()
            .find(|e| e.info.id == *id)
    }

    fn get_mut(&mut self, id: &NodeId) -> Option<&mut Entry> {
        let i = self.index(id);
        self.buckets[i].nodes.iter_mut().find(|e| e.info.id == *id)
    }

    /// Offers a node seen alive at `now` but not verified (it sent us something; its source
    /// address may be forged). Splits, evicts a bad node or queues a candidate as BEP 5
    /// describes; never displaces a node that is not bad for the sake of spread (only
    /// [`on_response`](Self::on_response), a verified round trip, does).
    pub fn insert(&mut self, now: Instant, info: NodeInfo) -> Insert {
        self.insert_node(now, info, false)
    }

    /// [`insert`](Self::insert); a `verified` node (it answered our query) of an empty slot
    /// in a full wide bucket also takes the place of the worst node of a crowded slot.
    fn insert_node(&mut self, now: Instant, info: NodeInfo, verified: bool) -> Insert {
        if info.id == self.own {
            return Insert::Rejected;
        }
        loop {
            let i = self.index(&info.id);
            let last = i == self.buckets.len() - 1;
            let k = self.capacity(i);
            if let Some(entry) = self.buckets[i].nodes.iter().find(|e| e.info.id == info.id) {
                return if entry.info.addr == info.addr {
                    Insert::Added
                } else {
                    Insert::Rejected
                };
            }
            if self.buckets[i].nodes.len() >= k && last && self.buckets.len() < ID_BITS {
                self.split(now);
                continue;
            }
            let bucket = &mut self.buckets[i];
            if bucket.nodes.len() < k {
                bucket.nodes.push(Entry::new(info));
                bucket.last_changed = now;
                return Insert::Added;
            }
            let config = self.config;
            if let Some(bad) = bucket
                .nodes
                .iter()
                .position(|e| e.state(now, &config) == NodeState::Bad)
            {
                bucket.nodes[bad] = Entry::new(info);
                bucket.last_changed = now;
                return Insert::Added;
            }
            // BEP 42: prefer nodes whose id matches their IP; a conformant newcomer takes the
            // slot of a node whose id does not.
            if bep42_verify(&info.id, info.addr.ip()) {
                if let Some(slot) = bucket
                    .nodes
                    .iter()
                    .position(|e| !bep42_verify(&e.info.id, e.info.addr.ip()))
                {
                    bucket.nodes[slot] = Entry::new(info);
                    bucket.last_changed = now;
                    return Insert::Added;
                }
            }
            // A full bucket keeps its nodes spread over its range (see `spread_victim`): a
            // verified node of an empty slot takes the place of the worst node of a crowded
            // one, which waits in the replacement cache. (A mere query could come from a
            // forged address with an id chosen to push good nodes out.)
            let victim = if last || !verified || !self.spread_kept(i) {
                None
            } else {
                self.spread_victim(now, i, Some(&info.id))
            };
            let bucket = &mut self.buckets[i];
            let queued = match victim {
                Some(at) => {
                    bucket.last_changed = now;
                    core::mem::replace(&mut bucket.nodes[at], Entry::new(info)).info
                }
                None => info,
            };
            bucket.queue_candidate(queued, config.replacements);
            if victim.is_some() {
                return Insert::Added;
            }
            let mut to_ping = Vec::new();
            for entry in &mut bucket.nodes {
                if !entry.pinging && entry.state(now, &config) == NodeState::Questionable {
                    entry.pinging = true;
                    to_ping.push(entry.info);
                }
            }
            return if to_ping.is_empty() {
                Insert::Full
            } else {
                Insert::Pending(to_ping)
            };
        }
    }

    /// Splits the last bucket: its nodes that share one more bit with our id move to a new
    /// last bucket. When the new bucket is still over its capacity (a wide bucket hands
    /// down more than a narrower one holds) it splits again, so the nodes nearest to our
    /// own id are never pushed out: nobody else is likely to know them, and a lookup for
    /// a key near us must find them here.
    fn split(&mut self, now: Instant) {
        let first = self.buckets.len() - 1;
        loop {
            let depth = self.buckets.len();
            let own = self.own;
            let mut next = Bucket::new(now);
            let Some(last) = self.buckets.last_mut() else {
                return;
            };
            let (stay, go): (Vec<Entry>, Vec<Entry>) = last
                .nodes
                .drain(..)
                .partition(|e| own.common_prefix_len(&e.info.id) < depth);
            last.nodes = stay;
            next.nodes = go;
            let (stay, go): (Vec<NodeInfo>, Vec<NodeInfo>) = last
                .replacements
                .drain(..)
                .partition(|n| own.common_prefix_len(&n.id) < depth);
            last.replacements = stay;
            next.replacements = go;
            let over = next.nodes.len() > self.capacity(depth);
            self.buckets.push(next);
            if !over || self.buckets.len() >= ID_BITS {
                break;
            }
        }
        // Buckets no longer last keep only nodes of their own prefix length; any over the
        // capacity wait with the replacements, nodes of crowded slots first, so what stays
        // covers the bucket's range.
        for i in first..self.buckets.len() {
            let room = self.capacity(i);
            let keep = self.config.replacements;
            while self.buckets[i].nodes.len() > room {
                let at = self
                    .spread_victim(now, i, None)
                    .unwrap_or(self.buckets[i].nodes.len() - 1);
                let bucket = &mut self.buckets[i];
                let entry = bucket.nodes.remove(at);
                bucket.queue_candidate(entry.info, keep);
            }
        }
    }

    /// `info` was named in an answer (not verified): it takes a free place if its bucket has
    /// one (in a wide bucket, only if its slot is empty) and is otherwise ignored; it never
    /// splits a bucket or displaces anyone (see [`RoutingConfig::admit_heard`]).
    pub fn heard_about(&mut self, now: Instant, info: NodeInfo) {
        if !self.config.admit_heard || info.id == self.own {
            return;
        }
        let i = self.index(&info.id);
        let room = self.capacity(i);
        // Hearsay fills a bucket only where it is thin: answers to one lookup name nodes
        // clustered around its target, which would fill a wide bucket with one corner of
        // its range.
        let last = i == self.buckets.len() - 1;
        if !last && self.spread_kept(i) && self.slot_taken(i, &info.id) {
            return;
        }
        let bucket = &mut self.buckets[i];
        if bucket.nodes.len() < room && !bucket.nodes.iter().any(|e| e.info.id == info.id) {
            bucket.nodes.push(Entry::new(info));
            bucket.last_changed = now;
        }
    }

    /// The slot of an id in bucket `i` is the floor(log2(capacity)) bits after the bit that
    /// makes the bucket (at most 10), so a full bucket spread one node per slot has a node
    /// sharing that many more bits with any target in its range. A bucket filled from the
    /// answers to one lookup (a refresh) instead clusters around that lookup's target, and
    /// its nearest node to another target shares few bits with it: a lookup starting there
    /// needs an extra hop. (libtorrent keeps its buckets spread the same way.)
    pub(crate) fn slot_bits(&self, i: usize) -> usize {
        self.capacity(i).max(1).ilog2().min(SLOT_BITS_MAX) as usize
    }

    /// Whether bucket `i` is kept spread: only buckets wider than k, whose extra room is
    /// there for reach. A bucket of k keeps BEP 5's rule that a good node is never
    /// displaced: near our own id those are the nodes whose nearest neighbours we are, and
    /// a lookup for a key next to them can find them only if their neighbours keep them.
    pub(crate) fn spread_kept(&self, i: usize) -> bool {
        self.capacity(i) > self.config.k
    }

    /// Whether a node of bucket `i` (not the last) is in the slot of `id`.
    fn slot_taken(&self, i: usize, id: &NodeId) -> bool {
        let bits = self.slot_bits(i);
        let slot = id.bits(i + 1, bits);
        self.buckets[i]
            .nodes
            .iter()
            .any(|e| e.info.id.bits(i + 1, bits) == slot)
    }

    /// In bucket `i`, the node to give up so the bucket stays spread: among nodes sharing
    /// their slot with another, the one that failed most, then a questionable one before a
    /// good one, then the slowest (never measured counts as slowest). With `newcomer`, only
    /// if its slot is empty (a node in an occupied slot adds no reach).
    fn spread_victim(&self, now: Instant, i: usize, newcomer: Option<&NodeId>) -> Option<usize> {
        let bucket = &self.buckets[i];
        let bits = self.slot_bits(i);
        let slot = |id: &NodeId| id.bits(i + 1, bits) as usize;
        let mut counts = [0u8; 1 << SLOT_BITS_MAX];
        if let Some(id) = newcomer {
            // The common case (a full bucket hears from a node it has a neighbour of)
            // returns before anything is counted.
            let wanted = slot(id);
            if bucket.nodes.iter().any(|e| slot(&e.info.id) == wanted) {
                return None;
            }
        }
        let slots: Vec<usize> = bucket.nodes.iter().map(|e| slot(&e.info.id)).collect();
        for &s in &slots {
            counts[s] = counts[s].saturating_add(1);
        }
        (0..bucket.nodes.len())
            .filter(|&a| counts[slots[a]] > 1)
            .max_by_key(|&a| {
                let e = &bucket.nodes[a];
                (
                    e.failures,
                    e.state(now, &self.config) != NodeState::Good,
                    e.srtt().unwrap_or(Duration::MAX),
                )
            })
    }

    /// `info` answered a query of ours after `rtt`: it is good, and inserted if new.
    pub fn on_response(&mut self, now: Instant, info: NodeInfo, rtt: Option<Duration>) -> Insert {
        let result = self.insert_node(now, info, true);
        if let Some(entry) = self.get_mut(&info.id).filter(|e| e.info.addr == info.addr) {
            entry.last_response = Nanos::instant(now);
            entry.failures = 0;
            entry.pinging = false;
            if let Some(rtt) = rtt {
                // RFC 6298 §2.3's smoothing factor of 1/8.
                entry.srtt = Nanos::duration(match entry.srtt() {
                    Some(s) => (s * 7 + rtt) / 8,
                    None => rtt,
                });
            }
            let i = self.index(&info.id);
            self.buckets[i].last_changed = now;
        }
        result
    }

    /// `info` sent us a query: BEP 5 has it offered to the table.
    pub fn on_query(&mut self, now: Instant, info: NodeInfo) -> Insert {
        let result = self.insert(now, info);
        if let Some(entry) = self.get_mut(&info.id).filter(|e| e.info.addr == info.addr) {
            entry.last_query = Nanos::instant(now);
        }
        result
    }

    /// A query to `id` went unanswered. A node that turns bad gives its slot to the newest
    /// replacement candidate.
    pub fn on_failure(&mut self, now: Instant, id: &NodeId) {
        let config = self.config;
        let i = self.index(id);
        let bucket = &mut self.buckets[i];
        let Some(pos) = bucket.nodes.iter().position(|e| e.info.id == *id) else {
            return;
        };
        let entry = &mut bucket.nodes[pos];
        entry.failures = entry.failures.saturating_add(1);
        entry.pinging = false;
        let bad = entry.state(now, &config) == NodeState::Bad;
        if let Some(candidate) = bad.then(|| bucket.replacements.pop()).flatten() {
            bucket.nodes[pos] = Entry::new(candidate);
            bucket.last_changed = now;
        }
    }

    /// Up to `count` nodes closest to `target`, bad nodes left out, nearest first.
    pub fn closest(&self, now: Instant, target: &NodeId, count: usize) -> Vec<NodeInfo> {
        // Every answer to find_node / get_peers comes here, so only the buckets that can hold
        // the nearest are read. With c = the target's bucket, XOR distances fall in classes:
        // bucket c shares the target's bit c (nearest), then buckets past c (they differ from
        // it first at bit c), then bucket c - 1, c - 2, ... 0 (they differ first at bit i).
        // Whole classes are taken until there are `count` nodes; nothing left out is nearer.
        let last = self.buckets.len() - 1;
        let c = self.index(target);
        let classes = core::iter::once(c..c + 1)
            .chain((c < last).then_some(c + 1..last + 1))
            .chain((0..c).rev().map(|i| i..i + 1));
        let mut all: Vec<(Distance, &Entry)> = Vec::new();
        for class in classes {
            if all.len() >= count {
                break;
            }
            all.reserve(
                self.buckets[class.clone()]
                    .iter()
                    .map(|b| b.nodes.len())
                    .sum(),
            );
            all.extend(
                self.buckets[class]
                    .iter()
                    .flat_map(|b| b.nodes.iter())
                    .filter(|e| e.state(now, &self.config) != NodeState::Bad)
                    .map(|e| (target.distance(&e.info.id), e)),
            );
        }
        // Then select the `count` nearest and sort only those (ids in the table are unique, so
        // the order is the same as a full sort's).
        if all.len() > count && count > 0 {
            all.select_nth_unstable_by(count - 1, |a, b| a.0.cmp(&b.0));
        }
        all.truncate(count);
        all.sort_unstable_by_key(|a| a.0);
        all.into_iter().map(|(_, e)| e.info).collect()
    }

    /// Targets for the buckets not changed for [`RoutingConfig::refresh_after`]; each such
    /// bucket counts as changed now. BEP 5: refresh by a find_node "on a randomly chosen ID
    /// within the range of the bucket".
    pub fn refresh_targets(
        &mut self,
        now: Instant,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Vec<NodeId> {
        let mut targets = Vec::new();
        for (i, bucket) in self.buckets.iter_mut().enumerate() {
            if now.saturating_duration_since(bucket.last_changed) >= self.config.refresh_after {
                bucket.last_changed = now;
                targets.push(self.own.random_in_bucket(i, rng));
            }
        }
        targets
    }

    /// After bootstrap, one lookup per prefix length short of our nearest neighbour's fills
    /// the table: every range a bucket covers or will cover once it splits, so wide buckets
    /// that have not split yet are filled too.
    pub fn all_bucket_targets(&self, rng: &mut dyn rand_core::CryptoRng) -> Vec<NodeId> {
        let depth = self
            .entries()
            .map(|e| self.own.common_prefix_len(&e.info.id))
            .max()
            .unwrap_or(0);
        (0..depth)
            .map(|i| self.own.random_in_bucket(i, rng))
            .collect()
    }

    /// When the next bucket becomes due for a refresh.
    pub fn next_refresh(&self) -> Option<Instant> {
        self.buckets
            .iter()
            .map(|b| b.last_changed + self.config.refresh_after)
            .min()
    }

    /// The ids in bucket `i`.
    pub(crate) fn bucket_ids(&self, i: usize) -> impl Iterator<Item = &NodeId> {
        self.buckets[i].nodes.iter().map(|e| &e.info.id)
    }

    /// Every entry, bucket by bucket.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.buckets.iter().flat_map(|b| b.nodes.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn node(id: NodeId, n: u16) -> NodeInfo {
        NodeInfo {
            id,
            addr: core::net::SocketAddr::from(([192, 0, 2, 1], n)),
        }
    }

    #[test]
    fn entries_are_compact_and_keep_exact_times() {
        assert!(size_of::<Entry>() <= 80, "{}", size_of::<Entry>());
        let own = NodeId([0; 20]);
        let mut table = RoutingTable::new(own, RoutingConfig::default(), Instant::ZERO);
        let peer = node(NodeId([0x80; 20]), 1);
        table.insert(Instant::ZERO, peer);
        let entry = table.get(&peer.id).unwrap();
        assert_eq!(
            (entry.last_response(), entry.last_query(), entry.srtt()),
            (None, None, None)
        );
        let t = Instant::from_nanos(1_234_567_891);
        let rtt = Duration::from_nanos(87_654_321);
        table.on_response(t, peer, Some(rtt));
        table.on_query(t + rtt, peer);
        table.on_failure(t + rtt, &peer.id);
        let entry = table.get(&peer.id).unwrap();
        assert_eq!(entry.last_response(), Some(t));
        assert_eq!(entry.last_query(), Some(t + rtt));
        assert_eq!(entry.srtt(), Some(rtt));
        assert_eq!(entry.failures(), 1);
        table.on_response(t, peer, Some(rtt * 9));
        assert_eq!(table.get(&peer.id).unwrap().srtt(), Some(rtt * 2));
        assert_eq!(table.get(&peer.id).unwrap().failures(), 0);
    }

    #[test]
    fn no_replacement_cache_when_configured_so() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let config = RoutingConfig {
            replacements: 0,
            ..RoutingConfig::default()
        };
        let mut table = RoutingTable::new(NodeId::random(&mut rng), config, Instant::ZERO);
        for n in 0..2000u16 {
            table.on_response(Instant::ZERO, node(NodeId::random(&mut rng), n), None);
        }
        assert!(table.len() > 100);
        assert!(table.buckets.iter().all(|b| b.replacements.is_empty()));
    }

    #[test]
    fn splits_around_own_id_and_bounds_far_buckets() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let own = NodeId::random(&mut rng);
        let now = Instant::ZERO;
        let mut table = RoutingTable::new(own, RoutingConfig::default(), now);
        for n in 0..2000u16 {
            table.insert(now, node(NodeId::random(&mut rng), n));
        }
        // Random ids mostly land in the far buckets: each holds at most its capacity.
        for (i, bucket) in table.buckets.iter().enumerate() {
            assert!(bucket.nodes.len() <= table.capacity(i));
            assert!(bucket.replacements.len() <= 8);
        }
        assert!(table.bucket_count() >= 7, "{}", table.bucket_count());
        for (i, bucket) in table.buckets.iter().enumerate() {
            for e in &bucket.nodes {
                let cpl = own.common_prefix_len(&e.info.id);
                assert!(cpl == i || (i == table.bucket_count() - 1 && cpl >= i));
            }
        }
        assert_eq!(table.insert(now, node(own, 1)), Insert::Rejected);
        // Ids near our own always find room: their buckets split on demand.
        for bits in 150..158 {
            let id = own.random_in_bucket(bits, &mut rng);
            assert_eq!(table.insert(now, node(id, 3)), Insert::Added);
        }
    }

    #[test]
    fn a_split_keeps_the_nodes_nearest_to_our_id() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let own = NodeId([0; 20]);
        let now = Instant::ZERO;
        let mut table = RoutingTable::new(own, RoutingConfig::default(), now);
        // The first bucket (128 slots) holds 100 far nodes and 20 that share 8-27 bits with
        // us, more than the 64 / 32 / 16 / 8 the deeper buckets hold one by one.
        for n in 0..100u16 {
            table.insert(
                now,
                node(own.random_in_bucket(usize::from(n % 4), &mut rng), n),
            );
        }
        let near: Vec<NodeId> = (0..20)
            .map(|i| own.random_in_bucket(8 + i, &mut rng))
            .collect();
        for (n, id) in near.iter().enumerate() {
            table.insert(now, node(*id, 1000 + n as u16));
        }
        assert_eq!(table.bucket_count(), 1);
        // Filling bucket 0 past its 128 splits it; every near node keeps its place.
        for n in 0..40u16 {
            table.insert(now, node(own.random_in_bucket(0, &mut rng), 2000 + n));
        }
        assert!(table.bucket_count() > 4, "{}", table.bucket_count());
        for id in &near {
            assert!(table.get(id).is_some(), "{id:?} dropped by a split");
        }
        for (i, bucket) in table.buckets.iter().enumerate() {
            assert!(bucket.nodes.len() <= table.capacity(i), "bucket {i}");
        }
    }

    #[test]
    fn a_full_bucket_stays_spread_over_its_range() {
        // Buckets of 16 (k = 8, factor 2): a bucket's slots are the 4 bits after the bit
        // that makes it.
        let wide = RoutingConfig {
            wide_far_buckets: false,
            bucket_factor: 2,
            ..RoutingConfig::default()
        };
        let plain = RoutingConfig {
            wide_far_buckets: false,
            ..RoutingConfig::default()
        };
        let own = NodeId([0; 20]);
        let now = Instant::ZERO;
        let ms = Duration::from_millis;
        // Bucket 0 (first bit 1), slot in bits 1-4.
        let far = |slot: u8, n: u8| {
            let mut id = [0u8; 20];
            id[0] = 0x80 | (slot << 3);
            id[19] = n;
            NodeId(id)
        };
        let mut near = [0u8; 20];
        near[19] = 1;
        // Fills bucket 0 with one node per slot but the last (slots 0-14, `per_slot` slots
        // apart), slot 0 twice; the first of slot 0 is the slowest node.
        let filled = |config: RoutingConfig, per_slot: u8| {
            let mut table = RoutingTable::new(own, config, now);
            table.on_response(now, node(NodeId(near), 99), None);
            table.on_response(now, node(far(0, 0), 0), Some(ms(300)));
            let slots = (config.k * config.bucket_factor) as u8;
            for n in 0..slots - 1 {
                let slot = n * per_slot;
                table.on_response(now, node(far(slot, 1), u16::from(n) + 1), Some(ms(40)));
            }
            assert!(table.bucket_count() >= 2);
            assert_eq!(table.buckets[0].nodes.len(), table.capacity(0));
            table
        };
        let mut table = filled(wide, 1);
        // A node of slot 1 adds no reach: it only waits as a candidate.
        assert_eq!(
            table.on_response(now, node(far(1, 2), 20), None),
            Insert::Full
        );
        assert!(table.get(&far(1, 2)).is_none());
        // A node that only queried us (its address may be forged) never displaces anyone.
        assert_eq!(table.on_query(now, node(far(15, 3), 31)), Insert::Full);
        assert!(table.get(&far(15, 3)).is_none());
        assert!(table.get(&far(0, 0)).is_some());
        // A node of the empty slot 15 that answered us takes the place of the slower node
        // of crowded slot 0.
        assert_eq!(
            table.on_response(now, node(far(15, 2), 30), None),
            Insert::Added
        );
        assert!(table.get(&far(15, 2)).is_some());
        assert!(table.get(&far(0, 0)).is_none());
        assert!(table.get(&far(0, 1)).is_some());
        // The displaced node waits in the replacement cache: when a node goes bad, the
        // newest candidate takes its slot.
        table.on_failure(now, &far(3, 1));
        table.on_failure(now, &far(3, 1));
        assert!(table.get(&far(0, 0)).is_some());
        assert!(table.get(&far(3, 1)).is_none());
        // A bucket of k keeps BEP 5's rule: a good node is never displaced.
        let mut table = filled(plain, 2);
        assert_eq!(
            table.on_response(now, node(far(15, 2), 30), None),
            Insert::Full
        );
        assert!(table.get(&far(0, 0)).is_some());

        // Hearsay fills a bucket that is not the last only where its slot is empty.
        let mut table = RoutingTable::new(own, RoutingConfig::default(), now);
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        for n in 0..129u16 {
            table.on_response(
                now,
                node(own.random_in_bucket(1 + usize::from(n % 6), &mut rng), n),
                None,
            );
        }
        assert!(table.bucket_count() >= 2);
        assert!(table.buckets[0].nodes.is_empty());
        // Bucket 0 holds 128: its slots are bits 1-7.
        let wide = |slot: u8, n: u8| {
            let mut id = [0u8; 20];
            id[0] = 0x80 | slot;
            id[19] = n;
            NodeId(id)
        };
        table.heard_about(now, node(wide(5, 0), 500));
        table.heard_about(now, node(wide(5, 1), 501));
        table.heard_about(now, node(wide(6, 0), 502));
        assert!(table.get(&wide(5, 0)).is_some());
        assert!(table.get(&wide(5, 1)).is_none());
        assert!(table.get(&wide(6, 0)).is_some());
    }

    #[test]
    fn questionable_nodes_are_pinged_then_replaced() {
        // BEP 5's plain buckets of k, so that eight nodes fill bucket 0.
        let config = RoutingConfig {
            wide_far_buckets: false,
            ..RoutingConfig::default()
        };
        let own = NodeId([0; 20]);
        let mut table = RoutingTable::new(own, config, Instant::ZERO);
        let far = |n: u8| {
            let mut id = [0u8; 20];
            id[0] = 0x80;
            id[19] = n;
            NodeId(id)
        };
        // Fill bucket 0 with eight good nodes and split off our half.
        for n in 0..8 {
            table.on_response(Instant::ZERO, node(far(n), u16::from(n)), None);
        }
        let mut near = [0u8; 20];
        near[19] = 1;
        table.insert(Instant::ZERO, node(NodeId(near), 99));
        assert!(table.bucket_count() >= 2);
        // All good: a newcomer is only a candidate.
        assert_eq!(
            table.insert(Instant::from_secs(60), node(far(50), 50)),
            Insert::Full
        );
        // Sixteen minutes later they are questionable: all eight are to be pinged, once.
        let later = Instant::from_secs(16 * 60);
        let Insert::Pending(ping) = table.insert(later, node(far(51), 51)) else {
            panic!()
        };
        assert_eq!(ping.len(), 8);
        assert_eq!(table.insert(later, node(far(52), 52)), Insert::Full);
        assert_eq!(
            table.get(&far(0)).unwrap().state(later, &config),
            NodeState::Questionable
        );
        // Node 0 answers, node 1 fails twice and gives its slot to the newest candidate.
        table.on_response(later, node(far(0), 0), Some(Duration::from_millis(80)));
        assert_eq!(
            table.get(&far(0)).unwrap().state(later, &config),
            NodeState::Good
        );
        table.on_failure(later, &far(1));
        assert!(table.get(&far(1)).is_some());
        table.on_failure(later, &far(1));
        assert!(table.get(&far(1)).is_none());
        assert!(table.get(&far(52)).is_some());
        // A querier that once answered is good again.
        let much_later = Instant::from_secs(40 * 60);
        table.on_query(much_later, node(far(0), 0));
        assert_eq!(
            table.get(&far(0)).unwrap().state(much_later, &config),
            NodeState::Good
        );
    }

    #[test]
    fn wide_far_buckets_and_heard_nodes() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let own = NodeId([0; 20]);
        let now = Instant::ZERO;
        let mut table = RoutingTable::new(own, RoutingConfig::default(), now);
        assert_eq!(
            (0..6).map(|i| table.capacity(i)).collect::<Vec<_>>(),
            vec![128, 64, 32, 16, 8, 8]
        );
        // A bucket factor raises every bucket to at least k x factor.
        let quad = RoutingConfig {
            bucket_factor: 4,
            ..RoutingConfig::default()
        };
        let wide = RoutingTable::new(own, quad, now);
        assert_eq!(
            (0..6).map(|i| wide.capacity(i)).collect::<Vec<_>>(),
            vec![128, 64, 32, 32, 32, 32]
        );
        // Heard-of nodes take free slots only, and never split a bucket.
        for n in 0..300u16 {
            table.heard_about(now, node(own.random_in_bucket(0, &mut rng), n));
        }
        assert_eq!(table.len(), 128);
        assert_eq!(table.bucket_count(), 1);
        assert!(
            table
                .entries()
                .all(|e| e.state(now, table.config()) == NodeState::Questionable)
        );
        // A verified node splits the full bucket; the near half starts empty of far nodes.
        let near = own.random_in_bucket(5, &mut rng);
        assert_eq!(table.on_response(now, node(near, 999), None), Insert::Added);
        assert!(table.bucket_count() >= 2);
        assert!(table.get(&near).is_some());
        // Refresh after bootstrap covers every prefix length short of the nearest node.
        assert_eq!(table.all_bucket_targets(&mut rng).len(), 5);
    }

    #[test]
    fn closest_reads_only_the_nearest_buckets_yet_matches_a_full_sort() {
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let own = NodeId::random(&mut rng);
        let mut table = RoutingTable::new(own, RoutingConfig::default(), Instant::ZERO);
        for n in 0..3000u16 {
            // Half of them near our own id, so deep buckets fill too.
            let id = if n % 2 == 0 {
                NodeId::random(&mut rng)
            } else {
                own.random_in_bucket(4 + usize::from(n) % 12, &mut rng)
            };
            table.on_response(Instant::ZERO, node(id, n), None);
        }
        // Some bad nodes, which are left out.
        let bad: Vec<NodeId> = table.entries().step_by(7).map(|e| e.info.id).collect();
        for id in &bad {
            table.on_failure(Instant::ZERO, id);
            table.on_failure(Instant::ZERO, id);
        }
        for round in 0..400 {
            let target = match round % 3 {
                0 => NodeId::random(&mut rng),
                1 => own.random_in_bucket(round % 20, &mut rng),
                _ => table
                    .entries()
                    .nth(round % table.len())
                    .map_or(own, |e| e.info.id),
            };
            let count = [1, 8, 20, 64][round % 4];
            let mut want: Vec<NodeId> = table
                .entries()
                .filter(|e| e.state(Instant::ZERO, table.config()) != NodeState::Bad)
                .map(|e| e.info.id)
                .collect();
            want.sort_by(|a, b| target.cmp_distance(a, b));
            want.truncate(count);
            let got: Vec<NodeId> = table
                .closest(Instant::ZERO, &target, count)
                .iter()
                .map(|n| n.id)
                .collect();
            assert_eq!(got, want, "round {round}");
        }
    }

    #[test]
    fn closest_and_refresh() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let own = NodeId::random(&mut rng);
        let mut table = RoutingTable::new(own, RoutingConfig::default(), Instant::ZERO);
        let ids: Vec<NodeId> = (0..200).map(|_| NodeId::random(&mut rng)).collect();
        for (n, id) in ids.iter().enumerate() {
            table.on_response(Instant::ZERO, node(*id, n as u16), None);
        }
        let target = NodeId::random(&mut rng);
        let got = table.closest(Instant::ZERO, &target, 8);
        assert_eq!(got.len(), 8);
        assert!(
            got.windows(2)
                .all(|w| target.cmp_distance(&w[0].id, &w[1].id).is_lt())
        );
        let best = table
            .entries()
            .map(|e| e.info.id)
            .min_by(|a, b| target.cmp_distance(a, b));
        assert_eq!(Some(got[0].id), best);
        assert!(
            table
                .refresh_targets(Instant::from_secs(60), &mut rng)
                .is_empty()
        );
        let due = table.next_refresh().unwrap();
        assert_eq!(due, Instant::from_secs(15 * 60));
        let targets = table.refresh_targets(due, &mut rng);
        assert_eq!(targets.len(), table.bucket_count());
        for (i, t) in targets.iter().enumerate() {
            assert_eq!(own.common_prefix_len(t), i);
        }
    }
}
