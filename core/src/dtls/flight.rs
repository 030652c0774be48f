//! Flights (RFC 6347 §4.2.4): the messages one side sends before it waits for the other,
//! kept for retransmission with an exponentially backed-off timer, and packed into datagrams
//! no larger than the MTU.

use core::time::Duration;

use crate::dtls::fragment::fragment_message;
use crate::dtls::message::HandshakeType;
use crate::dtls::message::change_cipher_spec::CHANGE_CIPHER_SPEC;
use crate::dtls::record::{ContentType, RECORD_HEADER_LEN};
use crate::dtls::record_layer::RecordLayer;
use crate::time::Instant;

/// One message of a flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightItem {
    /// A handshake message, fragmented anew at each transmission.
    Handshake {
        /// Epoch to send it in.
        epoch: u16,
        /// Type.
        msg_type: HandshakeType,
        /// message_seq, kept across retransmissions (RFC 6347 §4.2.2).
        message_seq: u16,
        /// Body.
        body: Vec<u8>,
    },
    /// ChangeCipherSpec in epoch 0.
    ChangeCipherSpec,
}

/// The last flight sent and its retransmission timer.
#[derive(Debug, Default)]
pub struct Flight {
    items: Vec<FlightItem>,
    /// When to retransmit; `None` for a flight that is only resent when the peer repeats
    /// itself (the final flight, RFC 6347 §4.2.4).
    deadline: Option<Instant>,
    timeout: Duration,
    retransmissions: u32,
}

/// What the timer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerOutcome {
    /// Not due yet.
    Idle,
    /// Resend the flight now.
    Retransmit,
    /// Too many retransmissions: give up.
    GiveUp,
}

impl Flight {
    /// Starts a new flight (our previous one is acknowledged by the peer's answer).
    pub fn start(&mut self) {
        self.items.clear();
        self.deadline = None;
        self.retransmissions = 0;
    }

    /// Adds a message.
    pub fn push(&mut self, item: FlightItem) {
        self.items.push(item);
    }

    /// Whether there is a flight to resend.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Arms the timer at `now + initial` (RFC 6347 §4.2.4.1), or disarms it for a final flight.
    pub fn arm(&mut self, now: Instant, initial: Option<Duration>) {
        match initial {
            Some(initial) => {
                self.timeout = initial;
                self.deadline = Some(now + initial);
            }
            None => self.deadline = None,
        }
    }

    /// Stops the timer (the peer answered).
    pub fn disarm(&mut self) {
        self.deadline = None;
    }

    /// When the timer fires.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// RFC 6347 §4.2.4.1: at expiry, double the timer up to `max` and retransmit, at most
    /// `max_retransmissions` times.
    pub fn on_timeout(
        &mut self,
        now: Instant,
        max: Duration,
        max_retransmissions: u32,
    ) -> TimerOutcome {
        match self.deadline {
            Some(deadline) if now >= deadline => {
                if self.retransmissions >= max_retransmissions {
                    self.deadline = None;
                    return TimerOutcome::GiveUp;
                }
                self.retransmissions += 1;
                self.timeout = (self.timeout * 2).min(max);
                self.deadline = Some(now + self.timeout);
                TimerOutcome::Retransmit
            }
            _ => TimerOutcome::Idle,
        }
    }

    /// Seals the flight into records and packs them into datagrams of at most `mtu` bytes
    /// (RFC 6347 §4.1.1: several records may share a datagram, none may straddle two).
    pub fn datagrams(
        &self,
        records: &mut RecordLayer,
        mtu: usize,
        overhead: usize,
    ) -> Vec<Vec<u8>> {
        let mut datagrams: Vec<Vec<u8>> = Vec::new();
        let mut current: Vec<u8> = Vec::new();
        let mut place = |record: Vec<u8>, current: &mut Vec<u8>| {
            if !current.is_empty() && current.len() + record.len() > mtu {
                datagrams.push(core::mem::take(current));
            }
            current.extend_from_slice(&record);
        };
        for item in &self.items {
            match item {
                FlightItem::Handshake {
                    epoch,
                    msg_type,
                    message_seq,
                    body,
                } => {
                    let protection = if *epoch == 0 { 0 } else { overhead };
                    let room = mtu.saturating_sub(RECORD_HEADER_LEN + protection);
                    let mut fragments = Vec::new();
                    fragment_message(*msg_type, *message_seq, body, room, |f| fragments.push(f));
                    for fragment in fragments {
                        let mut record = Vec::with_capacity(fragment.len() + 40);
                        if records.seal(*epoch, ContentType::HANDSHAKE, &fragment, &mut record) {
                            place(record, &mut current);
                        }
                    }
                }
                FlightItem::ChangeCipherSpec => {
                    let mut record = Vec::with_capacity(RECORD_HEADER_LEN + 1);
                    if records.seal(
                        0,
                        ContentType::CHANGE_CIPHER_SPEC,
                        &CHANGE_CIPHER_SPEC,
                        &mut record,
                    ) {
                        place(record, &mut current);
                    }
                }
            }
        }
        if !current.is_empty() {
            datagrams.push(current);
        }
        datagrams
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::record::records;

    #[test]
    fn backoff_doubles_and_gives_up() {
        let mut flight = Flight::default();
        flight.start();
        flight.push(FlightItem::ChangeCipherSpec);
        let t0 = Instant::ZERO;
        flight.arm(t0, Some(Duration::from_secs(1)));
        assert_eq!(
            flight.on_timeout(Instant::from_millis(999), Duration::from_secs(60), 3),
            TimerOutcome::Idle
        );
        let mut now = Instant::from_secs(1);
        let mut gaps = Vec::new();
        loop {
            match flight.on_timeout(now, Duration::from_secs(3), 3) {
                TimerOutcome::Retransmit => {
                    let next = flight.deadline().unwrap();
                    gaps.push((next - now).as_secs());
                    now = next;
                }
                TimerOutcome::GiveUp => break,
                TimerOutcome::Idle => panic!("deadline reached but idle"),
            }
        }
        assert_eq!(gaps, [2, 3, 3], "doubling, capped at the maximum");
        assert_eq!(flight.deadline(), None);
    }

    #[test]
    fn datagrams_respect_the_mtu() {
        let mut flight = Flight::default();
        flight.push(FlightItem::Handshake {
            epoch: 0,
            msg_type: HandshakeType::CERTIFICATE,
            message_seq: 2,
            body: vec![7; 1000],
        });
        flight.push(FlightItem::Handshake {
            epoch: 0,
            msg_type: HandshakeType::SERVER_HELLO_DONE,
            message_seq: 3,
            body: vec![],
        });
        flight.push(FlightItem::ChangeCipherSpec);
        let mut layer = RecordLayer::new();
        let datagrams = flight.datagrams(&mut layer, 300, 24);
        assert!(datagrams.iter().all(|d| d.len() <= 300));
        let count: usize = datagrams.iter().map(|d| records(d).count()).sum();
        // 1000 bytes in fragments of 300 - 13 - 12 = 275: 4 records, then two small ones.
        assert_eq!(count, 6);
        assert!(datagrams.iter().flat_map(|d| records(d)).all(|r| r.is_ok()));
    }
}
