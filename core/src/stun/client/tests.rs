use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::stun::testnet::{Host, Net};
use crate::stun::{
    Attribute, AttributeType, BindingServer, Class, ClientConfig, ClientError, ClientEvent,
    Credentials, Message, MessageBuilder, MessageType, RequestOptions, ServerConfig, StunClient,
    TransactionFailure,
};
use crate::{Datagram, Instant, Machine, Transmit};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn client(seed: u64) -> StunClient {
    StunClient::new(
        ClientConfig::default(),
        Box::new(ChaCha20Rng::seed_from_u64(seed)),
    )
}

const LOCAL: &str = "10.0.0.1:5000";
const SERVER: &str = "192.0.2.1:3478";

#[test]
fn retransmission_schedule_matches_rfc8489() {
    let mut c = Host::new(client(1), vec![addr(LOCAL)]);
    let id = c
        .machine
        .binding(Instant::ZERO, addr(LOCAL), addr(SERVER))
        .unwrap();
    let mut net = Net::new(Duration::from_millis(10));
    net.run(&mut [&mut c], Instant::from_secs(100));
    // RFC 8489 §6.2.1: "requests would be sent at times 0 ms, 500 ms, 1500 ms, 3500 ms,
    // 7500 ms, 15500 ms, and 31500 ms ... after 39500 ms ... timed out".
    let times: Vec<u64> = net
        .sent
        .iter()
        .map(|(t, _)| t.as_nanos() / 1_000_000)
        .collect();
    assert_eq!(times, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert!(
        net.sent.windows(2).all(|w| w[0].1 == w[1].1),
        "retransmissions are identical"
    );
    assert_eq!(
        c.events,
        [(
            Instant::from_millis(39_500),
            ClientEvent::Timeout {
                id,
                local: addr(LOCAL),
                server: addr(SERVER)
            }
        )]
    );
    assert_eq!(c.machine.poll_timeout(), None);
    assert_eq!(c.machine.stats().retransmissions, 6);
    assert_eq!(c.machine.stats().timeouts, 1);
}

#[test]
fn per_request_budget_overrides_config() {
    let mut c = Host::new(client(2), vec![addr(LOCAL)]);
    let options = RequestOptions {
        rc: Some(2),
        rm: Some(2),
        ..RequestOptions::default()
    };
    let ty = MessageType::BINDING_REQUEST;
    c.machine
        .request_with(Instant::ZERO, addr(LOCAL), addr(SERVER), ty, &[], options)
        .unwrap();
    let mut net = Net::new(Duration::from_millis(10));
    net.run(&mut [&mut c], Instant::from_secs(100));
    let times: Vec<u64> = net
        .sent
        .iter()
        .map(|(t, _)| t.as_nanos() / 1_000_000)
        .collect();
    assert_eq!(times, [0, 500]);
    assert_eq!(c.events[0].0, Instant::from_millis(1_500));
}

fn server(addr_: &str) -> Host<BindingServer> {
    let server = BindingServer::new(ServerConfig::new(addr(addr_))).unwrap();
    let addrs = server.local_addresses();
    Host::new(server, addrs)
}

#[test]
fn lost_requests_are_retransmitted() {
    let mut c = Host::new(client(3), vec![addr(LOCAL)]);
    let mut s = server(SERVER);
    let id = c
        .machine
        .binding(Instant::ZERO, addr(LOCAL), addr(SERVER))
        .unwrap();
    let mut net = Net::new(Duration::from_millis(10));
    net.drop_first = 2;
    net.run(&mut [&mut c, &mut s], Instant::from_secs(100));
    let [
        (
            at,
            ClientEvent::Response {
                id: got,
                class,
                mapped,
                rtt,
                ..
            },
        ),
    ] = &c.events[..]
    else {
        panic!("expected one response, got {:?}", c.events);
    };
    // The third send, at 1.5 s, gets through; the answer is back 20 ms later.
    assert_eq!(
        (*got, *class, *mapped),
        (id, Class::SuccessResponse, Some(addr(LOCAL)))
    );
    assert_eq!(*at, Instant::from_millis(1_520));
    assert_eq!(*rtt, Duration::from_millis(1_520));
    assert_eq!(c.machine.stats().retransmissions, 2);
    assert_eq!(c.machine.poll_timeout(), None);
}

#[test]
fn many_transactions_in_flight() {
    let config = ClientConfig {
        max_in_flight: 200,
        ..ClientConfig::default()
    };
    let locals: Vec<SocketAddr> = (0..200)
        .map(|i| addr(&format!("10.0.0.1:{}", 6000 + i)))
        .collect();
    let mut c = Host::new(
        StunClient::new(config, Box::new(ChaCha20Rng::seed_from_u64(4))),
        locals.clone(),
    );
    let mut s = server(SERVER);
    let mut ids = Vec::new();
    for (i, local) in locals.iter().enumerate() {
        ids.push(
            c.machine
                .binding(Instant::from_millis(i as u64), *local, addr(SERVER))
                .unwrap(),
        );
    }
    assert_eq!(
        c.machine.binding(Instant::ZERO, locals[0], addr(SERVER)),
        Err(ClientError::TooManyInFlight { limit: 200 })
    );
    assert_eq!(c.machine.in_flight(), 200);
    assert_eq!(c.machine.poll_timeout(), Some(Instant::from_millis(500)));
    let mut net = Net::new(Duration::from_millis(10));
    net.drop_first = 50;
    net.run(&mut [&mut c, &mut s], Instant::from_secs(100));
    assert_eq!(c.events.len(), 200);
    for (_, event) in &c.events {
        let ClientEvent::Response {
            id, local, mapped, ..
        } = event
        else {
            panic!("{event:?}");
        };
        let i = ids.iter().position(|x| x == id).unwrap();
        assert_eq!((*local, *mapped), (locals[i], Some(locals[i])));
    }
    assert_eq!(c.machine.stats().retransmissions, 50);
    assert_eq!(c.machine.in_flight(), 0);
}

/// Takes the one request the client wants sent.
fn take_request(c: &mut StunClient) -> Transmit {
    let t = c.poll_transmit().expect("a request");
    assert!(c.poll_transmit().is_none());
    t
}

fn success_for(request: &[u8], mapped: SocketAddr) -> Vec<u8> {
    let req = Message::parse(request).unwrap();
    let mut b = MessageBuilder::success_response(&req);
    b.add(&Attribute::XorMappedAddress(mapped));
    b.finish()
}

#[test]
fn responses_from_wrong_address_or_socket_are_dropped() {
    let mut c = client(5);
    let id = c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    let request = take_request(&mut c);
    let response = success_for(&request.payload, addr("203.0.113.9:1234"));
    let wrong = [
        (addr("192.0.2.99:3478"), addr(LOCAL)),
        (addr("192.0.2.1:3479"), addr(LOCAL)),
        (addr(SERVER), addr("10.0.0.1:5001")),
    ];
    for (source, destination) in wrong {
        c.handle_datagram(
            Instant::from_millis(5),
            Datagram {
                source,
                destination,
                payload: &response,
            },
        );
    }
    assert_eq!(c.poll_event(), None);
    assert_eq!(c.stats().stray, 3);
    // Garbage and an unrelated transaction id are stray too, and nothing panics.
    c.handle_datagram(
        Instant::from_millis(6),
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: b"\x01\x01garbage",
        },
    );
    let other = MessageBuilder::new(
        MessageType::BINDING_SUCCESS,
        crate::stun::TransactionId([9; 12]),
    )
    .finish();
    c.handle_datagram(
        Instant::from_millis(6),
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &other,
        },
    );
    assert_eq!((c.stats().malformed, c.stats().stray), (1, 4));
    c.handle_datagram(
        Instant::from_millis(10),
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &response,
        },
    );
    let Some(ClientEvent::Response {
        id: got,
        mapped,
        rtt,
        ..
    }) = c.poll_event()
    else {
        panic!("expected a response");
    };
    assert_eq!(
        (got, mapped, rtt),
        (
            id,
            Some(addr("203.0.113.9:1234")),
            Duration::from_millis(10)
        )
    );
    // A duplicate after completion is stray.
    c.handle_datagram(
        Instant::from_millis(11),
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &response,
        },
    );
    assert_eq!(c.stats().stray, 5);
}

#[test]
fn response_source_and_destination_options() {
    let mut c = client(6);
    let other = addr("192.0.2.2:3479");
    let second = addr("10.0.0.1:5001");
    let options = RequestOptions {
        response_from: Some(other),
        response_to: Some(second),
        ..RequestOptions::default()
    };
    let ty = MessageType::BINDING_REQUEST;
    let id = c
        .request_with(Instant::ZERO, addr(LOCAL), addr(SERVER), ty, &[], options)
        .unwrap();
    let request = take_request(&mut c);
    let response = success_for(&request.payload, addr(LOCAL));
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &response,
        },
    );
    assert_eq!(c.poll_event(), None);
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: other,
            destination: second,
            payload: &response,
        },
    );
    assert_eq!(c.poll_event().map(|e| e.id()), Some(id));
}

#[test]
fn unknown_required_attribute_in_response_fails_transaction() {
    let mut c = client(7);
    let id = c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    let request = take_request(&mut c);
    let req = Message::parse(&request.payload).unwrap();
    let mut b = MessageBuilder::success_response(&req);
    b.add(&Attribute::Unknown {
        ty: AttributeType(0x7abc),
        value: b"x",
    });
    let response = b.finish();
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &response,
        },
    );
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Failed {
            id,
            local: addr(LOCAL),
            server: addr(SERVER),
            reason: TransactionFailure::UnknownAttributes(vec![AttributeType(0x7abc)]),
        })
    );
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn error_response_without_error_code_fails_transaction() {
    let mut c = client(8);
    c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    let request = take_request(&mut c);
    let req = Message::parse(&request.payload).unwrap();
    let ty = req.message_type().with_class(Class::ErrorResponse);
    let response = MessageBuilder::new(ty, req.transaction_id()).finish();
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &response,
        },
    );
    assert!(matches!(
        c.poll_event(),
        Some(ClientEvent::Failed {
            reason: TransactionFailure::MissingErrorCode,
            ..
        })
    ));
}

#[test]
fn fingerprint_is_sent_and_required() {
    let mut c = client(9).with_fingerprint(true);
    c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    let request = take_request(&mut c);
    let req = Message::parse(&request.payload).unwrap();
    assert!(req.verify_fingerprint().is_ok());
    assert!(req.software().is_some_and(|s| s.starts_with("pigeon")));
    let bare = success_for(&request.payload, addr(LOCAL));
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &bare,
        },
    );
    assert_eq!((c.poll_event(), c.stats().malformed), (None, 1));
    let mut b = MessageBuilder::success_response(&req);
    b.add(&Attribute::XorMappedAddress(addr(LOCAL)))
        .add_fingerprint();
    let good = b.finish();
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &good,
        },
    );
    assert!(matches!(c.poll_event(), Some(ClientEvent::Response { .. })));
}

#[test]
fn cancel_forgets_the_transaction() {
    let mut c = client(10);
    let id = c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    assert!(c.cancel(id));
    assert!(!c.cancel(id));
    assert_eq!((c.poll_timeout(), c.in_flight()), (None, 0));
    c.handle_timeout(Instant::from_secs(100));
    assert_eq!(c.poll_event(), None);
    assert!(matches!(
        c.request(
            Instant::ZERO,
            addr(LOCAL),
            addr(SERVER),
            MessageType::BINDING_SUCCESS,
            &[]
        ),
        Err(ClientError::NotARequest(_))
    ));
}

#[test]
fn short_term_credentials_protect_both_ways() {
    let creds = Credentials::ShortTerm {
        username: "rfrag:lfrag".into(),
        password: "pass".into(),
    };
    let mut c = client(11).with_credentials(creds);
    let id = c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    let request = take_request(&mut c);
    let req = Message::parse(&request.payload).unwrap();
    assert_eq!(req.username(), Some("rfrag:lfrag"));
    assert!(req.verify_integrity(b"pass").is_ok());
    // Responses without integrity, or with a wrong key, are discarded as never received.
    let bare = success_for(&request.payload, addr(LOCAL));
    let mut forged = MessageBuilder::success_response(&req);
    forged
        .add(&Attribute::XorMappedAddress(addr(LOCAL)))
        .add_message_integrity(b"wrong");
    let forged = forged.finish();
    for payload in [&bare, &forged] {
        c.handle_datagram(
            Instant::ZERO,
            Datagram {
                source: addr(SERVER),
                destination: addr(LOCAL),
                payload,
            },
        );
    }
    assert_eq!((c.poll_event(), c.stats().discarded), (None, 2));
    let mut good = MessageBuilder::success_response(&req);
    good.add(&Attribute::XorMappedAddress(addr(LOCAL)))
        .add_message_integrity(b"pass");
    let good = good.finish();
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &good,
        },
    );
    assert_eq!(c.poll_event().map(|e| e.id()), Some(id));

    // Only forged answers until the end: integrity violation, not a timeout.
    let id = c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    let request = take_request(&mut c);
    let forged = success_for(&request.payload, addr(LOCAL));
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &forged,
        },
    );
    while let Some(deadline) = c.poll_timeout() {
        c.handle_timeout(deadline);
    }
    assert_eq!(c.stats().sent, 1 + 7);
    let event = c.poll_event();
    assert!(
        matches!(event, Some(ClientEvent::Failed { id: got, reason: TransactionFailure::IntegrityViolated, .. }) if got == id),
        "{event:?}"
    );
}

#[test]
fn same_seed_same_bytes() {
    let run = |seed| {
        let mut c = client(seed);
        c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
        take_request(&mut c).payload
    };
    assert_eq!(run(14), run(14));
    assert_ne!(run(14), run(15));
}
