//! BEP 44 on the simulator: 300 DHT nodes with BEP 42 ids on the public network, one-way
//! latencies of 10-150 ms and 1% loss on every link. Items put by one node are found by
//! others; a mutable item's newest version wins; the same seed replays the same events.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use pigeon::dht::{DhtConfig, DhtEvent, DhtNode, Item, MutableItem, NodeId};
use pigeon_sim::{LinkConfig, LossModel, NetworkId, NodeId as SimNode, Sim};
use rand_core::Rng;

const NODES: usize = 300;

fn addr(i: usize) -> SocketAddr {
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(23, (i / 250) as u8, 9, 1 + (i % 250) as u8)),
        6881,
    )
}

struct Net {
    sim: Sim,
    nodes: Vec<SimNode>,
}

impl Net {
    fn new(seed: u64) -> Net {
        let mut sim = Sim::new(seed);
        let mut latency = sim.fork_rng("latency");
        let mut nodes = Vec::new();
        for i in 0..NODES {
            let mut config = DhtConfig::new(addr(i));
            config.external_ip = Some(addr(i).ip());
            let machine = DhtNode::new(config, sim.fork_rng(&format!("dht/{i}")));
            let link = LinkConfig {
                latency: Duration::from_millis(10 + latency.next_u64() % 141),
                loss: LossModel::Uniform(0.01),
                ..LinkConfig::default()
            };
            let id = sim
                .add_node(NetworkId::PUBLIC, &[addr(i)], machine, link)
                .expect("unique address");
            nodes.push(id);
            if i > 0 {
                let seeds = [addr(0), addr(i / 2)];
                sim.command(id, |n: &mut DhtNode, now| n.bootstrap(now, &seeds));
                sim.run_for(Duration::from_millis(20));
            }
        }
        sim.run_for(Duration::from_secs(30));
        let mut net = Net { sim, nodes };
        for i in 0..NODES {
            net.events(i);
        }
        net
    }

    fn events(&mut self, i: usize) -> Vec<DhtEvent> {
        self.sim.take_events::<DhtNode>(self.nodes[i])
    }

    fn command<R>(&mut self, i: usize, f: impl FnOnce(&mut DhtNode, pigeon::Instant) -> R) -> R {
        self.sim.command(self.nodes[i], f).expect("a DhtNode")
    }

    /// Runs until node `i` reports the item event of `query`.
    fn wait(&mut self, i: usize, query: pigeon::dht::QueryId) -> DhtEvent {
        for _ in 0..200 {
            self.sim.run_for(Duration::from_millis(100));
            let found = self.events(i).into_iter().find(|e| match e {
                DhtEvent::ItemFound { result, .. } | DhtEvent::ItemStored { result, .. } => {
                    result.query == query
                }
                _ => false,
            });
            if let Some(event) = found {
                return event;
            }
        }
        panic!("node {i}: no answer to {query:?} within 20 s");
    }
}

fn run(seed: u64) -> Vec<String> {
    let mut net = Net::new(seed);
    let mut log = Vec::new();
    let value = b"13:pigeon in sim".to_vec();
    let (q, target) = net.command(7, |n, now| n.put_immutable(now, value.clone()).unwrap());
    let DhtEvent::ItemStored { stored, .. } = net.wait(7, q) else {
        unreachable!()
    };
    assert!(stored >= 6, "immutable stored on {stored}");
    log.push(format!("immutable stored {stored}"));
    for reader in [50, 120, 299] {
        let q = net.command(reader, |n, now| n.get_item(now, target, b""));
        let DhtEvent::ItemFound { item, result } = net.wait(reader, q) else {
            unreachable!()
        };
        assert_eq!(
            item,
            Some(Item::Immutable(value.clone())),
            "reader {reader}"
        );
        log.push(format!("reader {reader} {} ms", result.elapsed.as_millis()));
    }
    let seed_key = [9u8; 32];
    let mut target = NodeId([0; 20]);
    for (writer, seq) in [(11, 1), (12, 2)] {
        let item =
            MutableItem::sign_with_seed(&seed_key, b"room", seq, format!("2:v{seq}").into_bytes())
                .unwrap();
        let (q, t) = net.command(writer, |n, now| n.put_mutable(now, item, None).unwrap());
        target = t;
        let DhtEvent::ItemStored { stored, .. } = net.wait(writer, q) else {
            unreachable!()
        };
        assert!(stored >= 6, "seq {seq} stored on {stored}");
        log.push(format!("mutable seq {seq} stored {stored}"));
    }
    for reader in [60, 200] {
        let q = net.command(reader, |n, now| n.get_item(now, target, b"room"));
        let DhtEvent::ItemFound { item, .. } = net.wait(reader, q) else {
            unreachable!()
        };
        let Some(Item::Mutable(m)) = item else {
            panic!("reader {reader}: {item:?}");
        };
        assert_eq!((m.seq, &m.value[..]), (2, &b"2:v2"[..]));
        assert!(m.verify());
    }
    log
}

#[test]
fn bep44_put_then_get_on_the_simulator() {
    let first = run(2026);
    assert_eq!(first, run(2026), "same seed, same run");
}
