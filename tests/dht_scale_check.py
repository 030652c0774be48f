#!/usr/bin/env python3
"""Checks the JSON report of `pigeon sim dht` (read on stdin) against issue 3's targets for the
100,000-node run: every lookup finishes, success >= 99.5% with the churn asked for, and the
run really had the size and churn it claims. Exits 1 with the reason when a target is missed.

tests/run pipes the release build's reports into it, one per configuration:
    pigeon sim dht --nodes 100000 --lookups 2000 --announces 200 --churn 0.1 --seed 2026 --json
    (the same with --low-latency: `DhtConfig::low_latency`, alpha 5 and bucket factor 4)
The defaults (alpha 3, k = 8 buckets) are held to the levels measured plus a margin; the
low-latency configuration to issue 3's latency targets themselves.
"""

import json
import sys

MIN_SUCCESS = 0.995


# What each `--expect` names: the (alpha, bucket factor) the run must have had, and its limits.
# Latencies in ms fail at or above the limit; hops and queries per lookup above it.
CONFIGURATIONS = {
    # Guards, not issue 3's targets (medians of 200 ms are not met at this size with alpha 3
    # and k = 8 answers; docs/dht.md "100,000 nodes"): the levels measured by CI at c112cfe
    # (get_peers p50 313 ms / p99 629 ms, result p99 897 ms, terminated p99 1363 ms, 3.58
    # hops, 19.5 queries) plus a margin, so that a change that slows lookups down fails here
    # (without the wide buckets' fill: 3.92 hops, 21.6 queries).
    "default": {
        "ran": (3, 1),
        "first_peers_p50": 400,
        "first_peers_p99": 800,
        "result_p99": 1100,
        "terminated_p99": 1600,
        "hops": 3.85,
        "queries": 22,
    },
    # Issue 3's targets: median lookup latency below 200 ms and p99 below 1 s (a get_peers
    # user waits for the first peers; a find_node user for the nearest node). Measured by CI
    # at c112cfe: first peers p50 / p99 191 / 414 ms, result p99 687 ms, terminated p99 1220
    # ms, 3.02 hops, 22.7 queries.
    "low-latency": {
        "ran": (5, 4),
        "first_peers_p50": 200,
        "first_peers_p99": 1000,
        "result_p99": 1000,
        "terminated_p99": 1600,
        "hops": 3.35,
        "queries": 26,
    },
}


def main() -> int:
    args = sys.argv[1:]
    if len(args) != 2 or args[0] != "--expect" or args[1] not in CONFIGURATIONS:
        print(f"usage: dht_scale_check.py --expect {'|'.join(CONFIGURATIONS)}", file=sys.stderr)
        return 2
    expected = args[1]
    limit = CONFIGURATIONS[expected]
    report = json.load(sys.stdin)
    ran = (report["alpha"], report["bucket_factor"])
    if ran != limit["ran"]:
        print(f"FAIL: expected the {expected} configuration {limit['ran']}, "
              f"the run had (alpha, bucket factor) = {ran}", file=sys.stderr)
        return 1
    nodes, lookups, churn = report["nodes"], report["lookups"], report["churn"]
    result = report["find_node_result_ms"]
    terminated = report["find_node_terminated_ms"]
    peers = report["get_peers_first_peers_ms"]
    print(
        f"dht {nodes} nodes, alpha {report['alpha']}, bucket factor {report['bucket_factor']}: "
        f"success {report['success'] * 100:.2f}% "
        f"({report['succeeded']}/{lookups}, {report['finished']} finished), "
        f"{report['replaced']} replaced, hops {report['hops_mean']:.2f}, "
        f"queries/lookup {report['queries_per_lookup_mean']:.1f}, "
        f"find_node result p50/p99 {result['p50']:.0f}/{result['p99']:.0f} ms, "
        f"terminated p50/p99 {terminated['p50']:.0f}/{terminated['p99']:.0f} ms, "
        f"get_peers first peers p50/p99 {peers['p50']:.0f}/{peers['p99']:.0f} ms, "
        f"announces found {report['announces_found']}, "
        f"routing table mean {report['routing_table']['mean']:.1f}, "
        f"trace {report['trace_hash']}, "
        f"wall {report['wall_seconds']:.0f} s, peak RSS {report['peak_rss_bytes'] / 1e9:.2f} GB"
    )
    failures = []
    if report["finished"] != lookups:
        failures.append(f"{lookups - report['finished']} lookups never finished")
    if report["success"] < MIN_SUCCESS:
        failures.append(f"success {report['success']:.4f} < {MIN_SUCCESS}")
    # The scenario replaces churn x nodes; a few may be skipped when every pick is busy.
    if report["replaced"] < 0.95 * churn * nodes:
        failures.append(f"only {report['replaced']} nodes replaced for churn {churn}")
    if report["routing_table"]["min"] == 0:
        failures.append("a node ended the join phase with an empty routing table")
    for name, figure, key in [
        ("get_peers first peers p50", peers["p50"], "first_peers_p50"),
        ("get_peers first peers p99", peers["p99"], "first_peers_p99"),
        ("find_node result p99", result["p99"], "result_p99"),
        ("find_node terminated p99", terminated["p99"], "terminated_p99"),
    ]:
        if figure >= limit[key]:
            failures.append(f"{name} {figure:.0f} ms >= {limit[key]} ms")
    if report["hops_mean"] > limit["hops"]:
        failures.append(f"hops {report['hops_mean']:.2f} > {limit['hops']}")
    if report["queries_per_lookup_mean"] > limit["queries"]:
        failures.append(
            f"queries per lookup {report['queries_per_lookup_mean']:.1f} > {limit['queries']}"
        )
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
