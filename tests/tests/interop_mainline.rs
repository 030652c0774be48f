//! DHT interop with the `mainline` crate, a BitTorrent DHT nobody here wrote (see
//! shared/INTEROP.md): a testnet of mainline nodes on 127.0.0.1 and a pigeon node driven by
//! the tokio adapter.
//!
//! - pigeon bootstraps from the mainline nodes; a mainline node that knows only pigeon
//!   bootstraps through it (pigeon answers its queries);
//! - announce_peer / get_peers both ways;
//! - BEP 44 put / get of immutable and mutable items both ways.
//!
//! Run by `tests/run` inside a loopback-only network namespace. mainline is a dev-dependency
//! of this crate, so nothing can be missing at run time: every step below must succeed.
#![cfg(feature = "interop")]

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use mainline::{Dht, Id, SigningKey, Testnet};
use pigeon::dht::{DhtConfig, DhtEvent, DhtNode, Item, LookupResult, MutableItem, NodeId};
use pigeon_tokio::{Events, Handle};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tokio::net::UdpSocket;

const WAIT: Duration = Duration::from_secs(20);

/// Waits for the first event `pick` accepts.
async fn wait_for<T>(
    what: &str,
    events: &mut Events<DhtEvent>,
    mut pick: impl FnMut(DhtEvent) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            let event = events.next_event().await.expect("pigeon driver stopped");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .unwrap_or_else(|_| panic!("{what}: pigeon reported nothing within 20 s"))
}

async fn command<R: Send + 'static>(
    handle: &Handle<DhtNode>,
    f: impl FnOnce(&mut DhtNode, pigeon::Instant) -> R + Send + 'static,
) -> R {
    handle.command(f).await.expect("pigeon driver stopped")
}

/// A byte string as BEP 44 `v`: mainline stores values as bencoded strings.
fn bstr(value: &[u8]) -> Vec<u8> {
    let mut out = format!("{}:", value.len()).into_bytes();
    out.extend_from_slice(value);
    out
}

/// mainline's get_peers is a stream; its blocking form is the only one usable without a
/// `Stream` trait here, hence the deprecated call on a blocking thread.
async fn mainline_get_peers(dht: &Dht, info_hash: Id) -> Vec<SocketAddrV4> {
    let dht = dht.clone();
    tokio::task::spawn_blocking(move || {
        #[allow(deprecated)]
        let peers: Vec<SocketAddrV4> = dht.get_peers(info_hash).flatten().collect();
        peers
    })
    .await
    .expect("get_peers thread")
}

#[test]
fn pigeon_and_mainline_interoperate() {
    let testnet = Testnet::builder(8)
        .build()
        .expect("mainline testnet on 127.0.0.1");
    let seeds: Vec<SocketAddr> = testnet
        .bootstrap
        .iter()
        .map(|s| s.parse().expect("testnet address"))
        .collect();
    assert!(seeds.iter().all(|s| s.ip().is_loopback()), "{seeds:?}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let local = socket.local_addr().expect("local address");
        let node = DhtNode::new(
            DhtConfig::new(local),
            Box::new(ChaCha20Rng::seed_from_u64(44)),
        );
        let (handle, mut events, _task) = pigeon_tokio::spawn(node, vec![socket]).expect("driver");

        // pigeon bootstraps from the mainline nodes.
        command(&handle, move |n, now| n.bootstrap(now, &seeds)).await;
        let nodes = wait_for("bootstrap", &mut events, |e| match e {
            DhtEvent::Bootstrapped { nodes } => Some(nodes),
            _ => None,
        })
        .await;
        assert!(nodes >= 5, "pigeon's table after bootstrap: {nodes}");

        // A mainline node that knows only pigeon joins through it.
        let joiner = Dht::builder()
            .bootstrap(&[local.to_string()])
            .bind_address(Ipv4Addr::LOCALHOST)
            .server_mode()
            .build()
            .expect("mainline node")
            .as_async();
        assert!(
            joiner.bootstrapped().await,
            "mainline joined through pigeon"
        );
        let found = joiner.find_node(Id::random()).await;
        assert!(
            found.len() >= 5,
            "mainline found {} nodes via pigeon",
            found.len()
        );
        let answered = command(&handle, |n, _| n.stats().queries).await;
        assert!(answered > 0, "pigeon answered mainline's queries");

        let mainline = testnet.nodes[3].clone().as_async();

        // announce from pigeon, get_peers from mainline.
        let hash_a = [0xa1; 20];
        let query = command(&handle, move |n, now| n.announce(now, NodeId(hash_a), 4444)).await;
        let stored = wait_for("announce to mainline", &mut events, |e| match e {
            DhtEvent::Announced { result, stored } if result.query == query => Some(stored),
            _ => None,
        })
        .await;
        assert!(
            stored >= 4,
            "mainline nodes stored pigeon's announce: {stored}"
        );
        let peers = mainline_get_peers(&testnet.nodes[5], Id::from_bytes(hash_a).unwrap()).await;
        assert!(
            peers.contains(&SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4444)),
            "mainline get_peers: {peers:?}"
        );

        // announce from mainline, get_peers from pigeon.
        let hash_b = [0xb2; 20];
        mainline
            .announce_peer(Id::from_bytes(hash_b).unwrap(), Some(5555))
            .await
            .expect("mainline announce");
        let query = command(&handle, move |n, now| n.get_peers(now, NodeId(hash_b))).await;
        let result: LookupResult = wait_for("get_peers from pigeon", &mut events, |e| match e {
            DhtEvent::LookupDone(r) if r.query == query => Some(r),
            _ => None,
        })
        .await;
        assert!(
            result.peers.contains(&"127.0.0.1:5555".parse().unwrap()),
            "pigeon get_peers: {:?}",
            result.peers
        );

        // BEP 44 immutable: mainline puts, pigeon gets.
        let target = mainline
            .put_immutable(b"hello from mainline")
            .await
            .expect("mainline put_immutable");
        let target_bytes = *target.as_bytes();
        let query = command(&handle, move |n, now| {
            n.get_item(now, NodeId(target_bytes), b"")
        })
        .await;
        let item = wait_for(
            "get immutable from mainline's put",
            &mut events,
            |e| match e {
                DhtEvent::ItemFound { result, item } if result.query == query => Some(item),
                _ => None,
            },
        )
        .await;
        assert_eq!(item, Some(Item::Immutable(bstr(b"hello from mainline"))));

        // BEP 44 immutable: pigeon puts, mainline gets.
        let (query, target) = command(&handle, |n, now| {
            n.put_immutable(now, bstr(b"hello from pigeon"))
        })
        .await
        .expect("a valid value");
        let stored = wait_for("put immutable", &mut events, |e| match e {
            DhtEvent::ItemStored { result, stored } if result.query == query => Some(stored),
            _ => None,
        })
        .await;
        assert!(stored >= 4, "mainline nodes stored pigeon's item: {stored}");
        let got = mainline
            .get_immutable(Id::from_bytes(target.0).unwrap())
            .await
            .expect("mainline found pigeon's immutable item");
        assert_eq!(&got[..], b"hello from pigeon");

        // BEP 44 mutable: pigeon puts (seq 1, then 2), mainline gets the latest.
        let seed = [0x5e; 32];
        let signed = |seq, v: &[u8]| {
            MutableItem::sign_with_seed(&seed, b"salt", seq, bstr(v)).expect("signed")
        };
        for (seq, value) in [(1, &b"pigeon v1"[..]), (2, b"pigeon v2")] {
            let item = signed(seq, value);
            let (query, _) = command(&handle, move |n, now| n.put_mutable(now, item, None))
                .await
                .expect("a valid item");
            let stored = wait_for("put mutable", &mut events, |e| match e {
                DhtEvent::ItemStored { result, stored } if result.query == query => Some(stored),
                _ => None,
            })
            .await;
            assert!(stored >= 4, "seq {seq} stored on {stored}");
        }
        let key = signed(2, b"pigeon v2").key;
        let latest = mainline
            .get_mutable_most_recent(&key, Some(b"salt"))
            .await
            .expect("mainline found pigeon's mutable item");
        assert_eq!((latest.seq(), latest.value()), (2, &b"pigeon v2"[..]));

        // BEP 44 mutable: mainline puts, pigeon gets and checks the signature.
        let signer = SigningKey::from_bytes(&[0x77; 32]);
        let item = mainline::MutableItem::new(signer, b"mainline v7", 7, Some(b"s"));
        let target = *item.target().as_bytes();
        mainline
            .put_mutable(item, None)
            .await
            .expect("mainline put_mutable");
        let query = command(&handle, move |n, now| n.get_item(now, NodeId(target), b"s")).await;
        let item = wait_for(
            "get mutable from mainline's put",
            &mut events,
            |e| match e {
                DhtEvent::ItemFound { result, item } if result.query == query => Some(item),
                _ => None,
            },
        )
        .await;
        let Some(Item::Mutable(item)) = item else {
            panic!("pigeon found no mutable item: {item:?}");
        };
        assert_eq!((item.seq, &item.value[..]), (7, &bstr(b"mainline v7")[..]));
        assert!(item.verify());

        let stats = command(&handle, |n, _| n.stats()).await;
        assert_eq!(
            stats.malformed, 0,
            "every mainline datagram decoded: {stats:?}"
        );
        let _ = handle.shutdown().await;
    });
}
