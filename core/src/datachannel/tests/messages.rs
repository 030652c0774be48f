//! Messages on open channels: empty ones, sizes, buffering, and what the peer gets wrong.

use super::*;

#[test]
fn empty_messages_are_one_zero_byte_under_the_empty_ppids() {
    let mut p = Pair::connected();
    let id = p.open_from_a("empty");
    p.a.send_text(&mut p.sa, id, "").unwrap();
    p.a.send_binary(&mut p.sa, id, &[]).unwrap();
    let wire: Vec<_> =
        p.sa.queue
            .iter()
            .map(|i| match i {
                Item::Message { ppid, data, .. } => (*ppid, data.clone()),
                Item::Reset(_) => panic!("no reset"),
            })
            .collect();
    assert_eq!(
        wire,
        [(Ppid::STRING_EMPTY, vec![0]), (Ppid::BINARY_EMPTY, vec![0])]
    );
    p.settle();
    assert_eq!(p.events_b(), [text(id, ""), binary(id, &[])]);
}

#[test]
fn buffered_amount_low_fires_when_crossing_the_threshold() {
    let mut p = Pair::connected();
    let id = p.open_from_a("flow");
    p.a.set_buffered_amount_low_threshold(id, 10).unwrap();
    assert_eq!(p.a.channel(id).unwrap().buffered_amount_low_threshold(), 10);
    for _ in 0..3 {
        p.a.send_binary(&mut p.sa, id, &[7; 8]).unwrap();
    }
    assert_eq!(p.a.buffered_amount(&p.sa, id), 24);
    p.a_to_b();
    assert_eq!(p.a.buffered_amount(&p.sa, id), 16);
    assert!(p.events_a().is_empty(), "16 > 10");
    p.a_to_b();
    assert_eq!(p.events_a(), [DataChannelEvent::BufferedAmountLow(id)]);
    p.a_to_b();
    assert!(p.events_a().is_empty(), "once per crossing");
    assert_eq!(p.a.buffered_amount(&p.sa, id), 0);
    assert_eq!(p.events_b().len(), 3);
    // With the default threshold 0, it fires when the queue empties.
    let other = p.open_from_a("zero");
    p.a.send_binary(&mut p.sa, other, &[1]).unwrap();
    p.a_to_b();
    assert_eq!(p.events_a(), [DataChannelEvent::BufferedAmountLow(other)]);
}

#[test]
fn max_message_size_refuses_larger_sends() {
    let mut p = Pair::connected();
    let id = p.open_from_a("big");
    let max = DEFAULT_MAX_MESSAGE_SIZE;
    p.a.send_binary(&mut p.sa, id, &vec![0; max]).unwrap();
    assert_eq!(
        p.a.send_binary(&mut p.sa, id, &vec![0; max + 1]),
        Err(DataChannelError::MessageTooLarge { size: max + 1, max })
    );
    p.a.set_max_message_size(4);
    assert_eq!(
        p.a.send_text(&mut p.sa, id, "12345"),
        Err(DataChannelError::MessageTooLarge { size: 5, max: 4 })
    );
    p.a.send_text(&mut p.sa, id, "1234").unwrap();
    // RFC 8841 §6.1: 0 means any size.
    p.a.set_max_message_size(0);
    p.a.send_binary(&mut p.sa, id, &vec![0; 4 * max]).unwrap();
    assert_eq!(p.a.stats().messages_sent, 3);
}

#[test]
fn malformed_dcep_is_dropped_and_counted() {
    let mut p = Pair::connected();
    let mut sctp = FakeSctp::default();
    // A truncated OPEN on the peer's parity: counted, and its stream reset (RFC 8832 §6).
    p.a.handle_message(&mut sctp, 1, Ppid::DCEP, &[0x03, 0x00, 0x01]);
    assert_eq!(sctp.queue, [Item::Reset(vec![1])]);
    // Unknown message types, empty DCEP messages and bad UTF-8 labels are dropped too.
    p.a.handle_message(&mut sctp, 3, Ppid::DCEP, &[0x07]);
    p.a.handle_message(&mut sctp, 3, Ppid::DCEP, &[]);
    let mut bad_label = vec![3, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff];
    p.a.handle_message(&mut sctp, 5, Ppid::DCEP, &bad_label);
    assert_eq!(p.a.stats().dcep_malformed, 4);
    // An unassigned channel type is well formed but refused.
    bad_label[12] = b'x';
    bad_label[1] = 0x03;
    p.a.handle_message(&mut sctp, 7, Ppid::DCEP, &bad_label);
    assert_eq!(p.a.stats().opens_refused, 3);
    assert_eq!(
        sctp.queue,
        [
            Item::Reset(vec![1]),
            Item::Reset(vec![5]),
            Item::Reset(vec![7])
        ]
    );
    // An ACK on a stream nobody opened.
    p.a.handle_message(&mut sctp, 9, Ppid::DCEP, &[0x02]);
    assert_eq!(p.a.stats().dcep_unexpected, 1);
    assert!(p.a.channels().next().is_none());
    assert!(p.events_a().is_empty());
}

#[test]
fn invalid_utf8_is_an_error_event_and_other_junk_is_counted() {
    let mut p = Pair::connected();
    let id = p.open_from_a("text");
    p.b.handle_message(&mut p.sb, id.0, Ppid::STRING, &[0x66, 0xff, 0xfe]);
    let error = ChannelError::InvalidUtf8;
    assert_eq!(
        p.events_b(),
        [DataChannelEvent::Error { channel: id, error }]
    );
    assert_eq!(p.b.stats().invalid_utf8, 1);
    // Deprecated partial PPIDs and unknown ones are dropped; so is data on unused streams.
    p.b.handle_message(&mut p.sb, id.0, Ppid::STRING_PARTIAL, b"part");
    p.b.handle_message(&mut p.sb, id.0, Ppid(99), b"?");
    p.b.handle_message(&mut p.sb, 40, Ppid::BINARY, b"nobody");
    assert!(p.events_b().is_empty());
    assert_eq!(p.b.stats().unknown_ppid, 2);
    assert_eq!(p.b.stats().unknown_stream, 1);
    assert_eq!(p.b.channel(id).unwrap().state(), ChannelState::Open);
}
