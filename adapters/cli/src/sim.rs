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
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    match args.scenario {
        Scenario::NatCheck(args) => crate::nat_check::run(args),
        Scenario::Dht(args) => crate::sim_dht::run(args),
    }
}
