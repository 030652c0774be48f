//! Fuzz body for the STUN Binding server machine (`pigeon::stun::BindingServer`), shared by the
//! `stun_server` target and by `tests/tests/fuzz_corpus.rs`.
//!
//! Input: one configuration byte, then records of
//! `[destination selector] [source selector] [milliseconds to advance] [length: u16 BE] [payload]`
//! (the last payload may be short). Every transmit the server makes must parse as a STUN
//! response to a Binding request and leave from one of the server's own addresses.

// The fuzz target calls `server` and the corpus test also `seeds`; they are `pub` for the fuzz
// target although this file is a private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use pigeon::stun::{
    Attribute, AttributeType, BindingServer, ChangeRequest, Message, MessageBuilder, MessageType,
    Method, ServerConfig, TransactionId,
};
use pigeon::{Datagram, Instant, Machine};

const PRIMARY: &str = "192.0.2.1:3478";
const ALTERNATE: &str = "192.0.2.2:3479";
/// An address the server does not serve.
const ELSEWHERE: &str = "192.0.2.99:3478";

fn addr(s: &str) -> SocketAddr {
    // NOTE(unwrap): the constants above are valid socket addresses.
    s.parse().expect("valid address")
}

/// A client address chosen by one byte: IPv4 or IPv6, a few hosts, a few ports, and port 0.
fn source(selector: u8) -> SocketAddr {
    let port = match selector & 0x0F {
        0x0F => 0,
        p => 40_000 + u16::from(p),
    };
    let host = (selector >> 4) & 0x07;
    if selector & 0x80 == 0 {
        SocketAddr::from(([203, 0, 113, host], port))
    } else {
        SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(host)], port))
    }
}

/// Feeds the server the datagrams `data` describes and checks everything it sends.
pub fn server(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let mut config = ServerConfig::new(addr(PRIMARY));
    if flags & 1 != 0 {
        config.alternate = Some(addr(ALTERNATE));
    }
    config.fingerprint = flags & 2 != 0;
    if flags & 4 != 0 {
        config.software = Some("pigeon fuzz".to_owned());
    }
    // NOTE(unwrap): PRIMARY and ALTERNATE differ in IP and port and share a family.
    let mut server = BindingServer::new(config).expect("a valid RFC 5780 pair");
    let locals = server.local_addresses();
    let mut now = Instant::ZERO;
    while let [dest, src, advance, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        now += std::time::Duration::from_millis(u64::from(*advance));
        let destination = locals
            .get(usize::from(*dest) % (locals.len() + 1))
            .copied()
            .unwrap_or_else(|| addr(ELSEWHERE));
        let from = source(*src);
        server.handle_timeout(now);
        server.handle_datagram(
            now,
            Datagram {
                source: from,
                destination,
                payload,
            },
        );
        let request = Message::parse(payload).ok();
        while let Some(t) = server.poll_transmit() {
            assert!(
                locals.contains(&t.source),
                "sent from {} not ours",
                t.source
            );
            assert_eq!(
                t.destination.ip(),
                from.ip(),
                "answers go back to the requester's IP"
            );
            let msg = Message::parse(&t.payload).expect("the server sends well-formed STUN");
            assert!(msg.message_type().class.is_response());
            assert_eq!(msg.message_type().method, Method::BINDING);
            let request = request.expect("only requests are answered");
            assert_eq!(msg.transaction_id(), request.transaction_id());
            assert!(!msg.contains(AttributeType::FINGERPRINT) || msg.verify_fingerprint().is_ok());
        }
        while server.poll_event().is_some() {}
        assert_eq!(server.poll_timeout(), None);
    }
    let stats = server.stats();
    assert!(stats.responses + stats.errors <= stats.requests);
}

/// One corpus record: a datagram to local address `dest` (index) from `source(src)`.
fn record(out: &mut Vec<u8>, dest: u8, src: u8, advance: u8, payload: &[u8]) {
    out.extend_from_slice(&[dest, src, advance]);
    // NOTE(unwrap): seed payloads are far below 64 KiB.
    let len = u16::try_from(payload.len()).expect("short seed");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
}

fn request(attrs: &[Attribute<'_>]) -> Vec<u8> {
    let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([0x42; 12]));
    for attr in attrs {
        b.add(attr);
    }
    b.finish()
}

/// The seed corpus of `stun_server`, by file name.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let change = |change_ip, change_port| {
        Attribute::ChangeRequest(ChangeRequest {
            change_ip,
            change_port,
        })
    };
    let single = |flags: u8, dest: u8, payload: Vec<u8>| {
        let mut out = vec![flags];
        record(&mut out, dest, 0x01, 0, &payload);
        out
    };
    let unknown = Attribute::Unknown {
        ty: AttributeType(0x7f01),
        value: b"?",
    };
    let pad = [0u8; 64];
    let mut mixed = vec![0x07];
    record(&mut mixed, 0, 0x11, 5, &request(&[]));
    record(&mut mixed, 1, 0x92, 5, b"not stun at all");
    let indication = MessageBuilder::new(MessageType::BINDING_INDICATION, TransactionId([1; 12]));
    record(&mut mixed, 2, 0x23, 200, &indication.finish());
    record(&mut mixed, 4, 0x34, 0, &request(&[]));
    record(&mut mixed, 3, 0x4F, 0, &request(&[]));
    vec![
        ("binding", single(0x07, 0, request(&[]))),
        (
            "change_ip_and_port",
            single(0x07, 0, request(&[change(true, true)])),
        ),
        (
            "change_port_from_alternate",
            single(0x03, 3, request(&[change(false, true)])),
        ),
        (
            "change_without_alternate",
            single(0x00, 0, request(&[change(true, false)])),
        ),
        ("unknown_required", single(0x01, 0, request(&[unknown]))),
        (
            "response_port",
            single(0x01, 2, request(&[Attribute::ResponsePort(5000)])),
        ),
        (
            "padding_with_response_port",
            single(
                0x01,
                0,
                request(&[Attribute::Padding(&pad), Attribute::ResponsePort(9)]),
            ),
        ),
        (
            "padding",
            single(0x05, 1, request(&[Attribute::Padding(&pad)])),
        ),
        ("mixed", mixed),
    ]
}
