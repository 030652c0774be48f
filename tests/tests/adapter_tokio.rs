//! pigeon-tokio over real loopback UDP: the echo machine moves bytes and fires timeouts, the
//! handle and events behave, and pigeon's STUN client gets its answers from pigeon's STUN
//! server, each in its own driver task. The machines and STUN checks are the ones the blocking
//! drivers use (`pigeon_tests::fixtures`).

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::stun::client::ClientEvent;
use pigeon::stun::server::{BindingServer, ServerConfig};
use pigeon_tests::fixtures::echo::{Echo, EchoEvent};
use pigeon_tests::fixtures::stun::{
    ChangeCase, bind_rfc5780_server, check_answered, check_binding_response, loopback, stun_client,
};
use pigeon_tokio::{Closed, Events, Handle, Spawned};
use tokio::net::UdpSocket;

async fn bind() -> UdpSocket {
    UdpSocket::bind(loopback(1))
        .await
        .expect("bind a loopback socket")
}

fn spawn<M>(machine: M, sockets: Vec<UdpSocket>) -> Spawned<M>
where
    M: pigeon::Machine + Send + 'static,
    M::Event: Send + 'static,
{
    pigeon_tokio::spawn(machine, sockets).expect("sockets have local addresses")
}

async fn next<E>(events: &mut Events<E>) -> E {
    tokio::time::timeout(Duration::from_secs(5), events.next_event())
        .await
        .expect("nothing reported within 5 s")
        .expect("driver task stopped")
}

/// The first datagram the machine reports.
async fn first_received(events: &mut Events<EchoEvent>) -> (SocketAddr, SocketAddr, Vec<u8>) {
    let wait = async {
        loop {
            match events.next_event().await {
                Some(EchoEvent::Received { from, to, payload }) => return (from, to, payload),
                Some(_) => continue,
                None => panic!("driver stopped before a reply"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("no reply within 5 s")
}

#[tokio::test]
async fn echo_round_trip_waits_for_the_servers_timer() {
    let server_socket = bind().await;
    let server = server_socket.local_addr().unwrap();
    let (server_handle, _server_events, server_task) = spawn(
        Echo::with_delay(Duration::from_millis(30)),
        vec![server_socket],
    );

    let client_socket = bind().await;
    let client = client_socket.local_addr().unwrap();
    let (handle, mut events, task) = spawn(Echo::default(), vec![client_socket]);
    let start = std::time::Instant::now();
    handle
        .command(move |m, _| m.send(client, server, b"ping 1"))
        .await
        .unwrap();
    let (from, to, payload) = first_received(&mut events).await;

    assert_eq!(
        (from, to, payload.as_slice()),
        (server, client, &b"pong 1"[..])
    );
    assert!(
        start.elapsed() >= Duration::from_millis(30),
        "reply came before the timer"
    );
    let stats = handle.stats().await.unwrap();
    assert_eq!((stats.sent, stats.received), (1, 1));

    server_handle.shutdown().await.unwrap();
    let server_machine = server_task.await.unwrap().unwrap();
    assert!(server_machine.is_idle(), "server still owes a reply");
    handle.shutdown().await.unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(handle.command(|_, _| ()).await, Err(Closed));
    assert!(handle.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_socket_receives_and_replies_from_its_own_address() {
    let (first, second) = (bind().await, bind().await);
    let addrs = [first.local_addr().unwrap(), second.local_addr().unwrap()];
    let (_server, mut server_events, _) = spawn(
        Echo::with_delay(Duration::from_millis(5)),
        vec![first, second],
    );

    let client_socket = bind().await;
    let client = client_socket.local_addr().unwrap();
    let (handle, mut events, _) = spawn(Echo::default(), vec![client_socket]);
    for (i, server) in addrs.into_iter().enumerate().rev() {
        let ping = format!("ping {i}");
        handle
            .command(move |m, _| m.send(client, server, ping.as_bytes()))
            .await
            .unwrap();
        let (from, _, payload) = first_received(&mut events).await;
        assert_eq!(from, server);
        assert_eq!(payload, format!("pong {i}").into_bytes());
        let (_, to, _) = first_received(&mut server_events).await;
        assert_eq!(to, server, "the server saw the wrong local address");
    }
}

#[tokio::test]
async fn timers_fire_without_any_socket() {
    let (handle, mut events, _) = spawn(Echo::with_delay(Duration::from_millis(20)), vec![]);
    let armed = handle
        .command(|m, now| {
            m.wake_after_delay(now);
            now
        })
        .await
        .unwrap();
    let fired = tokio::time::timeout(Duration::from_secs(5), events.next_event())
        .await
        .expect("timer never fired");
    let Some(EchoEvent::Timer(at)) = fired else {
        panic!("unexpected {fired:?}");
    };
    assert!(at - armed >= Duration::from_millis(20));
}

#[tokio::test]
async fn unroutable_transmits_are_dropped_and_counted() {
    let (handle, _events, _) = spawn(Echo::default(), vec![bind().await]);
    let nowhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let unbound: SocketAddr = "127.0.0.1:1".parse().unwrap();
    handle
        .command(move |m, _| m.send(unbound, nowhere, b"lost"))
        .await
        .unwrap();
    let stats = handle.stats().await.unwrap();
    assert_eq!((stats.unroutable, stats.sent), (1, 0));
}

#[tokio::test]
async fn unspecified_socket_sends_for_a_concrete_source_with_its_port() {
    let wildcard = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    let port = wildcard.local_addr().unwrap().port();
    let receiver = bind().await;
    let target = receiver.local_addr().unwrap();
    let (handle, _events, _) = spawn(Echo::default(), vec![wildcard]);
    let source = SocketAddr::from(([127, 0, 0, 1], port));
    handle
        .command(move |m, _| m.send(source, target, b"hello"))
        .await
        .unwrap();
    let mut buf = [0; 16];
    let (len, from) = tokio::time::timeout(Duration::from_secs(5), receiver.recv_from(&mut buf))
        .await
        .expect("nothing arrived")
        .unwrap();
    assert_eq!(&buf[..len], b"hello");
    assert_eq!(from.port(), port);
}

#[tokio::test]
async fn the_task_stops_once_nobody_can_reach_it() {
    let (handle, events, task) = spawn(Echo::default(), vec![bind().await]);
    drop(handle);
    // Events alone keep it running: a server nobody commands still reports.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!task.is_finished());
    drop(events);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("task outlived its handles and events")
        .unwrap()
        .unwrap();
}

async fn client_task(
    seed: u64,
) -> (
    Handle<pigeon::stun::StunClient>,
    Events<ClientEvent>,
    SocketAddr,
) {
    let socket = bind().await;
    let local = socket.local_addr().unwrap();
    let (handle, events, _) = spawn(stun_client(seed), vec![socket]);
    (handle, events, local)
}

#[tokio::test]
async fn binding_reports_the_client_socket_address() {
    let socket = bind().await;
    let server = socket.local_addr().unwrap();
    let machine = BindingServer::new(ServerConfig::new(server)).unwrap();
    let (server_handle, mut server_events, server_task) = spawn(machine, vec![socket]);

    let (handle, mut events, local) = client_task(1).await;
    let id = handle
        .command(move |client, now| client.binding(now, local, server))
        .await
        .unwrap()
        .unwrap();
    check_binding_response(next(&mut events).await, id, local, server);
    check_answered(next(&mut server_events).await, local);
    server_handle.shutdown().await.unwrap();
    let stats = server_task.await.unwrap().unwrap().stats();
    assert_eq!((stats.requests, stats.responses), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_request_is_answered_from_the_other_address() {
    let (config, std_sockets) = bind_rfc5780_server();
    let sockets = std_sockets
        .into_iter()
        .map(|socket| {
            socket.set_nonblocking(true).unwrap();
            UdpSocket::from_std(socket).unwrap()
        })
        .collect();
    let (primary, alternate) = (config.primary, config.alternate.unwrap());
    let (_server, mut server_events, _) = spawn(BindingServer::new(config).unwrap(), sockets);
    let (handle, mut events, local) = client_task(2).await;

    for case in ChangeCase::all(primary, alternate) {
        let id = handle
            .command(move |client, now| case.start(client, now, local, primary))
            .await
            .unwrap();
        case.check_response(next(&mut events).await, id, local, alternate);
        case.check_server(next(&mut server_events).await, local, primary);
    }
}
