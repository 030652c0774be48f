use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::stun::testnet::{Host, Net};
use crate::stun::{
    Attribute, AttributeType, BindingServer, ChangeRequest, Class, ClientConfig, ClientEvent,
    Message, MessageBuilder, MessageType, Method, RequestOptions, ServerConfig, ServerConfigError,
    ServerEvent, StunClient, TransactionId,
};
use crate::{Datagram, Instant, Machine, Transmit};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const A1P1: &str = "192.0.2.1:3478";
const A2P2: &str = "192.0.2.2:3479";
const CLIENT: &str = "203.0.113.7:40000";

fn four_address_server() -> BindingServer {
    BindingServer::new(ServerConfig {
        primary: addr(A1P1),
        alternate: Some(addr(A2P2)),
        software: Some("pigeon test".into()),
        fingerprint: true,
    })
    .expect("A2:P2 differs from A1:P1 in IP and port")
}

fn request(attrs: &[Attribute<'_>]) -> Vec<u8> {
    let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([3; 12]));
    for a in attrs {
        b.add(a);
    }
    b.finish()
}

/// Feeds one datagram and returns the single transmit it caused, if any.
fn exchange(server: &mut BindingServer, to: SocketAddr, payload: &[u8]) -> Option<Transmit> {
    let datagram = Datagram {
        source: addr(CLIENT),
        destination: to,
        payload,
    };
    server.handle_datagram(Instant::ZERO, datagram);
    let out = server.poll_transmit();
    assert!(server.poll_transmit().is_none());
    out
}

#[test]
fn local_addresses_form_the_rfc5780_square() {
    let s = four_address_server();
    let expected: Vec<SocketAddr> = [
        "192.0.2.1:3478",
        "192.0.2.1:3479",
        "192.0.2.2:3478",
        "192.0.2.2:3479",
    ]
    .iter()
    .map(|a| addr(a))
    .collect();
    assert_eq!(s.local_addresses(), expected);
    assert_eq!(
        BindingServer::new(ServerConfig::new(addr(A1P1)))
            .unwrap()
            .local_addresses(),
        [addr(A1P1)]
    );
}

#[test]
fn alternate_sharing_an_ip_a_port_or_a_family_is_refused() {
    let primary = addr(A1P1);
    for (alternate, expected) in [
        (
            "192.0.2.2:3478",
            ServerConfigError::AlternateNotDistinct {
                primary,
                alternate: addr("192.0.2.2:3478"),
            },
        ),
        (
            "192.0.2.1:3479",
            ServerConfigError::AlternateNotDistinct {
                primary,
                alternate: addr("192.0.2.1:3479"),
            },
        ),
        (
            "[2001:db8::2]:3479",
            ServerConfigError::AlternateFamily {
                primary,
                alternate: addr("[2001:db8::2]:3479"),
            },
        ),
    ] {
        let config = ServerConfig {
            alternate: Some(addr(alternate)),
            ..ServerConfig::new(primary)
        };
        let err = BindingServer::new(config).unwrap_err();
        assert_eq!(err, expected);
        assert!(err.to_string().contains(alternate), "{err}");
    }
}

#[test]
fn binding_success_carries_rfc5780_attributes() {
    let mut s = four_address_server();
    let t = exchange(&mut s, addr(A1P1), &request(&[])).unwrap();
    assert_eq!((t.source, t.destination), (addr(A1P1), addr(CLIENT)));
    let msg = Message::parse(&t.payload).unwrap();
    assert_eq!(msg.message_type(), MessageType::BINDING_SUCCESS);
    assert_eq!(msg.transaction_id(), TransactionId([3; 12]));
    assert_eq!(msg.xor_mapped_address(), Some(addr(CLIENT)));
    assert_eq!(msg.mapped_address(), Some(addr(CLIENT)));
    assert_eq!(msg.response_origin(), Some(addr(A1P1)));
    assert_eq!(msg.other_address(), Some(addr(A2P2)));
    assert_eq!(msg.software(), Some("pigeon test"));
    assert!(msg.verify_fingerprint().is_ok());
    assert_eq!(
        s.poll_event(),
        Some(ServerEvent::Answered {
            from: addr(CLIENT),
            local: addr(A1P1),
            source: addr(A1P1),
            destination: addr(CLIENT)
        })
    );
    assert_eq!((s.stats().requests, s.stats().responses), (1, 1));
}

#[test]
fn change_request_follows_rfc5780_table_1() {
    let mut s = four_address_server();
    let [a1p1, a1p2, a2p1, a2p2] = [A1P1, "192.0.2.1:3479", "192.0.2.2:3478", A2P2].map(addr);
    // (received on, change ip, change port) -> sent from; OTHER-ADDRESS is always Ca:Cp.
    let cases = [
        (a1p1, false, false, a1p1, a2p2),
        (a1p1, true, false, a2p1, a2p2),
        (a1p1, false, true, a1p2, a2p2),
        (a1p1, true, true, a2p2, a2p2),
        (a1p2, true, true, a2p1, a2p1),
        (a2p1, false, true, a2p2, a1p2),
        (a2p2, true, false, a1p2, a1p1),
        (a2p2, true, true, a1p1, a1p1),
    ];
    for (to, change_ip, change_port, from, other) in cases {
        let cr = Attribute::ChangeRequest(ChangeRequest {
            change_ip,
            change_port,
        });
        let t = exchange(&mut s, to, &request(&[cr])).unwrap();
        let msg = Message::parse(&t.payload).unwrap();
        assert_eq!(t.source, from, "{to} {change_ip} {change_port}");
        assert_eq!(t.destination, addr(CLIENT));
        assert_eq!(msg.response_origin(), Some(from));
        assert_eq!(msg.other_address(), Some(other));
    }
}

#[test]
fn single_address_server_rejects_change_request() {
    let mut s = BindingServer::new(ServerConfig::new(addr(A1P1))).unwrap();
    let plain = exchange(&mut s, addr(A1P1), &request(&[])).unwrap();
    let msg = Message::parse(&plain.payload).unwrap();
    // RFC 5780 §6: "MUST NOT include an OTHER-ADDRESS attribute in any Response".
    assert_eq!(msg.other_address(), None);
    let cr = Attribute::ChangeRequest(ChangeRequest {
        change_ip: true,
        change_port: false,
    });
    let t = exchange(&mut s, addr(A1P1), &request(&[cr])).unwrap();
    let msg = Message::parse(&t.payload).unwrap();
    assert_eq!(msg.message_type().class, Class::ErrorResponse);
    assert_eq!(msg.error_code().map(|e| e.code), Some(420));
    let unknown: Vec<AttributeType> = msg.unknown_attributes().unwrap().iter().collect();
    assert_eq!(unknown, [AttributeType::CHANGE_REQUEST]);
    assert_eq!(t.source, addr(A1P1));
}

#[test]
fn unknown_comprehension_required_attributes_get_420() {
    let mut s = four_address_server();
    let attrs = [
        Attribute::Unknown {
            ty: AttributeType(0x7777),
            value: b"abc",
        },
        Attribute::Unknown {
            ty: AttributeType(0x8888),
            value: b"optional",
        },
        Attribute::Unknown {
            ty: AttributeType(0x0002),
            value: &[],
        },
    ];
    let t = exchange(&mut s, addr(A1P1), &request(&attrs)).unwrap();
    let msg = Message::parse(&t.payload).unwrap();
    assert_eq!(msg.message_type(), MessageType::BINDING_ERROR);
    assert_eq!(msg.error_code().map(|e| e.code), Some(420));
    let unknown: Vec<AttributeType> = msg.unknown_attributes().unwrap().iter().collect();
    assert_eq!(unknown, [AttributeType(0x7777), AttributeType(0x0002)]);
    assert!(msg.verify_fingerprint().is_ok());
    assert_eq!(
        s.poll_event(),
        Some(ServerEvent::Rejected {
            from: addr(CLIENT),
            code: 420
        })
    );
    // Comprehension-optional unknowns alone are ignored.
    let t = exchange(&mut s, addr(A1P1), &request(&attrs[1..2])).unwrap();
    assert_eq!(
        Message::parse(&t.payload).unwrap().message_type(),
        MessageType::BINDING_SUCCESS
    );
}

#[test]
fn response_port_and_padding() {
    let mut s = four_address_server();
    let t = exchange(
        &mut s,
        addr(A1P1),
        &request(&[Attribute::ResponsePort(5555)]),
    )
    .unwrap();
    assert_eq!(t.destination, addr("203.0.113.7:5555"));
    assert_eq!(
        Message::parse(&t.payload).unwrap().xor_mapped_address(),
        Some(addr(CLIENT))
    );

    let pad = [0u8; 1001];
    let t = exchange(&mut s, addr(A1P1), &request(&[Attribute::Padding(&pad)])).unwrap();
    let msg = Message::parse(&t.payload).unwrap();
    assert_eq!(msg.padding_len(), Some(1004));
    assert_eq!(t.destination, addr(CLIENT));

    // RFC 5780 §6.1: PADDING with RESPONSE-PORT gets 400, sent back to the source.
    for attrs in [
        &[Attribute::Padding(&pad), Attribute::ResponsePort(5555)][..],
        &[Attribute::ResponsePort(0)],
    ] {
        let t = exchange(&mut s, addr(A1P1), &request(attrs)).unwrap();
        assert_eq!(t.destination, addr(CLIENT));
        let msg = Message::parse(&t.payload).unwrap();
        assert_eq!(msg.error_code().map(|e| e.code), Some(400));
    }
}

#[test]
fn malformed_known_attribute_gets_400() {
    let mut s = four_address_server();
    let bad = Attribute::Unknown {
        ty: AttributeType::CHANGE_REQUEST,
        value: &[0, 0],
    };
    let t = exchange(&mut s, addr(A1P1), &request(&[bad])).unwrap();
    assert_eq!(
        Message::parse(&t.payload)
            .unwrap()
            .error_code()
            .map(|e| e.code),
        Some(400)
    );
}

#[test]
fn garbage_and_non_requests_get_no_answer() {
    let mut s = four_address_server();
    let indication =
        MessageBuilder::new(MessageType::BINDING_INDICATION, TransactionId([1; 12])).finish();
    let response =
        MessageBuilder::new(MessageType::BINDING_SUCCESS, TransactionId([1; 12])).finish();
    let allocate = MessageBuilder::new(
        MessageType {
            method: Method::ALLOCATE,
            class: Class::Request,
        },
        TransactionId([1; 12]),
    )
    .finish();
    let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([1; 12]));
    b.add_fingerprint();
    let mut bad_fingerprint = b.finish();
    let last = bad_fingerprint.len() - 1;
    bad_fingerprint[last] ^= 1;
    for payload in [
        &b""[..],
        b"\x00\x01\x00\x00",
        &indication,
        &response,
        &allocate,
        &bad_fingerprint,
    ] {
        assert_eq!(exchange(&mut s, addr(A1P1), payload), None);
    }
    // Addressed to a socket the server does not serve.
    assert_eq!(
        exchange(&mut s, addr("192.0.2.9:3478"), &request(&[])),
        None
    );
    let stats = s.stats();
    assert_eq!(
        (stats.malformed, stats.indications, stats.ignored),
        (3, 1, 3)
    );
    assert_eq!(stats.responses + stats.errors, 0);
}

#[test]
fn event_queue_is_bounded() {
    let mut s = four_address_server();
    for _ in 0..2000 {
        s.handle_datagram(
            Instant::ZERO,
            Datagram {
                source: addr(CLIENT),
                destination: addr(A1P1),
                payload: b"junk",
            },
        );
    }
    let mut n = 0;
    while s.poll_event().is_some() {
        n += 1;
    }
    assert_eq!(n, 1024);
    assert_eq!(s.stats().events_dropped, 2000 - 1024);
}

#[test]
fn client_and_server_in_memory() {
    let server = four_address_server();
    let mut s = Host::new(server, four_address_server().local_addresses());
    let local = addr("198.51.100.4:50000");
    let client = StunClient::new(
        ClientConfig::default(),
        Box::new(ChaCha20Rng::seed_from_u64(1)),
    );
    let mut c = Host::new(client, vec![local]);
    let plain = c.machine.binding(Instant::ZERO, local, addr(A1P1)).unwrap();
    // CHANGE-REQUEST answered from the other IP and port, which the client is told to expect.
    let cr = Attribute::ChangeRequest(ChangeRequest {
        change_ip: true,
        change_port: true,
    });
    let options = RequestOptions {
        response_from: Some(addr(A2P2)),
        ..RequestOptions::default()
    };
    let changed = c
        .machine
        .request_with(
            Instant::ZERO,
            local,
            addr(A1P1),
            MessageType::BINDING_REQUEST,
            &[cr],
            options,
        )
        .unwrap();
    let mut net = Net::new(Duration::from_millis(15));
    net.run(&mut [&mut c, &mut s], Instant::from_secs(60));
    assert_eq!(c.events.len(), 2);
    for (at, event) in &c.events {
        let ClientEvent::Response {
            id,
            mapped,
            response,
            ..
        } = event
        else {
            panic!("{event:?}")
        };
        assert_eq!(*at, Instant::from_millis(30));
        assert_eq!(*mapped, Some(local));
        let origin = Message::parse(response).unwrap().response_origin();
        let expected = if *id == plain { addr(A1P1) } else { addr(A2P2) };
        assert!(*id == plain || *id == changed);
        assert_eq!(origin, Some(expected));
    }
    assert_eq!(s.events.len(), 2);
}
