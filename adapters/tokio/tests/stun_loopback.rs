//! pigeon's STUN client against pigeon's STUN server, each in its own pigeon-tokio driver
//! task, over real loopback UDP.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::stun::client::{ClientConfig, ClientEvent, RequestOptions, StunClient};
use pigeon::stun::server::{BindingServer, ServerConfig, ServerEvent};
use pigeon::stun::{Attribute, AttributeType, ChangeRequest, Class, Message, MessageType};
use pigeon_tokio::{Events, Handle};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tokio::net::UdpSocket;

/// Port 0 on 127.0.0.`host`.
fn loopback(host: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, host], 0))
}

async fn client_task(seed: u64) -> (Handle<StunClient>, Events<ClientEvent>, SocketAddr) {
    let socket = UdpSocket::bind(loopback(1)).await.unwrap();
    let local = socket.local_addr().unwrap();
    let rng = Box::new(ChaCha20Rng::seed_from_u64(seed));
    let client = StunClient::new(ClientConfig::default(), rng);
    let (handle, events, _) = pigeon_tokio::spawn(client, vec![socket]).unwrap();
    (handle, events, local)
}

async fn next<E>(events: &mut Events<E>) -> E {
    tokio::time::timeout(Duration::from_secs(5), events.next_event())
        .await
        .expect("nothing reported within 5 s")
        .expect("driver task stopped")
}

/// The address-valued attribute `ty` of a STUN message.
fn address(message: &[u8], ty: AttributeType) -> Option<SocketAddr> {
    let message = Message::parse(message).expect("the client checked the response");
    match message.get(ty)? {
        Ok(
            Attribute::XorMappedAddress(a)
            | Attribute::ResponseOrigin(a)
            | Attribute::OtherAddress(a),
        ) => Some(a),
        other => panic!("unexpected {ty:?}: {other:?}"),
    }
}

#[tokio::test]
async fn binding_reports_the_client_socket_address() {
    let socket = UdpSocket::bind(loopback(1)).await.unwrap();
    let server = socket.local_addr().unwrap();
    let machine = BindingServer::new(ServerConfig::new(server));
    let (server_handle, mut server_events, server_task) =
        pigeon_tokio::spawn(machine, vec![socket]).unwrap();

    let (handle, mut events, local) = client_task(1).await;
    let id = handle
        .command(move |client, now| client.binding(now, local, server))
        .await
        .unwrap()
        .unwrap();
    match next(&mut events).await {
        ClientEvent::Response {
            id: got,
            class,
            mapped,
            response,
            server: from,
            ..
        } => {
            assert_eq!((got, class, from), (id, Class::SuccessResponse, server));
            assert_eq!(mapped, Some(local));
            assert_eq!(
                address(&response, AttributeType::XOR_MAPPED_ADDRESS),
                Some(local)
            );
        }
        other => panic!("expected a response, got {other:?}"),
    }
    assert!(matches!(
        next(&mut server_events).await,
        ServerEvent::Answered { from, .. } if from == local
    ));
    server_handle.shutdown().await.unwrap();
    let stats = server_task.await.unwrap().unwrap().stats();
    assert_eq!((stats.requests, stats.responses), (1, 1));
}

/// Binds the four sockets of an RFC 5780 server on 127.0.0.1 and 127.0.0.2, in the order
/// [`BindingServer::local_addresses`] lists them.
async fn bind_rfc5780_server() -> (ServerConfig, Vec<UdpSocket>) {
    // Ports come from the OS for the first two sockets; the other two reuse them on the other
    // IP, which may be taken, so try a few times.
    for _ in 0..20 {
        let primary_socket = UdpSocket::bind(loopback(1)).await.unwrap();
        let alternate_socket = UdpSocket::bind(loopback(2)).await.unwrap();
        let primary = primary_socket.local_addr().unwrap();
        let alternate = alternate_socket.local_addr().unwrap();
        let (Ok(primary_ip_alt_port), Ok(alt_ip_primary_port)) = (
            UdpSocket::bind(SocketAddr::new(primary.ip(), alternate.port())).await,
            UdpSocket::bind(SocketAddr::new(alternate.ip(), primary.port())).await,
        ) else {
            continue;
        };
        let config = ServerConfig {
            alternate: Some(alternate),
            ..ServerConfig::new(primary)
        };
        let mut sockets = vec![
            primary_socket,
            primary_ip_alt_port,
            alt_ip_primary_port,
            alternate_socket,
        ];
        let wanted = BindingServer::new(config.clone()).local_addresses();
        sockets.sort_by_key(|s| {
            let addr = s.local_addr().unwrap();
            wanted.iter().position(|w| *w == addr)
        });
        return (config, sockets);
    }
    panic!("could not bind the four RFC 5780 sockets on 127.0.0.1 and 127.0.0.2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_request_is_answered_from_the_other_address() {
    let (config, sockets) = bind_rfc5780_server().await;
    let (primary, alternate) = (config.primary, config.alternate.unwrap());
    let (_server, mut server_events, _) =
        pigeon_tokio::spawn(BindingServer::new(config), sockets).unwrap();
    let (handle, mut events, local) = client_task(2).await;

    // RFC 5780 §4.3: a plain Binding learns OTHER-ADDRESS; CHANGE-REQUEST with both flags
    // brings the answer from that address, with only the port flag from primary IP and the
    // alternate port.
    let cases = [
        (ChangeRequest::default(), primary),
        (
            ChangeRequest {
                change_ip: true,
                change_port: true,
            },
            alternate,
        ),
        (
            ChangeRequest {
                change_ip: false,
                change_port: true,
            },
            SocketAddr::new(primary.ip(), alternate.port()),
        ),
    ];
    for (change, expected_origin) in cases {
        let options = RequestOptions {
            response_from: Some(expected_origin),
            ..RequestOptions::default()
        };
        let id = handle
            .command(move |client, now| {
                client.request_with(
                    now,
                    local,
                    primary,
                    MessageType::BINDING_REQUEST,
                    &[Attribute::ChangeRequest(change)],
                    options,
                )
            })
            .await
            .unwrap()
            .unwrap();
        let ClientEvent::Response {
            id: got,
            class: Class::SuccessResponse,
            mapped,
            response,
            ..
        } = next(&mut events).await
        else {
            panic!("no success response for {change:?}");
        };
        assert_eq!(got, id);
        assert_eq!(mapped, Some(local));
        assert_eq!(
            address(&response, AttributeType::RESPONSE_ORIGIN),
            Some(expected_origin)
        );
        assert_eq!(
            address(&response, AttributeType::OTHER_ADDRESS),
            Some(alternate)
        );
        match next(&mut server_events).await {
            ServerEvent::Answered {
                from,
                local: arrived_on,
                source,
                ..
            } => {
                assert_eq!((from, arrived_on), (local, primary));
                assert_eq!(source, expected_origin, "answered from the wrong socket");
            }
            other => panic!("server: {other:?}"),
        }
    }
}
