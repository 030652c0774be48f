//! DualStackNode: answers with both families, merged lookups, determinism.

use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::DualStackNode;
use crate::dht::krpc::{self, Body, Message, Method, Query, Want};
use crate::dht::mem_net::MemNet;
use crate::dht::{DhtConfig, DhtEvent, DhtNode, MutableItem, NodeId};
use crate::io::{Datagram, Machine, Transmit};
use crate::time::Instant;

fn rng(n: u64) -> crate::Rng {
    Box::new(ChaCha20Rng::seed_from_u64(n))
}

fn v4(i: usize) -> SocketAddr {
    SocketAddr::from(([100, 64, 0, i as u8 + 1], 6881))
}

fn v6(i: usize) -> SocketAddr {
    SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16 + 1], 6881))
}

fn dual(i: usize, seed: u64) -> DualStackNode {
    DualStackNode::new(
        DhtConfig::new(v4(i)),
        DhtConfig::new(v6(i)),
        rng(seed),
        rng(seed + 1),
    )
}

/// `read_only` (BEP 43) keeps the querier out of the routing table.
fn query_bytes(id: NodeId, method: Method<'_>, want: Option<Want>, read_only: bool) -> Vec<u8> {
    Message {
        transaction_id: b"ab",
        body: Body::Query(Query { id, method, want }),
        version: None,
        ip: None,
        read_only,
    }
    .to_bytes()
}

fn deliver(node: &mut DualStackNode, now: Instant, from: SocketAddr, to: SocketAddr, p: &[u8]) {
    node.handle_datagram(
        now,
        Datagram {
            source: from,
            destination: to,
            payload: p,
        },
    );
}

fn drain(node: &mut DualStackNode) -> Vec<Transmit> {
    core::iter::from_fn(|| node.poll_transmit()).collect()
}

#[test]
fn a_v4_query_wanting_both_families_gets_nodes_and_nodes6() {
    let mut node = dual(0, 1);
    let now = Instant::ZERO;
    let mut ids = rng(9);
    // Pings from five nodes of each family put them in the matching half's table.
    for i in 1..=5 {
        for addr in [v4(i), v6(i)] {
            let ping = query_bytes(NodeId::random(&mut *ids), Method::Ping, None, false);
            let to = if addr.is_ipv4() { v4(0) } else { v6(0) };
            deliver(&mut node, now, addr, to, &ping);
        }
    }
    assert_eq!(node.v4().routing_table().len(), 5);
    assert_eq!(node.v6().routing_table().len(), 5);
    drain(&mut node);
    let target = NodeId::random(&mut *ids);
    let asker = NodeId::random(&mut *ids);
    let both = Some(Want { v4: true, v6: true });
    for (from, to, want, n4, n6) in [
        (v4(9), v4(0), both, 5, 5),
        (v6(9), v6(0), both, 5, 5),
        // Without `want`, only the querier's own family (BEP 32).
        (v4(9), v4(0), None, 5, 0),
        (v6(9), v6(0), None, 0, 5),
    ] {
        let find = query_bytes(asker, Method::FindNode { target }, want, true);
        deliver(&mut node, now, from, to, &find);
        let sent = drain(&mut node);
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0].source, sent[0].destination), (to, from));
        let Ok(Message {
            body: Body::Response(r),
            ..
        }) = krpc::decode(&sent[0].payload)
        else {
            panic!("not a response");
        };
        assert_eq!((r.nodes.len(), r.nodes6.len()), (n4, n6), "{from} {want:?}");
        assert!(r.nodes.iter().all(|n| n.addr.is_ipv4()));
        assert!(r.nodes6.iter().all(|n| n.addr.is_ipv6()));
    }
}

#[test]
fn the_halves_share_an_id_unless_configured() {
    let node = dual(0, 3);
    assert_eq!(node.v4().id(), node.v6().id());
    let mut six = DhtConfig::new(v6(0));
    let other = NodeId::random(&mut *rng(4));
    six.id = Some(other);
    let node = DualStackNode::new(DhtConfig::new(v4(0)), six, rng(5), rng(6));
    assert_eq!(node.v6().id(), other);
    assert_ne!(node.v4().id(), other);
}

enum Host {
    Single(Box<DhtNode>),
    Dual(Box<DualStackNode>),
}

impl Host {
    fn machine(&mut self) -> &mut dyn Machine<Event = DhtEvent> {
        match self {
            Host::Single(n) => &mut **n,
            Host::Dual(n) => &mut **n,
        }
    }
}

impl Machine for Host {
    type Event = DhtEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        self.machine().handle_datagram(now, datagram);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.machine().handle_timeout(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.machine().poll_transmit()
    }

    fn poll_event(&mut self) -> Option<DhtEvent> {
        self.machine().poll_event()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Host::Single(n) => n.poll_timeout(),
            Host::Dual(n) => n.poll_timeout(),
        }
    }
}

/// 12 IPv4-only, 12 IPv6-only and 4 dual-stack nodes (the last four), 10 ms apart.
type Net = MemNet<Host>;

impl Net {
    fn dual_stack(seed: u64) -> Net {
        let mut net = MemNet::new(Duration::from_millis(10));
        net.log = Some(Vec::new());
        for i in 0..28 {
            let s = seed * 1000 + 2 * i as u64;
            let (host, addrs) = match i {
                0..12 => (
                    Host::Single(Box::new(DhtNode::new(DhtConfig::new(v4(i)), rng(s)))),
                    vec![v4(i)],
                ),
                12..24 => (
                    Host::Single(Box::new(DhtNode::new(DhtConfig::new(v6(i)), rng(s)))),
                    vec![v6(i)],
                ),
                _ => (Host::Dual(Box::new(dual(i, s))), vec![v4(i), v6(i)]),
            };
            net.add(host, &addrs);
        }
        for i in 0..28 {
            let seeds = [v4(0), v6(12)];
            net.command(i, |h, now| match h {
                Host::Single(n) => {
                    let own = if i < 12 { seeds[0] } else { seeds[1] };
                    n.bootstrap(now, &[own]);
                }
                Host::Dual(n) => n.bootstrap(now, &seeds),
            });
        }
        net.run_for(Duration::from_secs(10));
        net
    }
}

fn dual_lookup(seed: u64) -> (crate::dht::LookupResult, Vec<Transmit>) {
    let mut net = Net::dual_stack(seed);
    for i in 24..28 {
        let boot = net.events[i].iter().any(|e| match e {
            DhtEvent::Bootstrapped { nodes } => *nodes > 0,
            _ => false,
        });
        assert!(boot, "dual node {i} bootstrapped: {:?}", net.events[i]);
    }
    let target = NodeId::random(&mut *rng(seed + 77));
    let query = net.command(24, |h, now| match h {
        Host::Dual(n) => n.find_node(now, target),
        Host::Single(_) => unreachable!("host 24 is dual"),
    });
    net.run_for(Duration::from_secs(10));
    let done: Vec<_> = net.events[24]
        .iter()
        .filter_map(|e| match e {
            DhtEvent::LookupDone(r) if r.query == query => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), 1, "one result per query");
    (done[0].clone(), net.log.unwrap_or_default())
}

#[test]
fn a_lookup_merges_both_families() {
    let (result, _) = dual_lookup(7);
    let fours = result.closest.iter().filter(|n| n.addr.is_ipv4()).count();
    let sixes = result.closest.iter().filter(|n| n.addr.is_ipv6()).count();
    // 15 nodes per family answer (12 single, 3 other dual): k = 8 of each.
    assert_eq!((fours, sixes), (8, 8), "{:?}", result.closest);
    let target = result.target;
    assert!(
        result
            .closest
            .windows(2)
            .all(|w| target.cmp_distance(&w[0].id, &w[1].id).is_le())
    );
}

#[test]
fn same_seed_same_bytes() {
    let (a, log_a) = dual_lookup(11);
    let (b, log_b) = dual_lookup(11);
    assert_eq!(a, b);
    assert_eq!(log_a, log_b);
    assert!(log_a.iter().any(|t| t.source.is_ipv6()));
}

fn dual_host(h: &mut Host) -> &mut DualStackNode {
    match h {
        Host::Dual(n) => n,
        Host::Single(_) => panic!("not a dual host"),
    }
}

fn single_host(h: &mut Host) -> &mut DhtNode {
    match h {
        Host::Single(n) => n,
        Host::Dual(_) => panic!("not a single host"),
    }
}

/// The one `ItemFound` / `ItemStored` of `query` at host `i`.
fn item_event(net: &Net, i: usize, query: crate::dht::QueryId) -> DhtEvent {
    let mine: Vec<&DhtEvent> = net.events[i]
        .iter()
        .filter(|e| match e {
            DhtEvent::ItemFound { result, .. } | DhtEvent::ItemStored { result, .. } => {
                result.query == query
            }
            _ => false,
        })
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "one event per item command: {:?}",
        net.events[i]
    );
    mine[0].clone()
}

#[test]
fn items_are_put_and_got_in_both_families() {
    use crate::dht::item::Item;
    let mut net = Net::dual_stack(3);
    let value = b"12:Hello World!".to_vec();
    let (put, target) = net
        .command(24, |h, now| dual_host(h).put_immutable(now, value.clone()))
        .expect("a valid value");
    net.run_for(Duration::from_secs(10));
    // Stored on the 8 closest of each family (15 answer per family).
    match item_event(&net, 24, put) {
        DhtEvent::ItemStored { stored, result } => {
            assert!(stored > 8, "stored on {stored}");
            assert!(result.closest.iter().any(|n| n.addr.is_ipv4()));
            assert!(result.closest.iter().any(|n| n.addr.is_ipv6()));
        }
        e => panic!("{e:?}"),
    }
    // An IPv4-only and an IPv6-only node each find it in their own family.
    for i in [0, 12] {
        let get = net.command(i, |h, now| single_host(h).get_item(now, target, b""));
        net.run_for(Duration::from_secs(10));
        match item_event(&net, i, get) {
            DhtEvent::ItemFound { item, .. } => {
                assert_eq!(item, Some(Item::Immutable(value.clone())), "host {i}");
            }
            e => panic!("{e:?}"),
        }
    }

    // A mutable item of one key: seq 1 put from an IPv4-only node, seq 2 from an IPv6-only
    // node. The dual node's get sees both families and keeps the newer.
    let old = MutableItem::sign_with_seed(&[5; 32], b"s", 1, b"3:old".to_vec()).expect("item");
    let new = MutableItem::sign_with_seed(&[5; 32], b"s", 2, b"3:new".to_vec()).expect("item");
    let (q4, _) = net
        .command(1, |h, now| {
            single_host(h).put_mutable(now, old.clone(), None)
        })
        .expect("valid");
    let (q6, _) = net
        .command(13, |h, now| {
            single_host(h).put_mutable(now, new.clone(), None)
        })
        .expect("valid");
    net.run_for(Duration::from_secs(10));
    for (i, q) in [(1, q4), (13, q6)] {
        assert!(
            matches!(item_event(&net, i, q), DhtEvent::ItemStored { stored, .. } if stored > 0)
        );
    }
    let get = net.command(25, |h, now| dual_host(h).get_item(now, new.target(), b"s"));
    net.run_for(Duration::from_secs(10));
    match item_event(&net, 25, get) {
        DhtEvent::ItemFound { item, .. } => assert_eq!(item, Some(Item::Mutable(new.clone()))),
        e => panic!("{e:?}"),
    }
    // Only the IPv4 family has seq 1: an IPv4-only reader gets that one.
    let get = net.command(2, |h, now| single_host(h).get_item(now, old.target(), b"s"));
    net.run_for(Duration::from_secs(10));
    match item_event(&net, 2, get) {
        DhtEvent::ItemFound { item, .. } => assert_eq!(item, Some(Item::Mutable(old))),
        e => panic!("{e:?}"),
    }

    // A refused put starts nothing and leaves no half-command behind.
    let events = net.events[24].len();
    let refused = net.command(24, |h, now| {
        dual_host(h).put_immutable(now, b"not bencode".to_vec())
    });
    assert_eq!(refused, Err(crate::dht::ItemError::NotBencoded));
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.events[24].len(), events);
    let node = dual_host(&mut net.nodes[24]);
    assert!(node.joints.is_empty() && node.inner.is_empty());
}

#[test]
fn both_tables_are_saved_and_restored() {
    let mut net = Net::dual_stack(5);
    let now = net.now;
    let saved = dual_host(&mut net.nodes[26]).save(now);
    let fours = saved.nodes.iter().filter(|n| n.addr.is_ipv4()).count();
    let sixes = saved.nodes.len() - fours;
    assert!(fours >= 8 && sixes >= 8, "{fours} + {sixes} saved");
    let bytes = saved.to_bytes();
    let back = crate::dht::persist::SavedState::from_bytes(&bytes).expect("round trip");
    assert_eq!(back, saved);

    // A fresh dual node (other seeds, so another id) joins again from the bytes alone.
    let mut fresh = dual(26, 999);
    assert_ne!(fresh.v4().id(), back.id);
    fresh.restore(now, &back, &[]);
    assert_eq!(fresh.v4().id(), back.id);
    assert_eq!(fresh.v6().id(), back.id);
    assert_eq!(fresh.v4().routing_table().len(), fours);
    assert_eq!(fresh.v6().routing_table().len(), sixes);
    net.nodes[26] = Host::Dual(Box::new(fresh));
    net.events[26].clear();
    net.run_for(Duration::from_secs(10));
    let boots: Vec<usize> = net.events[26]
        .iter()
        .filter_map(|e| match e {
            DhtEvent::Bootstrapped { nodes } => Some(*nodes),
            _ => None,
        })
        .collect();
    assert_eq!(
        boots.len(),
        1,
        "one Bootstrapped for both halves: {boots:?}"
    );
    assert!(boots[0] >= fours + sixes, "{boots:?}");
}

#[test]
fn kept_items_repeat_in_both_families() {
    use crate::dht::item::Item;
    use crate::dht::republish::KeepError;
    let mut net = Net::dual_stack(9);
    let value = b"4:kept".to_vec();
    let (first, target) = net
        .command(27, |h, now| {
            dual_host(h).keep_item(now, Item::Immutable(value.clone()))
        })
        .expect("kept");
    let bad = Item::Immutable(b"x".to_vec());
    let refused = net.command(27, |h, now| dual_host(h).keep_item(now, bad));
    assert!(matches!(refused, Err(KeepError::Item(_))));
    // Default period: one hour. After 61 minutes: the first put (one event), then one repeat
    // per family, each reported on its own.
    net.run_for(Duration::from_secs(61 * 60));
    let stored: Vec<(crate::dht::QueryId, usize)> = net.events[27]
        .iter()
        .filter_map(|e| match e {
            DhtEvent::ItemStored { result, stored } => Some((result.query, *stored)),
            _ => None,
        })
        .collect();
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert_eq!(stored[0].0, first);
    assert!(stored[1].0 != first && stored[2].0 != stored[1].0);
    assert!(stored.iter().all(|(_, n)| *n > 0), "{stored:?}");
    assert!(net.command(27, |h, _| dual_host(h).stop_keeping(&target)));
    assert!(!net.command(27, |h, _| dual_host(h).stop_keeping(&target)));
    let node = dual_host(&mut net.nodes[27]);
    assert_eq!((node.v4().kept().count(), node.v6().kept().count()), (0, 0));
    // Stopped in both families: another hour brings no repeat.
    net.run_for(Duration::from_secs(61 * 60));
    let repeats = net.events[27]
        .iter()
        .filter(|e| matches!(e, DhtEvent::ItemStored { .. }))
        .count();
    assert_eq!(repeats, 3);
}

#[test]
fn a_keep_one_half_has_no_room_for_starts_nothing() {
    use crate::dht::item::Item;
    use crate::dht::republish::{KeepError, RepublishConfig};
    let mut four = DhtConfig::new(v4(0));
    four.republish = RepublishConfig {
        max_kept: 2,
        ..RepublishConfig::default()
    };
    let mut six = DhtConfig::new(v6(0));
    six.republish = RepublishConfig {
        max_kept: 1,
        ..RepublishConfig::default()
    };
    let mut node = DualStackNode::new(four, six, rng(1), rng(2));
    let now = Instant::ZERO;
    // A contact in each family, so that anything started would send a query.
    for (from, to) in [(v4(1), v4(0)), (v6(1), v6(0))] {
        let ping = query_bytes(NodeId::random(&mut *rng(5)), Method::Ping, None, false);
        deliver(&mut node, now, from, to, &ping);
    }
    node.keep_announced(now, NodeId([1; 20]), 1)
        .expect("room on both");
    drain(&mut node);
    while node.poll_event().is_some() {}
    let refused = node.keep_item(now, Item::Immutable(b"1:a".to_vec()));
    assert_eq!(refused, Err(KeepError::Full));
    assert_eq!(
        node.keep_announced(now, NodeId([2; 20]), 1),
        Err(KeepError::Full)
    );
    assert!(drain(&mut node).is_empty(), "nothing sent");
    assert!(node.poll_event().is_none(), "nothing reported");
    assert_eq!((node.v4().kept().count(), node.v6().kept().count()), (1, 1));
}

#[test]
fn an_ipv6_id_of_its_own_survives_save_and_restore() {
    let mut six = DhtConfig::new(v6(0));
    six.id = Some(NodeId([6; 20]));
    let mut node = DualStackNode::new(DhtConfig::new(v4(0)), six, rng(1), rng(2));
    let state = node.save(Instant::ZERO);
    node.restore(Instant::ZERO, &state, &[]);
    assert_eq!(node.v4().id(), state.id);
    assert_eq!(node.v6().id(), NodeId([6; 20]));
}
