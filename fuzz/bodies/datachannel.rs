//! Fuzz body for DCEP (RFC 8832 §5), shared by the `dcep_parse` target and by
//! `tests/tests/fuzz_corpus.rs`.
//!
//! `dcep_parse`: the input as the user data of a PPID 50 message. Parsing must not panic;
//! whatever parses must write back to bytes that parse to the same message. The same bytes
//! then reach a `DataChannels` as a DCEP message and as a string message on a fresh stream,
//! which must not panic either.

// `pub` for the fuzz target although this file is a private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use pigeon::datachannel::{
    ChannelOptions, ChannelType, DataChannelConfig, DataChannelOpen, DataChannels, DcepMessage,
    Ppid, Reliability, SctpTransport, TransportError,
};
use pigeon::dtls::DtlsRole;

/// An association that takes everything and sends nothing anywhere.
struct Sink;

impl SctpTransport for Sink {
    fn send(&mut self, _: u16, _: Ppid, _: &[u8], _: Reliability) -> Result<(), TransportError> {
        Ok(())
    }
    fn reset_streams(&mut self, _: &[u16]) -> Result<(), TransportError> {
        Ok(())
    }
    fn buffered_amount(&self, _: u16) -> usize {
        0
    }
}

pub fn dcep_parse(data: &[u8]) {
    if let Ok(message) = DcepMessage::parse(data) {
        let written = message
            .to_vec()
            .expect("a parsed message fits its length fields");
        assert_eq!(written.len(), message.encoded_len());
        assert_eq!(DcepMessage::parse(&written), Ok(message), "{written:02x?}");
    }
    let mut channels = DataChannels::new(DtlsRole::Client, DataChannelConfig::default());
    let mut sctp = Sink;
    channels.handle_connected(&mut sctp);
    let ours = channels
        .open(&mut sctp, "fuzz", "", ChannelOptions::default())
        .expect("the first channel opens");
    channels.handle_message(&mut sctp, 1, Ppid::DCEP, data);
    channels.handle_message(&mut sctp, ours.stream(), Ppid::DCEP, data);
    channels.handle_message(&mut sctp, 1, Ppid::STRING, data);
    channels.handle_message(&mut sctp, ours.stream(), Ppid::STRING, data);
    while channels.poll_event().is_some() {}
}

/// Seed inputs: every channel type RFC 8832 §8.2.2 assigns, an ACK, and a few broken ones.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let types = [
        ("reliable", ChannelType::RELIABLE, 0),
        ("reliable_unordered", ChannelType::RELIABLE_UNORDERED, 0),
        ("rexmit", ChannelType::PARTIAL_RELIABLE_REXMIT, 3),
        (
            "rexmit_unordered",
            ChannelType::PARTIAL_RELIABLE_REXMIT_UNORDERED,
            0,
        ),
        ("timed", ChannelType::PARTIAL_RELIABLE_TIMED, 1500),
        (
            "timed_unordered",
            ChannelType::PARTIAL_RELIABLE_TIMED_UNORDERED,
            3000,
        ),
    ];
    let mut seeds: Vec<(String, Vec<u8>)> = types
        .into_iter()
        .map(|(name, channel_type, reliability_parameter)| {
            let open = DcepMessage::Open(DataChannelOpen {
                channel_type,
                priority: 256,
                reliability_parameter,
                label: "chat",
                protocol: "xmpp",
            });
            let bytes = open.to_vec().expect("short label");
            (format!("open_{name}"), bytes)
        })
        .collect();
    seeds.push(("ack".into(), vec![0x02]));
    seeds.push((
        "open_empty".into(),
        vec![3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ));
    seeds.push((
        "open_truncated_label".into(),
        vec![3, 0, 1, 0, 0, 0, 0, 0, 0, 9, 0, 0, b'x'],
    ));
    seeds.push((
        "open_bad_utf8".into(),
        vec![3, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff],
    ));
    seeds.push((
        "open_unknown_type".into(),
        vec![3, 0x7f, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ));
    seeds.push(("unknown_message".into(), vec![0xff, 0x00]));
    seeds
}
