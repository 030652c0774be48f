//! DhtNode machines wired together in memory on virtual time.

use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::krpc::{self, Body};
use super::mem_net::MemNet;
use super::*;
use crate::io::{Datagram, Machine};

type Net = MemNet<DhtNode>;

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([100, 64, (i / 250) as u8, (i % 250) as u8 + 1], 6881))
}

/// `n` nodes 10 ms apart from each other, seeded from `seed`.
fn network(n: usize, seed: u64) -> Net {
    let mut net = MemNet::new(Duration::from_millis(10));
    for i in 0..n {
        let config = DhtConfig::new(addr(i));
        let rng = ChaCha20Rng::seed_from_u64(seed * 1000 + i as u64);
        net.add(DhtNode::new(config, Box::new(rng)), &[addr(i)]);
    }
    net
}

impl Net {
    fn bootstrap_all(&mut self) {
        for i in 1..self.nodes.len() {
            self.command(i, |n, now| n.bootstrap(now, &[addr(0)]));
            self.run_for(Duration::from_millis(50));
        }
        self.run_for(Duration::from_secs(10));
    }
}

#[test]
fn ping_and_pong() {
    let mut net = network(2, 1);
    let q = net.command(0, |n, now| n.ping(now, addr(1)));
    net.run_for(Duration::from_secs(1));
    let id1 = net.nodes[1].id();
    assert_eq!(
        net.events[0],
        vec![DhtEvent::Pong {
            query: q,
            addr: addr(1),
            id: Some(id1)
        }]
    );
    // The pinged node learnt about the pinger from its query, the pinger from the answer.
    assert!(net.nodes[0].routing_table().get(&id1).is_some());
    assert_eq!(net.nodes[1].stats().queries, 1);
    // A ping to nobody times out after the initial timeout.
    let q = net.command(0, |n, now| n.ping(now, "203.0.113.1:1".parse().unwrap()));
    net.run_for(Duration::from_secs(3));
    assert_eq!(
        net.events[0][1],
        DhtEvent::Pong {
            query: q,
            addr: "203.0.113.1:1".parse().unwrap(),
            id: None
        }
    );
    assert_eq!(net.nodes[0].stats().timeouts, 1);
}

#[test]
fn lookups_find_the_true_closest_nodes() {
    let mut net = network(60, 2);
    net.bootstrap_all();
    let ids: Vec<NodeId> = net.nodes.iter().map(DhtNode::id).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    for round in 0..20 {
        let target = NodeId::random(&mut rng);
        let from = 1 + round % 59;
        let q = net.command(from, |n, now| n.find_node(now, target));
        net.run_for(Duration::from_secs(5));
        let done = net.events[from].iter().find_map(|e| match e {
            DhtEvent::LookupDone(r) if r.query == q => Some(r.clone()),
            _ => None,
        });
        let result = done.expect("lookup finished");
        let mut truth: Vec<NodeId> = ids.iter().copied().filter(|id| *id != ids[from]).collect();
        truth.sort_by(|a, b| target.cmp_distance(a, b));
        let got: Vec<NodeId> = result.closest.iter().map(|n| n.id).collect();
        assert_eq!(got, truth[..8], "round {round}");
        assert!(result.messages >= 8 && result.hops >= 1);
    }
}

#[test]
fn a_lookup_started_while_bootstrapping_uses_the_bootstrap_answers() {
    let mut net = network(30, 4);
    for i in 1..29 {
        net.command(i, |n, now| n.bootstrap(now, &[addr(0)]));
        net.run_for(Duration::from_millis(50));
    }
    net.run_for(Duration::from_secs(10));
    // Node 29 joins and looks up at once, its table still empty.
    let target = net.nodes[7].id();
    net.command(29, |n, now| n.bootstrap(now, &[addr(0)]));
    let q = net.command(29, |n, now| n.find_node(now, target));
    assert!(net.nodes[29].routing_table().is_empty());
    assert!(net.events[29].is_empty(), "nothing ends before an answer");
    net.run_for(Duration::from_secs(5));
    let result = net.events[29]
        .iter()
        .find_map(|e| match e {
            DhtEvent::LookupDone(r) if r.query == q => Some(r.clone()),
            _ => None,
        })
        .expect("lookup finished");
    assert_eq!(result.closest.first().map(|n| n.id), Some(target));
    // Without a bootstrap running, an empty table still ends a lookup at once, empty.
    let mut lone = network(1, 5);
    let q = lone.command(0, |n, now| n.find_node(now, target));
    assert!(
        matches!(&lone.events[0][..], [DhtEvent::LookupDone(r)] if r.query == q && r.closest.is_empty())
    );
}

#[test]
fn announce_then_get_peers_from_another_node() {
    let mut net = network(40, 3);
    net.bootstrap_all();
    let info_hash = NodeId([0x5a; 20]);
    let q = net.command(7, |n, now| n.announce(now, info_hash, 51413));
    net.run_for(Duration::from_secs(5));
    let stored = net.events[7].iter().find_map(|e| match e {
        DhtEvent::Announced { result, stored } if result.query == q => Some(*stored),
        _ => None,
    });
    assert!(stored.is_some_and(|s| s >= 6), "{stored:?}");
    let q = net.command(30, |n, now| n.get_peers(now, info_hash));
    net.run_for(Duration::from_secs(5));
    let peers = net.events[30].iter().find_map(|e| match e {
        DhtEvent::LookupDone(r) if r.query == q => Some(r.peers.clone()),
        _ => None,
    });
    assert_eq!(peers, Some(vec![SocketAddr::new(addr(7).ip(), 51413)]));
    // implied_port: the announcing socket's port is stored.
    let q = net.command(8, |n, now| n.announce(now, info_hash, 0));
    net.run_for(Duration::from_secs(5));
    assert!(
        net.events[8]
            .iter()
            .any(|e| matches!(e, DhtEvent::Announced { result, .. } if result.query == q))
    );
    let q = net.command(31, |n, now| n.get_peers(now, info_hash));
    net.run_for(Duration::from_secs(5));
    let peers = net.events[31].iter().find_map(|e| match e {
        DhtEvent::LookupDone(r) if r.query == q => Some(r.peers.clone()),
        _ => None,
    });
    assert!(peers.unwrap().contains(&addr(8)));
}

/// Sends `payload` to node 0 from `from` and returns its decoded answer, if any.
fn ask(net: &mut Net, from: SocketAddr, payload: &[u8]) -> Option<Vec<u8>> {
    let d = Datagram {
        source: from,
        destination: addr(0),
        payload,
    };
    net.nodes[0].handle_datagram(net.now, d);
    net.nodes[0].poll_transmit().map(|t| t.payload)
}

#[test]
fn bad_tokens_unknown_methods_and_garbage() {
    let mut net = network(1, 4);
    let from: SocketAddr = "198.51.100.9:7000".parse().unwrap();
    let announce = b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
    let answer = ask(&mut net, from, announce).unwrap();
    match krpc::decode(&answer).unwrap().body {
        Body::Error(e) => assert_eq!(e.code, krpc::ERROR_PROTOCOL),
        other => panic!("{other:?}"),
    }
    assert_eq!(net.nodes[0].stats().bad_tokens, 1);
    let unknown = b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:ab1:y1:qe";
    let answer = ask(&mut net, from, unknown).unwrap();
    let decoded = krpc::decode(&answer).unwrap();
    assert_eq!(decoded.transaction_id, b"ab");
    assert_eq!(decoded.ip, Some(from), "BEP 42 ip field");
    assert!(matches!(decoded.body, Body::Error(e) if e.code == krpc::ERROR_METHOD_UNKNOWN));
    for garbage in [
        &b""[..],
        b"d1:t2:aa1:y1:qe",
        b"i1e",
        b"\xff\x00",
        &[b'l'; 100],
    ] {
        assert!(ask(&mut net, from, garbage).is_none());
    }
    assert_eq!(net.nodes[0].stats().malformed, 5);
    // A response nobody asked for is counted, not acted on.
    assert!(
        ask(
            &mut net,
            from,
            b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t4:abcd1:y1:re"
        )
        .is_none()
    );
    assert_eq!(net.nodes[0].stats().unexpected, 1);
}

#[test]
fn get_peers_token_is_accepted_and_rate_limit_applies() {
    let mut net = network(1, 5);
    let from: SocketAddr = "198.51.100.9:7000".parse().unwrap();
    let get = b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
    let answer = ask(&mut net, from, get).unwrap();
    let token = match krpc::decode(&answer).unwrap().body {
        Body::Response(r) => r.token.unwrap().to_vec(),
        other => panic!("{other:?}"),
    };
    let mut announce =
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:"
            .to_vec();
    announce.extend_from_slice(&token);
    announce.extend_from_slice(b"e1:q13:announce_peer1:t2:aa1:y1:qe");
    let answer = ask(&mut net, from, &announce).unwrap();
    assert!(matches!(
        krpc::decode(&answer).unwrap().body,
        Body::Response(_)
    ));
    // The same token from another IP is refused.
    let answer = ask(&mut net, "198.51.100.10:7000".parse().unwrap(), &announce).unwrap();
    assert!(matches!(
        krpc::decode(&answer).unwrap().body,
        Body::Error(_)
    ));
    let ping = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
    let answered = (0..100)
        .filter(|_| ask(&mut net, from, ping).is_some())
        .count();
    assert_eq!(answered, 50 - 2, "50 per second per IP, two used above");
    assert_eq!(net.nodes[0].stats().rate_limited, 52);
}

#[test]
fn read_only_nodes_do_not_answer_and_are_not_added() {
    let mut net = network(2, 6);
    let mut config = DhtConfig::new(addr(1));
    config.read_only = true;
    net.nodes[1] = DhtNode::new(config, Box::new(ChaCha20Rng::seed_from_u64(1)));
    let q = net.command(1, |n, now| n.ping(now, addr(0)));
    net.run_for(Duration::from_secs(1));
    assert!(
        net.events[1]
            .iter()
            .any(|e| matches!(e, DhtEvent::Pong { query, id: Some(_), .. } if *query == q))
    );
    assert!(
        net.nodes[0].routing_table().is_empty(),
        "BEP 43: ro queriers stay out"
    );
    net.command(0, |n, now| n.ping(now, addr(1)));
    net.run_for(Duration::from_secs(3));
    assert_eq!(net.nodes[0].stats().timeouts, 1);
}

#[test]
fn same_seed_same_bytes() {
    let run = || {
        let mut net = network(20, 7);
        net.bootstrap_all();
        let q = net.command(3, |n, now| n.find_node(now, NodeId([1; 20])));
        net.run_for(Duration::from_secs(5));
        (
            q,
            net.events.clone(),
            net.nodes.iter().map(DhtNode::stats).collect::<Vec<_>>(),
        )
    };
    assert_eq!(run(), run());
}

fn item_event(net: &Net, i: usize, q: QueryId) -> Option<DhtEvent> {
    net.events[i]
        .iter()
        .find(|e| match e {
            DhtEvent::ItemFound { result, .. } | DhtEvent::ItemStored { result, .. } => {
                result.query == q
            }
            _ => false,
        })
        .cloned()
}

fn stored(net: &Net, i: usize, q: QueryId) -> usize {
    match item_event(net, i, q) {
        Some(DhtEvent::ItemStored { stored, .. }) => stored,
        other => panic!("no ItemStored: {other:?}"),
    }
}

fn found(net: &Net, i: usize, q: QueryId) -> Option<Item> {
    match item_event(net, i, q) {
        Some(DhtEvent::ItemFound { item, .. }) => item,
        other => panic!("no ItemFound: {other:?}"),
    }
}

#[test]
fn bep44_immutable_put_then_get_from_another_node() {
    let mut net = network(40, 8);
    net.bootstrap_all();
    let value = b"12:Hello World!".to_vec();
    let (q, target) = net.command(5, |n, now| n.put_immutable(now, value.clone()).unwrap());
    net.run_for(Duration::from_secs(5));
    assert!(stored(&net, 5, q) >= 6);
    assert_eq!(target, item::immutable_target(&value));
    let q = net.command(30, |n, now| n.get_item(now, target, b""));
    net.run_for(Duration::from_secs(5));
    assert_eq!(found(&net, 30, q), Some(Item::Immutable(value)));
    // Progress is reported while the lookup runs.
    assert!(
        net.events[30]
            .iter()
            .any(|e| matches!(e, DhtEvent::Progress { query, .. } if *query == q))
    );
    // Nothing is stored under another target.
    let q = net.command(31, |n, now| n.get_item(now, NodeId([0x77; 20]), b""));
    net.run_for(Duration::from_secs(5));
    assert_eq!(found(&net, 31, q), None);
}

#[test]
fn bep44_mutable_seq_cas_and_highest_seq_wins() {
    let mut net = network(40, 9);
    net.bootstrap_all();
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let item = |seq: i64, v: &[u8]| MutableItem::sign(&key, b"foobar", seq, v.to_vec()).unwrap();
    let (q, target) = net.command(3, |n, now| {
        n.put_mutable(now, item(1, b"3:one"), None).unwrap()
    });
    net.run_for(Duration::from_secs(5));
    assert!(stored(&net, 3, q) >= 6);
    let (q, _) = net.command(4, |n, now| {
        n.put_mutable(now, item(2, b"3:two"), Some(1)).unwrap()
    });
    net.run_for(Duration::from_secs(5));
    assert!(stored(&net, 4, q) >= 6);
    // A lower seq (302) and a stale cas (301) are refused by every storing node.
    let (q, _) = net.command(5, |n, now| {
        n.put_mutable(now, item(1, b"3:old"), None).unwrap()
    });
    net.run_for(Duration::from_secs(5));
    assert_eq!(stored(&net, 5, q), 0);
    let (q, _) = net.command(5, |n, now| {
        n.put_mutable(now, item(3, b"5:three"), Some(1)).unwrap()
    });
    net.run_for(Duration::from_secs(5));
    assert_eq!(stored(&net, 5, q), 0);
    let refused: u64 = net.nodes.iter().map(|n| n.stats().puts_refused).sum();
    assert!(refused >= 12, "{refused}");
    let q = net.command(33, |n, now| n.get_item(now, target, b"foobar"));
    net.run_for(Duration::from_secs(5));
    assert_eq!(found(&net, 33, q), Some(Item::Mutable(item(2, b"3:two"))));
    // With the wrong salt the key does not match the target: nothing is accepted.
    let q = net.command(34, |n, now| n.get_item(now, target, b"other"));
    net.run_for(Duration::from_secs(5));
    assert_eq!(found(&net, 34, q), None);
    assert!(net.nodes[34].stats().bad_items > 0);
    // Local misuse is a typed error, nothing is sent.
    let mut forged = item(4, b"1:x");
    forged.seq = 5;
    assert_eq!(
        net.command(2, |n, now| n.put_mutable(now, forged, None)),
        Err(ItemError::InvalidSignature)
    );
}

#[test]
fn bep44_put_needs_a_token_and_get_honours_seq() {
    let mut net = network(2, 10);
    let from: SocketAddr = "198.51.100.9:7000".parse().unwrap();
    let put = b"d1:ad2:id20:abcdefghij01234567895:token4:nope1:v3:abce1:q3:put1:t2:aa1:y1:qe";
    let answer = ask(&mut net, from, put).unwrap();
    assert!(matches!(
        krpc::decode(&answer).unwrap().body,
        Body::Error(e) if e.code == 203
    ));
    // get hands out a token; put with it stores; get with seq >= stored omits v.
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let m = MutableItem::sign(&key, b"", 7, b"1:z".to_vec()).unwrap();
    let get = |seq: Option<i64>| {
        let message = krpc::Message {
            transaction_id: b"gg",
            body: Body::Query(krpc::Query {
                id: NodeId([3; 20]),
                method: krpc::Method::Get {
                    target: m.target(),
                    seq,
                },
                want: None,
            }),
            version: None,
            ip: None,
            read_only: false,
        };
        message.to_bytes()
    };
    let answer = ask(&mut net, from, &get(None)).unwrap();
    let Body::Response(r) = krpc::decode(&answer).unwrap().body else {
        panic!("get answered");
    };
    let token = r.token.unwrap().to_vec();
    let put = krpc::Message {
        transaction_id: b"pp",
        body: Body::Query(krpc::Query {
            id: NodeId([3; 20]),
            method: krpc::Method::Put(krpc::Put {
                token: &token,
                value: m.value.clone(),
                key: Some(m.key),
                signature: Some(m.signature),
                seq: Some(m.seq),
                salt: b"",
                cas: None,
                target: Some(m.target()),
            }),
            want: None,
        }),
        version: None,
        ip: None,
        read_only: false,
    };
    let answer = ask(&mut net, from, &put.to_bytes()).unwrap();
    assert!(matches!(
        krpc::decode(&answer).unwrap().body,
        Body::Response(_)
    ));
    let answer = ask(&mut net, from, &get(Some(6))).unwrap();
    let Body::Response(r) = krpc::decode(&answer).unwrap().body else {
        panic!("get answered");
    };
    assert_eq!((r.seq, r.value.as_deref()), (Some(7), Some(&b"1:z"[..])));
    assert_eq!(r.signature, Some(m.signature));
    let answer = ask(&mut net, from, &get(Some(7))).unwrap();
    let Body::Response(r) = krpc::decode(&answer).unwrap().body else {
        panic!("get answered");
    };
    assert_eq!((r.seq, r.value), (Some(7), None));
}

#[test]
fn bep42_votes_rederive_the_id() {
    let mut net = network(12, 11);
    let mut config = DhtConfig::new(addr(11));
    config.rederive_id = true;
    net.nodes[11] = DhtNode::new(config, Box::new(ChaCha20Rng::seed_from_u64(5)));
    net.bootstrap_all();
    let ip = addr(11).ip();
    let event = net.events[11]
        .iter()
        .find_map(|e| match e {
            DhtEvent::ExternalIp { ip, id } => Some((*ip, *id)),
            _ => None,
        })
        .expect("external IP voted");
    assert_eq!(event.0, ip);
    assert_eq!(net.nodes[11].external_ip(), Some(ip));
    assert!(id::bep42_verify(&net.nodes[11].id(), ip));
    assert_eq!(event.1, net.nodes[11].id());
    assert!(!net.nodes[11].routing_table().is_empty());
    // Others learn the voted IP too but keep their ids (rederive_id is off by default).
    let voted: Vec<usize> = (0..11)
        .filter(|&i| net.nodes[i].external_ip().is_some())
        .collect();
    assert!(!voted.is_empty());
    for i in voted {
        assert_eq!(net.nodes[i].external_ip(), Some(addr(i).ip()));
        assert!(!id::bep42_verify(&net.nodes[i].id(), addr(i).ip()));
    }
}

#[test]
fn saved_state_restores_and_rejoins() {
    let mut net = network(30, 12);
    net.bootstrap_all();
    let saved = net.nodes[9].save(net.now);
    assert!(saved.nodes.len() >= 8, "{}", saved.nodes.len());
    let bytes = saved.to_bytes();
    let restored = persist::SavedState::from_bytes(&bytes).unwrap();
    assert_eq!(restored, saved);
    // A fresh node at the same address restores from the bytes alone, no bootstrap address.
    let fresh = DhtNode::new(
        DhtConfig::new(addr(9)),
        Box::new(ChaCha20Rng::seed_from_u64(77)),
    );
    net.nodes[9] = fresh;
    net.events[9].clear();
    net.command(9, |n, now| n.restore(now, &restored, &[]));
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.nodes[9].id(), saved.id);
    assert!(
        net.events[9]
            .iter()
            .any(|e| matches!(e, DhtEvent::Bootstrapped { nodes } if *nodes >= 8))
    );
    let q = net.command(9, |n, now| n.find_node(now, NodeId([0x33; 20])));
    net.run_for(Duration::from_secs(5));
    assert!(
        net.events[9]
            .iter()
            .any(|e| matches!(e, DhtEvent::LookupDone(r) if r.query == q && r.closest.len() == 8))
    );
}

#[test]
fn wide_buckets_fill_across_their_range_after_bootstrap() {
    let mut net = network(600, 7);
    net.bootstrap_all();
    // The last node joined a network of 599: its bucket 0 (half of them, room for 128)
    // is not the last bucket, and each of its 16 parts (ids sharing the next 4 bits) holds
    // about 19 nodes of the network. The bootstrap and one refresh lookup alone reach a
    // few parts; the fill queries reach nearly all.
    let last = net.nodes.len() - 1;
    let table = net.nodes[last].routing_table();
    assert!(table.bucket_count() > 1);
    let mut parts = [0usize; 16];
    for id in table.bucket_ids(0) {
        parts[id.bits(1, 4) as usize] += 1;
    }
    let reached = parts.iter().filter(|n| **n > 0).count();
    assert!(reached >= 15, "{parts:?}");
    assert!(table.bucket_ids(0).count() >= 64, "{parts:?}");
}
