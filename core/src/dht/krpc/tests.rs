//! BEP 5's example messages byte for byte, plus the extensions.

use super::*;

fn id(s: &[u8; 20]) -> NodeId {
    NodeId(*s)
}

/// Decodes `wire`, checks it equals `expected`, and that encoding gives `wire` back.
fn vector(wire: &[u8], expected: Message<'_>) {
    let decoded = decode(wire).unwrap();
    assert_eq!(decoded, expected);
    assert_eq!(
        expected.to_bytes(),
        wire,
        "{}",
        String::from_utf8_lossy(wire)
    );
}

fn msg<'a>(body: Body<'a>) -> Message<'a> {
    Message {
        transaction_id: b"aa",
        body,
        version: None,
        ip: None,
        read_only: false,
    }
}

fn q<'a>(query_id: &[u8; 20], method: Method<'a>) -> Body<'a> {
    Body::Query(Query {
        id: id(query_id),
        method,
        want: None,
    })
}

#[test]
fn bep5_ping() {
    vector(
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
        msg(q(b"abcdefghij0123456789", Method::Ping)),
    );
    vector(
        b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
        msg(Body::Response(Response {
            id: id(b"mnopqrstuvwxyz123456"),
            ..Response::default()
        })),
    );
}

#[test]
fn bep5_find_node() {
    vector(
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
        msg(q(b"abcdefghij0123456789", Method::FindNode { target: id(b"mnopqrstuvwxyz123456") })),
    );
    // BEP 5's find_node response abbreviates `nodes` to "def456..." (9 bytes, not a whole
    // number of 26-byte entries): it is rejected as malformed.
    assert_eq!(
        decode(b"d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re"),
        Err(KrpcError::Field("nodes"))
    );
    // The same response with one real entry.
    let node = NodeInfo {
        id: id(b"def456def456def456de"),
        addr: "1.2.3.4:6881".parse().unwrap(),
    };
    vector(
        b"d1:rd2:id20:0123456789abcdefghij5:nodes26:def456def456def456de\x01\x02\x03\x04\x1a\xe1e1:t2:aa1:y1:re",
        msg(Body::Response(Response {
            id: id(b"0123456789abcdefghij"),
            nodes: vec![node],
            ..Response::default()
        })),
    );
}

#[test]
fn bep5_get_peers() {
    vector(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
        msg(q(b"abcdefghij0123456789", Method::GetPeers { info_hash: id(b"mnopqrstuvwxyz123456") })),
    );
    vector(
        b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
        msg(Body::Response(Response {
            id: id(b"abcdefghij0123456789"),
            values: vec![read_addr(b"axje.u").unwrap(), read_addr(b"idhtnm").unwrap()],
            token: Some(b"aoeusnth"),
            ..Response::default()
        })),
    );
}

#[test]
fn bep5_announce_peer() {
    vector(
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
        msg(q(
            b"abcdefghij0123456789",
            Method::AnnouncePeer {
                info_hash: id(b"mnopqrstuvwxyz123456"),
                port: 6881,
                token: b"aoeusnth",
                implied_port: true,
            },
        )),
    );
}

#[test]
fn bep5_error() {
    vector(
        b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        msg(Body::Error(ErrorBody {
            code: ERROR_GENERIC,
            message: b"A Generic Error Ocurred",
        })),
    );
}

#[test]
fn extensions_round_trip() {
    let n6 = NodeInfo {
        id: NodeId([7; 20]),
        addr: "[2001:db8::1]:6881".parse().unwrap(),
    };
    let messages = [
        Message {
            transaction_id: &[1, 2, 3, 4],
            body: Body::Query(Query {
                id: NodeId([1; 20]),
                method: Method::FindNode {
                    target: NodeId([2; 20]),
                },
                want: Some(Want { v4: true, v6: true }),
            }),
            version: Some(b"PG01"),
            ip: None,
            read_only: true,
        },
        Message {
            transaction_id: &[9; 7],
            body: Body::Response(Response {
                id: NodeId([3; 20]),
                nodes6: vec![n6],
                values: vec!["[::1]:5".parse().unwrap()],
                ..Response::default()
            }),
            version: None,
            ip: Some("203.0.113.9:4000".parse().unwrap()),
            read_only: false,
        },
        msg(Body::Error(ErrorBody {
            code: ERROR_METHOD_UNKNOWN,
            message: b"Method Unknown",
        })),
        msg(q(b"abcdefghij0123456789", Method::Unknown(b"vote"))),
    ];
    for m in messages {
        let wire = m.to_bytes();
        assert_eq!(decode(&wire).unwrap(), m);
    }
}

#[test]
fn bad_messages_are_rejected() {
    for bad in [
        &b"d1:t2:aa1:y1:qe"[..],
        b"d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe",
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe",
        b"d1:t2:aa1:y1:xe",
        b"d1:eli201ee1:t2:aa1:y1:ee",
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
        b"li1ee",
    ] {
        assert!(decode(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    // Unsorted keys from a sloppy peer are accepted.
    let sloppy = b"d1:y1:q1:t2:aa1:q4:ping1:ad2:id20:abcdefghij0123456789ee";
    assert!(matches!(decode(sloppy).unwrap().body, Body::Query(_)));
}

#[test]
fn bep44_put_and_get_round_trip_byte_for_byte() {
    let key = hex("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548");
    let sig = hex(
        "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d\
         df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08",
    );
    let mut wire = b"d1:ad3:casi0e2:id20:abcdefghij01234567891:k32:".to_vec();
    wire.extend_from_slice(&key);
    wire.extend_from_slice(b"4:salt6:foobar3:seqi1e3:sig64:");
    wire.extend_from_slice(&sig);
    wire.extend_from_slice(b"5:token8:abcdefgh1:v12:Hello World!e1:q3:put1:t4:cccc1:y1:qe");
    let message = decode(&wire).unwrap();
    let Body::Query(Query {
        method: Method::Put(put),
        ..
    }) = &message.body
    else {
        panic!("a put: {message:?}");
    };
    assert_eq!(put.value, b"12:Hello World!");
    assert_eq!(put.key.map(|k| k.to_vec()), Some(key));
    assert_eq!(put.signature.map(|s| s.to_vec()), Some(sig));
    assert_eq!(
        (put.seq, put.salt, put.cas),
        (Some(1), &b"foobar"[..], Some(0))
    );
    assert_eq!(message.to_bytes(), wire);
    // A get answer carrying a dictionary value; `k` of the wrong length is malformed.
    let answer = b"d1:rd2:id20:abcdefghij01234567893:seqi4e1:vd1:ai1eee1:t2:aa1:y1:re";
    let message = decode(answer).unwrap();
    let Body::Response(r) = &message.body else {
        panic!("a response");
    };
    assert_eq!(
        (r.seq, r.value.as_deref()),
        (Some(4), Some(&b"d1:ai1ee"[..]))
    );
    assert_eq!(message.to_bytes(), answer);
    let bad = b"d1:rd2:id20:abcdefghij01234567891:k3:abce1:t2:aa1:y1:re";
    assert_eq!(decode(bad), Err(KrpcError::Field("k")));
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
