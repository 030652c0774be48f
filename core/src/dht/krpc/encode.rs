//! KRPC message encoding.

use super::compact::{NODE_V4_LEN, NODE_V6_LEN};
use super::{Body, Message, Method, Response, write_addr, write_nodes};
use crate::dht::bencode::{Value, decode, encode};

/// Room for what a message carries besides node lists and peers: keys, ids, transaction id,
/// token, version, `ip`. Those of a `get_peers` answer take about 100 bytes.
const ENVELOPE: usize = 128;

impl Message<'_> {
    /// The bencoded message (keys sorted, BEP 3).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut ip = Vec::new();
        if let Some(addr) = &self.ip {
            write_addr(addr, &mut ip);
        }
        let mut nodes = Vec::new();
        let mut nodes6 = Vec::new();
        let mut values = Vec::new();
        let mut top: Vec<(&[u8], Value<'_>)> = vec![(b"t", Value::Bytes(self.transaction_id))];
        match &self.body {
            Body::Query(query) => {
                let mut args: Vec<(&[u8], Value<'_>)> = vec![(b"id", Value::Bytes(&query.id.0))];
                match &query.method {
                    Method::Ping | Method::Unknown(_) => {}
                    Method::FindNode { target } => args.push((b"target", Value::Bytes(&target.0))),
                    Method::GetPeers { info_hash } => {
                        args.push((b"info_hash", Value::Bytes(&info_hash.0)));
                    }
                    Method::AnnouncePeer {
                        info_hash,
                        port,
                        token,
                        implied_port,
                    } => {
                        args.push((b"info_hash", Value::Bytes(&info_hash.0)));
                        args.push((b"port", Value::Int(i64::from(*port))));
                        args.push((b"token", Value::Bytes(token)));
                        if *implied_port {
                            args.push((b"implied_port", Value::Int(1)));
                        }
                    }
                    Method::Get { target, seq } => {
                        args.push((b"target", Value::Bytes(&target.0)));
                        if let Some(seq) = seq {
                            args.push((b"seq", Value::Int(*seq)));
                        }
                    }
                    Method::Put(put) => {
                        args.push((b"token", Value::Bytes(put.token)));
                        args.push((b"v", embed(&put.value)));
                        if let Some(key) = &put.key {
                            args.push((b"k", Value::Bytes(key)));
                        }
                        if let Some(sig) = &put.signature {
                            args.push((b"sig", Value::Bytes(sig)));
                        }
                        if let Some(seq) = put.seq {
                            args.push((b"seq", Value::Int(seq)));
                        }
                        if !put.salt.is_empty() {
                            args.push((b"salt", Value::Bytes(put.salt)));
                        }
                        if let Some(cas) = put.cas {
                            args.push((b"cas", Value::Int(cas)));
                        }
                        if let Some(target) = &put.target {
                            args.push((b"target", Value::Bytes(&target.0)));
                        }
                    }
                }
                if let Some(want) = query.want {
                    let mut list = Vec::new();
                    if want.v4 {
                        list.push(Value::Bytes(b"n4"));
                    }
                    if want.v6 {
                        list.push(Value::Bytes(b"n6"));
                    }
                    args.push((b"want", Value::List(list)));
                }
                top.push((b"y", Value::Bytes(b"q")));
                top.push((b"q", Value::Bytes(query.method.name())));
                top.push((b"a", Value::Dict(args)));
            }
            Body::Response(Response {
                id,
                nodes: n4,
                nodes6: n6,
                values: peers,
                token,
                value,
                key,
                signature,
                seq,
            }) => {
                let mut r: Vec<(&[u8], Value<'_>)> = vec![(b"id", Value::Bytes(&id.0))];
                if !n4.is_empty() {
                    nodes.reserve_exact(n4.len() * NODE_V4_LEN);
                    write_nodes(n4, &mut nodes);
                    r.push((b"nodes", Value::Bytes(&nodes)));
                }
                if !n6.is_empty() {
                    nodes6.reserve_exact(n6.len() * NODE_V6_LEN);
                    write_nodes(n6, &mut nodes6);
                    r.push((b"nodes6", Value::Bytes(&nodes6)));
                }
                if !peers.is_empty() {
                    for peer in peers {
                        let mut one = Vec::with_capacity(18);
                        write_addr(peer, &mut one);
                        values.push(one);
                    }
                    let list = values.iter().map(|v| Value::Bytes(v)).collect();
                    r.push((b"values", Value::List(list)));
                }
                if let Some(token) = token {
                    r.push((b"token", Value::Bytes(token)));
                }
                if let Some(value) = value {
                    r.push((b"v", embed(value)));
                }
                if let Some(key) = key {
                    r.push((b"k", Value::Bytes(key)));
                }
                if let Some(sig) = signature {
                    r.push((b"sig", Value::Bytes(sig)));
                }
                if let Some(seq) = seq {
                    r.push((b"seq", Value::Int(*seq)));
                }
                top.push((b"y", Value::Bytes(b"r")));
                top.push((b"r", Value::Dict(r)));
            }
            Body::Error(error) => {
                let list = vec![Value::Int(error.code), Value::Bytes(error.message)];
                top.push((b"y", Value::Bytes(b"e")));
                top.push((b"e", Value::List(list)));
            }
        }
        if let Some(version) = self.version {
            top.push((b"v", Value::Bytes(version)));
        }
        if self.ip.is_some() {
            top.push((b"ip", Value::Bytes(&ip)));
        }
        if self.read_only {
            // BEP 43: "ro" is a top-level key set to 1 in every query a read-only node sends.
            top.push((b"ro", Value::Int(1)));
        }
        // Room for the envelope, node lists and peers, so the usual message is written in one
        // allocation (an answer with eight nodes is ~300 bytes); a BEP 44 value or a long
        // error message may still grow it.
        let mut out = Vec::with_capacity(ENVELOPE + nodes.len() + nodes6.len() + 20 * values.len());
        encode(&Value::Dict(top), &mut out);
        out
    }
}

/// A BEP 44 `v` (kept bencoded) as a value to nest in a message. Values that came off the wire
/// were re-encoded canonically, so they decode strictly; anything else is sent as a string.
fn embed(value: &[u8]) -> Value<'_> {
    decode(value).unwrap_or(Value::Bytes(value))
}
