//! Fuzz bodies for TURN, shared by the `turn_server` and `turn_framing` targets and by
//! `tests/tests/fuzz_corpus.rs`.
//!
//! `server`: one configuration byte, then records of
//! `[destination selector] [source selector] [seconds to advance] [length: u16 BE] [payload]`
//! fed to a `TurnServer` with a fixed seed (so a seed corpus can hold authenticated requests).
//! Everything it sends must leave from its own addresses; what goes to the listening address's
//! correspondents must be STUN or ChannelData.
//!
//! `framing`: the input cut into chunks fed to a `StreamDecoder`; every frame must re-encode
//! to bytes that decode to the same frame, and `ChannelData::parse` must round-trip.

// The fuzz targets call one body each, the corpus test all; `pub` for the fuzz targets although
// this file is a private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::stun::{
    Attribute, Class, Message, MessageBuilder, MessageType, Method, PasswordAlgorithm,
    TransactionId, long_term_key,
};
use pigeon::turn::{
    ChannelData, Frame, RFC5766_MAX_CHANNEL, StreamDecoder, TurnServer, TurnServerConfig,
    encode_frame,
};
use pigeon::{Datagram, Instant, Machine, Transmit};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const LISTEN: &str = "192.0.2.1:3478";
const RELAY_LOW: u16 = 50_000;
const RELAY_HIGH: u16 = 50_003;

fn addr(s: &str) -> SocketAddr {
    // NOTE(unwrap): the constants above are valid socket addresses.
    s.parse().expect("valid address")
}

fn make_server(flags: u8) -> TurnServer {
    let mut config = TurnServerConfig::new(
        addr(LISTEN),
        addr(LISTEN).ip(),
        (RELAY_LOW, RELAY_HIGH),
        "example.org",
    )
    .with_user("alice", "secret");
    config.fingerprint = flags & 1 != 0;
    if flags & 2 != 0 {
        config.max_channel = RFC5766_MAX_CHANNEL;
    }
    config.max_allocations = 3;
    config.max_allocations_per_user = 2;
    config.max_permissions = 4;
    config.max_channels = 4;
    TurnServer::new(config, Box::new(ChaCha20Rng::seed_from_u64(7)))
}

/// Local address by selector: the listening address, a relay port, or one not served.
fn destination(selector: u8) -> SocketAddr {
    match selector % 6 {
        0 | 1 => addr(LISTEN),
        n @ 2..=5 => SocketAddr::from(([192, 0, 2, 1], RELAY_LOW + u16::from(n - 2))),
        _ => addr("192.0.2.99:3478"),
    }
}

/// A remote address by selector: a few clients and peers, IPv4 and IPv6.
fn source(selector: u8) -> SocketAddr {
    let port = 40_000 + u16::from(selector & 0x0F);
    let host = (selector >> 4) & 0x07;
    if selector & 0x80 == 0 {
        SocketAddr::from(([203, 0, 113, host], port))
    } else {
        SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(host)], port))
    }
}

fn check(t: &Transmit, locals: &[SocketAddr], listen: SocketAddr) {
    assert!(
        locals.contains(&t.source),
        "sent from {} not ours",
        t.source
    );
    if t.source == listen {
        // Not `is_stun`: its first-byte test (RFC 7983) fails for answers to high methods.
        let stun = Message::parse(&t.payload).is_ok();
        let channel = ChannelData::parse_up_to(&t.payload, RFC5766_MAX_CHANNEL).is_ok();
        assert!(stun || channel, "clients get STUN or ChannelData");
    }
}

/// Feeds the server the datagrams `data` describes and checks everything it sends.
pub fn server(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let mut server = make_server(flags);
    let locals = server.local_addresses();
    let listen = addr(LISTEN);
    let mut now = Instant::ZERO;
    while let [dest, src, advance, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        now += Duration::from_secs(u64::from(*advance));
        server.handle_timeout(now);
        server.handle_datagram(
            now,
            Datagram {
                source: source(*src),
                destination: destination(*dest),
                payload,
            },
        );
        while let Some(t) = server.poll_transmit() {
            check(&t, &locals, listen);
        }
        while server.poll_event().is_some() {}
        if let Some(at) = server.poll_timeout() {
            assert!(at > now || server.allocation_count() > 0);
        }
    }
    assert!(server.allocation_count() <= 3);
}

/// Cuts the input into chunks (sizes from the input itself) for a stream decoder.
pub fn framing(data: &[u8]) {
    if let Ok(msg) = ChannelData::parse_up_to(data, RFC5766_MAX_CHANNEL) {
        let again = msg.to_vec();
        assert_eq!(
            ChannelData::parse_up_to(&again, RFC5766_MAX_CHANNEL),
            Ok(msg)
        );
    }
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = StreamDecoder::new(0);
    for piece in stream.chunks(chunk) {
        if decoder.push(piece).is_err() {
            return;
        }
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    let mut bytes = Vec::new();
                    encode_frame(&frame, &mut bytes);
                    let mut again = StreamDecoder::default();
                    // NOTE(unwrap): one frame is below the default capacity.
                    again.push(&bytes).expect("one frame fits");
                    assert_eq!(again.next_frame(), Ok(Some(frame)));
                    assert_eq!(again.buffered(), 0);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

/// One server corpus record.
fn record(out: &mut Vec<u8>, dest: u8, src: u8, advance: u8, payload: &[u8]) {
    out.extend_from_slice(&[dest, src, advance]);
    // NOTE(unwrap): seed payloads are far below 64 KiB.
    let len = u16::try_from(payload.len()).expect("short seed");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
}

fn request(method: Method, n: u8, attrs: &[Attribute<'_>], nonce: Option<&str>) -> Vec<u8> {
    let mut b = MessageBuilder::new(
        MessageType::new(method, Class::Request),
        TransactionId([n; 12]),
    );
    for attr in attrs {
        b.add(attr);
    }
    if let Some(nonce) = nonce {
        let key = long_term_key(PasswordAlgorithm::Md5, "alice", "example.org", "secret");
        b.add(&Attribute::Username("alice"));
        b.add(&Attribute::Realm("example.org"));
        b.add(&Attribute::Nonce(nonce));
        b.add_message_integrity(&key);
    }
    b.finish()
}

/// The seed corpus of `turn_server`: a whole session against the fixed-seed server, with the
/// nonce and relayed port read from a twin server's answers.
pub fn server_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let client = source(0x01);
    let peer_sel = 0x25;
    let peer = source(peer_sel);
    let mut twin = make_server(0);
    let mut out = vec![0u8];
    let feed = |twin: &mut TurnServer, out: &mut Vec<u8>, dest: u8, src: u8, payload: Vec<u8>| {
        record(out, dest, src, 0, &payload);
        twin.handle_datagram(
            Instant::ZERO,
            Datagram {
                source: source(src),
                destination: destination(dest),
                payload: &payload,
            },
        );
        let mut answers = Vec::new();
        while let Some(t) = twin.poll_transmit() {
            answers.push(t);
        }
        answers
    };
    let transport = Attribute::RequestedTransport(17);
    let first = feed(
        &mut twin,
        &mut out,
        0,
        0x01,
        request(Method::ALLOCATE, 1, &[transport], None),
    );
    let nonce = first
        .first()
        .and_then(|t| {
            Message::parse(&t.payload)
                .ok()
                .and_then(|m| m.nonce().map(str::to_owned))
        })
        .expect("a 401 with a nonce");
    let allocated = feed(
        &mut twin,
        &mut out,
        0,
        0x01,
        request(Method::ALLOCATE, 2, &[transport], Some(&nonce)),
    );
    let relayed = allocated
        .first()
        .and_then(|t| {
            Message::parse(&t.payload)
                .ok()
                .and_then(|m| m.xor_relayed_address())
        })
        .expect("an allocation");
    let relay_sel = 2 + u8::try_from(relayed.port() - RELAY_LOW).expect("small range");
    let n = Some(nonce.as_str());
    feed(
        &mut twin,
        &mut out,
        0,
        0x01,
        request(
            Method::CREATE_PERMISSION,
            3,
            &[Attribute::XorPeerAddress(peer)],
            n,
        ),
    );
    let mut send = MessageBuilder::new(
        MessageType::new(Method::SEND, Class::Indication),
        TransactionId([4; 12]),
    );
    send.add(&Attribute::XorPeerAddress(peer));
    send.add(&Attribute::Data(b"to the peer"));
    feed(&mut twin, &mut out, 0, 0x01, send.finish());
    feed(
        &mut twin,
        &mut out,
        relay_sel,
        peer_sel,
        b"to the client".to_vec(),
    );
    feed(
        &mut twin,
        &mut out,
        0,
        0x01,
        request(
            Method::CHANNEL_BIND,
            5,
            &[
                Attribute::ChannelNumber(0x4001),
                Attribute::XorPeerAddress(peer),
            ],
            n,
        ),
    );
    feed(
        &mut twin,
        &mut out,
        0,
        0x01,
        ChannelData {
            channel: 0x4001,
            data: b"on a channel",
        }
        .to_vec(),
    );
    feed(
        &mut twin,
        &mut out,
        relay_sel,
        peer_sel,
        b"channel back".to_vec(),
    );
    feed(
        &mut twin,
        &mut out,
        0,
        0x01,
        request(Method::REFRESH, 6, &[Attribute::Lifetime(0)], n),
    );
    let _ = client;
    let session = out;

    let mut stale = vec![1u8];
    record(
        &mut stale,
        0,
        0x02,
        0,
        &request(Method::ALLOCATE, 1, &[transport], None),
    );
    record(
        &mut stale,
        0,
        0x02,
        255,
        &request(Method::ALLOCATE, 2, &[transport], Some(&nonce)),
    );
    record(
        &mut stale,
        0,
        0x02,
        255,
        &request(Method::REFRESH, 3, &[], Some(&nonce)),
    );
    record(&mut stale, 1, 0x02, 255, b"\x40\x00\x00\x02hi");
    record(&mut stale, 5, 0x82, 255, b"junk");
    vec![("session", session), ("stale_and_junk", stale)]
}

/// The seed corpus of `turn_framing`.
pub fn framing_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let stun = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([3; 12])).finish();
    let mut mixed = vec![7u8];
    encode_frame(&Frame::Stun(stun.clone()), &mut mixed);
    encode_frame(
        &Frame::ChannelData {
            channel: 0x4002,
            data: b"abc".to_vec(),
        },
        &mut mixed,
    );
    encode_frame(&Frame::Stun(stun), &mut mixed);
    vec![
        ("mixed", mixed),
        ("channel_data", b"\x40\x01\x00\x03xyz\x00".to_vec()),
        ("lost_framing", b"\x01\x80\x00\x00\x00".to_vec()),
    ]
}
