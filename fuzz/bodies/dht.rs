//! Fuzz bodies for the DHT (`pigeon::dht`): the bencode codec, KRPC decoding, and the node
//! machine fed arbitrary datagrams. Shared by the `dht_bencode`, `dht_krpc` and `dht_node`
//! targets and by `tests/tests/fuzz_corpus.rs`.

// Each fuzz target calls one body; they are `pub` for the targets although this file is a
// private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use pigeon::dht::bencode::{self, Limits};
use pigeon::dht::krpc::{self, Body, TRANSACTION_ID_LEN};
use pigeon::dht::{DhtConfig, DhtNode, NodeId};
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

/// Input: records of `[source selector] [milliseconds to advance] [length: u16 BE] [payload]`
/// (the last payload may be short). Selector 0xff issues a command instead of a datagram (the
/// payload's first byte picks it). Everything the node sends must be KRPC; its queries carry
/// 4-byte transaction ids.
pub fn node(data: &[u8]) {
    let local: SocketAddr = SocketAddr::from(([192, 0, 2, 1], 6881));
    // A fixed seed, so each input replays exactly.
    let rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(0));
    let mut node = DhtNode::new(DhtConfig::new(local), rng);
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
            match payload.first().map(|b| b % 5) {
                Some(0) => {
                    node.bootstrap(now, &[source(1), source(2)]);
                }
                Some(1) => {
                    node.find_node(now, target);
                }
                Some(2) => {
                    node.get_peers(now, target);
                }
                Some(3) => {
                    node.announce(now, target, 0);
                }
                _ => {
                    node.ping(now, source(3));
                }
            }
        } else {
            let datagram = Datagram {
                source: source(selector),
                destination: local,
                payload,
            };
            node.handle_datagram(now, datagram);
        }
        if node.poll_timeout().is_some_and(|t| t <= now) {
            node.handle_timeout(now);
        }
        while let Some(t) = node.poll_transmit() {
            assert_eq!(t.source, local);
            let message = krpc::decode(&t.payload).expect("the node sends KRPC");
            if matches!(message.body, Body::Query(_)) {
                assert_eq!(message.transaction_id.len(), TRANSACTION_ID_LEN);
            }
        }
        while node.poll_event().is_some() {}
    }
    let _ = node.stats();
}
