//! BEP 32 on the simulator: 60 IPv4-only, 60 IPv6-only and 20 dual-stack DHT nodes on the
//! public network (10 ms links, no loss). A dual-stack node announces; an IPv6-only and an
//! IPv4-only node each find it with get_peers (at its address of their family), and a dual
//! node's find_node returns the closest nodes of both families.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;

use pigeon::dht::{DhtConfig, DhtEvent, DhtNode, DualStackNode, LookupResult, NodeId, QueryId};
use pigeon_sim::{LinkConfig, NetworkId, NodeId as SimNode, Sim};

const PORT: u16 = 6881;
const V4_ONLY: usize = 60;
const V6_ONLY: usize = 60;
const DUAL: usize = 20;

fn v4(i: usize) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(100, 64, 0, i as u8 + 1)), PORT)
}

fn v6(i: usize) -> SocketAddr {
    let ip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16 + 1);
    SocketAddr::new(IpAddr::V6(ip), PORT)
}

struct World {
    sim: Sim,
    v4_only: Vec<SimNode>,
    v6_only: Vec<SimNode>,
    dual: Vec<SimNode>,
}

/// Host indices: 0..60 IPv4-only, 60..120 IPv6-only, 120..140 dual (both addresses).
fn world(seed: u64) -> World {
    let link = LinkConfig::default();
    let mut w = World {
        sim: Sim::new(seed),
        v4_only: Vec::new(),
        v6_only: Vec::new(),
        dual: Vec::new(),
    };
    let sim = &mut w.sim;
    let seeds = [
        v4(0),
        v6(V4_ONLY),
        v4(V4_ONLY + V6_ONLY),
        v6(V4_ONLY + V6_ONLY),
    ];
    for i in 0..V4_ONLY + V6_ONLY + DUAL {
        let rng = sim.fork_rng(&format!("dual/{i}"));
        // NOTE(unwrap): every index has its own addresses on the public network.
        if !(V4_ONLY..V4_ONLY + V6_ONLY).contains(&i) {
            let node = if i < V4_ONLY {
                let node = DhtNode::new(DhtConfig::new(v4(i)), rng);
                sim.add_node(NetworkId::PUBLIC, &[v4(i)], node, link)
            } else {
                let rng6 = sim.fork_rng(&format!("dual/{i}/6"));
                let node =
                    DualStackNode::new(DhtConfig::new(v4(i)), DhtConfig::new(v6(i)), rng, rng6);
                sim.add_node(NetworkId::PUBLIC, &[v4(i), v6(i)], node, link)
            };
            let id = node.expect("unique addresses");
            if i < V4_ONLY {
                w.v4_only.push(id);
            } else {
                w.dual.push(id);
            }
        } else {
            let node = DhtNode::new(DhtConfig::new(v6(i)), rng);
            let id = sim.add_node(NetworkId::PUBLIC, &[v6(i)], node, link);
            w.v6_only.push(id.expect("unique address"));
        }
    }
    for (k, &n) in w.v4_only.iter().enumerate() {
        // The first IPv4 node joins through the first dual node.
        let from = if k == 0 { seeds[2] } else { seeds[0] };
        sim.command(n, |m: &mut DhtNode, now| m.bootstrap(now, &[from]));
    }
    for (k, &n) in w.v6_only.iter().enumerate() {
        let from = if k == 0 { seeds[3] } else { seeds[1] };
        sim.command(n, |m: &mut DhtNode, now| m.bootstrap(now, &[from]));
    }
    for &n in &w.dual {
        sim.command(n, |m: &mut DualStackNode, now| m.bootstrap(now, &seeds));
    }
    sim.run_for(Duration::from_secs(30));
    for &n in &w.dual {
        let events = sim.take_events::<DualStackNode>(n);
        let joined = events
            .iter()
            .any(|e| matches!(e, DhtEvent::Bootstrapped { nodes } if *nodes > 0));
        assert!(joined, "dual node did not bootstrap: {events:?}");
    }
    for &n in w.v4_only.iter().chain(&w.v6_only) {
        sim.take_events::<DhtNode>(n);
    }
    w
}

fn done<M>(sim: &mut Sim, node: SimNode, query: QueryId) -> DhtEvent
where
    M: pigeon::Machine<Event = DhtEvent> + 'static,
{
    let events = sim.take_events::<M>(node);
    let mut found = events.into_iter().filter(|e| match e {
        DhtEvent::LookupDone(r) | DhtEvent::Announced { result: r, .. } => r.query == query,
        _ => false,
    });
    let event = found.next().expect("the query finished");
    assert!(found.next().is_none(), "one result per query");
    event
}

fn lookup(event: DhtEvent) -> LookupResult {
    match event {
        DhtEvent::LookupDone(r) => r,
        other => panic!("not a lookup result: {other:?}"),
    }
}

#[test]
fn dual_stack_announce_found_from_both_families() {
    let mut w = world(32);
    let announcer = w.dual[5];
    let announcer_index = V4_ONLY + V6_ONLY + 5;
    let info_hash = NodeId::from_slice(&[0x5a; 20]).expect("20 bytes");
    let q = w.sim.command(announcer, |m: &mut DualStackNode, now| {
        m.announce(now, info_hash, 0)
    });
    w.sim.run_for(Duration::from_secs(10));
    let q = q.expect("node exists");
    let DhtEvent::Announced { result, stored } = done::<DualStackNode>(&mut w.sim, announcer, q)
    else {
        panic!("not an announce");
    };
    // Both families' closest nodes stored it.
    assert!(stored >= 12, "stored {stored}");
    assert!(result.closest.iter().any(|n| n.addr.is_ipv4()));
    assert!(result.closest.iter().any(|n| n.addr.is_ipv6()));

    for (node, want) in [
        (w.v6_only[7], v6(announcer_index)),
        (w.v4_only[8], v4(announcer_index)),
    ] {
        let q = w
            .sim
            .command(node, |m: &mut DhtNode, now| m.get_peers(now, info_hash));
        w.sim.run_for(Duration::from_secs(10));
        let r = lookup(done::<DhtNode>(&mut w.sim, node, q.expect("node exists")));
        assert!(r.peers.contains(&want), "{want} not in {:?}", r.peers);
    }

    // A dual node's get_peers finds both of the announcer's addresses.
    let getter = w.dual[9];
    let q = w.sim.command(getter, |m: &mut DualStackNode, now| {
        m.get_peers(now, info_hash)
    });
    w.sim.run_for(Duration::from_secs(10));
    let r = lookup(done::<DualStackNode>(
        &mut w.sim,
        getter,
        q.expect("node exists"),
    ));
    assert!(r.peers.contains(&v4(announcer_index)), "{:?}", r.peers);
    assert!(r.peers.contains(&v6(announcer_index)), "{:?}", r.peers);
}

#[test]
fn dual_stack_find_node_returns_both_families() {
    let mut w = world(33);
    let node = w.dual[3];
    let target = NodeId::from_slice(&[0xc3; 20]).expect("20 bytes");
    let q = w
        .sim
        .command(node, |m: &mut DualStackNode, now| m.find_node(now, target));
    w.sim.run_for(Duration::from_secs(10));
    let r = lookup(done::<DualStackNode>(
        &mut w.sim,
        node,
        q.expect("node exists"),
    ));
    let fours = r.closest.iter().filter(|n| n.addr.is_ipv4()).count();
    let sixes = r.closest.iter().filter(|n| n.addr.is_ipv6()).count();
    assert_eq!((fours, sixes), (8, 8), "{:?}", r.closest);
}
