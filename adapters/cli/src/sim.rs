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
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    match args.scenario {
        Scenario::NatCheck(args) => crate::nat_check::run(args),
    }
}
