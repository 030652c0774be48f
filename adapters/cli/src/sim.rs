//! `pigeon sim ...`: scenarios in the deterministic simulator.

use std::process::ExitCode;

use clap::Subcommand;

/// Options of `pigeon sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Build every NAT preset, run RFC 5780 discovery behind each, and compare.
    NatCheck(crate::nat_check::Args),
    /// BitTorrent mainline DHT nodes: join, look up random keys under churn and loss,
    /// announce and get peers; prints hops, queries, success rate and latency percentiles.
    Dht(crate::sim_dht::Args),
    /// ICE between two peers behind every pair of NAT presets (25 cells, STUN and TURN on
    /// the public side); prints each cell's selected pair, time to connected and checks sent.
    Matrix(crate::sim_matrix::Args),
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    match args.scenario {
        Scenario::NatCheck(args) => crate::nat_check::run(args),
        Scenario::Dht(args) => crate::sim_dht::run(args),
        Scenario::Matrix(args) => crate::sim_matrix::run(args),
    }
}
