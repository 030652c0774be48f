//! Fuzz bodies for DTLS 1.2 (`pigeon::dtls`), shared by the `dtls_record`, `dtls_handshake`,
//! `dtls_server` and `dtls_client` targets and by `tests/tests/fuzz_corpus.rs`.
//!
//! `server` input: one flags byte, then records of
//! `[milliseconds to advance] [length: u16 BE] [payload]` (the last payload may be short), each
//! payload a datagram from one fixed client address. The server's certificate and generator are
//! seeded, so a client handshake recorded by `seeds` against the same server replays all the way
//! to `Connected`, and the fuzzer mutates a real handshake rather than guessing one. `client`
//! input is the same, the datagrams coming from the server to a seeded client: the recorded
//! server side of that handshake replays to `Connected` too.

// Each fuzz target calls one body and the corpus test all of them and `seeds`; they are `pub`
// for the fuzz targets although this file is a private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use pigeon::dtls::fingerprint::PeerPublicKey;
use pigeon::dtls::fragment::{Reassembler, ReassemblyLimits};
use pigeon::dtls::message::change_cipher_spec::is_change_cipher_spec;
use pigeon::dtls::message::{
    Alert, Certificate, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange,
    Extensions, Finished, HandshakeHeader, HelloVerifyRequest, ServerHello, ServerHelloDone,
    ServerKeyExchange,
};
use pigeon::dtls::record::{ContentType, RECORD_HEADER_LEN, records};
use pigeon::dtls::{Dtls, DtlsCertificate, DtlsConfig, DtlsEvent, Fingerprint};
use pigeon::{Datagram, Instant, Machine};
use rand_core::SeedableRng;

const SERVER: &str = "192.0.2.1:4444";
const CLIENT: &str = "203.0.113.7:5000";
const SERVER_SEED: u64 = 7;
const CLIENT_SEED: u64 = 8;

fn addr(s: &str) -> SocketAddr {
    // NOTE(unwrap): the constants above are valid socket addresses.
    s.parse().expect("valid address")
}

fn rng(seed: u64) -> pigeon::Rng {
    Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

/// Splits a datagram into records and looks inside each plaintext one. Must never panic.
pub fn record(data: &[u8]) {
    let mut consumed = 0;
    for record in records(data) {
        let Ok(record) = record else {
            break;
        };
        assert_eq!(usize::from(record.header.length), record.fragment.len());
        consumed += RECORD_HEADER_LEN + record.fragment.len();
        let _ = record.header.epoch_seq();
        let mut header = Vec::new();
        record.header.emit(&mut header);
        assert_eq!(
            header,
            data[consumed - record.fragment.len() - RECORD_HEADER_LEN..][..13]
        );
        match record.header.content_type {
            ContentType::HANDSHAKE => messages(record.fragment),
            ContentType::ALERT => {
                let _ = Alert::parse(record.fragment);
            }
            ContentType::CHANGE_CIPHER_SPEC => {
                let _ = is_change_cipher_spec(record.fragment);
            }
            _ => {}
        }
    }
    assert!(consumed <= data.len());
}

/// Walks the handshake messages of one record fragment and decodes each whole one.
fn messages(mut fragment: &[u8]) {
    while let Ok((header, body, rest)) = HandshakeHeader::parse(fragment) {
        if header.fragment_offset == 0 && header.fragment_length == header.length {
            decode_all(body);
        }
        fragment = rest;
    }
}

/// Every handshake message decoder, the extensions, the alert and the certificate key parser
/// over the same bytes.
fn decode_all(body: &[u8]) {
    let _ = ClientHello::parse(body).map(|m| {
        let mut out = Vec::new();
        m.emit(&mut out);
    });
    let _ = ServerHello::parse(body);
    let _ = HelloVerifyRequest::parse(body);
    let _ = Certificate::parse(body);
    let _ = ServerKeyExchange::parse(body);
    let _ = CertificateRequest::parse(body);
    let _ = ServerHelloDone::parse(body);
    let _ = CertificateVerify::parse(body);
    let _ = ClientKeyExchange::parse(body);
    let _ = Finished::parse(body);
    let _ = Extensions::parse(body);
    let _ = Alert::parse(body);
    let _ = PeerPublicKey::from_certificate(body);
    let _ = Fingerprint::parse(&String::from_utf8_lossy(body));
}

/// Feeds every message decoder, then the fragment reassembler with the handshake fragments
/// `data` holds back to back. Must never panic, and the reassembler stays within its bounds.
pub fn handshake(data: &[u8]) {
    decode_all(data);
    let limits = ReassemblyLimits {
        max_message_len: 4096,
        max_buffered: 8192,
        max_ahead: 4,
    };
    let mut reassembler = Reassembler::new(limits, 0);
    let mut rest = data;
    while let Ok((header, fragment, next)) = HandshakeHeader::parse(rest) {
        rest = next;
        let _ = reassembler.push(&header, fragment);
        while let Some((_, seq, body)) = reassembler.pop() {
            assert!(body.len() <= limits.max_message_len);
            assert_eq!(reassembler.next_seq(), seq.wrapping_add(1));
            decode_all(&body);
        }
    }
}

/// The server's certificate, made once: key generation would dominate every run otherwise.
fn server_certificate() -> DtlsCertificate {
    static CERT: OnceLock<DtlsCertificate> = OnceLock::new();
    CERT.get_or_init(|| DtlsCertificate::generate(&mut rng(SERVER_SEED), "fuzz server"))
        .clone()
}

fn new_server(flags: u8) -> Dtls {
    let config = DtlsConfig {
        hello_verify: flags & 1 == 0,
        require_client_certificate: flags & 2 == 0,
        ..DtlsConfig::default()
    };
    Dtls::server(config, server_certificate(), rng(SERVER_SEED), addr(SERVER))
}

/// The client the `client` target feeds: seeded like the one `seeds` recorded against the
/// server, so the recorded server flights answer exactly its hellos.
fn new_client(flags: u8) -> Dtls {
    let config = DtlsConfig {
        // `flags` bit 0 set: offer only the first suite, so other ServerHellos get refused.
        cipher_suites: if flags & 1 == 0 {
            DtlsConfig::default().cipher_suites
        } else {
            DtlsConfig::default().cipher_suites[..1].to_vec()
        },
        ..DtlsConfig::default()
    };
    Dtls::client(
        config,
        client_certificate(),
        rng(CLIENT_SEED),
        addr(CLIENT),
        addr(SERVER),
    )
}

/// The client's certificate, made once like the server's.
fn client_certificate() -> DtlsCertificate {
    static CERT: OnceLock<DtlsCertificate> = OnceLock::new();
    CERT.get_or_init(|| DtlsCertificate::generate(&mut rng(CLIENT_SEED), "fuzz client"))
        .clone()
}

/// Feeds a DTLS server the datagrams `data` describes with advancing time and checks that it
/// only ever answers its one peer with well-formed records.
pub fn server(data: &[u8]) {
    let _ = drive_server(data);
}

/// Feeds a DTLS client (which has sent its ClientHello) the datagrams `data` describes, as
/// if from the server, with the same checks as [`server`].
pub fn client(data: &[u8]) {
    let _ = drive_client(data);
}

/// [`server`], returning whether the server reached `Connected`.
fn drive_server(data: &[u8]) -> bool {
    let Some((&flags, rest)) = data.split_first() else {
        return false;
    };
    drive(new_server(flags), addr(CLIENT), addr(SERVER), rest)
}

/// [`client`], returning whether the client reached `Connected`.
fn drive_client(data: &[u8]) -> bool {
    let Some((&flags, rest)) = data.split_first() else {
        return false;
    };
    drive(new_client(flags), addr(SERVER), addr(CLIENT), rest)
}

/// Hands `endpoint` the datagrams of `rest` (`[ms/16] [len u16] [payload]` each) from `peer`,
/// checking that it only ever sends well-formed records to `peer` and never asks to be woken
/// in the past; whether it reached `Connected`.
fn drive(mut endpoint: Dtls, peer: SocketAddr, own: SocketAddr, mut rest: &[u8]) -> bool {
    let mut now = Instant::ZERO;
    let mut connected = false;
    endpoint.handle_timeout(now);
    loop {
        while let Some(transmit) = endpoint.poll_transmit() {
            assert_eq!(transmit.destination, peer);
            assert!(records(&transmit.payload).all(|r| r.is_ok()));
        }
        while let Some(event) = endpoint.poll_event() {
            match event {
                DtlsEvent::Connected { .. } => {
                    connected = true;
                    // NOTE(unwrap): a connected endpoint accepts a short record.
                    endpoint.send(now, b"pong").expect("send after Connected");
                }
                DtlsEvent::ApplicationData(_) | DtlsEvent::Closed | DtlsEvent::Failed(_) => {}
            }
        }
        if let Some(at) = endpoint.poll_timeout() {
            assert!(at >= now);
        }
        let [advance, hi, lo, tail @ ..] = rest else {
            return connected;
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        now += Duration::from_millis(u64::from(*advance) * 16);
        endpoint.handle_timeout(now);
        endpoint.handle_datagram(
            now,
            Datagram {
                source: peer,
                destination: own,
                payload,
            },
        );
    }
}

/// Seeds from a real in-memory handshake: `(target, file name, bytes)`. The client's datagrams
/// go to `dtls_record`, its epoch-0 handshake fragments to `dtls_handshake`, and the whole
/// client side, encoded as `server` reads it, to `dtls_server`.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut client = new_client(0);
    let mut server = new_server(0);
    let now = Instant::ZERO;
    client.handle_timeout(now);
    let mut from_client = Vec::new();
    let mut from_server = Vec::new();
    for _ in 0..8 {
        while let Some(t) = client.poll_transmit() {
            server.handle_datagram(now, t.as_datagram());
            from_client.push(t.payload);
        }
        while let Some(t) = server.poll_transmit() {
            client.handle_datagram(now, t.as_datagram());
            from_server.push(t.payload);
        }
    }
    let mut seeds = Vec::new();
    let mut replay = vec![0u8];
    for (i, datagram) in from_client.iter().enumerate() {
        seeds.push(("dtls_record", format!("client-{i}"), datagram.clone()));
        replay.push(0);
        // NOTE(unwrap): handshake datagrams fit the 1200-byte MTU.
        replay.extend_from_slice(&u16::try_from(datagram.len()).expect("MTU").to_be_bytes());
        replay.extend_from_slice(datagram);
    }
    for (i, datagram) in from_server.iter().enumerate() {
        seeds.push(("dtls_record", format!("server-{i}"), datagram.clone()));
    }
    for (who, datagrams) in [("client", &from_client), ("server", &from_server)] {
        for (i, datagram) in datagrams.iter().enumerate() {
            for (j, record) in records(datagram).flatten().enumerate() {
                if record.header.content_type == ContentType::HANDSHAKE && record.header.epoch == 0
                {
                    seeds.push((
                        "dtls_handshake",
                        format!("{who}-{i}-{j}"),
                        record.fragment.to_vec(),
                    ));
                }
            }
        }
    }
    seeds.push(("dtls_server", "handshake".to_owned(), replay));
    let mut replay = vec![0u8];
    for datagram in &from_server {
        replay.push(0);
        // NOTE(unwrap): handshake datagrams fit the 1200-byte MTU.
        replay.extend_from_slice(&u16::try_from(datagram.len()).expect("MTU").to_be_bytes());
        replay.extend_from_slice(datagram);
    }
    seeds.push(("dtls_client", "handshake".to_owned(), replay));
    seeds
}

/// Whether the recorded handshake still drives the fuzzed server to `Connected`: the seed is
/// only worth its bytes while it does.
pub fn seed_connects(target: &str, replay: &[u8]) -> bool {
    match target {
        "dtls_client" => drive_client(replay),
        _ => drive_server(replay),
    }
}
