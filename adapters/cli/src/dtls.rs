//! `pigeon dtls server|client`: pigeon's DTLS 1.2 on a real UDP socket, for trying it by hand
//! against `openssl s_client -dtls1_2` / `openssl s_server -dtls1_2` or another pigeon.
//!
//! Each side makes a fresh self-signed ECDSA P-256 certificate at start and logs its
//! fingerprint (the form SDP's `a=fingerprint` carries). Authentication is mutual, as in
//! WebRTC (RFC 8827 §6.5): the server always requests the client's certificate. With
//! `--expect-fingerprint` the peer's certificate must match it (RFC 8122 §5); without, any
//! certificate is accepted and its fingerprint is logged, which authenticates nothing until
//! someone compares it by hand.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use pigeon::dtls::{Dtls, DtlsCertificate, DtlsConfig, DtlsEvent, Fingerprint};
use pigeon_tokio::{Events, Handle};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Options of `pigeon dtls`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    role: Role,
}

#[derive(Debug, clap::Subcommand)]
enum Role {
    /// Accept DTLS clients one after the other and echo their application data back.
    Server(ServerArgs),
    /// Connect, send each stdin line as one record, print what comes back on stdout.
    Client(ClientArgs),
}

#[derive(Debug, clap::Args)]
struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:4444")]
    listen: SocketAddr,
    /// The client certificate's fingerprint, e.g. "sha-256 AB:CD:..". A client certificate is
    /// always required; without this option any one is accepted and its fingerprint logged.
    #[arg(long)]
    expect_fingerprint: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ClientArgs {
    /// The server (HOST:PORT).
    #[arg(long)]
    connect: String,
    /// The server certificate's fingerprint, e.g. "sha-256 AB:CD:..". Without it any server
    /// certificate is accepted and its fingerprint logged.
    #[arg(long)]
    expect_fingerprint: Option<String>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let runtime = crate::runtime().map_err(|e| format!("cannot start the runtime: {e}"))?;
    match args.role {
        Role::Server(args) => runtime.block_on(serve(args)),
        Role::Client(args) => runtime.block_on(connect(args)),
    }
}

/// Accepts the SDP form (`sha-256 AB:..`), OpenSSL's `sha256 Fingerprint=AB:..` and bare
/// colon-separated SHA-256 hex.
fn parse_fingerprint(text: &str) -> Result<Fingerprint, String> {
    let text = text.trim();
    let hex = text.rsplit(['=', ' ']).next().unwrap_or(text);
    Fingerprint::parse(text)
        .or_else(|| Fingerprint::parse(&format!("sha-256 {hex}")))
        .ok_or_else(|| {
            format!("--expect-fingerprint: cannot parse {text:?} (want \"sha-256 AB:CD:..\")")
        })
}

/// `expected_fingerprint: None` is the core's "accept any certificate (and report its
/// fingerprint)". The server requests the client's certificate either way, so a peer always
/// proves it holds the key of the certificate whose fingerprint is logged.
fn config(expect: Option<&str>) -> Result<DtlsConfig, String> {
    let expected_fingerprint = expect.map(parse_fingerprint).transpose()?;
    if expected_fingerprint.is_none() {
        warn!(
            "no --expect-fingerprint: any peer certificate is accepted; compare the logged \
             peer_fingerprint by hand to authenticate the peer"
        );
    }
    Ok(DtlsConfig {
        require_client_certificate: true,
        expected_fingerprint,
        ..DtlsConfig::default()
    })
}

fn log_connected(event: &DtlsEvent, peer: Option<SocketAddr>) {
    if let DtlsEvent::Connected {
        cipher_suite,
        srtp_profile,
        peer_fingerprint,
    } = event
    {
        let srtp = srtp_profile.map_or("none", |p| p.name());
        info!(
            peer = ?peer,
            suite = ?cipher_suite,
            srtp_profile = srtp,
            peer_fingerprint = %peer_fingerprint,
            "connected"
        );
    }
}

async fn serve(args: ServerArgs) -> Result<ExitCode, String> {
    let config = config(args.expect_fingerprint.as_deref())?;
    let mut rng = crate::rng::os_seeded_rng()?;
    let certificate = DtlsCertificate::generate(&mut rng, "pigeon");
    let socket = UdpSocket::bind(args.listen)
        .await
        .map_err(|e| format!("cannot bind {}: {e}", args.listen))?;
    let local = socket
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    info!(fingerprint = %certificate.fingerprint(), "certificate");
    info!(%local, "listening");
    let server = Dtls::server(config.clone(), certificate.clone(), rng, local);
    let (handle, mut events, task) = pigeon_tokio::spawn(server, vec![socket])
        .map_err(|e| format!("cannot start the driver: {e}"))?;
    loop {
        tokio::select! {
            event = events.next_event() => {
                let Some(event) = event else { break };
                match event {
                    DtlsEvent::Connected { .. } => {
                        let peer = handle.command(|d: &mut Dtls, _| d.remote()).await.ok().flatten();
                        log_connected(&event, peer);
                    }
                    DtlsEvent::ApplicationData(data) => {
                        info!(bytes = data.len(), "echoing");
                        let sent = handle.command(move |d: &mut Dtls, now| d.send(now, &data)).await;
                        if let Ok(Err(error)) = sent {
                            warn!(%error, "echo not sent");
                        }
                    }
                    DtlsEvent::Closed | DtlsEvent::Failed(_) => {
                        match &event {
                            DtlsEvent::Failed(error) => warn!(%error, "connection failed"),
                            _ => info!("connection closed"),
                        }
                        // One Dtls serves one peer: the next client gets a fresh one with the
                        // same certificate, so the logged fingerprint stays valid.
                        let next = Dtls::server(
                            config.clone(),
                            certificate.clone(),
                            crate::rng::os_seeded_rng()?,
                            local,
                        );
                        let _ = handle.command(move |d: &mut Dtls, _| *d = next).await;
                        info!("waiting for the next client");
                    }
                }
            }
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted, shutting down");
                break;
            }
        }
    }
    shutdown(&handle, task).await
}

async fn connect(args: ClientArgs) -> Result<ExitCode, String> {
    let config = config(args.expect_fingerprint.as_deref())?;
    let remote = tokio::net::lookup_host(&args.connect)
        .await
        .map_err(|e| format!("cannot resolve {}: {e}", args.connect))?
        .next()
        .ok_or_else(|| format!("{} resolved to no address", args.connect))?;
    let bind: SocketAddr = if remote.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(bind)
        .await
        .map_err(|e| format!("cannot bind {bind}: {e}"))?;
    let local = socket
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    let mut rng = crate::rng::os_seeded_rng()?;
    let certificate = DtlsCertificate::generate(&mut rng, "pigeon");
    info!(fingerprint = %certificate.fingerprint(), "certificate");
    let client = Dtls::client(config, certificate, rng, local, remote);
    let (handle, mut events, task) = pigeon_tokio::spawn(client, vec![socket])
        .map_err(|e| format!("cannot start the driver: {e}"))?;
    // Sends the first ClientHello now rather than at the driver's first deadline check.
    let _ = handle
        .command(|d: &mut Dtls, now| pigeon::Machine::handle_timeout(d, now))
        .await;
    info!(%remote, "connecting");
    let code = client_loop(&handle, &mut events, stdin_lines()).await;
    shutdown(&handle, task).await?;
    Ok(code)
}

/// stdin is blocking: a thread reads it and hands lines over; the channel closes at EOF.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

async fn client_loop(
    handle: &Handle<Dtls>,
    events: &mut Events<DtlsEvent>,
    mut lines: mpsc::UnboundedReceiver<String>,
) -> ExitCode {
    let mut connected = false;
    let mut stdin_open = true;
    // After stdin's EOF: when to send close_notify, leaving time for the last echoes.
    let mut close_at: Option<tokio::time::Instant> = None;
    // Lines typed before the handshake finished wait here.
    let mut pending: Vec<Vec<u8>> = Vec::new();
    loop {
        tokio::select! {
            event = events.next_event() => {
                let Some(event) = event else { return ExitCode::FAILURE };
                match event {
                    DtlsEvent::Connected { .. } => {
                        let peer = handle.command(|d: &mut Dtls, _| d.remote()).await.ok().flatten();
                        log_connected(&event, peer);
                        connected = true;
                        for data in pending.drain(..) {
                            send(handle, data).await;
                        }
                        if !stdin_open {
                            close_at = Some(tokio::time::Instant::now() + LINGER);
                        }
                    }
                    DtlsEvent::ApplicationData(data) => {
                        let mut stdout = std::io::stdout().lock();
                        let _ = stdout.write_all(&data);
                        let _ = stdout.flush();
                    }
                    DtlsEvent::Closed => {
                        info!("connection closed by the peer");
                        return ExitCode::SUCCESS;
                    }
                    DtlsEvent::Failed(error) => {
                        warn!(%error, "connection failed");
                        return ExitCode::FAILURE;
                    }
                }
            }
            line = lines.recv(), if stdin_open => match line {
                Some(line) => {
                    let data = format!("{line}\n").into_bytes();
                    if connected {
                        send(handle, data).await;
                    } else {
                        pending.push(data);
                    }
                }
                None => {
                    stdin_open = false;
                    if connected {
                        close_at = Some(tokio::time::Instant::now() + LINGER);
                    }
                }
            },
            () = tokio::time::sleep_until(close_at.unwrap_or_else(tokio::time::Instant::now)), if close_at.is_some() => {
                close(handle).await;
                return ExitCode::SUCCESS;
            }
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted, closing");
                close(handle).await;
                return ExitCode::SUCCESS;
            }
        }
    }
}

async fn send(handle: &Handle<Dtls>, data: Vec<u8>) {
    if let Ok(Err(error)) = handle
        .command(move |d: &mut Dtls, now| d.send(now, &data))
        .await
    {
        warn!(%error, "line not sent");
    }
}

/// How long the client waits after stdin's end for the answers to its last lines.
const LINGER: Duration = Duration::from_millis(500);

/// Sends close_notify.
async fn close(handle: &Handle<Dtls>) {
    let _ = handle.command(|d: &mut Dtls, now| d.close(now)).await;
}

async fn shutdown(
    handle: &Handle<Dtls>,
    task: tokio::task::JoinHandle<std::io::Result<Dtls>>,
) -> Result<ExitCode, String> {
    let stats = handle.command(|d: &mut Dtls, _| d.stats()).await.ok();
    let _ = handle.shutdown().await;
    match task.await {
        Ok(Ok(_)) => {
            if let Some(stats) = stats {
                info!(?stats, "final counters");
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(error)) => Err(format!("socket failed: {error}")),
        Err(error) => Err(format!("driver task failed: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_fingerprint;

    #[test]
    fn fingerprint_forms() {
        let hex = "AB:7B:E0:A0:39:91:B7:43:07:6D:4A:86:35:51:E1:8E:FE:F6:3F:64:73:DE:FA:E3:BC:DA:EE:D3:12:A8:91:14";
        let sdp = parse_fingerprint(&format!("sha-256 {hex}")).unwrap();
        assert_eq!(sdp.to_string(), format!("sha-256 {hex}"));
        assert_eq!(
            parse_fingerprint(&format!("sha256 Fingerprint={hex}")).unwrap(),
            sdp
        );
        assert_eq!(parse_fingerprint(hex).unwrap(), sdp);
        assert!(parse_fingerprint("sha-256 AB:CD").is_err());
    }
}
