//! `pigeon dht`: a BitTorrent mainline DHT node (BEP 5, 42, 43, 44) on a real UDP socket.
//!
//! Without a subcommand it runs a node until interrupted. With one (`get-peers`, `announce`,
//! `put`, `get`) it joins through `--bootstrap`, does that one thing, prints the result on
//! stdout and progress on stderr, and exits.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use pigeon::dht::persist::SavedState;
use pigeon::dht::{DhtConfig, DhtEvent, DhtNode, Item, LookupResult, MutableItem, NodeId, QueryId};
use pigeon_tokio::{Events, Handle};
use tokio::net::UdpSocket;
use tracing::{info, warn};

/// Options of `pigeon dht`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "0.0.0.0:0")]
    listen: SocketAddr,
    /// Nodes to join through (HOST:PORT), e.g. router.bittorrent.com:6881.
    #[arg(long)]
    bootstrap: Vec<String>,
    /// Keep the node id and routing table in this file: read at start, written at exit.
    #[arg(long)]
    state: Option<std::path::PathBuf>,
    /// Give up on a command after this many seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Faster lookups for more traffic and memory (`DhtConfig::low_latency`: alpha 5,
    /// buckets of at least 4k nodes).
    #[arg(long)]
    low_latency: bool,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Look up peers for an info-hash (40 hex digits).
    GetPeers {
        /// The info-hash.
        info_hash: String,
    },
    /// Announce this host as a peer for an info-hash.
    Announce {
        /// The info-hash.
        info_hash: String,
        /// The port peers should connect to (default: the DHT socket's port, implied_port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Stay running and announce again every 15 minutes (before peer stores forget)
        /// until Ctrl-C.
        #[arg(long)]
        keep: bool,
    },
    /// Store a value (BEP 44): immutable, or mutable with --key, --seq and --salt.
    Put {
        /// The value, stored as a bencoded string.
        value: String,
        /// Mutable item: the ed25519 seed (64 hex digits) to sign with.
        #[arg(long)]
        key: Option<String>,
        /// Mutable item: the salt.
        #[arg(long, default_value = "")]
        salt: String,
        /// Mutable item: the sequence number.
        #[arg(long, default_value_t = 1)]
        seq: i64,
        /// Stay running and put the item again every hour (BEP 44 nodes forget items after
        /// 2 hours) until Ctrl-C.
        #[arg(long)]
        keep: bool,
    },
    /// Fetch a value (BEP 44) by its target (40 hex digits, as `put` prints it).
    Get {
        /// The target.
        target: String,
        /// The salt a mutable item was stored with.
        #[arg(long, default_value = "")]
        salt: String,
    },
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let runtime = crate::runtime().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(main(args))
}

fn parse_hex<const N: usize>(text: &str, what: &str) -> Result<[u8; N], String> {
    let text = text.trim();
    let bad = || format!("{what}: want {} hex digits, got {text:?}", N * 2);
    if text.len() != N * 2 || !text.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A value as people typed it: a bencoded byte string.
fn bencode_string(text: &str) -> Vec<u8> {
    let mut out = format!("{}:", text.len()).into_bytes();
    out.extend_from_slice(text.as_bytes());
    out
}

/// A bencoded value for people: a byte string's contents, anything else as bencode.
fn show_value(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    match text.split_once(':') {
        Some((len, rest)) if len.parse::<usize>().ok() == Some(rest.len()) => rest.to_owned(),
        _ => text.into_owned(),
    }
}

async fn resolve(names: &[String]) -> Result<Vec<SocketAddr>, String> {
    let mut out = Vec::new();
    for name in names {
        let addr = tokio::net::lookup_host(name)
            .await
            .map_err(|e| format!("cannot resolve --bootstrap {name}: {e}"))?
            .find(SocketAddr::is_ipv4)
            .ok_or_else(|| format!("--bootstrap {name} has no IPv4 address"))?;
        out.push(addr);
    }
    Ok(out)
}

fn read_state(path: Option<&std::path::Path>) -> Result<Option<SavedState>, String> {
    let Some(path) = path else { return Ok(None) };
    match std::fs::read(path) {
        Ok(bytes) => SavedState::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e} (delete the file to start afresh)", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

async fn main(args: Args) -> Result<ExitCode, String> {
    let seeds = resolve(&args.bootstrap).await?;
    let saved = read_state(args.state.as_deref())?;
    if args.action.is_some() && seeds.is_empty() && saved.is_none() {
        return Err("no --bootstrap node (and no --state): give one, e.g. \
                    --bootstrap router.bittorrent.com:6881"
            .into());
    }
    let socket = UdpSocket::bind(args.listen)
        .await
        .map_err(|e| format!("cannot bind {}: {e}", args.listen))?;
    let local = socket
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    let mut config = DhtConfig::new(local);
    if args.low_latency {
        config = config.low_latency();
    }
    // A node on the internet takes a BEP 42 id once the votes settle on its external IP.
    config.rederive_id = true;
    let node = DhtNode::new(config, crate::rng::os_seeded_rng()?);
    let (handle, mut events, task) = pigeon_tokio::spawn(node, vec![socket])
        .map_err(|e| format!("cannot start the driver: {e}"))?;
    info!(%local, "listening");
    let join = match saved {
        Some(state) => {
            info!(
                nodes = state.nodes.len(),
                "restoring the saved routing table"
            );
            call(&handle, move |n, now| n.restore(now, &state, &seeds)).await?
        }
        None => call(&handle, move |n, now| n.bootstrap(now, &seeds)).await?,
    };
    let code = match args.action {
        None => serve(&handle, &mut events).await,
        Some(action) => {
            let keep = matches!(
                action,
                Action::Put { keep: true, .. } | Action::Announce { keep: true, .. }
            );
            let limit = Duration::from_secs(args.timeout);
            match tokio::time::timeout(limit, one_shot(&handle, &mut events, join, action)).await {
                Ok(Ok(first)) if keep => {
                    if first != ExitCode::SUCCESS {
                        eprintln!(
                            "pigeon: the first attempt reached no node; trying again on schedule"
                        );
                    }
                    eprintln!("keeping it published until Ctrl-C");
                    serve(&handle, &mut events).await
                }
                Ok(result) => result?,
                Err(_) => {
                    eprintln!("pigeon: no answer within {} s (--timeout)", args.timeout);
                    ExitCode::FAILURE
                }
            }
        }
    };
    if let Some(path) = &args.state {
        let state = call(&handle, |n, now| n.save(now)).await?;
        std::fs::write(path, state.to_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        info!(nodes = state.nodes.len(), path = %path.display(), "routing table saved");
    }
    let _ = handle.shutdown().await;
    let _ = task.await;
    Ok(code)
}

async fn call<R: Send + 'static>(
    handle: &Handle<DhtNode>,
    f: impl FnOnce(&mut DhtNode, pigeon::Instant) -> R + Send + 'static,
) -> Result<R, String> {
    handle
        .command(f)
        .await
        .map_err(|_| "the DHT driver stopped".to_owned())
}

/// Runs the node until Ctrl-C, logging what happens.
async fn serve(handle: &Handle<DhtNode>, events: &mut Events<DhtEvent>) -> ExitCode {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            event = events.next_event() => match event {
                Some(DhtEvent::Bootstrapped { nodes }) => info!(nodes, "bootstrapped"),
                Some(DhtEvent::ExternalIp { ip, id }) => info!(%ip, id = %hex(&id.0), "external IP voted"),
                Some(DhtEvent::ItemStored { stored, .. }) => info!(stored, "item put again"),
                Some(DhtEvent::Announced { stored, .. }) => info!(stored, "announced again"),
                Some(_) => {}
                None => return ExitCode::FAILURE,
            },
            _ = tick.tick() => {
                if let Ok((stats, nodes)) = handle.command(|n: &mut DhtNode, _| (n.stats(), n.routing_table().len())).await {
                    info!(nodes, queries = stats.queries, responses = stats.responses, malformed = stats.malformed, "status");
                }
            }
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted, shutting down");
                return ExitCode::SUCCESS;
            }
        }
    }
}

/// Waits for the join, starts `action`, reports progress until its result arrives.
async fn one_shot(
    handle: &Handle<DhtNode>,
    events: &mut Events<DhtEvent>,
    join: QueryId,
    action: Action,
) -> Result<ExitCode, String> {
    let _ = join;
    loop {
        match events.next_event().await {
            Some(DhtEvent::Bootstrapped { nodes }) => {
                eprintln!("joined: {nodes} nodes in the routing table");
                break;
            }
            Some(_) => {}
            None => return Err("the DHT driver stopped".into()),
        }
    }
    let query = match action {
        Action::GetPeers { info_hash } => {
            let target = NodeId(parse_hex(&info_hash, "INFOHASH")?);
            call(handle, move |n, now| n.get_peers(now, target)).await?
        }
        Action::Announce {
            info_hash,
            port,
            keep,
        } => {
            let target = NodeId(parse_hex(&info_hash, "INFOHASH")?);
            call(handle, move |n, now| {
                if keep {
                    n.keep_announced(now, target, port)
                        .map_err(|e| format!("cannot keep the announce: {e}"))
                } else {
                    Ok(n.announce(now, target, port))
                }
            })
            .await??
        }
        Action::Put {
            value,
            key,
            salt,
            seq,
            keep,
        } => {
            let item = match key {
                None => Item::Immutable(bencode_string(&value)),
                Some(seed) => {
                    let seed = parse_hex::<32>(&seed, "--key")?;
                    let item = MutableItem::sign_with_seed(
                        &seed,
                        salt.as_bytes(),
                        seq,
                        bencode_string(&value),
                    )
                    .map_err(|e| format!("cannot sign: {e}"))?;
                    println!("public key {}", hex(&item.key));
                    Item::Mutable(item)
                }
            };
            let (query, target) = call(handle, move |n, now| match (item, keep) {
                (item, true) => n.keep_item(now, item).map_err(|e| e.to_string()),
                (Item::Immutable(value), false) => {
                    n.put_immutable(now, value).map_err(|e| e.to_string())
                }
                (Item::Mutable(item), false) => {
                    n.put_mutable(now, item, None).map_err(|e| e.to_string())
                }
            })
            .await?
            .map_err(|e| format!("cannot put: {e}"))?;
            println!("target {}", hex(&target.0));
            query
        }
        Action::Get { target, salt } => {
            let target = NodeId(parse_hex(&target, "TARGET")?);
            call(handle, move |n, now| {
                n.get_item(now, target, salt.as_bytes())
            })
            .await?
        }
    };
    loop {
        let Some(event) = events.next_event().await else {
            return Err("the DHT driver stopped".into());
        };
        match event {
            DhtEvent::Progress {
                query: q,
                responded,
                in_flight,
                closest,
            } if q == query => {
                eprintln!(
                    "lookup: {responded} answered, {in_flight} in flight, closest {}",
                    hex(&closest.0)
                );
            }
            DhtEvent::LookupDone(result) if result.query == query => {
                summary(&result);
                for peer in &result.peers {
                    println!("peer {peer}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            DhtEvent::Announced { result, stored } if result.query == query => {
                summary(&result);
                println!("announced to {stored} nodes");
                return Ok(exit(stored > 0));
            }
            DhtEvent::ItemStored { result, stored } if result.query == query => {
                summary(&result);
                println!("stored on {stored} nodes");
                return Ok(exit(stored > 0));
            }
            DhtEvent::ItemFound { result, item } if result.query == query => {
                summary(&result);
                match &item {
                    Some(Item::Immutable(v)) => println!("value {}", show_value(v)),
                    Some(Item::Mutable(m)) => {
                        println!("seq {}", m.seq);
                        println!("value {}", show_value(&m.value));
                    }
                    None => warn!("no node had the item"),
                }
                return Ok(exit(item.is_some()));
            }
            _ => {}
        }
    }
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn summary(result: &LookupResult) {
    eprintln!(
        "done in {} ms: {} queries, {} closest nodes",
        result.elapsed.as_millis(),
        result.messages,
        result.closest.len()
    );
}
