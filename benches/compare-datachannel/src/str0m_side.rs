//! str0m: two `Rtc`s with an SDP offer/answer between them, ICE over host candidates and
//! one data channel, datagrams carried across in memory.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::channel::ChannelId;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};

struct Side {
    rtc: Rtc,
    /// Datagrams for the other side.
    out: Vec<(SocketAddr, SocketAddr, Vec<u8>)>,
    open: Option<ChannelId>,
    received: usize,
    next_timeout: Instant,
}

impl Side {
    fn new(addr: SocketAddr, now: Instant) -> Side {
        let mut rtc = Rtc::builder()
            .set_crypto_provider(std::sync::Arc::new(str0m::crypto::from_feature_flags()))
            .set_sctp_max_buffered_amount(4 * crate::buffer_high())
            .build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("candidate"))
            .expect("add candidate");
        Side {
            rtc,
            out: Vec::new(),
            open: None,
            received: 0,
            next_timeout: now,
        }
    }

    /// Polls until str0m asks for a timeout.
    fn drain(&mut self) {
        loop {
            match self.rtc.poll_output().expect("poll_output") {
                Output::Timeout(at) => {
                    self.next_timeout = at;
                    return;
                }
                Output::Transmit(t) => {
                    self.out
                        .push((t.source, t.destination, t.contents.to_vec()));
                }
                Output::Event(Event::ChannelOpen(id, _)) => self.open = Some(id),
                Output::Event(Event::ChannelData(data)) => self.received += data.data.len(),
                Output::Event(_) => {}
            }
        }
    }

    fn deliver(&mut self, now: Instant, datagrams: Vec<(SocketAddr, SocketAddr, Vec<u8>)>) {
        for (source, destination, bytes) in datagrams {
            let receive =
                Receive::new(Protocol::Udp, source, destination, &bytes).expect("datagram parses");
            self.rtc
                .handle_input(Input::Receive(now, receive))
                .expect("handle_input");
            self.drain();
        }
    }

    fn tick(&mut self, now: Instant) {
        if self.next_timeout <= now {
            self.rtc.handle_input(Input::Timeout(now)).expect("timeout");
        }
        self.drain();
    }
}

/// Moves datagrams both ways until neither side has any; returns whether anything moved.
fn pump(a: &mut Side, b: &mut Side, now: Instant) -> bool {
    let mut moved = false;
    loop {
        let to_b = std::mem::take(&mut a.out);
        let to_a = std::mem::take(&mut b.out);
        if to_b.is_empty() && to_a.is_empty() {
            return moved;
        }
        moved = true;
        b.deliver(now, to_b);
        a.deliver(now, to_a);
    }
}

/// Sends `total` bytes in `message`-byte messages from one `Rtc` to the other; the wall
/// time from the first write to the last byte received (ICE, DTLS and SCTP setup untimed).
pub fn transfer(total: usize, message: usize) -> Duration {
    let start_setup = Instant::now();
    let mut a = Side::new("10.0.0.1:1000".parse().unwrap(), start_setup);
    let mut b = Side::new("10.0.0.2:2000".parse().unwrap(), start_setup);
    let mut change = a.rtc.sdp_api();
    let cid = change.add_channel("bench".into());
    let (offer, pending) = change.apply().expect("offer");
    let answer = b.rtc.sdp_api().accept_offer(offer).expect("answer");
    a.rtc
        .sdp_api()
        .accept_answer(pending, answer)
        .expect("accept answer");
    let mut steps = 0;
    while a.open.is_none() || b.open.is_none() {
        let now = Instant::now();
        a.tick(now);
        b.tick(now);
        pump(&mut a, &mut b, now);
        steps += 1;
        assert!(
            start_setup.elapsed() < Duration::from_secs(30),
            "str0m: channel did not open ({steps} steps)"
        );
    }
    let payload = vec![0xa5u8; message];
    let start = Instant::now();
    // Virtual time, as in pigeon's driver: it jumps to the next timer whenever nothing is in
    // flight (a delayed SACK), so the figure is CPU cost, not timer waits.
    let mut now = start;
    let mut sent = 0;
    while b.received < total {
        while sent < total {
            let mut channel = a.rtc.channel(cid).expect("channel");
            if channel.buffered_amount() >= crate::buffer_high()
                || !channel.write(true, &payload).expect("write")
            {
                break;
            }
            sent += message;
        }
        a.tick(now);
        b.tick(now);
        if !pump(&mut a, &mut b, now) {
            now = now.max(a.next_timeout.min(b.next_timeout));
        }
    }
    if std::env::var_os("DC_DEBUG").is_some() {
        eprintln!(
            "str0m: virtual {:?} wall {:?}",
            now - start,
            start.elapsed()
        );
    }
    start.elapsed()
}
