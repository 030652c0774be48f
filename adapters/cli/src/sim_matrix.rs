//! `pigeon sim matrix`: the NAT traversal matrix, ICE between two peers behind every pair of
//! NAT presets, in one deterministic simulation.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pigeon::ice::CandidateKind;
use pigeon_sim::scenarios::ice_matrix::{
    self, CellResult, LOSSY_NOMINATION_WAIT, MatrixConfig, MatrixReport, kind_name,
};
use serde_json::json;

/// Options of `pigeon sim matrix`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Seed of every random choice; the same seed prints the same table and trace hash.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the whole matrix's traffic (all 25 cells, one simulation) to this pcap file.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Loss probability on every link (0.05 = 5%).
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    loss: f64,
    /// Jitter on every link, in milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter: u64,
    /// How long the controlling agent waits after its first valid pair for better pairs
    /// before it nominates, in milliseconds. Default: the agent's 500 ms without loss, 4000
    /// with --loss (a lost check is retried only after 500 ms, 1 s, 2 s: a shorter wait lets
    /// the relay win cells a direct pair would have won).
    #[arg(long)]
    nomination_wait: Option<u64>,
    /// Print JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

fn fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1 (1 excluded)"))
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let defaults = MatrixConfig::default();
    let default_wait = if args.loss > 0.0 {
        LOSSY_NOMINATION_WAIT
    } else {
        defaults.nomination_wait
    };
    let config = MatrixConfig {
        seed: args.seed,
        loss: args.loss,
        jitter: Duration::from_millis(args.jitter),
        pcap: args.pcap.is_some(),
        nomination_wait: args
            .nomination_wait
            .map_or(default_wait, Duration::from_millis),
        ..defaults
    };
    let report =
        ice_matrix::run(&config).map_err(|e| format!("cannot build the simulation: {e}"))?;
    if let Some(path) = &args.pcap {
        std::fs::write(path, &report.pcap)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if args.json {
        println!("{}", report_json(&report));
    } else {
        print!("{report}");
        if let Some(path) = &args.pcap {
            println!(
                "traffic written to {} (try: tshark -r {} -Y stun)",
                path.display(),
                path.display()
            );
        }
    }
    // A cell that differs from NAT.md's outcome is a failure a script should see.
    Ok(if report.meets_expectations() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn report_json(report: &MatrixReport) -> serde_json::Value {
    let c = &report.config;
    json!({
        "seed": c.seed,
        "loss": c.loss,
        "jitter_ms": c.jitter.as_secs_f64() * 1000.0,
        "latency_ms": c.latency.as_secs_f64() * 1000.0,
        "signaling_delay_ms": c.signaling_delay.as_secs_f64() * 1000.0,
        "nomination_wait_ms": c.nomination_wait.as_secs_f64() * 1000.0,
        "elapsed_ms": report.elapsed.as_secs_f64() * 1000.0,
        "trace_hash": format!("{:016x}", report.trace_hash),
        "as_expected": report.meets_expectations(),
        "cells": report.cells.iter().map(cell_json).collect::<Vec<_>>(),
    })
}

fn cell_json(cell: &CellResult) -> serde_json::Value {
    let pair = |p: Option<(CandidateKind, CandidateKind)>| {
        p.map(|(l, r)| json!({ "local": l.as_str(), "remote": r.as_str() }))
    };
    json!({
        "a": kind_name(cell.a),
        "b": kind_name(cell.b),
        "connected": cell.connected(),
        "relayed": cell.relayed(),
        "as_expected": cell.as_expected(),
        "a_pair": pair(cell.a_pair),
        "b_pair": pair(cell.b_pair),
        "connected_after_ms": cell.connected_after.map(|t| t.as_secs_f64() * 1000.0),
        "checks_sent": cell.checks_sent,
        "a_state": format!("{:?}", cell.a_state),
        "b_state": format!("{:?}", cell.b_state),
    })
}
