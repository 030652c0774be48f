//! The serving loop shared by the long-running server subcommands: bind the machine's sockets,
//! drive it in a tokio task, log its events and counters, stop cleanly on Ctrl-C.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use pigeon::Machine;
use tokio::net::UdpSocket;
use tracing::info;

/// Binds one UDP socket per address, in order.
pub(crate) async fn bind_all(addresses: &[SocketAddr]) -> Result<Vec<UdpSocket>, String> {
    let mut sockets = Vec::with_capacity(addresses.len());
    for &address in addresses {
        let socket = UdpSocket::bind(address)
            .await
            .map_err(|e| format!("cannot bind {address}: {e}"))?;
        sockets.push(socket);
    }
    Ok(sockets)
}

/// How a server subcommand wants its machine watched.
pub(crate) struct Watch<M: Machine, S> {
    /// Print counters every this many seconds (0: never), and once at the end.
    pub(crate) stats_every: u64,
    /// Reads the machine's counters.
    pub(crate) stats: fn(&M) -> S,
    /// Logs one event.
    pub(crate) log_event: fn(&M::Event),
}

/// Drives `machine` over `sockets` until Ctrl-C or a socket failure.
pub(crate) async fn serve<M, S>(
    machine: M,
    sockets: Vec<UdpSocket>,
    watch: Watch<M, S>,
) -> Result<ExitCode, String>
where
    M: Machine + Send + 'static,
    M::Event: Send + 'static,
    S: Debug + Send + 'static,
{
    let (handle, mut events, task) = pigeon_tokio::spawn(machine, sockets)
        .map_err(|e| format!("cannot start the driver: {e}"))?;
    let stats = watch.stats;
    let mut ticker = tokio::time::interval(Duration::from_secs(watch.stats_every.max(1)));
    ticker.tick().await;
    loop {
        tokio::select! {
            event = events.next_event() => match event {
                Some(event) => (watch.log_event)(&event),
                None => break,
            },
            _ = ticker.tick(), if watch.stats_every > 0 => {
                if let Ok(counters) = handle.command(move |m: &mut M, _| stats(m)).await {
                    info!(?counters, "counters");
                }
            }
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted, shutting down");
                break;
            }
        }
    }
    let last = handle.command(move |m: &mut M, _| stats(m)).await.ok();
    let _ = handle.shutdown().await;
    match task.await {
        Ok(Ok(_)) => {
            if let Some(counters) = last {
                info!(?counters, "final counters");
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(error)) => Err(format!("socket failed: {error}")),
        Err(error) => Err(format!("driver task failed: {error}")),
    }
}
