//! pigeon-std moves bytes and fires timeouts: a small echo machine over real loopback UDP.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::ops::ControlFlow;
use std::time::Duration;

use pigeon::{Datagram, Instant, Machine, Transmit};
use pigeon_std::Driver;

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

fn bind() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").expect("bind a loopback socket")
}

/// Runs an echo server on `sockets` in a thread until it has replied `replies` times.
fn spawn_server(
    sockets: Vec<UdpSocket>,
    replies: usize,
) -> std::thread::JoinHandle<pigeon_std::DriverStats> {
    let mut driver = Driver::new(Echo::with_delay(Duration::from_millis(30)), sockets).unwrap();
    std::thread::spawn(move || {
        let mut left = replies;
        let done = driver
            .run_for(Duration::from_secs(10), |event| {
                if event == EchoEvent::Replied {
                    left -= 1;
                    if left == 0 {
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(done, Some(()), "server gave up before replying");
        driver.stats()
    })
}

/// Waits for the first datagram the client receives.
fn first_received(driver: &mut Driver<Echo>) -> (SocketAddr, SocketAddr, Vec<u8>) {
    driver
        .run_for(Duration::from_secs(5), |event| match event {
            EchoEvent::Received { from, to, payload } => ControlFlow::Break((from, to, payload)),
            _ => ControlFlow::Continue(()),
        })
        .unwrap()
        .expect("no reply within 5 s")
}

#[test]
fn echo_round_trip_waits_for_the_servers_timer() {
    let server_socket = bind();
    let server = server_socket.local_addr().unwrap();
    let server_thread = spawn_server(vec![server_socket], 1);

    let client_socket = bind();
    let client = client_socket.local_addr().unwrap();
    let mut driver = Driver::new(Echo::default(), vec![client_socket]).unwrap();
    let start = std::time::Instant::now();
    driver.command(|m, _| m.send(client, server, b"ping 1"));
    let (from, to, payload) = first_received(&mut driver);

    assert_eq!(
        (from, to, payload.as_slice()),
        (server, client, &b"pong 1"[..])
    );
    assert!(
        start.elapsed() >= Duration::from_millis(30),
        "reply came before the timer"
    );
    assert_eq!(driver.stats().sent, 1);
    assert_eq!(driver.stats().received, 1);
    let server_stats = server_thread.join().unwrap();
    assert_eq!((server_stats.received, server_stats.sent), (1, 1));
}

#[test]
fn a_second_socket_receives_and_replies_from_its_own_address() {
    let (first, second) = (bind(), bind());
    let addrs = [first.local_addr().unwrap(), second.local_addr().unwrap()];
    let server_thread = spawn_server(vec![first, second], 2);

    let client_socket = bind();
    let client = client_socket.local_addr().unwrap();
    let mut driver = Driver::new(Echo::default(), vec![client_socket]).unwrap();
    for (i, server) in addrs.iter().enumerate().rev() {
        let ping = format!("ping {i}");
        driver.command(|m, _| m.send(client, *server, ping.as_bytes()));
        let (from, _, payload) = first_received(&mut driver);
        assert_eq!(from, *server);
        assert_eq!(payload, format!("pong {i}").into_bytes());
    }
    server_thread.join().unwrap();
}

#[test]
fn timers_fire_without_any_socket() {
    let mut driver = Driver::new(Echo::with_delay(Duration::from_millis(20)), vec![]).unwrap();
    let armed = driver.command(|m, now| {
        m.wake_after_delay(now);
        now
    });
    let fired = driver
        .run_for(Duration::from_secs(5), |event| match event {
            EchoEvent::Timer(at) => ControlFlow::Break(at),
            _ => ControlFlow::Continue(()),
        })
        .unwrap()
        .expect("timer never fired");
    assert!(fired - armed >= Duration::from_millis(20));
    assert!(driver.now() - armed < Duration::from_secs(1));
}

#[test]
fn nothing_to_wait_for_is_an_error_not_a_hang() {
    let mut driver = Driver::new(Echo::default(), vec![]).unwrap();
    let err = driver
        .run_until(|_| ControlFlow::<()>::Continue(()))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn run_for_gives_up_when_time_runs_out() {
    let mut driver = Driver::new(Echo::default(), vec![bind()]).unwrap();
    let start = std::time::Instant::now();
    let out = driver
        .run_for(Duration::from_millis(50), |_| ControlFlow::Break(()))
        .unwrap();
    assert_eq!(out, None);
    assert!(start.elapsed() >= Duration::from_millis(50));
}

#[test]
fn unroutable_transmits_are_dropped_and_counted() {
    let mut driver = Driver::new(Echo::default(), vec![bind()]).unwrap();
    let nowhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let unbound: SocketAddr = "127.0.0.1:1".parse().unwrap();
    driver.command(|m, _| m.send(unbound, nowhere, b"lost"));
    assert_eq!(driver.stats().unroutable, 1);
    assert_eq!(driver.stats().sent, 0);
}

#[test]
fn unspecified_socket_sends_for_a_concrete_source_with_its_port() {
    let wildcard = UdpSocket::bind("0.0.0.0:0").unwrap();
    let port = wildcard.local_addr().unwrap().port();
    let receiver = bind();
    receiver
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let target = receiver.local_addr().unwrap();
    let mut driver = Driver::new(Echo::default(), vec![wildcard]).unwrap();
    let source = SocketAddr::from(([127, 0, 0, 1], port));
    driver.command(|m, _| m.send(source, target, b"hello"));
    assert_eq!(driver.stats().sent, 1);
    let mut buf = [0; 16];
    let (len, from) = receiver.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..len], b"hello");
    assert_eq!(from.port(), port);
}
