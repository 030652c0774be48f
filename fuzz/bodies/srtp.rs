//! Fuzz bodies for SRTP/SRTCP (`pigeon::srtp`) and RTP/RTCP headers (`pigeon::rtp`), shared by
//! the `srtp_unprotect`, `srtp_round_trip` and `rtp_header` targets and by
//! `tests/tests/fuzz_corpus.rs`.

// Each fuzz target calls one body and the corpus test all of them and `seeds`; they are `pub`
// for the fuzz targets although this file is a private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use pigeon::rtp::{RtcpHeader, RtpHeader};
use pigeon::srtp::{Profile, SrtpConfig, SrtpSession};

/// The first input byte picks the profile (low two bits) and RTP or RTCP (bit 2).
fn select(selector: u8) -> (Profile, bool) {
    (Profile::ALL[usize::from(selector & 3)], selector & 4 != 0)
}

/// A session under a fixed key, so that seeds made by [`seeds`] authenticate.
fn session(profile: Profile) -> SrtpSession {
    let key: Vec<u8> = (0..profile.master_key_len() as u8).collect();
    let salt: Vec<u8> = (0..profile.master_salt_len() as u8).rev().collect();
    // NOTE(unwrap): the lengths come from the profile.
    SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap()
}

/// Unprotects arbitrary bytes (twice, so the replay path runs on whatever authenticated).
/// Must never panic; what comes out is no longer than what went in.
pub fn unprotect(data: &[u8]) {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let (profile, rtcp) = select(selector);
    let mut rx = session(profile);
    for _ in 0..2 {
        let mut buf = packet.to_vec();
        let result = if rtcp {
            rx.unprotect_rtcp(&mut buf)
        } else {
            rx.unprotect_rtp(&mut buf)
        };
        if let Ok(len) = result {
            assert!(len < packet.len());
        }
    }
}

/// Protects whatever parses as RTP or RTCP and unprotects it again: the original comes back.
pub fn round_trip(data: &[u8]) {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let (profile, rtcp) = select(selector);
    let (mut tx, mut rx) = (session(profile), session(profile));
    let mut buf = packet.to_vec();
    let result = if rtcp {
        tx.protect_rtcp_vec(&mut buf)
            .and_then(|()| rx.unprotect_rtcp_vec(&mut buf))
    } else {
        tx.protect_rtp_vec(&mut buf)
            .and_then(|()| rx.unprotect_rtp_vec(&mut buf))
    };
    match result {
        Ok(()) => assert_eq!(buf, packet),
        Err(_) => {
            let parses = if rtcp {
                RtcpHeader::parse(packet).is_ok()
            } else {
                RtpHeader::parse(packet).is_ok()
            };
            assert!(!parses, "a well-formed packet failed to round trip");
        }
    }
}

/// Parses RTP and RTCP headers and calls every accessor. Must never panic.
pub fn headers(data: &[u8]) {
    if let Ok(h) = RtpHeader::parse(data) {
        assert!(h.header_len() <= data.len());
        assert_eq!(h.csrcs().count(), usize::from(h.csrc_count()));
        let _ = (h.version(), h.padding(), h.marker(), h.payload_type());
        let _ = (h.sequence_number(), h.timestamp(), h.ssrc(), h.payload());
        if let Some(ext) = h.extension() {
            assert_eq!(ext.data.len() % 4, 0);
        }
    }
    if let Ok(h) = RtcpHeader::parse(data) {
        let _ = (h.version(), h.padding(), h.count(), h.packet_type());
        let _ = (h.length_words(), h.packet_len(), h.ssrc());
    }
}

fn rtp(seq: u16, csrcs: u8, extension: bool) -> Vec<u8> {
    let mut p = vec![0x80 | csrcs | if extension { 0x10 } else { 0 }, 0xe0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 3, 0xc0, 0xde, 0xad, 0xbe, 0xef]);
    for i in 0..csrcs {
        p.extend_from_slice(&[0, 0, 0, i]);
    }
    if extension {
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0x7f, 0, 0]);
    }
    p.extend_from_slice(b"fuzzing payload");
    p
}

fn rtcp() -> Vec<u8> {
    vec![0x80, 0xc9, 0, 1, 0xde, 0xad, 0xbe, 0xef]
}

/// Seed inputs per target: `(target, file name, bytes)`.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let plain = [
        ("rtp", rtp(65535, 0, false)),
        ("rtp_csrc_ext", rtp(7, 2, true)),
        ("rtcp", rtcp()),
    ];
    for (i, profile) in Profile::ALL.into_iter().enumerate() {
        for (name, packet) in &plain {
            let is_rtcp = *name == "rtcp";
            let selector = i as u8 | if is_rtcp { 4 } else { 0 };
            let mut protected = packet.clone();
            let mut tx = session(profile);
            // NOTE(unwrap): our own well-formed packets.
            if is_rtcp {
                tx.protect_rtcp_vec(&mut protected).unwrap();
            } else {
                tx.protect_rtp_vec(&mut protected).unwrap();
            }
            let file = format!("{profile:?}_{name}").to_lowercase();
            out.push((
                "srtp_unprotect",
                file.clone(),
                [&[selector][..], &protected].concat(),
            ));
            out.push(("srtp_round_trip", file, [&[selector][..], packet].concat()));
        }
    }
    for (name, packet) in plain {
        out.push(("rtp_header", name.to_string(), packet));
    }
    out.push(("rtp_header", "rtcp_sr_rfc7714".to_string(), {
        let mut p = vec![0x81, 0xc8, 0x00, 0x0d, 0x4d, 0x61, 0x72, 0x73];
        p.extend_from_slice(&[0; 20]);
        p
    }));
    out
}
