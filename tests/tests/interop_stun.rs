//! STUN interop with coturn, an implementation nobody here wrote (see shared/INTEROP.md).
//!
//! - coturn's `turnutils_stunclient` against `pigeon stun-server` (plain and RFC 5780);
//! - pigeon's STUN client (over the std adapter) against coturn's `turnserver`: a Binding, and
//!   an Allocate that goes through the long-term credential flow (401, then a request
//!   authenticated with MESSAGE-INTEGRITY that coturn verifies).
//!
//! Run by `tests/run` inside a loopback-only network namespace; fails when coturn is missing.
#![cfg(feature = "interop")]

use std::net::{SocketAddr, UdpSocket};
use std::ops::ControlFlow;
use std::process::{Command, Stdio};
use std::time::Duration;

use pigeon::stun::client::{ClientConfig, ClientEvent, StunClient};
use pigeon::stun::{Attribute, Class, Credentials, Message, MessageType};
use pigeon_std::Driver;
use pigeon_tests::peers::{seeded, start_coturn, stun_binding, temp_dir, wait_until_stun_answers};
use pigeon_tests::{ChildGuard, addr, free_port_pair, free_udp_port, pigeon_binary, require_tool};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Starts `pigeon stun-server` and waits until it answers a Binding.
fn start_pigeon_server(listen: SocketAddr, alternate: Option<SocketAddr>) -> ChildGuard {
    let mut command = Command::new(pigeon_binary());
    command.args(["stun-server", "--listen", &listen.to_string()]);
    if let Some(alternate) = alternate {
        command.args(["--alternate", &alternate.to_string()]);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn pigeon stun-server");
    let guard = ChildGuard(child);
    wait_until_stun_answers(listen);
    guard
}

#[test]
fn coturn_stunclient_against_pigeon_server() {
    require_tool("turnutils_stunclient", "coturn");
    let port = free_udp_port("127.0.0.1");
    let listen = SocketAddr::from(([127, 0, 0, 1], port));
    let _server = start_pigeon_server(listen, None);

    let output = Command::new("turnutils_stunclient")
        .args(["-p", &port.to_string(), "127.0.0.1"])
        .output()
        .expect("run turnutils_stunclient");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "turnutils_stunclient failed: {output:?}"
    );
    assert!(
        stdout.contains("UDP reflexive addr: 127.0.0.1:"),
        "no reflexive address in: {stdout}"
    );
}

#[test]
fn coturn_stunclient_rfc5780_against_pigeon_server() {
    require_tool("turnutils_stunclient", "coturn");
    let (p1, p2) = free_port_pair("127.0.0.1", "127.0.0.2", 20_000);
    let listen = SocketAddr::from(([127, 0, 0, 1], p1));
    let alternate = SocketAddr::from(([127, 0, 0, 2], p2));
    let _server = start_pigeon_server(listen, Some(alternate));

    let mut child = Command::new("turnutils_stunclient")
        .args(["-f", "-p", &p1.to_string(), "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run turnutils_stunclient -f");
    let output = wait_with_deadline(&mut child, Duration::from_secs(20));
    println!("{output}");
    assert!(
        output.contains("UDP reflexive addr: 127.0.0.1:"),
        "no reflexive address in: {output}"
    );
    // RFC 5780: the server reports its other address, and the client's CHANGE-REQUEST
    // probes are answered from it.
    assert!(
        output.contains(&format!("127.0.0.2:{p2}")),
        "no OTHER-ADDRESS 127.0.0.2:{p2} in: {output}"
    );
}

/// Collects a child's stdout and stderr; kills it if it runs past `limit`.
fn wait_with_deadline(child: &mut std::process::Child, limit: Duration) -> String {
    let start = std::time::Instant::now();
    loop {
        match child.try_wait().expect("poll child") {
            Some(_) => break,
            None if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("turnutils_stunclient did not finish within {limit:?}");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let mut text = String::new();
    use std::io::Read;
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut text);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    text
}

#[test]
fn pigeon_client_binding_against_coturn() {
    let dir = temp_dir("coturn-binding");
    let port = free_udp_port("127.0.0.1");
    let _coturn = start_coturn(&dir, port);
    let server = addr(&format!("127.0.0.1:{port}"));
    let (local, mapped) =
        stun_binding(server, Duration::from_secs(5)).expect("coturn answered the Binding");
    assert_eq!(mapped, local, "on loopback the mapped address is our own");
}

#[test]
fn pigeon_client_long_term_credentials_against_coturn() {
    let dir = temp_dir("coturn-auth");
    let port = free_udp_port("127.0.0.1");
    let _coturn = start_coturn(&dir, port);
    let server = addr(&format!("127.0.0.1:{port}"));

    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind client socket");
    let local = socket.local_addr().expect("local address");
    let client = StunClient::new(ClientConfig::default(), seeded(2)).with_credentials(
        Credentials::LongTerm {
            username: "alice".into(),
            password: "secret".into(),
        },
    );
    let mut driver = Driver::new(client, vec![socket]).expect("std driver");
    // An Allocate (RFC 8656 §7.1) needs long-term credentials: coturn first answers 401 with
    // REALM and NONCE, the client retries with MESSAGE-INTEGRITY, coturn verifies it.
    let allocate = MessageType {
        method: pigeon::stun::Method::ALLOCATE,
        class: Class::Request,
    };
    driver
        .command(|client, now| {
            client.request(
                now,
                local,
                server,
                allocate,
                &[Attribute::RequestedTransport(17)],
            )
        })
        .expect("start the Allocate");
    let response = driver
        .run_for(Duration::from_secs(5), ControlFlow::Break)
        .expect("drive the client")
        .expect("coturn answered");
    let ClientEvent::Response {
        class, response, ..
    } = response
    else {
        panic!("no response: {response:?}");
    };
    let message = Message::parse(&response).expect("coturn's response parses");
    assert_eq!(
        class,
        Class::SuccessResponse,
        "Allocate failed: {:?}",
        message.error_code()
    );
    assert!(
        message
            .get(pigeon::stun::AttributeType::XOR_RELAYED_ADDRESS)
            .is_some(),
        "no XOR-RELAYED-ADDRESS in the Allocate response"
    );
    assert_eq!(
        driver.machine().stats().auth_retries,
        1,
        "one 401 round trip"
    );
}

/// The hostile datagrams thrown at the server: random bytes of random lengths, every prefix of
/// a valid request, a header announcing far more than follows, a wrong magic cookie,
/// misaligned and oversized lengths, an attribute that overruns the message, and a 60 KB blob.
fn garbage_datagrams(seed: u64) -> Vec<Vec<u8>> {
    use pigeon::stun::{MessageBuilder, TransactionId};
    use rand_core::Rng as _;

    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let valid = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([7; 12])).finish();
    let mut out = Vec::new();
    for _ in 0..300 {
        let len = usize::try_from(rng.next_u32() % 1500).expect("small");
        let mut bytes = vec![0; len];
        rng.fill_bytes(&mut bytes);
        // Half of them look like STUN at first glance: top bits clear, right cookie.
        if len >= 8 && rng.next_u32() % 2 == 0 {
            bytes[0] &= 0x3f;
            bytes[4..8].copy_from_slice(&0x2112_A442_u32.to_be_bytes());
        }
        out.push(bytes);
    }
    out.extend((0..valid.len()).map(|n| valid[..n].to_vec()));
    for length in [0xFFFC_u16, 0x0004, 0x0003, 0xFFFF] {
        let mut huge = valid.clone();
        huge[2..4].copy_from_slice(&length.to_be_bytes());
        out.push(huge);
    }
    let mut cookie = valid.clone();
    cookie[4] ^= 0xFF;
    out.push(cookie);
    // A SOFTWARE attribute claiming 0xFFF0 bytes inside a message that holds 4.
    let mut overrun = valid.clone();
    overrun[2..4].copy_from_slice(&8_u16.to_be_bytes());
    overrun.extend_from_slice(&[0x80, 0x22, 0xFF, 0xF0, b'a', b'b', b'c', b'd']);
    out.push(overrun);
    out.push(vec![0; 60_000]);
    out.push(Vec::new());
    out
}

#[test]
fn pigeon_server_survives_garbage_and_still_answers() {
    use pigeon::stun::{MessageBuilder, TransactionId};

    let port = free_udp_port("127.0.0.1");
    let listen = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = start_pigeon_server(listen, None);

    let attacker = UdpSocket::bind("127.0.0.1:0").expect("bind attacker socket");
    let garbage = garbage_datagrams(99);
    assert!(garbage.len() > 320, "only {} datagrams", garbage.len());
    for datagram in &garbage {
        attacker
            .send_to(datagram, listen)
            .expect("send a datagram over loopback");
    }

    // The same socket then asks properly: the answer must be the success response to exactly
    // this transaction, mapping the attacker's own address. Error responses the garbage earned
    // (a stray valid-looking request may get a 400 or 420) are skipped. The burst may have
    // filled the server's receive buffer, so the request is retransmitted as a STUN client
    // would (RFC 8489 §6.2.1), every 500 ms for up to 10 s.
    let id = TransactionId([0x5a; 12]);
    let request = MessageBuilder::new(MessageType::BINDING_REQUEST, id).finish();
    attacker
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("set a read timeout");
    let mine = attacker.local_addr().expect("local address");
    let mut buf = vec![0; 2048];
    let mut mapped = None;
    'attempts: for _ in 0..20 {
        attacker
            .send_to(&request, listen)
            .expect("send the Binding");
        while let Ok((len, from)) = attacker.recv_from(&mut buf) {
            assert_eq!(from, listen);
            let response = Message::parse(&buf[..len]).expect("the server sends well-formed STUN");
            if response.transaction_id() == id {
                assert_eq!(response.message_type().class, Class::SuccessResponse);
                mapped = Some(response.xor_mapped_address());
                break 'attempts;
            }
        }
    }
    let mapped = mapped.expect("the server never answered the Binding after the garbage");
    assert_eq!(mapped, Some(mine));

    // A fresh client gets its answer too, and the process is still running.
    let (local, mapped) =
        stun_binding(listen, Duration::from_secs(5)).expect("no answer after the garbage");
    assert_eq!(local, mapped);
    assert!(
        server
            .0
            .try_wait()
            .expect("query the server process")
            .is_none(),
        "pigeon stun-server exited"
    );
}
