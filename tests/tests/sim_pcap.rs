//! The pcap writer: a capture of NATed traffic parses as classic pcap with raw-IP records whose
//! IP and UDP headers are consistent, shows each datagram once per network segment with the
//! addresses of that segment, and shows it to tshark in interop_tshark.rs.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use pigeon_sim::probe::Probe;
use pigeon_sim::{LinkConfig, NatConfig, NetworkId, Sim};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// (timestamp µs, source, destination, payload) of every record.
fn parse(pcap: &[u8]) -> Vec<(u64, SocketAddr, SocketAddr, Vec<u8>)> {
    assert_eq!(&pcap[0..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(u16::from_le_bytes([pcap[4], pcap[5]]), 2);
    assert_eq!(u16::from_le_bytes([pcap[6], pcap[7]]), 4);
    assert_eq!(u32::from_le_bytes(pcap[20..24].try_into().unwrap()), 101);
    let mut out = Vec::new();
    let mut rest = &pcap[24..];
    while !rest.is_empty() {
        let word = |i: usize| u32::from_le_bytes(rest[i..i + 4].try_into().unwrap());
        let (secs, micros, incl, orig) = (word(0), word(4), word(8) as usize, word(12) as usize);
        assert_eq!(incl, orig);
        let pkt = &rest[16..16 + incl];
        assert_eq!(pkt[0] >> 4, 4, "IPv4");
        assert_eq!(u16::from_be_bytes([pkt[2], pkt[3]]) as usize, incl);
        assert_eq!(pkt[9], 17, "UDP");
        assert_eq!(
            ones_complement(&[&pkt[..20]]),
            0xffff,
            "IPv4 header checksum"
        );
        let udp = &pkt[20..];
        assert_eq!(u16::from_be_bytes([udp[4], udp[5]]) as usize, udp.len());
        let len = (udp.len() as u16).to_be_bytes();
        let pseudo = [&pkt[12..20], &[0, 17], &len[..], udp];
        assert_eq!(ones_complement(&pseudo), 0xffff, "UDP checksum");
        let ip = |o: usize| Ipv4Addr::new(pkt[o], pkt[o + 1], pkt[o + 2], pkt[o + 3]);
        let port = |o: usize| u16::from_be_bytes([udp[o], udp[o + 1]]);
        out.push((
            u64::from(secs) * 1_000_000 + u64::from(micros),
            SocketAddr::new(ip(12).into(), port(0)),
            SocketAddr::new(ip(16).into(), port(2)),
            udp[8..].to_vec(),
        ));
        rest = &rest[16 + incl..];
    }
    out
}

fn ones_complement(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    let mut sum: u64 = bytes
        .chunks(2)
        .map(|c| u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[test]
fn nat_traffic_is_captured_per_segment() {
    let mut sim = Sim::new(1);
    sim.enable_pcap();
    let server = addr("192.0.2.1:3478");
    sim.add_node(
        NetworkId::PUBLIC,
        &[server],
        Probe::reflector(),
        LinkConfig::default(),
    )
    .unwrap();
    let realm = sim
        .add_nat(
            NetworkId::PUBLIC,
            NatConfig::full_cone().with_external_ip("198.51.100.1".parse().unwrap()),
        )
        .unwrap();
    let local = addr("10.0.0.2:5000");
    let client = sim
        .add_node(realm, &[local], Probe::default(), LinkConfig::default())
        .unwrap();
    sim.run_for(Duration::from_millis(3));
    sim.command(client, |p: &mut Probe, _| {
        p.send(local, server, b"hello".to_vec())
    });
    sim.run_for(Duration::from_secs(1));
    let records = parse(&sim.take_pcap());
    let mapped = addr("198.51.100.1:5000");
    let reply = mapped.to_string().into_bytes();
    assert_eq!(
        records,
        vec![
            // Up: the private segment, then the public one, both when sent.
            (3_000, local, server, b"hello".to_vec()),
            (3_000, mapped, server, b"hello".to_vec()),
            // The reflector's answer on the public segment when sent (10 ms later)...
            (13_000, server, mapped, reply.clone()),
            // ...and on the private segment when it arrives, after the NAT translated it.
            (23_000, server, local, reply),
        ]
    );
}
