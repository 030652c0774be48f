//! The DHT node: a [`Machine`] that answers KRPC queries and runs lookups, announces and pings.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

use crate::dht::external_ip::IpVotes;
use crate::dht::id::{NodeId, bep42_id, bep42_verify};
use crate::dht::item::Item;
use crate::dht::item_client::ItemLookup;
use crate::dht::krpc::{self, Body, Message, Method, NodeInfo, Query, TRANSACTION_ID_LEN, Want};
use crate::dht::lookup::{Lookup, LookupKind, Origin, QueryId, Status};
use crate::dht::peers::{PeerStore, PeerStoreConfig};
use crate::dht::ratelimit::RateLimiter;
use crate::dht::republish::{RepublishConfig, Republisher};
use crate::dht::routing::{Insert, RoutingConfig, RoutingTable};
use crate::dht::rtt::RttEstimator;
use crate::dht::storage::{ItemStore, ItemStoreConfig};
use crate::dht::token::TokenSecrets;
use crate::io::{Datagram, Machine, Transmit};
use crate::time::Instant;

/// How a [`DhtNode`] behaves; every bound on memory is here.
#[derive(Clone, Debug)]
pub struct DhtConfig {
    /// The local socket address queries and answers are sent from.
    pub local: SocketAddr,
    /// Our id; when `None`, derived from `external_ip` (BEP 42) or else random.
    pub id: Option<NodeId>,
    /// Our external IP if known, for a BEP 42 id.
    pub external_ip: Option<IpAddr>,
    /// Routing table knobs (k, node states, refresh).
    pub routing: RoutingConfig,
    /// Parallel requests per lookup (Kademlia's alpha).
    pub alpha: usize,
    /// Queries a lookup sends to one node before giving up on it: a lost datagram (not a
    /// dead node) should not drop the true closest node from the result.
    pub lookup_attempts: u8,
    /// Candidates a lookup keeps.
    pub max_candidates: usize,
    /// Lookups running at once; further commands finish at once, empty.
    pub max_lookups: usize,
    /// Outstanding requests at once; further requests are not sent.
    pub max_pending: usize,
    /// BEP 43: do not answer queries and ask others not to add us to their tables.
    pub read_only: bool,
    /// BEP 42: keep nodes whose ids do not match their IP out of the routing table.
    pub enforce_bep42: bool,
    /// Queries answered per source IP per second.
    pub queries_per_ip_per_second: u32,
    /// Source IPs the rate limiter tracks.
    pub rate_limit_capacity: usize,
    /// Announced peers.
    pub peers: PeerStoreConfig,
    /// BEP 44 items stored for others.
    pub storage: ItemStoreConfig,
    /// BEP 42: distinct voters remembered for our external IP.
    pub ip_voters: usize,
    /// BEP 42: votes an external IP needs (and a majority) before we adopt it.
    pub ip_votes_needed: usize,
    /// BEP 42: re-derive our id when the voted external IP does not match it. Off by default
    /// so that simulations keep the ids they were given; a node on the internet turns it on.
    pub rederive_id: bool,
    /// Request timeout before any RTT is measured.
    pub initial_timeout: Duration,
    /// Shortest adaptive timeout.
    pub min_timeout: Duration,
    /// Longest adaptive timeout.
    pub max_timeout: Duration,
    /// `v`: client version sent in every message.
    pub version: Option<[u8; 4]>,
    /// Repeats of kept items and announces ([`DhtNode::keep_item`]).
    pub republish: RepublishConfig,
}

impl DhtConfig {
    /// Defaults for a node sending from `local`.
    pub fn new(local: SocketAddr) -> DhtConfig {
        DhtConfig {
            local,
            id: None,
            external_ip: None,
            routing: RoutingConfig::default(),
            alpha: 3,
            lookup_attempts: 2,
            max_candidates: 64,
            max_lookups: 64,
            max_pending: 1024,
            read_only: false,
            enforce_bep42: false,
            queries_per_ip_per_second: 50,
            rate_limit_capacity: 4096,
            peers: PeerStoreConfig::default(),
            storage: ItemStoreConfig::default(),
            ip_voters: 64,
            ip_votes_needed: 4,
            rederive_id: false,
            initial_timeout: Duration::from_secs(1),
            min_timeout: Duration::from_millis(100),
            max_timeout: Duration::from_secs(2),
            version: Some(*b"PG01"),
            republish: RepublishConfig::default(),
        }
    }

    /// Lookups tuned for latency at the cost of traffic and memory: five requests in
    /// parallel (libtorrent's default) instead of three, and every bucket at least four
    /// times k (answers still carry k nodes). In the 100,000-node simulation this takes the
    /// median time to a `get_peers`'s first peers under 200 ms, for ~16% more queries per
    /// lookup and ~170 more routing entries per node (docs/dht.md, "100,000 nodes").
    pub fn low_latency(mut self) -> DhtConfig {
        self.alpha = 5;
        self.routing.bucket_factor = 4;
        self
    }
}

/// The result of a lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupResult {
    /// The command this answers.
    pub query: QueryId,
    /// The id or info-hash looked up.
    pub target: NodeId,
    /// The up to k closest nodes that answered, nearest first.
    pub closest: Vec<NodeInfo>,
    /// Peers found (`get_peers`), deduplicated.
    pub peers: Vec<SocketAddr>,
    /// Hop count of the nearest node found (1 = it was in our own table).
    pub hops: u32,
    /// Queries sent for this lookup.
    pub messages: u32,
    /// Time from the command until the lookup terminated: the k closest nodes have all
    /// answered (BEP 5's end; an announce or put also waits for it to pick its nodes).
    pub elapsed: Duration,
    /// Time from the command until the nearest node of the result answered: from then on the
    /// answer to "which node is closest to the target" no longer changes, which is when a
    /// `find_node` user has the result.
    pub nearest_after: Duration,
    /// `get_peers`: time from the command until the first answer carrying peers arrived,
    /// which is when a downloader can start; `None` if no peers were found.
    pub first_peers_after: Option<Duration>,
}

/// What a [`DhtNode`] tells its application.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhtEvent {
    /// The bootstrap lookup finished; `nodes` are now in the routing table.
    Bootstrapped {
        /// Routing table size.
        nodes: usize,
    },
    /// A lookup got closer to its target.
    Progress {
        /// The lookup.
        query: QueryId,
        /// Nodes that have answered so far.
        responded: usize,
        /// Requests outstanding.
        in_flight: usize,
        /// The closest node that answered so far.
        closest: NodeId,
    },
    /// A find_node or get_peers lookup finished.
    LookupDone(LookupResult),
    /// An announce finished: `stored` nodes acknowledged our announce_peer.
    Announced {
        /// The lookup part of the announce.
        result: LookupResult,
        /// Acknowledgements.
        stored: usize,
    },
    /// A BEP 44 `get` finished: `item` is the immutable value whose hash is the target, or the
    /// mutable item with the highest `seq` whose signature verified.
    ItemFound {
        /// The lookup part.
        result: LookupResult,
        /// What was found.
        item: Option<Item>,
    },
    /// A BEP 44 `put` finished: `stored` nodes acknowledged it.
    ItemStored {
        /// The lookup part (its target is the item's).
        result: LookupResult,
        /// Acknowledgements.
        stored: usize,
    },
    /// BEP 42: most nodes agree on our external IP; when it was not conformant our id was
    /// re-derived from it (and the routing table rebuilt around the new id).
    ExternalIp {
        /// The address the voters see.
        ip: IpAddr,
        /// Our id now.
        id: NodeId,
    },
    /// A ping was answered (`id` is the responder's) or timed out (`id` is `None`).
    Pong {
        /// The command.
        query: QueryId,
        /// Who was pinged.
        addr: SocketAddr,
        /// The responder's id.
        id: Option<NodeId>,
    },
}

/// Counters of what the node saw; malformed and refused input is counted, never fatal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DhtStats {
    /// Datagrams that were not valid KRPC.
    pub malformed: u64,
    /// Queries dropped by the per-IP rate limit.
    pub rate_limited: u64,
    /// Queries answered (or refused with an error).
    pub queries: u64,
    /// Responses matched to a request of ours.
    pub responses: u64,
    /// Error messages received.
    pub errors: u64,
    /// Responses with no matching request (late, spoofed, or from the wrong address).
    pub unexpected: u64,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Requests not sent because [`DhtConfig::max_pending`] was reached.
    pub pending_full: u64,
    /// Datagrams queued for sending.
    pub sent: u64,
    /// Nodes whose ids do not match their IP under BEP 42.
    pub bep42_mismatch: u64,
    /// announce_peer queries refused for a bad token.
    pub bad_tokens: u64,
    /// BEP 44 puts refused (bad token, size, signature, cas, seq).
    pub puts_refused: u64,
    /// BEP 44 items in get answers that did not match their target or signature.
    pub bad_items: u64,
}

/// Why a request was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A lookup step to a known node.
    Lookup(QueryId),
    /// A bootstrap request to an address of unknown id.
    Seed(QueryId),
    /// announce_peer at the end of an announce.
    Announce(QueryId),
    /// A ping the application asked for.
    Ping(QueryId),
    /// A liveness check of a questionable routing-table node.
    Liveness,
    /// A `find_node` that fills a part of a wide bucket (`fill.rs`).
    Fill,
}

pub(crate) struct Pending {
    pub(crate) addr: SocketAddr,
    pub(crate) node: Option<NodeId>,
    pub(crate) sent: Instant,
    pub(crate) deadline: Instant,
    /// Lookup requests: when the lookup stops waiting (see [`RttEstimator::soft_timeout`]).
    pub(crate) soft: Option<Instant>,
    pub(crate) purpose: Purpose,
}

/// A BitTorrent mainline DHT node (BEP 5) as a Sans-IO machine.
pub struct DhtNode {
    pub(crate) config: DhtConfig,
    pub(crate) rng: crate::Rng,
    pub(crate) table: RoutingTable,
    pub(crate) tokens: TokenSecrets,
    pub(crate) store: PeerStore,
    pub(crate) items: ItemStore,
    pub(crate) item_lookups: BTreeMap<QueryId, ItemLookup>,
    pub(crate) republisher: Republisher,
    pub(crate) votes: IpVotes,
    pub(crate) limiter: RateLimiter,
    pub(crate) rtt: RttEstimator,
    pub(crate) pending: BTreeMap<[u8; TRANSACTION_ID_LEN], Pending>,
    pub(crate) deadlines: BTreeSet<(Instant, [u8; TRANSACTION_ID_LEN])>,
    pub(crate) lookups: BTreeMap<QueryId, Lookup>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<DhtEvent>,
    pub(crate) stats: DhtStats,
    next_query: u64,
    next_housekeeping: Instant,
    /// Fill queries (`fill.rs`) wait until then: at most one burst per refresh period.
    pub(crate) next_fill: Instant,
}

/// How often expired peers are swept and buckets checked for refresh.
const HOUSEKEEPING: Duration = Duration::from_secs(60);
/// Queued datagrams beyond which new ones are dropped (the driver is not draining).
const MAX_TRANSMITS: usize = 4096;
/// Queued events beyond which new ones are dropped.
const MAX_EVENTS: usize = 4096;
/// Room an output queue keeps once drained (see [`pop_or_shrink`]).
const IDLE_QUEUE: usize = 8;

/// The next item of an output queue; once it is drained, the room a burst left (a
/// bootstrap sends hundreds of queries at once) goes back down to [`IDLE_QUEUE`], since a
/// process may hold many idle nodes (a simulation holds 100,000).
fn pop_or_shrink<T>(queue: &mut VecDeque<T>) -> Option<T> {
    let item = queue.pop_front();
    if item.is_none() && queue.capacity() > IDLE_QUEUE {
        queue.shrink_to(IDLE_QUEUE);
    }
    item
}

impl DhtNode {
    /// A node with no contacts yet; call [`bootstrap`](Self::bootstrap) to join.
    pub fn new(config: DhtConfig, mut rng: crate::Rng) -> DhtNode {
        let id = match (config.id, config.external_ip) {
            (Some(id), _) => id,
            (None, Some(ip)) => {
                let rand = (rng.next_u32() & 0xff) as u8;
                bep42_id(ip, rand, &mut *rng)
            }
            (None, None) => NodeId::random(&mut *rng),
        };
        let now = Instant::ZERO;
        DhtNode {
            table: RoutingTable::new(id, config.routing, now),
            tokens: TokenSecrets::new(now, &mut *rng),
            store: PeerStore::new(config.peers),
            items: ItemStore::new(config.storage),
            item_lookups: BTreeMap::new(),
            republisher: Republisher::default(),
            votes: IpVotes::new(config.ip_voters, config.ip_votes_needed, config.external_ip),
            limiter: RateLimiter::new(config.queries_per_ip_per_second, config.rate_limit_capacity),
            rtt: RttEstimator::new(
                config.initial_timeout,
                config.min_timeout,
                config.max_timeout,
            ),
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            lookups: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: DhtStats::default(),
            next_query: 1,
            next_housekeeping: now + HOUSEKEEPING,
            next_fill: now,
            config,
            rng,
        }
    }

    /// Our node id.
    pub fn id(&self) -> NodeId {
        self.table.own_id()
    }

    /// The counters.
    pub fn stats(&self) -> DhtStats {
        self.stats
    }

    /// The routing table (read-only).
    pub fn routing_table(&self) -> &RoutingTable {
        &self.table
    }

    /// Lookups running.
    pub fn lookups_in_flight(&self) -> usize {
        self.lookups.len()
    }

    pub(crate) fn new_query_id(&mut self) -> QueryId {
        let id = QueryId(self.next_query);
        self.next_query += 1;
        id
    }

    /// Joins the network: asks each of `addrs` (ids unknown) for nodes near our id, then
    /// walks towards our id; [`DhtEvent::Bootstrapped`] follows, then one refresh lookup per
    /// bucket fills the rest of the table.
    pub fn bootstrap(&mut self, now: Instant, addrs: &[SocketAddr]) -> QueryId {
        let query = self.new_query_id();
        let own = self.id();
        let mut lookup = Lookup::new(query, own, LookupKind::FindNode, Origin::Bootstrap, now);
        let known = self.table.closest(now, &own, self.config.max_candidates);
        lookup.add(&own, &known, 1, self.config.max_candidates);
        self.lookups.insert(query, lookup);
        for addr in addrs {
            let method = Method::FindNode { target: own };
            let sent = self.send_query(now, *addr, None, method, Purpose::Seed(query));
            if let Some(l) = self.lookups.get_mut(&query).filter(|_| sent) {
                l.seeds_pending += 1;
                l.messages += 1;
            }
        }
        self.advance(now, query);
        query
    }

    /// Looks up the k nodes closest to `target`; ends with [`DhtEvent::LookupDone`].
    pub fn find_node(&mut self, now: Instant, target: NodeId) -> QueryId {
        self.start_lookup(now, target, LookupKind::FindNode, Origin::User)
    }

    /// Looks up peers for `info_hash`; ends with [`DhtEvent::LookupDone`].
    pub fn get_peers(&mut self, now: Instant, info_hash: NodeId) -> QueryId {
        self.start_lookup(now, info_hash, LookupKind::GetPeers, Origin::User)
    }

    /// Announces that we have `info_hash` on `port` (0: the source port, BEP 5 implied_port)
    /// to the closest nodes; ends with [`DhtEvent::Announced`].
    pub fn announce(&mut self, now: Instant, info_hash: NodeId, port: u16) -> QueryId {
        self.start_lookup(now, info_hash, LookupKind::Announce { port }, Origin::User)
    }

    /// Pings `addr`; ends with [`DhtEvent::Pong`].
    pub fn ping(&mut self, now: Instant, addr: SocketAddr) -> QueryId {
        let query = self.new_query_id();
        if !self.send_query(now, addr, None, Method::Ping, Purpose::Ping(query)) {
            self.push_event(DhtEvent::Pong {
                query,
                addr,
                id: None,
            });
        }
        query
    }

    fn start_lookup(
        &mut self,
        now: Instant,
        target: NodeId,
        kind: LookupKind,
        origin: Origin,
    ) -> QueryId {
        let query = self.new_query_id();
        self.run_lookup(now, query, target, kind, origin);
        query
    }

    /// Starts lookup `query` (an id from `new_query_id`).
    pub(crate) fn run_lookup(
        &mut self,
        now: Instant,
        query: QueryId,
        target: NodeId,
        kind: LookupKind,
        origin: Origin,
    ) {
        let mut lookup = Lookup::new(query, target, kind, origin, now);
        let own = self.id();
        let known = self.table.closest(now, &target, self.config.max_candidates);
        lookup.add(&own, &known, 1, self.config.max_candidates);
        // A user who asks right after `bootstrap` expects an answer from the network being
        // joined, not an empty result because no answer has come back yet.
        lookup.awaiting_bootstrap = known.is_empty() && self.bootstrapping();
        if self.lookups.len() >= self.config.max_lookups {
            // Over the bound: finish at once, empty, so the caller still hears back.
            self.lookups
                .insert(query, Lookup::new(query, target, kind, origin, now));
            self.finish(now, query);
            return;
        }
        self.lookups.insert(query, lookup);
        self.advance(now, query);
    }

    /// Sends what a lookup may send now, or finishes it.
    pub(crate) fn advance(&mut self, now: Instant, query: QueryId) {
        let Some(lookup) = self.lookups.get(&query) else {
            return;
        };
        if lookup.announcing.is_some() {
            return;
        }
        let k = self.config.routing.k;
        let table = &self.table;
        // A node never measured is expected to be as fast as the average node.
        let typical = self.rtt.srtt();
        let next = lookup.next(self.config.alpha, k, |id| {
            table.get(id).and_then(|e| e.srtt()).or(typical)
        });
        for i in next {
            let Some(info) = self.lookups.get(&query).map(|l| l.candidates[i].info) else {
                return;
            };
            let Some(method) = self.step_method(query) else {
                return;
            };
            let sent = self.send_query(
                now,
                info.addr,
                Some(info.id),
                method,
                Purpose::Lookup(query),
            );
            if let Some(l) = self.lookups.get_mut(&query) {
                let c = &mut l.candidates[i];
                c.status = if sent {
                    Status::InFlight
                } else {
                    Status::Failed
                };
                c.attempts = c.attempts.saturating_add(1);
                c.outstanding = c.outstanding.saturating_add(u8::from(sent));
                l.messages += u32::from(sent);
            }
        }
        if self.lookups.get(&query).is_some_and(|l| l.finished(k)) {
            self.finish(now, query);
        }
    }

    pub(crate) fn result(&self, now: Instant, lookup: &Lookup) -> LookupResult {
        let (closest, hops, found) = lookup.closest(self.config.routing.k);
        LookupResult {
            query: lookup.id,
            target: lookup.target,
            closest,
            peers: lookup.peers.clone(),
            hops,
            messages: lookup.messages,
            elapsed: now.saturating_duration_since(lookup.started),
            nearest_after: found.map_or(Duration::ZERO, |t| {
                t.saturating_duration_since(lookup.started)
            }),
            first_peers_after: lookup
                .first_peers
                .map(|t| t.saturating_duration_since(lookup.started)),
        }
    }

    pub(crate) fn finish(&mut self, now: Instant, query: QueryId) {
        if self.item_lookups.contains_key(&query) {
            return self.finish_item(now, query);
        }
        let Some(lookup) = self.lookups.get(&query) else {
            return;
        };
        if let (LookupKind::Announce { port }, None) = (lookup.kind, lookup.announcing) {
            self.start_announce(now, query, port);
            return;
        }
        let Some(lookup) = self.lookups.remove(&query) else {
            return;
        };
        let result = self.result(now, &lookup);
        match (lookup.origin, lookup.kind, lookup.announcing) {
            (Origin::Bootstrap, _, _) => {
                self.push_event(DhtEvent::Bootstrapped {
                    nodes: self.table.len(),
                });
                self.wake_awaiting(now, true);
                let targets = self.table.all_bucket_targets(&mut *self.rng);
                for target in targets {
                    if self.lookups.len() < self.config.max_lookups {
                        self.start_lookup(now, target, LookupKind::FindNode, Origin::Refresh);
                    }
                }
            }
            // The last refresh lookup of a round has split the table as deep as it goes:
            // now the wide buckets' thin parts can be told apart.
            (Origin::Refresh, _, _) => {
                if !self.lookups.values().any(|l| l.origin == Origin::Refresh) {
                    self.fill_wide_buckets(now);
                }
            }
            (Origin::User, LookupKind::Announce { .. }, Some((_, stored))) => {
                self.push_event(DhtEvent::Announced { result, stored });
            }
            (Origin::User, _, _) => self.push_event(DhtEvent::LookupDone(result)),
        }
    }

    /// BEP 5: announce_peer to the closest nodes that answered get_peers with a token.
    fn start_announce(&mut self, now: Instant, query: QueryId, port: u16) {
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
        let info_hash = lookup.target;
        lookup.announcing = Some((0, 0));
        for (info, token) in targets {
            let method = Method::AnnouncePeer {
                info_hash,
                port,
                token: &token,
                implied_port: port == 0,
            };
            let sent = self.send_query(
                now,
                info.addr,
                Some(info.id),
                method,
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

    pub(crate) fn maybe_finish_announce(&mut self, now: Instant, query: QueryId) {
        if self
            .lookups
            .get(&query)
            .and_then(|l| l.announcing)
            .is_some_and(|(o, _)| o == 0)
        {
            self.finish(now, query);
        }
    }

    /// Queues a query; false if the pending table is full.
    pub(crate) fn send_query(
        &mut self,
        now: Instant,
        addr: SocketAddr,
        node: Option<NodeId>,
        method: Method<'_>,
        purpose: Purpose,
    ) -> bool {
        if self.pending.len() >= self.config.max_pending {
            self.stats.pending_full += 1;
            return false;
        }
        let mut tid = [0u8; TRANSACTION_ID_LEN];
        loop {
            self.rng.fill_bytes(&mut tid);
            if !self.pending.contains_key(&tid) {
                break;
            }
        }
        let node_srtt = node
            .and_then(|id| self.table.get(&id))
            .and_then(|e| e.srtt());
        let deadline = now + self.rtt.timeout(node_srtt);
        let soft = matches!(purpose, Purpose::Lookup(_))
            .then(|| now + self.rtt.soft_timeout(node_srtt))
            .filter(|soft| *soft < deadline);
        let want = match (self.config.local, addr) {
            (SocketAddr::V6(_), _) | (_, SocketAddr::V6(_)) => Some(Want { v4: true, v6: true }),
            _ => None,
        };
        let message = Message {
            transaction_id: &tid,
            body: Body::Query(Query {
                id: self.id(),
                method,
                want,
            }),
            version: self.config.version.as_ref().map(|v| &v[..]),
            ip: None,
            read_only: self.config.read_only,
        };
        let payload = message.to_bytes();
        self.pending.insert(
            tid,
            Pending {
                addr,
                node,
                sent: now,
                deadline,
                soft,
                purpose,
            },
        );
        self.deadlines.insert((deadline, tid));
        if let Some(soft) = soft {
            self.deadlines.insert((soft, tid));
        }
        self.transmit(addr, payload);
        true
    }

    pub(crate) fn transmit(&mut self, destination: SocketAddr, payload: Vec<u8>) {
        if self.transmits.len() >= MAX_TRANSMITS {
            return;
        }
        self.stats.sent += 1;
        self.transmits.push_back(Transmit {
            source: self.config.local,
            destination,
            payload,
        });
    }

    pub(crate) fn push_event(&mut self, event: DhtEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push_back(event);
        }
    }

    /// Offers a node to the routing table (BEP 42 permitting) and pings what it asks us to.
    pub(crate) fn offer(
        &mut self,
        now: Instant,
        info: NodeInfo,
        responded: Option<Duration>,
        queried: bool,
    ) {
        if !bep42_verify(&info.id, info.addr.ip()) {
            self.stats.bep42_mismatch += 1;
            if self.config.enforce_bep42 {
                return;
            }
        }
        let outcome = if queried {
            self.table.on_query(now, info)
        } else {
            self.table.on_response(now, info, responded)
        };
        if let Insert::Pending(nodes) = outcome {
            for node in nodes {
                self.send_query(
                    now,
                    node.addr,
                    Some(node.id),
                    Method::Ping,
                    Purpose::Liveness,
                );
            }
        }
    }

    fn housekeeping(&mut self, now: Instant) {
        self.tokens.maybe_rotate(now, &mut *self.rng);
        if now >= self.next_housekeeping {
            self.next_housekeeping = now + HOUSEKEEPING;
            self.store.expire(now);
            self.items.expire(now);
            if !self.table.is_empty() {
                for target in self.table.refresh_targets(now, &mut *self.rng) {
                    if self.lookups.len() < self.config.max_lookups {
                        self.start_lookup(now, target, LookupKind::FindNode, Origin::Refresh);
                    }
                }
            }
        }
    }

    /// [`Machine::handle_datagram`] for one half of a dual-stack node: queries may take the
    /// other family's nodes from `sibling` (BEP 32: one routing table per family). With
    /// `None` this is exactly `handle_datagram`.
    pub(crate) fn handle_datagram_with(
        &mut self,
        now: Instant,
        datagram: Datagram<'_>,
        sibling: Option<&RoutingTable>,
    ) {
        let message = match krpc::decode(datagram.payload) {
            Ok(message) => message,
            Err(error) => {
                self.stats.malformed += 1;
                tracing::debug!(from = %datagram.source, %error, "dht: malformed datagram dropped");
                return;
            }
        };
        match message.body {
            Body::Query(ref query) => self.on_query(now, datagram.source, &message, query, sibling),
            Body::Response(ref response) => {
                if let Some(ip) = message.ip {
                    self.vote_external_ip(now, datagram.source, message.transaction_id, ip);
                }
                self.on_response(now, datagram.source, message.transaction_id, Ok(response))
            }
            Body::Error(error) => {
                self.stats.errors += 1;
                tracing::debug!(from = %datagram.source, ?error, "dht: error received");
                self.on_response(
                    now,
                    datagram.source,
                    message.transaction_id,
                    Err(error.code),
                );
            }
        }
    }
}

impl Machine for DhtNode {
    type Event = DhtEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        self.handle_datagram_with(now, datagram, None);
    }

    fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(deadline, tid)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            if self
                .pending
                .get(&tid)
                .is_some_and(|p| p.soft == Some(deadline))
            {
                self.on_soft_timeout(now, tid);
                continue;
            }
            if let Some(pending) = self.pending.remove(&tid) {
                self.stats.timeouts += 1;
                self.on_failure(now, pending);
            }
        }
        self.housekeeping(now);
        self.republish_due(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        pop_or_shrink(&mut self.transmits)
    }

    fn poll_event(&mut self) -> Option<DhtEvent> {
        pop_or_shrink(&mut self.events)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let request = self.deadlines.first().map(|(t, _)| *t);
        let mut periodic = self.next_housekeeping.min(self.tokens.next_rotation());
        if let Some(due) = self.republisher.next_due() {
            periodic = periodic.min(due);
        }
        Some(request.map_or(periodic, |r| r.min(periodic)))
    }
}
