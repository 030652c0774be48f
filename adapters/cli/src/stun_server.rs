//! `pigeon stun-server`: pigeon's Binding server on real UDP sockets.

use std::net::SocketAddr;
use std::process::ExitCode;

use pigeon::stun::server::{BindingServer, ServerConfig, ServerEvent};
use tracing::{debug, info, warn};

/// Options of `pigeon stun-server`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Primary address to serve (A1:P1).
    #[arg(long, default_value = "0.0.0.0:3478")]
    listen: SocketAddr,
    /// Alternate address (A2:P2, another IP and another port): enables RFC 5780, serving
    /// A1:P1, A1:P2, A2:P1 and A2:P2 and honouring CHANGE-REQUEST.
    #[arg(long)]
    alternate: Option<SocketAddr>,
    /// SOFTWARE attribute sent in responses.
    #[arg(long, default_value = concat!("pigeon ", env!("CARGO_PKG_VERSION")))]
    software: String,
    /// Do not add FINGERPRINT to responses.
    #[arg(long)]
    no_fingerprint: bool,
    /// Print counters every this many seconds (0: never).
    #[arg(long, default_value_t = 60)]
    stats_every: u64,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let config = ServerConfig {
        primary: args.listen,
        alternate: args.alternate,
        software: Some(args.software.clone()).filter(|s| !s.is_empty()),
        fingerprint: !args.no_fingerprint,
    };
    let server = BindingServer::new(config).map_err(|e| {
        format!(
            "--alternate: {e} (RFC 5780 needs two IPs and two ports); \
             e.g. --listen 127.0.0.1:3478 --alternate 127.0.0.2:3479"
        )
    })?;
    let runtime = crate::runtime().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(serve(server, args.stats_every))
}

async fn serve(server: BindingServer, stats_every: u64) -> Result<ExitCode, String> {
    let sockets = crate::serve::bind_all(&server.local_addresses()).await?;
    for address in server.local_addresses() {
        info!(%address, "listening");
    }
    let watch = crate::serve::Watch {
        stats_every,
        stats: BindingServer::stats,
        log_event,
    };
    crate::serve::serve(server, sockets, watch).await
}

fn log_event(event: &ServerEvent) {
    match event {
        ServerEvent::Answered {
            from,
            local,
            source,
            destination,
        } => debug!(%from, %local, %source, %destination, "binding answered"),
        ServerEvent::Rejected { from, code } => info!(%from, code, "request rejected"),
        ServerEvent::Malformed { from } => warn!(%from, "malformed datagram dropped"),
        other => debug!(?other, "event"),
    }
}
