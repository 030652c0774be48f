//! Opening and closing channels: DCEP, negotiated ids, parity, refusals, bounds.

use super::*;

#[test]
fn open_is_acknowledged_and_messages_flow_both_ways() {
    let mut p = Pair::connected();
    let options = ChannelOptions {
        ordered: false,
        limit: ReliabilityLimit::MaxRetransmits(3),
        negotiated: None,
        priority: wire::priority::HIGH,
    };
    let id = p.a.open(&mut p.sa, "chat", "xmpp", options).unwrap();
    assert_eq!(id, ChannelId(0));
    assert_eq!(p.a.channel(id).unwrap().state(), ChannelState::Connecting);
    // RFC 8832 §5.1 layout, reliable and ordered on the channel's own stream (§6).
    let open = [
        0x03, 0x81, 0x02, 0x00, 0, 0, 0, 3, 0, 4, 0, 4, b'c', b'h', b'a', b't', b'x', b'm', b'p',
        b'p',
    ];
    let expected = Item::Message {
        stream: 0,
        ppid: Ppid::DCEP,
        data: open.to_vec(),
        reliability: Reliability::RELIABLE_ORDERED,
    };
    assert_eq!(p.sa.queue.front(), Some(&expected));
    assert_eq!(
        p.a.send_text(&mut p.sa, id, "early"),
        Err(DataChannelError::NotOpen(id))
    );

    p.a_to_b();
    assert_eq!(p.events_b(), [DataChannelEvent::Open(id)]);
    let theirs = p.b.channel(id).unwrap();
    assert_eq!((theirs.label(), theirs.protocol()), ("chat", "xmpp"));
    assert_eq!(theirs.priority(), wire::priority::HIGH);
    assert_eq!(theirs.reliability(), p.a.channel(id).unwrap().reliability());
    // The ACK is one byte with PPID 50 (RFC 8832 §5.2).
    assert!(matches!(&p.sb.queue[0], Item::Message { ppid, data, .. }
        if *ppid == Ppid::DCEP && data == &[0x02]));

    p.settle();
    assert_eq!(p.events_a(), [DataChannelEvent::Open(id)]);
    p.a.send_text(&mut p.sa, id, "hi").unwrap();
    p.b.send_binary(&mut p.sb, id, &[1, 2, 3]).unwrap();
    // User data goes with the channel's own reliability.
    assert!(matches!(&p.sa.queue[0], Item::Message { reliability, .. }
        if *reliability == p.a.channel(id).unwrap().reliability()));
    p.settle();
    // Each sender's queue drained to the default threshold of 0.
    let low = DataChannelEvent::BufferedAmountLow(id);
    assert_eq!(p.events_b(), [text(id, "hi"), low.clone()]);
    assert_eq!(p.events_a(), [low, binary(id, &[1, 2, 3])]);
    assert_eq!(p.a.stats().messages_sent, 1);
    assert_eq!(p.a.stats().messages_received, 1);
}

#[test]
fn opens_before_the_association_wait_for_it() {
    let mut p = Pair::new(DataChannelConfig::default());
    let id =
        p.a.open(&mut p.sa, "early", "", ChannelOptions::default())
            .unwrap();
    assert!(
        p.sa.queue.is_empty(),
        "nothing goes out before the association is up"
    );
    p.a.handle_connected(&mut p.sa);
    p.b.handle_connected(&mut p.sb);
    assert_eq!(p.sa.dcep_sent(), 1);
    p.settle();
    assert_eq!(p.events_a(), [DataChannelEvent::Open(id)]);
    assert_eq!(p.events_b(), [DataChannelEvent::Open(id)]);
}

#[test]
fn negotiated_channels_skip_dcep() {
    let mut p = Pair::new(DataChannelConfig::default());
    let options = ChannelOptions {
        negotiated: Some(7),
        ..ChannelOptions::default()
    };
    let a = p.a.open(&mut p.sa, "agreed", "", options).unwrap();
    p.a.handle_connected(&mut p.sa);
    p.b.handle_connected(&mut p.sb);
    let b = p.b.open(&mut p.sb, "agreed", "", options).unwrap();
    assert_eq!((a, b), (ChannelId(7), ChannelId(7)));
    assert_eq!(p.sa.dcep_sent() + p.sb.dcep_sent(), 0);
    assert_eq!(p.events_a(), [DataChannelEvent::Open(a)]);
    assert_eq!(p.events_b(), [DataChannelEvent::Open(b)]);
    p.a.send_text(&mut p.sa, a, "no handshake").unwrap();
    p.settle();
    assert_eq!(p.events_b(), [text(b, "no handshake")]);

    assert_eq!(
        p.a.open(&mut p.sa, "again", "", options),
        Err(DataChannelError::IdInUse(7))
    );
    let bad = ChannelOptions {
        negotiated: Some(u16::MAX),
        ..options
    };
    assert_eq!(
        p.a.open(&mut p.sa, "x", "", bad),
        Err(DataChannelError::InvalidId(u16::MAX))
    );
}

#[test]
fn client_takes_even_ids_and_server_odd_ones() {
    let mut p = Pair::connected();
    let ours: Vec<_> = (0..3).map(|i| p.open_from_a(&format!("a{i}")).0).collect();
    let theirs: Vec<_> = (0..3)
        .map(|i| {
            let id =
                p.b.open(&mut p.sb, &format!("b{i}"), "", ChannelOptions::default());
            p.settle();
            id.unwrap().0
        })
        .collect();
    assert_eq!(ours, [0, 2, 4]);
    assert_eq!(theirs, [1, 3, 5]);
    assert_eq!(p.a.channels().count(), 6);

    // RFC 8832 §6: an OPEN with our own parity is refused with a reset, never acknowledged.
    let open = p.sb.queue.len();
    let mut forged = FakeSctp::default();
    forged.queue.clear();
    p.b.handle_message(
        &mut forged,
        7,
        Ppid::DCEP,
        &[3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    assert_eq!(forged.queue, [Item::Reset(vec![7])]);
    assert_eq!(p.b.stats().opens_refused, 1);
    assert_eq!(p.sb.queue.len(), open);
}

#[test]
fn the_first_message_opens_a_channel_waiting_for_its_ack() {
    let mut p = Pair::connected();
    let id =
        p.a.open(&mut p.sa, "racy", "", ChannelOptions::default())
            .unwrap();
    // RFC 8832 §6: unordered data may overtake the ACK.
    p.a.handle_message(&mut p.sa, id.0, Ppid::STRING, b"first");
    assert_eq!(
        p.events_a(),
        [DataChannelEvent::Open(id), text(id, "first")]
    );
    // The late ACK is then unexpected and dropped.
    p.a.handle_message(&mut p.sa, id.0, Ppid::DCEP, &[0x02]);
    assert!(p.events_a().is_empty());
    assert_eq!(p.a.stats().dcep_unexpected, 1);
}

#[test]
fn close_resets_both_directions() {
    let mut p = Pair::connected();
    let id = p.open_from_a("bye");
    let other = p.open_from_a("stays");
    p.b.send_text(&mut p.sb, id, "in flight").unwrap();
    p.a.close(&mut p.sa, id).unwrap();
    assert_eq!(p.a.channel(id).unwrap().state(), ChannelState::Closing);
    assert_eq!(p.sa.queue, [Item::Reset(vec![id.0])]);
    assert_eq!(
        p.a.send_text(&mut p.sa, id, "late"),
        Err(DataChannelError::NotOpen(id))
    );
    assert_eq!(
        p.a.close(&mut p.sa, id),
        Ok(()),
        "closing twice is harmless"
    );
    p.settle();
    // A still delivers what was in flight while closing.
    assert_eq!(
        p.events_a(),
        [text(id, "in flight"), DataChannelEvent::Close(id)]
    );
    assert_eq!(p.events_b(), [DataChannelEvent::Close(id)]);
    assert!(p.a.channel(id).is_none() && p.b.channel(id).is_none());
    assert_eq!(p.a.channel(other).unwrap().state(), ChannelState::Open);
    assert_eq!(
        p.a.send_text(&mut p.sa, id, "x"),
        Err(DataChannelError::UnknownChannel(id))
    );
    // The stream id is free for a new channel on either side.
    let again = p.a.open(
        &mut p.sa,
        "x",
        "",
        ChannelOptions {
            negotiated: Some(id.0),
            ..ChannelOptions::default()
        },
    );
    assert_eq!(again, Ok(id));
}

#[test]
fn a_reset_before_the_ack_refuses_the_open() {
    let mut p = Pair::connected();
    let id =
        p.a.open(&mut p.sa, "refused", "", ChannelOptions::default())
            .unwrap();
    p.sa.queue.clear();
    p.a.handle_stream_reset(&mut p.sa, &[id.0]);
    let error = ChannelError::OpenRefused;
    assert_eq!(
        p.events_a(),
        [
            DataChannelEvent::Error { channel: id, error },
            DataChannelEvent::Close(id)
        ]
    );
    // RFC 8831 §6.7: our outgoing stream is reset in turn.
    assert_eq!(p.sa.queue, [Item::Reset(vec![id.0])]);
}

#[test]
fn an_open_on_a_used_stream_closes_its_channel() {
    let mut p = Pair::connected();
    let id = p.open_from_a("dup");
    let open = DcepMessage::Open(DataChannelOpen {
        channel_type: ChannelType::RELIABLE,
        priority: 256,
        reliability_parameter: 0,
        label: "dup",
        protocol: "",
    });
    p.b.handle_message(&mut p.sb, id.0, Ppid::DCEP, &open.to_vec().unwrap());
    assert_eq!(p.b.stats().opens_refused, 1);
    assert_eq!(p.sb.queue, [Item::Reset(vec![id.0])], "no ACK, a reset");
    p.settle();
    assert_eq!(p.events_a(), [DataChannelEvent::Close(id)]);
    assert_eq!(p.events_b(), [DataChannelEvent::Close(id)]);
}

#[test]
fn the_number_of_channels_is_bounded() {
    let config = DataChannelConfig {
        max_channels: 2,
        ..DataChannelConfig::default()
    };
    let mut p = Pair::new(config);
    p.a.handle_connected(&mut p.sa);
    p.b.handle_connected(&mut p.sb);
    p.open_from_a("one");
    p.b.open(&mut p.sb, "two", "", ChannelOptions::default())
        .unwrap();
    p.settle();
    assert_eq!(
        p.a.open(&mut p.sa, "three", "", ChannelOptions::default()),
        Err(DataChannelError::TooManyChannels)
    );
    // The peer's third OPEN is refused with a reset.
    p.b.open(&mut p.sb, "four", "", ChannelOptions::default())
        .unwrap_err();
    let mut forged = FakeSctp::default();
    let open = [3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    p.a.handle_message(&mut forged, 9, Ppid::DCEP, &open);
    assert_eq!(forged.queue, [Item::Reset(vec![9])]);
    assert_eq!(p.a.channels().count(), 2);
}

#[test]
fn association_loss_closes_everything() {
    let mut p = Pair::connected();
    let one = p.open_from_a("one");
    let two = p.open_from_a("two");
    p.a.handle_closed();
    assert_eq!(
        p.events_a(),
        [DataChannelEvent::Close(one), DataChannelEvent::Close(two)]
    );
    assert!(p.a.channels().next().is_none());
}

#[test]
fn a_refused_open_at_connect_is_reported() {
    let mut p = Pair::new(DataChannelConfig::default());
    let id =
        p.a.open(&mut p.sa, "doomed", "", ChannelOptions::default())
            .unwrap();
    p.sa.refuse = true;
    p.a.handle_connected(&mut p.sa);
    let error = ChannelError::OpenFailed(DataChannelError::Transport(TransportError::NotConnected));
    assert_eq!(
        p.events_a(),
        [
            DataChannelEvent::Error { channel: id, error },
            DataChannelEvent::Close(id)
        ]
    );
}

#[test]
fn labels_past_sixteen_bits_are_refused() {
    let mut p = Pair::connected();
    let long = "l".repeat(65_536);
    assert_eq!(
        p.a.open(&mut p.sa, &long, "", ChannelOptions::default()),
        Err(DataChannelError::TooLong { what: "label" })
    );
    assert_eq!(
        p.a.open(&mut p.sa, "", &long, ChannelOptions::default()),
        Err(DataChannelError::TooLong { what: "protocol" })
    );
}

#[test]
fn every_id_of_our_parity_can_be_used_and_freed_ids_come_back() {
    for (role, count, last) in [
        (DtlsRole::Client, 32_768, 65_534),
        (DtlsRole::Server, 32_767, 65_533),
    ] {
        // Not connected: nothing goes on the wire, so this is only the id bookkeeping.
        let mut channels = DataChannels::new(role, DataChannelConfig::default());
        let mut sctp = FakeSctp::default();
        let open = |channels: &mut DataChannels, sctp: &mut FakeSctp| {
            channels.open(sctp, "", "", ChannelOptions::default())
        };
        let ids: Vec<u16> = (0..count)
            .map(|_| open(&mut channels, &mut sctp).unwrap().0)
            .collect();
        assert_eq!(ids.last(), Some(&last));
        assert!(ids.iter().all(|id| id % 2 == ids[0] % 2));
        assert_eq!(
            open(&mut channels, &mut sctp),
            Err(DataChannelError::TooManyChannels)
        );
        // A channel that never reached the wire closes at once; its id is taken again.
        let freed = ChannelId(ids[100]);
        channels.close(&mut sctp, freed).unwrap();
        assert_eq!(channels.poll_event(), Some(DataChannelEvent::Close(freed)));
        assert_eq!(open(&mut channels, &mut sctp), Ok(freed));
    }
}
