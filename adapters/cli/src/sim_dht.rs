//! `pigeon sim dht`: BitTorrent mainline DHT nodes in the simulator, with churn and loss.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use pigeon::dht::DhtConfig;
use pigeon_sim::scenarios::dht::{DhtReport, DhtScenario};
use serde_json::json;

/// Options of `pigeon sim dht`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Nodes at the start.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(2..))]
    nodes: u64,
    /// Lookups of random keys from random online nodes (twenty every 200 ms).
    #[arg(long, default_value_t = 1000)]
    lookups: usize,
    /// Announces, each followed by a get_peers from another node, after the lookups.
    #[arg(long, default_value_t = 50)]
    announces: usize,
    /// Seed of every random choice; the same seed prints the same figures and trace hash.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction of the nodes replaced while the lookups run (0.1 = 10%).
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    churn: f64,
    /// Loss probability on every link.
    #[arg(long, default_value_t = 0.01, value_parser = fraction)]
    loss: f64,
    /// Parallel requests per lookup (Kademlia's alpha).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=64))]
    alpha: u64,
    /// Every routing-table bucket holds at least k x this many nodes (1 = BEP 5).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=16))]
    bucket_factor: u64,
    /// Every node uses `DhtConfig::low_latency` (alpha 5, bucket factor 4).
    #[arg(long, conflicts_with_all = ["alpha", "bucket_factor"])]
    low_latency: bool,
    /// Print JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

fn fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

/// Rewrites one stderr line at most every 100 ms, and only on a terminal.
struct Progress {
    tty: bool,
    last: Option<Instant>,
    shown: bool,
}

impl Progress {
    fn update(&mut self, done: usize, total: usize) {
        if !self.tty {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
            && done < total
        {
            return;
        }
        self.last = Some(now);
        self.shown = true;
        let mut err = std::io::stderr().lock();
        // A failed progress write is not worth stopping the run for.
        let _ = write!(err, "\r lookups and announces {done}/{total}");
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let nodes = usize::try_from(args.nodes).map_err(|_| "--nodes too large".to_string())?;
    let mut alpha = usize::try_from(args.alpha).map_err(|_| "--alpha too large".to_string())?;
    let mut bucket_factor =
        usize::try_from(args.bucket_factor).map_err(|_| "--bucket-factor too large".to_string())?;
    if args.low_latency {
        let tuned = DhtConfig::new(SocketAddr::from(([0, 0, 0, 0], 0))).low_latency();
        (alpha, bucket_factor) = (tuned.alpha, tuned.routing.bucket_factor);
    }
    let scenario = DhtScenario {
        nodes,
        lookups: args.lookups,
        announces: args.announces,
        seed: args.seed,
        churn: args.churn,
        loss: args.loss,
        alpha,
        bucket_factor,
    };
    let mut progress = Progress {
        tty: std::io::stderr().is_terminal(),
        last: None,
        shown: false,
    };
    let started = Instant::now();
    let report = scenario.run(&mut |done, total| progress.update(done, total));
    progress.finish();
    // What the run cost this machine (not part of the simulated figures or the trace).
    let cost = RunCost {
        wall: started.elapsed(),
        peak_rss: peak_rss_bytes(),
    };
    if args.json {
        let mut json = report_json(&report);
        json["wall_seconds"] = json!(cost.wall.as_secs_f64());
        json["peak_rss_bytes"] = json!(cost.peak_rss);
        println!("{json}");
    } else {
        print!("{report}");
        print!("{cost}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Wall time and peak memory of a simulation run.
struct RunCost {
    wall: Duration,
    peak_rss: Option<u64>,
}

impl std::fmt::Display for RunCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{:<22} {:.1} s", "wall time", self.wall.as_secs_f64())?;
        match self.peak_rss {
            Some(bytes) => writeln!(f, "{:<22} {:.2} GB", "peak RSS", bytes as f64 / 1e9),
            None => writeln!(f, "{:<22} unknown", "peak RSS"),
        }
    }
}

/// The process's peak resident set (Linux `VmHWM`), if the system reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn report_json(r: &DhtReport) -> serde_json::Value {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let s = &r.scenario;
    json!({
        "nodes": s.nodes,
        "lookups": s.lookups,
        "announces": s.announces,
        "seed": s.seed,
        "churn": s.churn,
        "loss": s.loss,
        "alpha": s.alpha,
        "bucket_factor": s.bucket_factor,
        "replaced": r.replaced,
        "routing_table": { "min": r.table_min, "max": r.table_max, "mean": r.table_mean },
        "finished": r.finished,
        "succeeded": r.succeeded,
        "success": r.success(),
        "k_closest_found": r.k_closest_found,
        "hops_mean": r.hops_mean,
        "queries_per_lookup_mean": r.queries_mean,
        "find_node_result_ms": {
            "p50": ms(r.nearest_p50),
            "p90": ms(r.nearest_p90),
            "p99": ms(r.nearest_p99),
            "floor_p50": ms(r.nearest_bound_p50),
            "floor_p99": ms(r.nearest_bound_p99),
        },
        "find_node_terminated_ms": {
            "p50": ms(r.latency_p50),
            "p90": ms(r.latency_p90),
            "p99": ms(r.latency_p99),
            "max": ms(r.latency_max),
            "floor_p50": ms(r.bound_p50),
            "floor_p99": ms(r.bound_p99),
        },
        "get_peers_first_peers_ms": {
            "p50": ms(r.peers_p50),
            "p90": ms(r.peers_p90),
            "p99": ms(r.peers_p99),
        },
        "announces_found": r.announces_found,
        "announces_stored_mean": r.announces_stored_mean,
        "trace_hash": format!("{:016x}", r.trace_hash),
    })
}
