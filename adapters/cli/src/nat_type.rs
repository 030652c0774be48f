//! `pigeon nat-type`: RFC 5780 NAT behaviour discovery against a real STUN server.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use pigeon::stun::client::ClientConfig;
use pigeon::stun::discovery::{
    DiscoveryConfig, DiscoveryEvent, LifetimeConfig, NatDiscovery, NatReport,
};
use serde_json::json;
use tokio::net::UdpSocket;
use tracing::info;

/// Options of `pigeon nat-type`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The STUN server (HOST:PORT); RFC 5780 support is needed to tell mapping and filtering.
    #[arg(long)]
    server: String,
    /// Local IP address to test from (default: the one the OS routes to the server through).
    #[arg(long)]
    local: Option<IpAddr>,
    /// Also measure the mapping lifetime (binary search over idle times; takes minutes).
    #[arg(long)]
    lifetime: bool,
    /// Longest idle time the lifetime search tries, in seconds.
    #[arg(long, default_value_t = 180)]
    lifetime_max: u64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let runtime = crate::runtime().map_err(|e| format!("cannot start the runtime: {e}"))?;
    let report = runtime.block_on(discover(&args))?;
    if args.json {
        println!("{}", report_json(&report));
    } else {
        println!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn discover(args: &Args) -> Result<NatReport, String> {
    let server = resolve(&args.server).await?;
    let local_ip = match args.local {
        Some(ip) => ip,
        None => route_to(server).await?,
    };
    // Two sockets on the same IP: the first is tested, the second probes hairpinning and the
    // mapping lifetime (RFC 5780 §4.5, §4.6).
    let first = bind(SocketAddr::new(local_ip, 0)).await?;
    let second = bind(SocketAddr::new(local_ip, 0)).await?;
    let local = first.local_addr().map_err(|e| e.to_string())?;
    let hairpin_local = second.local_addr().map_err(|e| e.to_string())?;

    let mut config = DiscoveryConfig::new(local, server);
    config.hairpin_local = Some(hairpin_local);
    config.client = ClientConfig::default();
    if args.lifetime {
        config.lifetime = Some(LifetimeConfig {
            max: Duration::from_secs(args.lifetime_max),
            ..LifetimeConfig::default()
        });
    }
    let discovery = NatDiscovery::new(config, crate::rng::os_seeded_rng()?);
    let (handle, mut events, task) = pigeon_tokio::spawn(discovery, vec![first, second])
        .map_err(|e| format!("cannot start the driver: {e}"))?;
    handle
        .command(|discovery: &mut NatDiscovery, now| discovery.start(now))
        .await
        .map_err(|e| e.to_string())?;

    let result = loop {
        match events.next_event().await {
            Some(DiscoveryEvent::Progress(step)) => info!("{step}"),
            Some(DiscoveryEvent::Finished(result)) => break result,
            None => return Err("the discovery driver stopped unexpectedly".into()),
        }
    };
    let _ = handle.shutdown().await;
    let _ = task.await;
    result.map_err(|e| format!("{e} (server {server})"))
}

async fn resolve(server: &str) -> Result<SocketAddr, String> {
    let with_port = if server.parse::<SocketAddr>().is_ok() || server.rsplit_once(':').is_some() {
        server.to_string()
    } else {
        format!("{server}:3478")
    };
    tokio::net::lookup_host(&with_port)
        .await
        .map_err(|e| format!("cannot resolve {server}: {e}"))?
        .next()
        .ok_or_else(|| format!("{server} resolved to no address"))
}

/// The local IP the OS would use toward `server`: connecting a UDP socket sends nothing.
async fn route_to(server: SocketAddr) -> Result<IpAddr, String> {
    let unspecified: SocketAddr = if server.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = bind(unspecified).await?;
    probe
        .connect(server)
        .await
        .map_err(|e| format!("no route to {server}: {e}"))?;
    Ok(probe.local_addr().map_err(|e| e.to_string())?.ip())
}

async fn bind(address: SocketAddr) -> Result<UdpSocket, String> {
    UdpSocket::bind(address)
        .await
        .map_err(|e| format!("cannot bind {address}: {e}"))
}

fn report_json(report: &NatReport) -> serde_json::Value {
    json!({
        "nat_type": report.classic_name(),
        "nat_present": report.nat_present(),
        "local": report.local.to_string(),
        "mapped": report.mapped.to_string(),
        "server": report.server.to_string(),
        "other_address": report.other_address.map(|a| a.to_string()),
        "rfc5780": report.rfc5780_supported(),
        "mapping": report.mapping.to_string(),
        "filtering": report.filtering.to_string(),
        "hairpinning": report.hairpinning,
        "lifetime_secs": report.lifetime.map(|d| d.as_secs_f64()),
    })
}
