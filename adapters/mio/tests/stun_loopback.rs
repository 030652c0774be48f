//! pigeon's STUN client against pigeon's STUN server, each in its own pigeon-mio driver, over
//! real loopback UDP.

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use mio::net::UdpSocket;
use pigeon::stun::client::{ClientConfig, ClientEvent, RequestOptions, StunClient};
use pigeon::stun::server::{BindingServer, ServerConfig, ServerEvent, ServerStats};
use pigeon::stun::{Attribute, AttributeType, ChangeRequest, Class, Message, MessageType};
use pigeon_mio::MioDriver as Driver;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// A server driver on its own thread, reporting its events until stopped.
struct ServerThread {
    stop: Arc<AtomicBool>,
    events: mpsc::Receiver<ServerEvent>,
    thread: JoinHandle<ServerStats>,
}

impl ServerThread {
    fn spawn(config: ServerConfig, sockets: Vec<UdpSocket>) -> Self {
        let mut driver = Driver::new(BindingServer::new(config), sockets).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, events) = mpsc::channel();
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                driver
                    .run_for(Duration::from_millis(20), |event| {
                        let _ = tx.send(event);
                        ControlFlow::<()>::Continue(())
                    })
                    .unwrap();
            }
            driver.machine().stats()
        });
        Self {
            stop,
            events,
            thread,
        }
    }

    fn next_event(&self) -> ServerEvent {
        self.events
            .recv_timeout(Duration::from_secs(5))
            .expect("server reported nothing")
    }

    fn stop(self) -> ServerStats {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// Port 0 on 127.0.0.`host`.
fn loopback(host: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, host], 0))
}

fn client_driver(seed: u64) -> (Driver<StunClient>, SocketAddr) {
    let socket = UdpSocket::bind(loopback(1)).unwrap();
    let local = socket.local_addr().unwrap();
    let rng = Box::new(ChaCha20Rng::seed_from_u64(seed));
    let client = StunClient::new(ClientConfig::default(), rng);
    (Driver::new(client, vec![socket]).unwrap(), local)
}

fn next_client_event(driver: &mut Driver<StunClient>) -> ClientEvent {
    driver
        .run_for(Duration::from_secs(5), ControlFlow::Break)
        .unwrap()
        .expect("client reported nothing within 5 s")
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

#[test]
fn binding_reports_the_client_socket_address() {
    let socket = UdpSocket::bind(loopback(1)).unwrap();
    let server = socket.local_addr().unwrap();
    let server_thread = ServerThread::spawn(ServerConfig::new(server), vec![socket]);

    let (mut driver, local) = client_driver(1);
    let id = driver
        .command(|client, now| client.binding(now, local, server))
        .unwrap();
    match next_client_event(&mut driver) {
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
        server_thread.next_event(),
        ServerEvent::Answered { from, .. } if from == local
    ));
    let stats = server_thread.stop();
    assert_eq!((stats.requests, stats.responses), (1, 1));
}

/// Binds the four sockets of an RFC 5780 server on 127.0.0.1 and 127.0.0.2, in the order
/// [`BindingServer::local_addresses`] lists them.
fn bind_rfc5780_server() -> (ServerConfig, Vec<UdpSocket>) {
    // Ports come from the OS for the first two sockets; the other two reuse them on the other
    // IP, which may be taken, so try a few times.
    for _ in 0..20 {
        let primary_socket = UdpSocket::bind(loopback(1)).unwrap();
        let alternate_socket = UdpSocket::bind(loopback(2)).unwrap();
        let primary = primary_socket.local_addr().unwrap();
        let alternate = alternate_socket.local_addr().unwrap();
        let (Ok(primary_ip_alt_port), Ok(alt_ip_primary_port)) = (
            UdpSocket::bind(SocketAddr::new(primary.ip(), alternate.port())),
            UdpSocket::bind(SocketAddr::new(alternate.ip(), primary.port())),
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

#[test]
fn change_request_is_answered_from_the_other_address() {
    let (config, sockets) = bind_rfc5780_server();
    let (primary, alternate) = (config.primary, config.alternate.unwrap());
    let server_thread = ServerThread::spawn(config, sockets);
    let (mut driver, local) = client_driver(2);

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
        let attrs = [Attribute::ChangeRequest(change)];
        let options = RequestOptions {
            response_from: Some(expected_origin),
            ..RequestOptions::default()
        };
        let id = driver
            .command(|client, now| {
                client.request_with(
                    now,
                    local,
                    primary,
                    MessageType::BINDING_REQUEST,
                    &attrs,
                    options,
                )
            })
            .unwrap();
        let ClientEvent::Response {
            id: got,
            class: Class::SuccessResponse,
            mapped,
            response,
            ..
        } = next_client_event(&mut driver)
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
        match server_thread.next_event() {
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
    let stats = server_thread.stop();
    assert_eq!(stats.responses, 3);
}
