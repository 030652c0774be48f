//! Protect/unprotect throughput of 1,200-byte RTP payloads, packets per second, for pigeon,
//! libsrtp 2 and webrtc-srtp, each measured the same way: protect copies a template into the
//! buffer and protects it; unprotect is timed over batches protected beforehand (a fresh index
//! per packet, so the replay check passes). Best of three runs each.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use pigeon::srtp::{Profile, SrtpConfig, SrtpSession};

const PAYLOAD: usize = 1200;
const BATCH: usize = 1024;
const ROUNDS: usize = 3;

fn packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x60];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]);
    p.resize(12 + PAYLOAD, 0xab);
    p
}

fn keysalt(profile: Profile) -> (Vec<u8>, Vec<u8>) {
    let key = (0..profile.master_key_len() as u8).collect();
    let salt = (0..profile.master_salt_len() as u8).collect();
    (key, salt)
}

fn pigeon_protect(profile: Profile, count: usize) -> f64 {
    let (key, salt) = keysalt(profile);
    let mut tx = SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap();
    let template = packet(0);
    let mut buf = vec![0u8; template.len() + profile.srtp_overhead()];
    let start = Instant::now();
    for i in 0..count {
        buf[..template.len()].copy_from_slice(&template);
        buf[2..4].copy_from_slice(&(i as u16).to_be_bytes());
        tx.protect_rtp(&mut buf, template.len()).unwrap();
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn pigeon_unprotect(profile: Profile, count: usize) -> f64 {
    let (key, salt) = keysalt(profile);
    let mut tx = SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap();
    let mut rx = SrtpSession::new(profile, &key, &salt, SrtpConfig::default()).unwrap();
    let mut batch: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(1300)).collect();
    let (mut done, mut seq, mut elapsed) = (0, 0u16, 0.0);
    while done < count {
        for p in &mut batch {
            p.clear();
            p.extend_from_slice(&packet(seq));
            seq = seq.wrapping_add(1);
            tx.protect_rtp_vec(p).unwrap();
        }
        let start = Instant::now();
        for p in &mut batch {
            rx.unprotect_rtp(p).unwrap();
        }
        elapsed += start.elapsed().as_secs_f64();
        done += BATCH;
    }
    done as f64 / elapsed
}

fn webrtc_profile(profile: Profile) -> Option<webrtc_srtp::protection_profile::ProtectionProfile> {
    use webrtc_srtp::protection_profile::ProtectionProfile as P;
    match profile {
        Profile::Aes128CmHmacSha1_80 => Some(P::Aes128CmHmacSha1_80),
        Profile::AeadAes128Gcm => Some(P::AeadAes128Gcm),
        _ => None,
    }
}

fn webrtc_context(profile: Profile) -> Option<webrtc_srtp::context::Context> {
    let (key, salt) = keysalt(profile);
    let p = webrtc_profile(profile)?;
    Some(webrtc_srtp::context::Context::new(&key, &salt, p, None, None).unwrap())
}

fn webrtc_protect(profile: Profile, count: usize) -> Option<f64> {
    let mut tx = webrtc_context(profile)?;
    let mut buf = packet(0);
    let start = Instant::now();
    for i in 0..count {
        buf[2..4].copy_from_slice(&(i as u16).to_be_bytes());
        std::hint::black_box(tx.encrypt_rtp(&buf).unwrap());
    }
    Some(count as f64 / start.elapsed().as_secs_f64())
}

fn webrtc_unprotect(profile: Profile, count: usize) -> Option<f64> {
    let mut tx = webrtc_context(profile)?;
    let mut rx = webrtc_context(profile)?;
    let (mut done, mut seq, mut elapsed) = (0, 0u16, 0.0);
    while done < count {
        let batch: Vec<_> = (0..BATCH)
            .map(|_| {
                let p = tx.encrypt_rtp(&packet(seq)).unwrap();
                seq = seq.wrapping_add(1);
                p
            })
            .collect();
        let start = Instant::now();
        for p in &batch {
            std::hint::black_box(rx.decrypt_rtp(p).unwrap());
        }
        elapsed += start.elapsed().as_secs_f64();
        done += BATCH;
    }
    Some(done as f64 / elapsed)
}

fn libsrtp_name(profile: Profile) -> &'static str {
    match profile {
        Profile::Aes128CmHmacSha1_80 => "cm80",
        Profile::Aes128CmHmacSha1_32 => "cm32",
        Profile::AeadAes128Gcm => "gcm128",
        _ => "gcm256",
    }
}

fn build_harness(root: &Path) -> PathBuf {
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "libsrtp2"])
        .output()
        .expect("pkg-config (apt-get install pkg-config libsrtp2-dev)");
    assert!(
        flags.status.success(),
        "libsrtp2 missing: apt-get install libsrtp2-dev"
    );
    let out = std::env::temp_dir().join(format!("compare-srtp-harness-{}", std::process::id()));
    let status = Command::new("cc")
        .arg("-O2")
        .arg(root.join("tests/c/srtp_harness.c"))
        .arg("-o")
        .arg(&out)
        .args(String::from_utf8(flags.stdout).unwrap().split_whitespace())
        .status()
        .expect("cc");
    assert!(status.success(), "compiling the libsrtp harness failed");
    out
}

fn libsrtp(harness: &Path, profile: Profile, op: &str, count: usize) -> f64 {
    let (key, salt) = keysalt(profile);
    let keysalt: String = key
        .iter()
        .chain(&salt)
        .map(|b| format!("{b:02x}"))
        .collect();
    let out = Command::new(harness)
        .args(["bench", libsrtp_name(profile), &keysalt, op])
        .arg(count.to_string())
        .arg(PAYLOAD.to_string())
        .output()
        .expect("run the harness");
    assert!(out.status.success(), "harness bench failed");
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().last().unwrap().parse().unwrap()
}

fn best(mut f: impl FnMut() -> f64) -> f64 {
    (0..ROUNDS).map(|_| f()).fold(0.0, f64::max)
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(200_000, |n| n.parse().unwrap());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let harness = build_harness(&root);
    println!("{count} packets of {PAYLOAD}-byte payload per measurement, best of {ROUNDS}");
    println!(
        "| profile | op | pigeon pkt/s | libsrtp pkt/s | webrtc-srtp pkt/s | pigeon/libsrtp | pigeon/webrtc-srtp |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for profile in Profile::ALL {
        for op in ["protect", "unprotect"] {
            let ours = if op == "protect" {
                best(|| pigeon_protect(profile, count))
            } else {
                best(|| pigeon_unprotect(profile, count))
            };
            let theirs = best(|| libsrtp(&harness, profile, op, count));
            let webrtc = if webrtc_profile(profile).is_some() {
                Some(best(|| {
                    if op == "protect" {
                        webrtc_protect(profile, count).unwrap()
                    } else {
                        webrtc_unprotect(profile, count).unwrap()
                    }
                }))
            } else {
                None
            };
            let k = |x: f64| format!("{:.0}k", x / 1000.0);
            println!(
                "| {profile:?} | {op} | {} | {} | {} | {:.2} | {} |",
                k(ours),
                k(theirs),
                webrtc.map_or("n/a".into(), k),
                ours / theirs,
                webrtc.map_or("n/a".into(), |w| format!("{:.2}", ours / w)),
            );
        }
    }
    let _ = std::fs::remove_file(harness);
}
