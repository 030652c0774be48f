//! Fuzz bodies for the DHT (`pigeon::dht`): the bencode codec, KRPC decoding, and the node
//! machine fed arbitrary datagrams. Shared by the `dht_bencode`, `dht_krpc` and `dht_node`
//! targets and by `tests/tests/fuzz_corpus.rs`.

// Each fuzz target calls one body; they are `pub` for the targets although this file is a
// private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use pigeon::dht::bencode::{self, Limits};
use pigeon::dht::krpc::{self, Body, TRANSACTION_ID_LEN};
use pigeon::dht::{DhtConfig, DhtNode, DualStackNode, NodeId};
use pigeon::{Datagram, Instant, Machine};
use rand_core::SeedableRng;

/// Decodes strictly and leniently; whatever decodes re-encodes to a canonical document that
/// decodes strictly to the same value (and, for strict input, to the input itself).
pub fn bencode(data: &[u8]) {
    if let Ok(value) = bencode::decode(data) {
        assert_eq!(value.to_bytes(), data, "strict input is canonical");
    }
    let lenient = Limits {
        strict: false,
        ..Limits::default()
    };
    if let Ok(value) = bencode::decode_with(data, lenient) {
        let canonical = value.to_bytes();
        let again = bencode::decode(&canonical).expect("the encoder writes canonical bencode");
        assert_eq!(again.to_bytes(), canonical);
    }
}

/// Decodes a KRPC message; whatever decodes re-encodes to bytes that decode to the same message.
pub fn krpc(data: &[u8]) {
    let Ok(message) = krpc::decode(data) else {
        return;
    };
    let _ = format!("{message:?}");
    let wire = message.to_bytes();
    let again = krpc::decode(&wire).expect("our encoding decodes");
    assert_eq!(again, message);
}

/// A source address chosen by one byte: a few IPv4 hosts and ports, some IPv6.
fn source(selector: u8) -> SocketAddr {
    let port = 6881 + u16::from(selector & 0x07);
    let host = (selector >> 3) & 0x0f;
    if selector & 0x80 == 0 {
        SocketAddr::from(([198, 51, 100, host], port))
    } else {
        SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(host)], port))
    }
}

/// The commands the `node` body issues, on a single- or a dual-stack node.
trait Commands: Machine {
    fn bootstrap_(&mut self, now: Instant);
    fn find_node_(&mut self, now: Instant, target: NodeId);
    fn get_peers_(&mut self, now: Instant, target: NodeId);
    fn announce_(&mut self, now: Instant, target: NodeId);
    fn ping_(&mut self, now: Instant);
    fn get_item_(&mut self, now: Instant, target: NodeId);
    fn put_item_(&mut self, now: Instant);

    fn command(&mut self, now: Instant, which: u8, target: NodeId) {
        match which {
            1 => self.find_node_(now, target),
            2 => self.get_peers_(now, target),
            3 => self.announce_(now, target),
            5 => self.get_item_(now, target),
            6 => self.put_item_(now),
            _ => self.ping_(now),
        }
    }
}

/// The same commands on both kinds of node: only bootstrap and ping addresses differ.
macro_rules! commands {
    ($node:ty, [$($boot:expr),*], $ping:expr) => {
        impl Commands for $node {
            fn bootstrap_(&mut self, now: Instant) {
                self.bootstrap(now, &[$(source($boot)),*]);
            }

            fn find_node_(&mut self, now: Instant, target: NodeId) {
                self.find_node(now, target);
            }

            fn get_peers_(&mut self, now: Instant, target: NodeId) {
                self.get_peers(now, target);
            }

            fn announce_(&mut self, now: Instant, target: NodeId) {
                self.announce(now, target, 0);
            }

            fn ping_(&mut self, now: Instant) {
                self.ping(now, source($ping));
            }

            fn get_item_(&mut self, now: Instant, target: NodeId) {
                self.get_item(now, target, b"");
            }

            fn put_item_(&mut self, now: Instant) {
                // A valid value: the put cannot be refused.
                let _ = self.put_immutable(now, b"5:hello".to_vec());
            }
        }
    };
}

commands!(DhtNode, [1, 2], 3);
commands!(DualStackNode, [1, 2, 0x81], 0x83);

/// Input: records of `[source selector] [milliseconds to advance] [length: u16 BE] [payload]`
/// (the last payload may be short). Selector 0xff issues a command instead of a datagram (the
/// payload's first byte picks it). Everything the node sends must be KRPC; its queries carry
/// 4-byte transaction ids. The records drive a single-stack IPv4 node, then a dual-stack node
/// (BEP 32), whose IPv6 half gets the IPv6 sources.
pub fn node(data: &[u8]) {
    let local: SocketAddr = SocketAddr::from(([192, 0, 2, 1], 6881));
    let local6: SocketAddr = SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0xff, 1], 6881));
    // A fixed seed, so each input replays exactly.
    let rng = |n| Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(n));
    drive(DhtNode::new(DhtConfig::new(local), rng(0)), data, &[local]);
    let dual = DualStackNode::new(
        DhtConfig::new(local),
        DhtConfig::new(local6),
        rng(0),
        rng(1),
    );
    drive(dual, data, &[local, local6]);
}

fn drive<N: Commands>(mut node: N, data: &[u8], locals: &[SocketAddr]) {
    let mut now = Instant::ZERO;
    let mut rest = data;
    while rest.len() >= 4 {
        let (selector, advance) = (rest[0], rest[1]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let end = (4 + len).min(rest.len());
        let payload = &rest[4..end];
        rest = &rest[end..];
        now += std::time::Duration::from_millis(u64::from(advance) * 16);
        if selector == 0xff {
            let target = NodeId([payload.first().copied().unwrap_or(0); 20]);
            match payload.first().map(|b| b % 7) {
                Some(0) => node.bootstrap_(now),
                Some(which) => node.command(now, which, target),
                None => node.command(now, 4, target),
            }
        } else {
            let from = source(selector);
            let datagram = Datagram {
                source: from,
                destination: locals[usize::from(from.is_ipv6()) % locals.len()],
                payload,
            };
            node.handle_datagram(now, datagram);
        }
        if node.poll_timeout().is_some_and(|t| t <= now) {
            node.handle_timeout(now);
        }
        while let Some(t) = node.poll_transmit() {
            assert!(locals.contains(&t.source));
            let message = krpc::decode(&t.payload).expect("the node sends KRPC");
            if matches!(message.body, Body::Query(_)) {
                assert_eq!(message.transaction_id.len(), TRANSACTION_ID_LEN);
            }
        }
        while node.poll_event().is_some() {}
    }
}
