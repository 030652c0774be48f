//! Round trips for every chunk, byte vectors for the fixed layouts, and the unknown-type rules.

use super::*;
use crate::sctp::packet::{Packet, PacketView};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Encodes `chunk`, checks the length bookkeeping, decodes it back through a packet view and
/// returns the wire bytes.
fn round_trip(chunk: Chunk) -> Vec<u8> {
    let mut bytes = Vec::new();
    chunk.encode(&mut bytes);
    assert_eq!(bytes.len(), chunk.encoded_len(), "{chunk:?}");
    assert_eq!(bytes.len() % 4, 0);
    let mut packet = vec![0u8; 12];
    packet.extend_from_slice(&bytes);
    let view = PacketView::new_checked(&packet).unwrap();
    let raws: Vec<_> = view.chunks().collect::<Result<_, _>>().unwrap();
    assert_eq!(raws.len(), 1);
    assert_eq!(raws[0].chunk_type, chunk.chunk_type());
    assert_eq!(raws[0].parse(), Ok(chunk));
    bytes
}

fn data(payload: &[u8]) -> Data {
    Data {
        unordered: true,
        beginning: true,
        ending: false,
        immediate: true,
        tsn: 0xdead_beef,
        stream_id: 3,
        ssn: 9,
        ppid: 53,
        payload: payload.to_vec(),
    }
}

#[test]
fn data_wire_layout() {
    let bytes = round_trip(Chunk::Data(data(b"abcde")));
    // RFC 9260 §3.3.1: type 0, flags I|U|B, length 16 + 5, then TSN, stream, SSN, PPID.
    assert_eq!(
        bytes,
        [
            0, 0x0e, 0, 21, 0xde, 0xad, 0xbe, 0xef, 0, 3, 0, 9, 0, 0, 0, 53, b'a', b'b', b'c',
            b'd', b'e', 0, 0, 0
        ]
    );
    round_trip(Chunk::Data(data(b"")));
    assert!(Chunk::parse(ChunkType::DATA, 0, &[0; 11]).is_err());
}

fn init(params: Vec<Parameter>) -> Init {
    Init {
        initiate_tag: 0x1234_5678,
        a_rwnd: 131_072,
        outbound_streams: 65_535,
        inbound_streams: 65_535,
        initial_tsn: 1,
        params,
    }
}

#[test]
fn init_and_init_ack_round_trip() {
    let params = vec![
        Parameter::Ipv4Address(Ipv4Addr::new(192, 0, 2, 1)),
        Parameter::Ipv6Address(Ipv6Addr::LOCALHOST),
        Parameter::CookiePreservative(1000),
        Parameter::SupportedAddressTypes(vec![5]),
        Parameter::SupportedExtensions(vec![ChunkType::RECONFIG, ChunkType::FORWARD_TSN]),
        Parameter::ForwardTsnSupported,
        Parameter::Unknown {
            param_type: ParameterType(0x8001),
            value: vec![1, 2, 3, 4, 5],
        },
    ];
    let bytes = round_trip(Chunk::Init(init(params.clone())));
    // The last parameter's padding is chunk padding: the length excludes it (RFC 9260 §3.2).
    let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    assert_eq!(length % 4, 1);
    round_trip(Chunk::Init(init(Vec::new())));

    let mut ack = init(params);
    ack.params.insert(0, Parameter::StateCookie(vec![7; 33]));
    ack.params
        .push(Parameter::UnrecognizedParameter(vec![0x80, 9, 0, 4]));
    assert_eq!(ack.state_cookie(), Some(&[7; 33][..]));
    assert!(ack.forward_tsn_supported());
    round_trip(Chunk::InitAck(ack));
    assert!(Chunk::parse(ChunkType::INIT, 0, &[0; 15]).is_err());
}

#[test]
fn init_parameter_errors() {
    let mut value = vec![0u8; 16];
    value.extend_from_slice(&[0, 5, 0, 7, 1, 2, 3]); // IPv4 address with 3 bytes
    assert!(Chunk::parse(ChunkType::INIT, 0, &value).is_err());
    let mut value = vec![0u8; 16];
    value.extend_from_slice(&[0, 5, 0, 2]); // parameter length below its header
    assert!(Chunk::parse(ChunkType::INIT, 0, &value).is_err());
}

#[test]
fn sack_round_trip_and_counts() {
    let sack = Sack {
        cumulative_tsn_ack: 100,
        a_rwnd: 4096,
        gap_ack_blocks: vec![
            GapAckBlock { start: 2, end: 3 },
            GapAckBlock { start: 5, end: 9 },
        ],
        duplicate_tsns: vec![98, 99],
    };
    let bytes = round_trip(Chunk::Sack(sack));
    assert_eq!(&bytes[..4], &[3, 0, 0, 32]);
    round_trip(Chunk::Sack(Sack {
        cumulative_tsn_ack: 0,
        a_rwnd: 0,
        gap_ack_blocks: Vec::new(),
        duplicate_tsns: Vec::new(),
    }));
    // Counts that promise more than the chunk holds are refused, not trusted.
    let value = [0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0, 0];
    assert!(Chunk::parse(ChunkType::SACK, 0, &value).is_err());
}

#[test]
fn heartbeat_round_trip() {
    round_trip(Chunk::Heartbeat(Heartbeat {
        info: b"now+path".to_vec(),
    }));
    round_trip(Chunk::HeartbeatAck(Heartbeat {
        info: vec![1, 2, 3],
    }));
    // Anything but exactly one Heartbeat Info parameter is malformed.
    assert!(Chunk::parse(ChunkType::HEARTBEAT, 0, &[]).is_err());
    assert!(Chunk::parse(ChunkType::HEARTBEAT, 0, &[0, 2, 0, 4]).is_err());
}

fn all_causes() -> Vec<ErrorCause> {
    vec![
        ErrorCause::InvalidStreamIdentifier(7),
        ErrorCause::MissingMandatoryParameter(vec![7, 9, 12]),
        ErrorCause::StaleCookie(5000),
        ErrorCause::OutOfResource,
        ErrorCause::UnrecognizedChunkType(vec![0x7f, 0, 0, 4]),
        ErrorCause::InvalidMandatoryParameter,
        ErrorCause::UnrecognizedParameters(vec![0x80, 1, 0, 5, 9]),
        ErrorCause::NoUserData(42),
        ErrorCause::CookieReceivedWhileShuttingDown,
        ErrorCause::UserInitiatedAbort(b"bye".to_vec()),
        ErrorCause::ProtocolViolation(b"bad".to_vec()),
        ErrorCause::Unknown {
            code: 5,
            value: vec![0, 5, 0, 8, 10, 0, 0, 1],
        },
    ]
}

#[test]
fn abort_and_error_round_trip() {
    for tag_reflected in [false, true] {
        let bytes = round_trip(Chunk::Abort(Abort {
            tag_reflected,
            causes: all_causes(),
        }));
        assert_eq!(bytes[1], u8::from(tag_reflected));
    }
    round_trip(Chunk::Abort(Abort {
        tag_reflected: false,
        causes: Vec::new(),
    }));
    round_trip(Chunk::Error(OperationError {
        causes: all_causes(),
    }));
    // Missing Mandatory Parameter whose count disagrees with its list.
    let value = [0, 2, 0, 10, 0, 0, 0, 2, 0, 7];
    assert!(Chunk::parse(ChunkType::ERROR, 0, &value).is_err());
}

#[test]
fn shutdown_family_round_trip() {
    let bytes = round_trip(Chunk::Shutdown(Shutdown {
        cumulative_tsn_ack: 0x0102_0304,
    }));
    assert_eq!(bytes, [7, 0, 0, 8, 1, 2, 3, 4]);
    assert_eq!(round_trip(Chunk::ShutdownAck), [8, 0, 0, 4]);
    assert_eq!(
        round_trip(Chunk::ShutdownComplete(ShutdownComplete {
            tag_reflected: true
        })),
        [14, 1, 0, 4]
    );
    assert!(Chunk::parse(ChunkType::SHUTDOWN, 0, &[0; 5]).is_err());
    assert!(Chunk::parse(ChunkType::SHUTDOWN_ACK, 0, &[0; 4]).is_err());
}

#[test]
fn cookie_round_trip() {
    round_trip(Chunk::CookieEcho(CookieEcho {
        cookie: (0..=200).collect(),
    }));
    round_trip(Chunk::CookieEcho(CookieEcho { cookie: Vec::new() }));
    assert_eq!(round_trip(Chunk::CookieAck), [11, 0, 0, 4]);
}

#[test]
fn forward_tsn_round_trip() {
    let bytes = round_trip(Chunk::ForwardTsn(ForwardTsn {
        new_cumulative_tsn: 77,
        streams: vec![SkippedStream {
            stream_id: 1,
            ssn: 2,
        }],
    }));
    assert_eq!(bytes, [192, 0, 0, 12, 0, 0, 0, 77, 0, 1, 0, 2]);
    assert!(Chunk::parse(ChunkType::FORWARD_TSN, 0, &[0; 6]).is_err());
}

#[test]
fn reconfig_round_trip() {
    round_trip(Chunk::Reconfig(Reconfig {
        params: vec![
            Parameter::OutgoingSsnResetRequest {
                request_seq: 10,
                response_seq: 9,
                last_tsn: 500,
                streams: vec![1, 3, 5],
            },
            Parameter::IncomingSsnResetRequest {
                request_seq: 11,
                streams: vec![2],
            },
        ],
    }));
    for param in [
        Parameter::SsnTsnResetRequest { request_seq: 1 },
        Parameter::ReconfigResponse {
            response_seq: 10,
            result: ReconfigResult::SUCCESS_PERFORMED,
            next_tsns: None,
        },
        Parameter::ReconfigResponse {
            response_seq: 10,
            result: ReconfigResult::DENIED,
            next_tsns: Some((1, 2)),
        },
        Parameter::AddOutgoingStreams {
            request_seq: 4,
            new_streams: 16,
        },
        Parameter::AddIncomingStreams {
            request_seq: 5,
            new_streams: 1,
        },
    ] {
        round_trip(Chunk::Reconfig(Reconfig {
            params: vec![param],
        }));
    }
    // RFC 6525 §4.1, odd stream count: length 22, two bytes of padding.
    let bytes = round_trip(Chunk::Reconfig(Reconfig {
        params: vec![Parameter::OutgoingSsnResetRequest {
            request_seq: 1,
            response_seq: 0,
            last_tsn: 0,
            streams: vec![4],
        }],
    }));
    assert_eq!(&bytes[..8], &[130, 0, 0, 22, 0, 13, 0, 18]);
    // A response of 12 bytes has half of the optional TSN pair.
    let value = [0, 16, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
    assert!(Chunk::parse(ChunkType::RECONFIG, 0, &value).is_err());
}

#[test]
fn unknown_chunks_round_trip_with_their_action() {
    let cases = [
        (0x3f, UnknownAction::Stop),
        (0x41, UnknownAction::StopAndReport),
        (0x84, UnknownAction::Skip),
        (0xc1, UnknownAction::SkipAndReport),
    ];
    for (t, action) in cases {
        let chunk_type = ChunkType(t);
        assert_eq!(chunk_type.unknown_action(), action);
        round_trip(Chunk::Unknown(UnknownChunk {
            chunk_type,
            flags: 0xa5,
            value: vec![1, 2, 3],
        }));
    }
    assert!(!UnknownAction::Stop.continues() && !UnknownAction::Stop.reports());
    assert!(UnknownAction::SkipAndReport.continues() && UnknownAction::SkipAndReport.reports());
    assert_eq!(
        ParameterType(0xC000).unknown_action(),
        UnknownAction::SkipAndReport
    );
    assert_eq!(
        ParameterType(0x4001).unknown_action(),
        UnknownAction::StopAndReport
    );
}

#[test]
fn raw_chunk_quotes_the_whole_chunk() {
    let packet = Packet {
        source_port: 1,
        destination_port: 2,
        verification_tag: 3,
        chunks: vec![Chunk::Unknown(UnknownChunk {
            chunk_type: ChunkType(0x7f),
            flags: 0,
            value: vec![9],
        })],
    };
    let bytes = packet.encode();
    let view = PacketView::new_checked(&bytes).unwrap();
    let raw = view.chunks().next().unwrap().unwrap();
    assert_eq!(raw.raw, &[0x7f, 0, 0, 5, 9]);
    assert_eq!(
        ChunkType(raw.raw[0]).unknown_action(),
        UnknownAction::StopAndReport
    );
}

fn idata(beginning: bool, payload: &[u8]) -> IData {
    IData {
        unordered: true,
        beginning,
        ending: !beginning,
        immediate: false,
        tsn: 0x0102_0304,
        stream_id: 7,
        mid: 0x0a0b_0c0d,
        ppid: if beginning { 51 } else { 0 },
        fsn: if beginning { 0 } else { 5 },
        payload: payload.to_vec(),
    }
}

#[test]
fn idata_wire_layout_and_round_trip() {
    // RFC 8260 §2.1: type 64, flags U|B, length 20 + 3, TSN, stream, 16 reserved bits, MID,
    // then the PPID because B is set.
    let first = round_trip(Chunk::IData(idata(true, b"xyz")));
    assert_eq!(
        first,
        [
            64, 0x06, 0, 23, 1, 2, 3, 4, 0, 7, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 51, b'x',
            b'y', b'z', 0
        ]
    );
    // Without B the same word is the Fragment Sequence Number.
    let later = round_trip(Chunk::IData(idata(false, b"abcd")));
    assert_eq!(later[1], 0x05);
    assert_eq!(later[16..20], [0, 0, 0, 5]);
    // Reserved bits are ignored on receipt.
    let mut value = first[4..23].to_vec();
    value[6] = 0xff;
    assert_eq!(
        Chunk::parse(ChunkType::I_DATA, 0x06, &value),
        Ok(Chunk::IData(idata(true, b"xyz")))
    );
    assert!(Chunk::parse(ChunkType::I_DATA, 0, &[0; 15]).is_err());
}

#[test]
fn iforward_tsn_wire_layout_and_round_trip() {
    let chunk = Chunk::IForwardTsn(IForwardTsn {
        new_cumulative_tsn: 77,
        skipped: vec![
            SkippedMessage {
                stream_id: 1,
                unordered: false,
                mid: 2,
            },
            SkippedMessage {
                stream_id: 3,
                unordered: true,
                mid: 0x0100_0000,
            },
        ],
    });
    // RFC 8260 §2.3.1: type 194, then per entry stream, 15 reserved bits and U, MID.
    let bytes = round_trip(chunk.clone());
    assert_eq!(
        bytes,
        [
            194, 0, 0, 24, 0, 0, 0, 77, 0, 1, 0, 0, 0, 0, 0, 2, 0, 3, 0, 1, 1, 0, 0, 0
        ]
    );
    let mut reserved = bytes[4..].to_vec();
    reserved[6] = 0x80;
    assert_eq!(
        Chunk::parse(ChunkType::I_FORWARD_TSN, 0, &reserved),
        Ok(chunk)
    );
    assert!(Chunk::parse(ChunkType::I_FORWARD_TSN, 0, &[0; 8]).is_err());
    assert!(Chunk::parse(ChunkType::I_FORWARD_TSN, 0, &[0; 3]).is_err());
}
