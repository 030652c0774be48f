//! Kept items and announces outlive the stores' expiry, and stop when told.

use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::{KeepError, RepublishConfig};
use crate::dht::item::MutableItem;
use crate::dht::item::{Item, ItemError, immutable_target};
use crate::dht::mem_net::MemNet;
use crate::dht::{DhtConfig, DhtEvent, DhtNode, NodeId};
use crate::io::Machine;
use crate::time::Instant;

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([100, 64, 1, i as u8 + 1], 6881))
}

const MIN: fn(u64) -> Duration = |m| Duration::from_secs(60 * m);

/// 16 nodes whose stores forget items after 15 minutes and peers after 6; puts repeat every
/// 10 minutes and announces every 4, at most 2 kept.
fn network() -> MemNet<DhtNode> {
    let mut net = MemNet::new(Duration::from_millis(10));
    for i in 0..16 {
        let mut config = DhtConfig::new(addr(i));
        config.storage.ttl = MIN(15);
        config.peers.ttl = MIN(6);
        config.republish = RepublishConfig {
            item_every: MIN(10),
            announce_every: MIN(4),
            max_kept: 2,
        };
        let rng = ChaCha20Rng::seed_from_u64(40 + i as u64);
        net.add(DhtNode::new(config, Box::new(rng)), &[addr(i)]);
    }
    for i in 1..16 {
        net.command(i, |n, now| n.bootstrap(now, &[addr(0)]));
        net.run_for(Duration::from_millis(50));
    }
    net.run_for(Duration::from_secs(10));
    net
}

/// Node `i`'s get of `target`: the item found, if any.
fn get(net: &mut MemNet<DhtNode>, i: usize, target: NodeId) -> Option<Item> {
    let q = net.command(i, |n, now| n.get_item(now, target, b""));
    net.run_for(Duration::from_secs(10));
    net.events[i].iter().find_map(|e| match e {
        DhtEvent::ItemFound { result, item } if result.query == q => Some(item.clone()),
        _ => None,
    })?
}

/// Node `i`'s get_peers of `info_hash`: the peers found.
fn peers(net: &mut MemNet<DhtNode>, i: usize, info_hash: NodeId) -> Vec<SocketAddr> {
    let q = net.command(i, |n, now| n.get_peers(now, info_hash));
    net.run_for(Duration::from_secs(10));
    net.events[i]
        .iter()
        .find_map(|e| match e {
            DhtEvent::LookupDone(r) if r.query == q => Some(r.peers.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn count(net: &MemNet<DhtNode>, i: usize, stored: bool) -> usize {
    net.events[i]
        .iter()
        .filter(|e| match e {
            DhtEvent::ItemStored { stored: n, .. } => stored && *n > 0,
            DhtEvent::Announced { stored: n, .. } => !stored && *n > 0,
            _ => false,
        })
        .count()
}

#[test]
fn kept_items_and_announces_outlive_expiry_until_stopped() {
    let mut net = network();
    let value = b"5:hello".to_vec();
    let target = immutable_target(&value);
    let info_hash = NodeId([0x5a; 20]);
    let (put, t) = net
        .command(3, |n, now| n.keep_item(now, Item::Immutable(value.clone())))
        .expect("kept");
    assert_eq!(t, target);
    net.command(3, |n, now| n.keep_announced(now, info_hash, 6000))
        .expect("kept");
    // A third target is refused; keeping a kept one again is not.
    let other = Item::Immutable(b"5:world".to_vec());
    assert_eq!(
        net.command(3, |n, now| n.keep_item(now, other)),
        Err(KeepError::Full)
    );
    let again = net.command(3, |n, now| n.keep_announced(now, info_hash, 6000));
    assert!(again.is_ok());
    let bad = Item::Immutable(b"not bencode".to_vec());
    assert_eq!(
        net.command(3, |n, now| n.keep_item(now, bad)),
        Err(KeepError::Item(ItemError::NotBencoded))
    );
    let mut kept: Vec<NodeId> = net.nodes[3].kept().copied().collect();
    kept.sort();
    let mut want = vec![target, info_hash];
    want.sort();
    assert_eq!(kept, want);

    // 40 minutes: far past both expiries, yet the item and the peer are there.
    net.run_for(MIN(40));
    assert_eq!(
        get(&mut net, 9, target),
        Some(Item::Immutable(value.clone()))
    );
    let found = peers(&mut net, 9, info_hash);
    assert!(
        found.contains(&SocketAddr::new(addr(3).ip(), 6000)),
        "{found:?}"
    );
    // The first put and one every 10 minutes; the first two announces and one every 4.
    assert_eq!(count(&net, 3, true), 5);
    assert_eq!(count(&net, 3, false), 12);
    assert!(net.events[3].iter().any(|e| matches!(e,
        DhtEvent::ItemStored { result, .. } if result.query == put)));

    // Stopped: nothing more is sent for them and the stores forget.
    assert!(net.command(3, |n, _| n.stop_keeping(&target)));
    assert!(net.command(3, |n, _| n.stop_keeping(&info_hash)));
    assert!(!net.command(3, |n, _| n.stop_keeping(&info_hash)));
    assert_eq!(net.nodes[3].kept().count(), 0);
    let (puts, announces) = (count(&net, 3, true), count(&net, 3, false));
    net.run_for(MIN(30));
    assert_eq!(
        (count(&net, 3, true), count(&net, 3, false)),
        (puts, announces)
    );
    assert_eq!(get(&mut net, 9, target), None);
    assert!(peers(&mut net, 9, info_hash).is_empty());
}

/// A node with no contacts: every put ends at once, which is all these checks need.
fn lone(republish: RepublishConfig) -> DhtNode {
    let mut config = DhtConfig::new(addr(0));
    config.republish = republish;
    DhtNode::new(config, Box::new(ChaCha20Rng::seed_from_u64(3)))
}

#[test]
fn the_next_repeat_is_a_timer_and_a_zero_period_does_not_spin() {
    let t0 = Instant::from_millis(1_000);
    let mut node = lone(RepublishConfig {
        announce_every: Duration::from_secs(150),
        ..RepublishConfig::default()
    });
    node.keep_announced(t0, NodeId([1; 20]), 1).expect("kept");
    // Not left to the once-a-minute housekeeping: the repeat is a timer of its own.
    assert!(node.poll_timeout() <= Some(t0 + Duration::from_secs(150)));

    let mut zero = lone(RepublishConfig {
        item_every: Duration::ZERO,
        announce_every: Duration::ZERO,
        max_kept: 4,
    });
    zero.keep_item(t0, Item::Immutable(b"1:z".to_vec()))
        .expect("kept");
    zero.handle_timeout(t0);
    assert!(zero.poll_timeout() > Some(t0), "{:?}", zero.poll_timeout());
    let t1 = t0 + MIN(1);
    zero.handle_timeout(t1);
    assert!(zero.poll_timeout() > Some(t1));
}

#[test]
fn a_kept_mutable_item_follows_newer_puts_and_refuses_older_ones() {
    let t0 = Instant::from_millis(1_000);
    let mut node = lone(RepublishConfig::default());
    let item = |seq: i64| {
        MutableItem::sign_with_seed(&[9; 32], b"", seq, format!("1:{seq}").into_bytes())
            .expect("item")
    };
    let target = item(2).target();
    node.keep_item(t0, Item::Mutable(item(2))).expect("kept");
    assert_eq!(
        node.keep_item(t0, Item::Mutable(item(1))),
        Err(KeepError::StaleSeq)
    );
    assert_eq!(node.kept_mutable(&target).map(|m| m.seq), Some(2));
    // A plain put of a newer seq becomes what the repeats put; an older one does not.
    node.put_mutable(t0, item(3), None).expect("put");
    assert_eq!(node.kept_mutable(&target).map(|m| m.seq), Some(3));
    node.put_mutable(t0, item(2), None).expect("put");
    assert_eq!(node.kept_mutable(&target).map(|m| m.seq), Some(3));
}
