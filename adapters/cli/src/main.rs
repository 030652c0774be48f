//! The `pigeon` command: servers and tools for people, built on pigeon's Sans-IO machines.

mod dht;
mod dtls;
mod nat_check;
mod nat_type;
mod rng;
mod serve;
mod sim;
mod sim_dht;
mod sim_matrix;
mod stun_server;
mod turn_server;

/// The simulator makes and frees millions of small buffers; mimalloc handles them faster
/// and with less fragmentation than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// pigeon: a Sans-IO peer-to-peer networking stack (STUN, NAT discovery, simulator).
#[derive(Debug, Parser)]
#[command(name = "pigeon", version, about, propagate_version = true)]
struct Cli {
    /// Log more (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a STUN Binding server (RFC 8489); with --alternate, an RFC 5780 NAT behaviour
    /// discovery server on four sockets.
    StunServer(stun_server::Args),
    /// Run a TURN relay server (RFC 8656) with long-term credentials; binds every relay port
    /// of --relay-range at start-up.
    TurnServer(turn_server::Args),
    /// Discover the NAT in front of this host with RFC 5780 tests against a STUN server.
    NatType(nat_type::Args),
    /// Run scenarios in pigeon's deterministic network simulator.
    Sim(sim::Args),
    /// DTLS 1.2 echo server or stdin/stdout client with a fresh self-signed certificate.
    Dtls(dtls::Args),
    /// A BitTorrent mainline DHT node; get-peers, announce, put and get for people.
    Dht(dht::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::StunServer(args) => stun_server::run(args),
        Command::TurnServer(args) => turn_server::run(args),
        Command::NatType(args) => nat_type::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Dtls(args) => dtls::run(args),
        Command::Dht(args) => dht::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("pigeon: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr so that stdout stays clean for tables and `--json`.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// A multi-threaded tokio runtime is not needed: the machines are single-threaded by design.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
