//! 1,000 DHT nodes on the simulator's public network (`pigeon_sim::scenarios::dht`): one-way
//! link latency drawn from 10-150 ms per node (so round trips are 20-300 ms) and 1% loss on
//! every link. They bootstrap, look up random keys, announce and get peers, without and with
//! 10% churn; the tests print hops, queries per lookup, success rate and latency percentiles.

use std::time::Duration;

use pigeon_sim::scenarios::dht::{DhtReport, DhtScenario};

fn run(name: &str, scenario: DhtScenario) -> DhtReport {
    let report = scenario.run(&mut |_, _| {});
    println!("dht_sim {name}:\n{report}");
    report
}

#[test]
fn thousand_nodes_lookups_and_announces() {
    let r = run(
        "no churn",
        DhtScenario {
            announces: 50,
            seed: 2026,
            ..DhtScenario::new(1000, 1000)
        },
    );
    let announces = r.scenario.announces;
    assert!(
        r.announces_found * 1000 >= announces * 995,
        "announce/get_peers {}/{announces}",
        r.announces_found
    );
    assert!(r.success() >= 0.995, "success {}", r.success());
    // Latency runs from the find_node command until the 8 closest candidates have all
    // answered. Seed 2026 measures p50 497 ms, p90 727 ms, p99 936 ms (2.05 hops, 12.0
    // queries per lookup): issue 3's p99 < 1 s is met, its median < 200 ms is not, and cannot
    // be on these links. Even a lookup that knew the true 8 closest at the start needs one
    // round trip to each: the querier's one-way latency plus the largest of theirs, whose
    // median over these lookups (the floor) is 210 ms.
    assert!(
        r.latency_p99 < Duration::from_secs(1),
        "p99 {:?}",
        r.latency_p99
    );
    assert!(
        r.latency_p50 < Duration::from_millis(560),
        "median {:?}",
        r.latency_p50
    );
    assert!(
        r.bound_p50 > Duration::from_millis(200) && r.bound_p50 < Duration::from_millis(230),
        "floor {:?}",
        r.bound_p50
    );
    assert!(r.hops_mean < 2.3, "hops {}", r.hops_mean);
    assert!(r.queries_mean < 14.0, "queries {}", r.queries_mean);
}

#[test]
fn thousand_nodes_with_ten_percent_churn() {
    let r = run(
        "10% churn",
        DhtScenario {
            announces: 50,
            seed: 2026,
            churn: 0.1,
            ..DhtScenario::new(1000, 1000)
        },
    );
    assert_eq!(r.replaced, 100);
    // Seed 2026 measures 99.6% (996/1000), latency p50 577 ms and p99 1.29 s: lookups that
    // meet departed nodes among the closest wait two soft timeouts (about two round trips)
    // before giving up on each. Issue 3's p99 < 1 s is not met with churn.
    assert!(
        r.latency_p50 < Duration::from_millis(650),
        "median {:?}",
        r.latency_p50
    );
    assert!(
        r.latency_p99 < Duration::from_millis(1450),
        "p99 {:?}",
        r.latency_p99
    );
    assert!(r.success() >= 0.995, "success {}", r.success());
    assert!(
        r.announces_found * 1000 >= r.scenario.announces * 995,
        "announce/get_peers {}/{}",
        r.announces_found,
        r.scenario.announces
    );
}
