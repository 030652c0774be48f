//! 1,000 DHT nodes on the simulator's public network (`pigeon_sim::scenarios::dht`): a round
//! trip per pair of nodes drawn uniformly from 20-300 ms (issue 3's per-link RTTs) and 1% loss
//! on every link. They bootstrap, look up random keys, announce and get peers, without and
//! with 10% churn; the tests print hops, queries per lookup, success rate and latency
//! percentiles under the three definitions of docs/dht.md ("Simulation"):
//! - `get_peers`: until the first peers arrive (what a downloader waits for);
//! - `find_node` result: until the nearest node of the result answered (the result is known);
//! - `find_node` terminated: until all 8 closest answered (BEP 5's end of a lookup).
//!
//! Issue 3's targets are median < 200 ms and p99 < 1 s; each assertion below says whether it
//! asserts the target or guards a measured level where the target is not met.

use std::time::Duration;

use pigeon_sim::scenarios::dht::{DhtReport, DhtScenario};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn run(name: &str, scenario: DhtScenario) -> DhtReport {
    let report = scenario.run(&mut |_, _| {});
    println!("dht_sim {name}:\n{report}");
    report
}

/// Checks shared by both runs: success, announces found, and the get_peers targets.
fn common(r: &DhtReport) {
    assert!(r.success() >= 0.995, "success {}", r.success());
    let announces = r.scenario.announces;
    assert!(
        r.announces_found * 1000 >= announces * 995,
        "announce/get_peers {}/{announces}",
        r.announces_found
    );
    // Target met: get_peers has its first peers in under 200 ms at the median, 1 s at p99.
    assert!(r.peers_p50 < MS(200), "get_peers p50 {:?}", r.peers_p50);
    assert!(r.peers_p99 < MS(1000), "get_peers p99 {:?}", r.peers_p99);
    // Target met at p99 for the find_node result.
    assert!(r.nearest_p99 < MS(1000), "result p99 {:?}", r.nearest_p99);
    // The find_node result median cannot meet 200 ms here: one round trip to the true nearest
    // alone has a median of about 160 ms (uniform 20-300 ms), and finding it takes another.
    assert!(
        r.nearest_bound_p50 > MS(140) && r.nearest_bound_p50 < MS(180),
        "nearest floor {:?}",
        r.nearest_bound_p50
    );
}

#[test]
fn thousand_nodes_lookups_and_announces() {
    let r = run(
        "no churn",
        DhtScenario {
            announces: 200,
            seed: 2026,
            ..DhtScenario::new(1000, 1000)
        },
    );
    common(&r);
    // Seed 2026 measures: success 100%, 2.10 hops, 12.7 queries per lookup; get_peers first
    // peers p50 138 ms, p99 349 ms; find_node result p50 265 ms, p99 606 ms; terminated p50
    // 494 ms, p99 788 ms.
    // Guard (target of 200 ms not met): the find_node result median.
    assert!(r.nearest_p50 < MS(300), "result p50 {:?}", r.nearest_p50);
    // Target met: a lookup terminates (all 8 closest answered) within 1 s at p99; its median
    // is guarded (not met, and it cannot be: its floor is about 275 ms).
    assert!(
        r.latency_p99 < MS(1000),
        "terminated p99 {:?}",
        r.latency_p99
    );
    assert!(
        r.latency_p50 < MS(600),
        "terminated p50 {:?}",
        r.latency_p50
    );
    assert!(r.bound_p50 > MS(250), "termination floor {:?}", r.bound_p50);
    assert!(r.hops_mean < 2.4, "hops {}", r.hops_mean);
    assert!(r.queries_mean < 13.5, "queries {}", r.queries_mean);
}

#[test]
fn thousand_nodes_with_ten_percent_churn() {
    let r = run(
        "10% churn",
        DhtScenario {
            announces: 200,
            seed: 2026,
            churn: 0.1,
            ..DhtScenario::new(1000, 1000)
        },
    );
    assert_eq!(r.replaced, 100);
    common(&r);
    // Seed 2026 measures: success 99.8%, 13.6 queries per lookup; get_peers first peers p50
    // 149 ms, p99 441 ms; find_node result p50 270 ms, p99 697 ms; terminated p50 559 ms,
    // p99 1.13 s. Guards (targets not met): the find_node result median, and termination,
    // whose tail waits out departed nodes among the closest (two soft timeouts each).
    assert!(r.nearest_p50 < MS(300), "result p50 {:?}", r.nearest_p50);
    assert!(
        r.latency_p50 < MS(650),
        "terminated p50 {:?}",
        r.latency_p50
    );
    assert!(
        r.latency_p99 < MS(1500),
        "terminated p99 {:?}",
        r.latency_p99
    );
    assert!(r.queries_mean < 14.5, "queries {}", r.queries_mean);
}

/// Success with churn is not a lucky seed: seeds 1, 4, 5 and 7 gave 99.2%, 99.2%, 99.3% and
/// 99.5% before the lookup waited for a retried nearest node, unmeasured nodes got time for
/// the slowest answers, splits kept the nodes nearest to a node's own id and lookups started
/// while bootstrapping waited for it; now 99.8%, 99.7%, 99.8% and 99.8% (docs/dht.md).
#[test]
fn churn_success_holds_across_seeds() {
    for seed in [1, 4, 5, 7] {
        let r = run(
            &format!("10% churn, seed {seed}"),
            DhtScenario {
                seed,
                churn: 0.1,
                ..DhtScenario::new(1000, 1000)
            },
        );
        assert!(r.success() >= 0.995, "seed {seed}: success {}", r.success());
        assert!(
            r.queries_mean < 14.5,
            "seed {seed}: queries {}",
            r.queries_mean
        );
    }
}

/// `RoutingConfig::bucket_factor`: buckets of 32 instead of 8 let every node name nodes nearer
/// a target, so lookups take fewer hops. Seed 3 at 2,000 nodes measures 2.06 hops and a mean
/// table of 233 with factor 1, 1.97 hops and 257 with factor 4 (20,000 nodes: docs/dht.md;
/// before the wide far buckets were filled across their range, 2.35 / 164 and 2.13 / 202).
#[test]
fn larger_buckets_shorten_lookups() {
    let plain = run(
        "bucket factor 1",
        DhtScenario {
            seed: 3,
            ..DhtScenario::new(2000, 300)
        },
    );
    let quad = run(
        "bucket factor 4",
        DhtScenario {
            seed: 3,
            bucket_factor: 4,
            ..DhtScenario::new(2000, 300)
        },
    );
    assert!(plain.success() >= 0.995 && quad.success() >= 0.995);
    assert!(
        quad.table_mean > plain.table_mean + 20.0,
        "tables {} / {}",
        plain.table_mean,
        quad.table_mean
    );
    assert!(
        quad.hops_mean + 0.05 < plain.hops_mean,
        "hops {} / {}",
        plain.hops_mean,
        quad.hops_mean
    );
}
