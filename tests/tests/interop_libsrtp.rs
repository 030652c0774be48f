//! SRTP/SRTCP interop with libsrtp 2 (Debian `libsrtp2-dev`) through `tests/c/srtp_harness.c`,
//! which this test compiles with `cc $(pkg-config --cflags --libs libsrtp2)`. For every
//! profile: pigeon protects and libsrtp unprotects, and the reverse, for RTP (CSRCs, header
//! extensions, a sequence wrap across 65535 with reordering around it) and RTCP; a replayed
//! packet is refused by both. Fails when libsrtp is missing.
#![cfg(feature = "interop")]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use pigeon::srtp::{Error, Profile, SrtpConfig, SrtpSession};
use pigeon_tests::require_tool;

/// The harness binary, compiled once per test process (the tests run in parallel).
fn harness() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(compile_harness).clone()
}

fn compile_harness() -> PathBuf {
    require_tool("pkg-config", "pkg-config");
    require_tool("cc", "gcc");
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "libsrtp2"])
        .output()
        .expect("run pkg-config");
    assert!(
        flags.status.success(),
        "libsrtp2 is not installed: run tests/run, or `apt-get install libsrtp2-dev pkg-config`"
    );
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("c/srtp_harness.c");
    let dir = std::env::temp_dir().join(format!("pigeon-srtp-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let binary = dir.join("srtp_harness");
    let flags = String::from_utf8(flags.stdout).expect("utf-8 flags");
    let status = Command::new("cc")
        .arg("-O2")
        .arg(&source)
        .arg("-o")
        .arg(&binary)
        .args(flags.split_whitespace())
        .status()
        .expect("run cc");
    assert!(status.success(), "compiling {} failed", source.display());
    binary
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex from the harness"))
        .collect()
}

fn profile_name(profile: Profile) -> &'static str {
    match profile {
        Profile::Aes128CmHmacSha1_80 => "cm80",
        Profile::Aes128CmHmacSha1_32 => "cm32",
        Profile::AeadAes128Gcm => "gcm128",
        Profile::AeadAes256Gcm => "gcm256",
        other => panic!("no libsrtp name for {other:?}"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Rtp,
    Rtcp,
}

/// Runs the harness over `packets`; one `Ok(bytes)` or `Err(libsrtp status)` per packet.
fn run_harness(
    binary: &PathBuf,
    profile: Profile,
    keysalt: &[u8],
    op: &str,
    packets: &[(Kind, Vec<u8>)],
) -> Vec<Result<Vec<u8>, i32>> {
    let mut child = Command::new(binary)
        .args([profile_name(profile), &hex(keysalt), op])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the harness");
    let mut input = String::new();
    for (kind, packet) in packets {
        let tag = if *kind == Kind::Rtp { "rtp" } else { "rtcp" };
        input.push_str(&format!("{tag} {}\n", hex(packet)));
    }
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("harness output");
    writer
        .join()
        .expect("writer thread")
        .expect("write to harness");
    assert!(
        output.status.success(),
        "harness exited with {}",
        output.status
    );
    let lines: Vec<_> = String::from_utf8(output.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|line| match line.split_once(' ') {
            Some(("ok", bytes)) => Ok(unhex(bytes)),
            Some(("err", code)) => Err(code.parse().expect("status code")),
            _ => panic!("harness said {line:?}"),
        })
        .collect();
    assert_eq!(lines.len(), packets.len(), "one answer per packet");
    lines
}

/// RTP with `csrcs` CSRCs and, when `extension`, a two-word RFC 8285 one-byte extension.
fn rtp(seq: u16, csrcs: u8, extension: bool, payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x80 | csrcs | if extension { 0x10 } else { 0 }, 0x6f];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    p.extend_from_slice(&0xcafe_f00du32.to_be_bytes());
    for i in 0..u32::from(csrcs) {
        p.extend_from_slice(&(0x1000 + i).to_be_bytes());
    }
    if extension {
        p.extend_from_slice(&[0xbe, 0xde, 0, 2, 0x10, 0xff, 0x22, 1, 2, 3, 0, 0]);
    }
    p.extend((0..payload_len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seq as u8)));
    p
}

/// A receiver report followed by an SDES item (a compound packet), SSRC 0xcafef00d.
fn rtcp(n: u8) -> Vec<u8> {
    let mut p = vec![0x80, 0xc9, 0, 1, 0xca, 0xfe, 0xf0, 0x0d];
    p.extend_from_slice(&[0x81, 0xca, 0, 2, 0xca, 0xfe, 0xf0, 0x0d, 1, 2, b'p', n]);
    p
}

/// The plaintexts in delivery order: a sequence wrap with 65535 and 0 swapped, packets with
/// CSRCs and extensions, RTCP interleaved.
fn plaintexts() -> Vec<(Kind, Vec<u8>)> {
    let mut seqs: Vec<u16> = (65500..=65535).chain(0..40).collect();
    let wrap = seqs.iter().position(|&s| s == 0).expect("0 is in the list");
    seqs.swap(wrap - 1, wrap);
    let mut out = Vec::new();
    for (i, seq) in seqs.into_iter().enumerate() {
        let payload = if i % 10 == 3 { 1200 } else { 20 + i * 3 };
        out.push((Kind::Rtp, rtp(seq, (i % 4) as u8, i % 3 != 0, payload)));
        if i % 25 == 0 {
            out.push((Kind::Rtcp, rtcp(i as u8)));
        }
    }
    out
}

fn keysalt(profile: Profile) -> (Vec<u8>, Vec<u8>) {
    let key = (0..profile.master_key_len() as u8)
        .map(|b| b ^ 0x5a)
        .collect();
    let salt = (0..profile.master_salt_len() as u8)
        .map(|b| b.wrapping_mul(3))
        .collect();
    (key, salt)
}

#[test]
fn pigeon_protects_libsrtp_unprotects() {
    let binary = harness();
    for profile in Profile::ALL {
        let (key, salt) = keysalt(profile);
        let mut tx = SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap();
        let plain = plaintexts();
        let mut protected: Vec<(Kind, Vec<u8>)> = plain
            .iter()
            .map(|(kind, p)| {
                let mut p = p.clone();
                match kind {
                    Kind::Rtp => tx.protect_rtp_vec(&mut p).unwrap(),
                    Kind::Rtcp => tx.protect_rtcp_vec(&mut p).unwrap(),
                }
                (*kind, p)
            })
            .collect();
        // Replays of an RTP packet and of an RTCP packet, and a forged tag.
        protected.push(protected[5].clone());
        protected.push(protected[0].clone());
        assert_eq!(protected[0].0, Kind::Rtp);
        assert_eq!(protected[1].0, Kind::Rtcp);
        protected.push(protected[1].clone());
        let mut forged = protected[7].clone();
        forged.1[20] ^= 0x80;
        let keysalt = [key.clone(), salt.clone()].concat();
        let results = run_harness(&binary, profile, &keysalt, "unprotect", &protected);
        let n = plain.len();
        for (i, (result, (kind, p))) in results.iter().zip(&plain).enumerate() {
            assert_eq!(result.as_ref(), Ok(p), "{profile:?} {kind:?} #{i}");
        }
        for (i, result) in results[n..].iter().enumerate() {
            assert!(result.is_err(), "{profile:?}: libsrtp accepted replay #{i}");
        }
        // libsrtp checks replay before authentication; a forged fresh packet is refused too.
        let results = run_harness(&binary, profile, &keysalt, "unprotect", &[forged]);
        assert!(
            results[0].is_err(),
            "{profile:?}: libsrtp accepted a forgery"
        );
    }
}

#[test]
fn libsrtp_protects_pigeon_unprotects() {
    let binary = harness();
    for profile in Profile::ALL {
        let (key, salt) = keysalt(profile);
        let keysalt = [key.clone(), salt.clone()].concat();
        let plain = plaintexts();
        let protected = run_harness(&binary, profile, &keysalt, "protect", &plain);
        let mut ours = SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap();
        let mut rx = SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap();
        for (i, ((kind, p), theirs)) in plain.iter().zip(&protected).enumerate() {
            let theirs = theirs
                .as_ref()
                .unwrap_or_else(|e| panic!("libsrtp protect: {e}"));
            let mut mine = p.clone();
            match kind {
                Kind::Rtp => {
                    // Same key, same index: the same bytes (SRTCP differs: libsrtp's first
                    // SRTCP index is 1, RFC 3711 §3.4 and pigeon start at 0).
                    ours.protect_rtp_vec(&mut mine).unwrap();
                    assert_eq!(&mine, theirs, "{profile:?} RTP #{i} differs from libsrtp");
                    let mut got = theirs.clone();
                    rx.unprotect_rtp_vec(&mut got).unwrap();
                    assert_eq!(&got, p, "{profile:?} RTP #{i}");
                }
                Kind::Rtcp => {
                    let mut got = theirs.clone();
                    rx.unprotect_rtcp_vec(&mut got)
                        .unwrap_or_else(|e| panic!("{profile:?} RTCP #{i}: {e}"));
                    assert_eq!(&got, p, "{profile:?} RTCP #{i}");
                }
            }
        }
        assert_eq!(rx.roc(0xcafe_f00d), Some(1));
        let rtp_replay = protected[5].clone().unwrap();
        assert_eq!(
            rx.unprotect_rtp_vec(&mut rtp_replay.clone()),
            Err(Error::Replayed)
        );
        let rtcp_replay = protected[1].clone().unwrap();
        assert_eq!(plain[1].0, Kind::Rtcp);
        assert_eq!(
            rx.unprotect_rtcp_vec(&mut rtcp_replay.clone()),
            Err(Error::Replayed)
        );
        assert_eq!(rx.stats().replayed, 2);
    }
}
