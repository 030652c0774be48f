//! `dht`: BitTorrent mainline DHT nodes ([`DhtNode`]) on the simulator's public network. They
//! join one every 20 ms, look up random keys (twenty lookups every 200 ms) while a fraction of
//! them is replaced, then announce and get peers. `pigeon sim dht` prints the report.
//!
//! Every pair of nodes has its own round-trip time, drawn uniformly from 20-300 ms (issue 3's
//! "per-link RTTs", [`PairLatency`]); links add no latency of their own, only the loss.
//! A replaced node has its link taken down, so it stops answering, and a fresh node with a new
//! address joins from four online nodes. A lookup counts as a success when the nearest node it
//! returns is at least as close to the key as the nearest node that was online for the whole
//! lookup (the ground truth, computed from every node's id).
//!
//! Latency is reported three ways (docs/dht.md, "Simulation"): for `find_node`, until the
//! nearest node of the result answered (the result is known) and until the lookup terminated
//! (all k closest answered, BEP 5); for `get_peers`, until the first peers arrived.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet};

use pigeon::Instant;
use pigeon::dht::{DhtConfig, DhtEvent, DhtNode, LookupResult, NodeId, QueryId};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::{LinkConfig, LossModel, NetworkId, NodeId as SimNode, PairLatency, Sim};

/// Lookups started together, every [`BATCH_EVERY`].
const BATCH: usize = 20;
const BATCH_EVERY: Duration = Duration::from_millis(200);
/// Virtual time left after the last command of a phase for its lookups to finish.
const TAIL: Duration = Duration::from_secs(30);
/// BEP 5: k, the size of a lookup's result set.
const K: usize = 8;
const PORT: u16 = 6881;
/// Issue 3: round trips between any two nodes from 20 to 300 ms.
const RTT_MIN: Duration = Duration::from_millis(20);
const RTT_MAX: Duration = Duration::from_millis(300);

/// What to build and run.
#[derive(Clone, Debug, PartialEq)]
pub struct DhtScenario {
    /// Nodes at the start.
    pub nodes: usize,
    /// `find_node` lookups of random keys from random online nodes.
    pub lookups: usize,
    /// Announces (each followed by a `get_peers` from another node) after the lookups.
    pub announces: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Fraction of `nodes` replaced while the lookups run (0.1 = 10%).
    pub churn: f64,
    /// Uniform loss probability on every link.
    pub loss: f64,
    /// Parallel requests per lookup (Kademlia's alpha) on every node.
    pub alpha: usize,
    /// [`RoutingConfig::bucket_factor`](pigeon::dht::routing::RoutingConfig::bucket_factor) on
    /// every node.
    pub bucket_factor: usize,
}

impl DhtScenario {
    /// `nodes` nodes and `lookups` lookups with seed 1, no churn, 1% loss, no announces and
    /// the node's default alpha.
    pub fn new(nodes: usize, lookups: usize) -> DhtScenario {
        DhtScenario {
            nodes,
            lookups,
            announces: 0,
            seed: 1,
            churn: 0.0,
            loss: 0.01,
            alpha: DhtConfig::new(SocketAddr::new(ip(0), PORT)).alpha,
            bucket_factor: 1,
        }
    }

    /// Runs the scenario; `progress(done, total)` is called after every batch of lookups and
    /// announces with how many have finished out of how many there are.
    pub fn run(&self, progress: &mut dyn FnMut(usize, usize)) -> DhtReport {
        let mut w = World::build(self);
        let (table_min, table_max, table_mean) = w.table_sizes();
        let total = self.lookups + self.announces;
        let lookups = w.lookups(self, total, progress);
        let (stored, found, peers) = w.announces(self, total, progress);
        DhtReport {
            scenario: self.clone(),
            replaced: w.replaced,
            table_min,
            table_max,
            table_mean,
            announces_stored_mean: stored,
            announces_found: found,
            peers_p50: percentile(&peers, 0.5),
            peers_p90: percentile(&peers, 0.9),
            peers_p99: percentile(&peers, 0.99),
            trace_hash: w.sim.trace_hash(),
            ..lookups
        }
    }
}

/// Figures measured by [`DhtScenario::run`].
#[derive(Clone, Debug, PartialEq)]
pub struct DhtReport {
    /// What was run.
    pub scenario: DhtScenario,
    /// Nodes replaced during the lookups.
    pub replaced: usize,
    /// Routing table sizes after the join phase.
    pub table_min: usize,
    /// Largest routing table after the join phase.
    pub table_max: usize,
    /// Mean routing table size after the join phase.
    pub table_mean: f64,
    /// Lookups that reported a result.
    pub finished: usize,
    /// Lookups whose nearest node was the true nearest online node (or closer).
    pub succeeded: usize,
    /// Fraction of the true k closest online nodes the lookups returned.
    pub k_closest_found: f64,
    /// Mean hop count of the nearest node found.
    pub hops_mean: f64,
    /// Mean queries sent per lookup.
    pub queries_mean: f64,
    /// Time until the lookup terminated (the k closest answered), median.
    pub latency_p50: Duration,
    /// 90th percentile of the same.
    pub latency_p90: Duration,
    /// 99th percentile of the same.
    pub latency_p99: Duration,
    /// Slowest finished lookup.
    pub latency_max: Duration,
    /// Time until the nearest node of the result answered (the `find_node` result is known),
    /// median.
    pub nearest_p50: Duration,
    /// 90th percentile of the same.
    pub nearest_p90: Duration,
    /// 99th percentile of the same.
    pub nearest_p99: Duration,
    /// Median of each lookup's termination floor: the largest round trip from the querier to
    /// one of the true k closest (one round trip to each, all sent at the start).
    pub bound_p50: Duration,
    /// 99th percentile of the same floor.
    pub bound_p99: Duration,
    /// Median floor for the nearest node alone: one round trip to the true nearest.
    pub nearest_bound_p50: Duration,
    /// 99th percentile of the same.
    pub nearest_bound_p99: Duration,
    /// Mean number of nodes that acknowledged storing each announce.
    pub announces_stored_mean: f64,
    /// `get_peers` from another node that found the announcing peer.
    pub announces_found: usize,
    /// Time until the first peers arrived, over the `get_peers` that found peers: median.
    pub peers_p50: Duration,
    /// 90th percentile of the same.
    pub peers_p90: Duration,
    /// 99th percentile of the same.
    pub peers_p99: Duration,
    /// [`Sim::trace_hash`] at the end: the same seed and scenario give the same hash.
    pub trace_hash: u64,
}

impl DhtReport {
    /// Successful lookups over lookups started (unfinished ones count as failures).
    pub fn success(&self) -> f64 {
        self.succeeded as f64 / self.scenario.lookups.max(1) as f64
    }
}

impl fmt::Display for DhtReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.scenario;
        let ms = |d: Duration| format!("{} ms", d.as_millis());
        let rows: [(&str, String); 15] = [
            (
                "scenario",
                format!(
                    "{} nodes, {} lookups, seed {}, churn {:.1}%, loss {:.1}%, alpha {}, bucket factor {}",
                    s.nodes,
                    s.lookups,
                    s.seed,
                    s.churn * 100.0,
                    s.loss * 100.0,
                    s.alpha,
                    s.bucket_factor
                ),
            ),
            ("nodes replaced", self.replaced.to_string()),
            (
                "routing table",
                format!(
                    "min {} max {} mean {:.1}",
                    self.table_min, self.table_max, self.table_mean
                ),
            ),
            (
                "success",
                format!(
                    "{:.1}% ({}/{}, {} finished)",
                    self.success() * 100.0,
                    self.succeeded,
                    s.lookups,
                    self.finished
                ),
            ),
            (
                "true 8 closest found",
                format!("{:.1}%", self.k_closest_found * 100.0),
            ),
            ("hops", format!("{:.2}", self.hops_mean)),
            ("queries/lookup", format!("{:.1}", self.queries_mean)),
            (
                "find_node result",
                format!(
                    "p50/p90/p99 {} / {} / {} (nearest answered)",
                    ms(self.nearest_p50),
                    ms(self.nearest_p90),
                    ms(self.nearest_p99)
                ),
            ),
            (
                "  floor",
                format!(
                    "p50/p99 {} / {} (round trip to the true nearest)",
                    ms(self.nearest_bound_p50),
                    ms(self.nearest_bound_p99)
                ),
            ),
            (
                "find_node terminated",
                format!(
                    "p50/p90/p99 {} / {} / {} (8 closest answered)",
                    ms(self.latency_p50),
                    ms(self.latency_p90),
                    ms(self.latency_p99)
                ),
            ),
            ("  max", ms(self.latency_max)),
            (
                "  floor",
                format!(
                    "p50/p99 {} / {} (slowest round trip to the true 8)",
                    ms(self.bound_p50),
                    ms(self.bound_p99)
                ),
            ),
            (
                "get_peers first peers",
                format!(
                    "p50/p90/p99 {} / {} / {}",
                    ms(self.peers_p50),
                    ms(self.peers_p90),
                    ms(self.peers_p99)
                ),
            ),
            (
                "announce/get_peers",
                format!(
                    "{}/{} found, stored on {:.1} nodes each",
                    self.announces_found, s.announces, self.announces_stored_mean
                ),
            ),
            ("trace hash", format!("{:016x}", self.trace_hash)),
        ];
        for (name, value) in rows {
            writeln!(f, "{name:<22} {value}")?;
        }
        Ok(())
    }
}

/// A node's address. Spread over many /8s so BEP 42 ids differ in their masked bits; unique
/// for the first 51,200 × 248 indices.
fn ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        11 + (i % 200) as u8,
        (i / 200) as u8,
        7 + (i / 51_200) as u8,
        1 + (i % 250) as u8,
    ))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One DHT node of the scenario and when it was online.
struct Member {
    sim: SimNode,
    id: NodeId,
    joined: Instant,
    left: Option<Instant>,
}

/// A lookup started, with when and from which member.
struct Started {
    from: usize,
    query: QueryId,
    target: NodeId,
    at: Instant,
}

type Results = BTreeMap<(usize, QueryId), (LookupResult, Option<usize>)>;

struct World {
    sim: Sim,
    members: Vec<Member>,
    /// Indices into `members` of the nodes whose link is up.
    online: Vec<usize>,
    rng: ChaCha20Rng,
    loss: f64,
    alpha: usize,
    bucket_factor: usize,
    replaced: usize,
    results: Results,
}

impl World {
    fn build(s: &DhtScenario) -> World {
        let mut w = World {
            sim: Sim::new(s.seed),
            alpha: s.alpha,
            bucket_factor: s.bucket_factor,
            members: Vec::new(),
            online: Vec::new(),
            rng: ChaCha20Rng::seed_from_u64(s.seed),
            loss: s.loss,
            replaced: 0,
            results: BTreeMap::new(),
        };
        w.sim
            .set_pair_latency(Some(PairLatency::uniform(RTT_MIN, RTT_MAX)));
        for _ in 0..s.nodes {
            w.add_member();
        }
        // Nodes join one every 20 ms, each from up to four nodes that joined before it.
        for i in 1..s.nodes {
            let seeds: Vec<SocketAddr> = (0..4)
                .map(|_| SocketAddr::new(ip(w.rng.next_u64() as usize % i), PORT))
                .collect();
            w.bootstrap(i, &seeds);
            w.run(Duration::from_millis(20));
        }
        w.run(Duration::from_secs(60));
        for m in &w.members {
            w.sim.take_events::<DhtNode>(m.sim);
        }
        w
    }

    /// Adds a node (not yet bootstrapped) and returns its index.
    fn add_member(&mut self) -> usize {
        let i = self.members.len();
        let addr = SocketAddr::new(ip(i), PORT);
        let mut config = DhtConfig::new(addr);
        config.external_ip = Some(addr.ip());
        config.alpha = self.alpha.max(1);
        config.routing.bucket_factor = self.bucket_factor.max(1);
        let machine = DhtNode::new(config, self.sim.fork_rng(&format!("dht/{i}")));
        let id = machine.id();
        let link = LinkConfig {
            latency: Duration::ZERO,
            loss: LossModel::Uniform(self.loss),
            ..LinkConfig::default()
        };
        // NOTE(unwrap): the public network exists and `ip` gives every index its own address.
        let sim = self
            .sim
            .add_node(NetworkId::PUBLIC, &[addr], machine, link)
            .expect("unique address on the public network");
        self.members.push(Member {
            sim,
            id,
            joined: self.sim.now(),
            left: None,
        });
        self.online.push(i);
        i
    }

    fn bootstrap(&mut self, i: usize, seeds: &[SocketAddr]) {
        self.members[i].joined = self.sim.now();
        self.sim
            .command(self.members[i].sim, |m: &mut DhtNode, now| {
                m.bootstrap(now, seeds)
            });
    }

    /// Steps event by event so the clock always stands at the last event processed.
    /// `Sim::run_for` looks at the first event past its deadline, and a command issued
    /// afterwards has its datagrams held back until that event's time, which would distort
    /// latencies.
    fn run(&mut self, duration: Duration) {
        let end = self.sim.now() + duration;
        while self.sim.now() < end {
            if !self.sim.step() {
                break;
            }
        }
    }

    fn table_sizes(&self) -> (usize, usize, f64) {
        let sizes: Vec<usize> = self
            .members
            .iter()
            .filter_map(|m| self.sim.machine::<DhtNode>(m.sim))
            .map(|n| n.routing_table().len())
            .collect();
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
        let min = sizes.iter().copied().min().unwrap_or(0);
        let max = sizes.iter().copied().max().unwrap_or(0);
        (min, max, mean)
    }

    /// Moves every finished lookup and announce into `results`.
    fn collect(&mut self) {
        for (i, m) in self.members.iter().enumerate() {
            for e in self.sim.take_events::<DhtNode>(m.sim) {
                match e {
                    DhtEvent::LookupDone(r) => {
                        self.results.insert((i, r.query), (r, None));
                    }
                    DhtEvent::Announced { result, stored } => {
                        self.results
                            .insert((i, result.query), (result, Some(stored)));
                    }
                    _ => {}
                }
            }
        }
    }

    fn random_online(&mut self) -> usize {
        self.online[self.rng.next_u64() as usize % self.online.len()]
    }

    /// Takes `count` online nodes without a lookup in flight offline and has as many fresh
    /// nodes join.
    fn churn(&mut self, count: usize, busy: &BTreeSet<usize>) {
        for _ in 0..count {
            // A node busy with its own lookup is left alone: its lookup failing would measure
            // the querier leaving, not the DHT. Bounded tries; skipped if all are busy.
            let pick = (0..64).find_map(|_| {
                let slot = self.rng.next_u64() as usize % self.online.len();
                (!busy.contains(&self.online[slot])).then_some(slot)
            });
            let Some(slot) = pick else { continue };
            let gone = self.online.swap_remove(slot);
            self.sim.set_link_up(self.members[gone].sim, false);
            self.members[gone].left = Some(self.sim.now());
            let seeds: Vec<SocketAddr> = (0..4)
                .map(|_| {
                    let j = self.random_online();
                    SocketAddr::new(ip(j), PORT)
                })
                .collect();
            let fresh = self.add_member();
            self.bootstrap(fresh, &seeds);
            self.replaced += 1;
        }
    }

    fn lookups(
        &mut self,
        s: &DhtScenario,
        total: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> DhtReport {
        let to_replace = (s.churn.clamp(0.0, 1.0) * s.nodes as f64).round() as usize;
        let batches = s.lookups.div_ceil(BATCH);
        let mut started: Vec<Started> = Vec::new();
        let mut done = 0;
        for b in 0..batches {
            // Replacements spread evenly over the batches.
            let due = to_replace * (b + 1) / batches - to_replace * b / batches;
            if due > 0 {
                let busy: BTreeSet<usize> = started
                    .iter()
                    .filter(|l| !self.results.contains_key(&(l.from, l.query)))
                    .map(|l| l.from)
                    .collect();
                self.churn(due, &busy);
            }
            for _ in 0..BATCH.min(s.lookups - b * BATCH) {
                let from = self.random_online();
                let mut key = [0u8; 20];
                self.rng.fill_bytes(&mut key);
                let target = NodeId(key);
                let at = self.sim.now();
                if let Some(query) = self
                    .sim
                    .command(self.members[from].sim, |m: &mut DhtNode, now| {
                        m.find_node(now, target)
                    })
                {
                    started.push(Started {
                        from,
                        query,
                        target,
                        at,
                    });
                }
            }
            self.run(BATCH_EVERY);
            self.collect();
            done = self.results.len();
            progress(done, total);
        }
        self.run(TAIL);
        self.collect();
        if self.results.len() != done {
            progress(self.results.len(), total);
        }
        self.score(s, &started)
    }

    /// Compares each lookup's result with the ground truth.
    fn score(&self, s: &DhtScenario, started: &[Started]) -> DhtReport {
        let mut latencies = Vec::new();
        let mut nearest = Vec::new();
        let querier = |l: &Started| ip(l.from);
        let (mut bound, mut nearest_bound) = (Vec::new(), Vec::new());
        let (mut ok, mut hops, mut queries, mut k_found) = (0usize, 0u64, 0u64, 0usize);
        for l in started {
            let Some((r, _)) = self.results.get(&(l.from, l.query)) else {
                continue;
            };
            let end = l.at + r.elapsed;
            let mut truth: Vec<(NodeId, Duration)> = self
                .members
                .iter()
                .enumerate()
                .filter(|(i, m)| {
                    *i != l.from && m.joined <= l.at && m.left.is_none_or(|left| left >= end)
                })
                .map(|(i, m)| (m.id, self.sim.pair_rtt(querier(l), ip(i))))
                .collect();
            let cmp = |a: &NodeId, b: &NodeId| l.target.cmp_distance(a, b);
            if truth.len() > K {
                truth.select_nth_unstable_by(K, |a, b| cmp(&a.0, &b.0));
                truth.truncate(K);
            }
            truth.sort_by(|a, b| cmp(&a.0, &b.0));
            // No lookup can end before a query from the querier reached each of the true k
            // closest and its answer came back, nor know its result before the true nearest
            // answered: one round trip to each.
            bound.push(truth.iter().map(|t| t.1).max().unwrap_or_default());
            nearest_bound.push(truth.first().map(|t| t.1).unwrap_or_default());
            let truth: Vec<NodeId> = truth.into_iter().map(|t| t.0).collect();
            let got: Vec<NodeId> = r.closest.iter().map(|n| n.id).collect();
            let known = |id: &NodeId| {
                *id != self.members[l.from].id && self.members.iter().any(|m| m.id == *id)
            };
            let success = match (got.first(), truth.first()) {
                (Some(g), Some(t)) => known(g) && cmp(g, t).is_le(),
                _ => false,
            };
            if success {
                ok += 1;
            }
            k_found += got.iter().filter(|id| truth.contains(id)).count();
            latencies.push(r.elapsed);
            nearest.push(r.nearest_after);
            hops += u64::from(r.hops);
            queries += u64::from(r.messages);
        }
        latencies.sort();
        nearest.sort();
        bound.sort();
        nearest_bound.sort();
        let n = latencies.len().max(1) as f64;
        DhtReport {
            scenario: s.clone(),
            replaced: 0,
            table_min: 0,
            table_max: 0,
            table_mean: 0.0,
            finished: latencies.len(),
            succeeded: ok,
            k_closest_found: k_found as f64 / (K * s.lookups.max(1)) as f64,
            hops_mean: hops as f64 / n,
            queries_mean: queries as f64 / n,
            latency_p50: percentile(&latencies, 0.5),
            latency_p90: percentile(&latencies, 0.9),
            latency_p99: percentile(&latencies, 0.99),
            latency_max: latencies.last().copied().unwrap_or_default(),
            nearest_p50: percentile(&nearest, 0.5),
            nearest_p90: percentile(&nearest, 0.9),
            nearest_p99: percentile(&nearest, 0.99),
            bound_p50: percentile(&bound, 0.5),
            bound_p99: percentile(&bound, 0.99),
            nearest_bound_p50: percentile(&nearest_bound, 0.5),
            nearest_bound_p99: percentile(&nearest_bound, 0.99),
            announces_stored_mean: 0.0,
            announces_found: 0,
            peers_p50: Duration::ZERO,
            peers_p90: Duration::ZERO,
            peers_p99: Duration::ZERO,
            trace_hash: 0,
        }
    }

    /// Announces from online nodes, then `get_peers` for each info-hash from another online
    /// node. Returns the mean number of nodes storing each announce, how many `get_peers`
    /// found the announcing peer, and (sorted) how long those took to their first peers.
    fn announces(
        &mut self,
        s: &DhtScenario,
        total: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> (f64, usize, Vec<Duration>) {
        if s.announces == 0 || self.online.len() < 2 {
            return (0.0, 0, Vec::new());
        }
        let lookups_done = self.results.len();
        let mut announced = Vec::new();
        for a in 0..s.announces {
            let from = self.random_online();
            let mut key = [0u8; 20];
            self.rng.fill_bytes(&mut key);
            let info_hash = NodeId(key);
            let q = self
                .sim
                .command(self.members[from].sim, |m: &mut DhtNode, now| {
                    m.announce(now, info_hash, PORT)
                });
            announced.push((from, q, info_hash));
            self.run(Duration::from_millis(100));
            progress(lookups_done + a / 2, total);
        }
        self.run(TAIL);
        self.collect();
        let mut asked = Vec::new();
        let mut stored_total = 0;
        let n = self.online.len();
        for (a, (from, q, info_hash)) in announced.iter().enumerate() {
            if let Some((_, Some(stored))) = q.and_then(|q| self.results.get(&(*from, q))) {
                stored_total += stored;
            }
            // Another online node: its position among the online ones, shifted.
            let pos = self.online.iter().position(|i| i == from).unwrap_or(0);
            let other = self.online[(pos + 1 + self.rng.next_u64() as usize % (n - 1)) % n];
            let q = self
                .sim
                .command(self.members[other].sim, |m: &mut DhtNode, now| {
                    m.get_peers(now, *info_hash)
                });
            asked.push((other, q, SocketAddr::new(ip(*from), PORT)));
            self.run(Duration::from_millis(100));
            progress(lookups_done + (s.announces + a) / 2, total);
        }
        self.run(TAIL);
        self.collect();
        progress(total, total);
        let found: Vec<Duration> = asked
            .iter()
            .filter_map(|(i, q, peer)| {
                q.and_then(|q| self.results.get(&(*i, q)))
                    .filter(|(r, _)| r.peers.contains(peer))
                    .and_then(|(r, _)| r.first_peers_after)
            })
            .collect();
        let mut firsts = found;
        firsts.sort();
        let count = firsts.len();
        (stored_total as f64 / s.announces as f64, count, firsts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_run_is_deterministic_and_finds_the_closest() {
        let s = DhtScenario {
            announces: 5,
            seed: 7,
            churn: 0.1,
            ..DhtScenario::new(60, 40)
        };
        let mut calls = 0;
        let a = s.run(&mut |done, total| {
            calls += 1;
            assert!(done <= total);
        });
        assert!(calls > 0);
        assert_eq!(a.replaced, 6);
        assert!(a.success() >= 0.9, "{a}");
        // Round trips come from the per-pair model (20-300 ms), and get_peers that found the
        // announcer were timed to their first peers.
        let rtts = Duration::from_millis(20)..=Duration::from_millis(300);
        assert!(rtts.contains(&a.nearest_bound_p50), "{a}");
        assert!(a.announces_found > 0 && a.peers_p50 > Duration::ZERO, "{a}");
        assert!(
            a.peers_p50 <= a.peers_p99 && a.nearest_p50 <= a.latency_p50,
            "{a}"
        );
        assert_eq!(a, s.run(&mut |_, _| {}));
        assert!(a.to_string().contains("trace hash"));
    }
}
