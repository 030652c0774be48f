//! `pigeon turn-server`: pigeon's TURN server (RFC 8656) on real UDP sockets.
//!
//! The relay ports are ordinary sockets owned by the driver, so every port of `--relay-range`
//! is bound up front, before the first client arrives: a range of N ports costs N sockets for
//! the life of the process. Keep the range as small as the expected number of allocations.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use pigeon::turn::{RFC5766_MAX_CHANNEL, TurnServer, TurnServerConfig, TurnServerEvent};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tracing::{debug, info};

/// Most relay ports bound at once (one socket each).
const MAX_RELAY_PORTS: u32 = 4096;

/// Options of `pigeon turn-server`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address clients reach the server on.
    #[arg(long, default_value = "0.0.0.0:3478")]
    listen: SocketAddr,
    /// Relay port range LO-HI (inclusive); every port is bound at start-up.
    #[arg(long, default_value = "49160-49200")]
    relay_range: String,
    /// IP of the relayed addresses; defaults to the --listen IP (required when that is
    /// unspecified, as relayed addresses are told to peers).
    #[arg(long)]
    relay_ip: Option<IpAddr>,
    /// A user as NAME:PASS (repeat for more users).
    #[arg(long = "user", required = true)]
    users: Vec<String>,
    /// REALM of the long-term credentials.
    #[arg(long, default_value = "pigeon")]
    realm: String,
    /// Allocations in total.
    #[arg(long, default_value_t = 1000)]
    max_allocations: usize,
    /// Allocations per user.
    #[arg(long, default_value_t = 10)]
    max_allocations_per_user: usize,
    /// Refuse ChannelBind numbers above 0x4FFF, as RFC 8656 §12.2 says. By default the
    /// server also accepts RFC 5766's 0x5000-0x7FFF, which coturn's clients still use.
    #[arg(long)]
    strict_channels: bool,
    /// SOFTWARE attribute sent in responses.
    #[arg(long, default_value = concat!("pigeon ", env!("CARGO_PKG_VERSION")))]
    software: String,
    /// Print counters every this many seconds (0: never).
    #[arg(long, default_value_t = 60)]
    stats_every: u64,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let (low, high) = parse_range(&args.relay_range)?;
    let relay_ip = match args.relay_ip {
        Some(ip) => ip,
        None if args.listen.ip().is_unspecified() => {
            return Err(format!(
                "--listen {} has no specific IP: give --relay-ip, the address peers reach the relay on",
                args.listen
            ));
        }
        None => args.listen.ip(),
    };
    let mut config = TurnServerConfig::new(args.listen, relay_ip, (low, high), &args.realm);
    for user in &args.users {
        let (name, pass) = user
            .split_once(':')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| format!("--user {user:?} must be NAME:PASS"))?;
        config = config.with_user(name, pass);
    }
    config.max_allocations = args.max_allocations;
    config.max_allocations_per_user = args.max_allocations_per_user;
    if !args.strict_channels {
        config.max_channel = RFC5766_MAX_CHANNEL;
    }
    config.software = Some(args.software.clone()).filter(|s| !s.is_empty());
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no OS randomness: {e}"))?;
    let server = TurnServer::new(config, Box::new(ChaCha20Rng::from_seed(seed)));
    let runtime = crate::runtime().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(serve(server, args.stats_every))
}

fn parse_range(text: &str) -> Result<(u16, u16), String> {
    let bad = || format!("--relay-range {text:?} must be LO-HI, e.g. 49160-49200");
    let (lo, hi) = text.split_once('-').ok_or_else(bad)?;
    let lo: u16 = lo.trim().parse().map_err(|_| bad())?;
    let hi: u16 = hi.trim().parse().map_err(|_| bad())?;
    if lo == 0 || lo > hi {
        return Err(bad());
    }
    if u32::from(hi - lo) + 1 > MAX_RELAY_PORTS {
        return Err(format!(
            "--relay-range {text} has more than {MAX_RELAY_PORTS} ports; each is a bound socket"
        ));
    }
    Ok((lo, hi))
}

async fn serve(server: TurnServer, stats_every: u64) -> Result<ExitCode, String> {
    let sockets = crate::serve::bind_all(&server.local_addresses()).await?;
    let listen = server.config().listen;
    info!(%listen, relay_ports = sockets.len() - 1, "listening");
    let watch = crate::serve::Watch {
        stats_every,
        stats: TurnServer::stats,
        log_event,
    };
    crate::serve::serve(server, sockets, watch).await
}

fn log_event(event: &TurnServerEvent) {
    match event {
        TurnServerEvent::Allocated {
            client,
            relayed,
            username,
        } => info!(%client, %relayed, %username, "allocation created"),
        TurnServerEvent::Released {
            client,
            relayed,
            expired,
        } => info!(%client, %relayed, expired, "allocation released"),
        TurnServerEvent::Rejected { client, code } => debug!(%client, code, "request rejected"),
        other => debug!(?other, "event"),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn parses_relay_ranges() {
        assert_eq!(parse_range("49160-49200"), Ok((49160, 49200)));
        assert_eq!(parse_range("5000-5000"), Ok((5000, 5000)));
        assert!(parse_range("5001-5000").is_err());
        assert!(parse_range("0-10").is_err());
        assert!(parse_range("5000").is_err());
        assert!(parse_range("1000-60000").is_err());
    }
}
