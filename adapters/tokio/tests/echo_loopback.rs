//! pigeon-tokio moves bytes and fires timeouts: a small echo machine over real loopback UDP.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use pigeon::{Datagram, Instant, Machine, Transmit};
use pigeon_tokio::{Closed, Events, Spawned};
use tokio::net::UdpSocket;

/// Answers `ping...` with `pong...` after `delay`, and reports what it receives.
#[derive(Default)]
struct Echo {
    delay: Duration,
    /// Replies and bare timers, in deadline order (all share one delay).
    pending: VecDeque<(Instant, Option<Transmit>)>,
    out: VecDeque<Transmit>,
    events: VecDeque<EchoEvent>,
}

#[derive(Debug, PartialEq)]
enum EchoEvent {
    Received {
        from: SocketAddr,
        to: SocketAddr,
        payload: Vec<u8>,
    },
    Replied,
    Timer(Instant),
}

impl Echo {
    fn with_delay(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    fn send(&mut self, source: SocketAddr, destination: SocketAddr, payload: &[u8]) {
        self.out.push_back(Transmit {
            source,
            destination,
            payload: payload.to_vec(),
        });
    }

    fn wake_after_delay(&mut self, now: Instant) {
        self.pending.push_back((now + self.delay, None));
    }
}

impl Machine for Echo {
    type Event = EchoEvent;

    fn handle_datagram(&mut self, now: Instant, d: Datagram<'_>) {
        self.events.push_back(EchoEvent::Received {
            from: d.source,
            to: d.destination,
            payload: d.payload.to_vec(),
        });
        if let Some(rest) = d.payload.strip_prefix(b"ping") {
            let reply = Transmit {
                source: d.destination,
                destination: d.source,
                payload: [b"pong", rest].concat(),
            };
            self.pending.push_back((now + self.delay, Some(reply)));
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, _)) = self.pending.front() {
            if *at > now {
                break;
            }
            match self.pending.pop_front() {
                Some((_, Some(reply))) => {
                    self.out.push_back(reply);
                    self.events.push_back(EchoEvent::Replied);
                }
                Some((_, None)) => self.events.push_back(EchoEvent::Timer(now)),
                None => break,
            }
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_event(&mut self) -> Option<EchoEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.pending.front().map(|(at, _)| *at)
    }
}

async fn bind() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback socket")
}

fn spawn(machine: Echo, sockets: Vec<UdpSocket>) -> Spawned<Echo> {
    pigeon_tokio::spawn(machine, sockets).expect("sockets have local addresses")
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
    assert!(
        server_machine.pending.is_empty(),
        "server still owes a reply"
    );
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
