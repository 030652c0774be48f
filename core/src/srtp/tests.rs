//! RFC vectors byte for byte (`shared/vectors/`) and session round trips.

use super::kdf::SessionKeys;
use super::transform::Transform;
use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Session keys given directly, as RFC 7714 §16/§17 do (no KDF).
fn direct_keys(key: &[u8], salt: &[u8]) -> SessionKeys {
    let mut keys = SessionKeys {
        encryption: [0; 32],
        salt: [0; 14],
        auth: [0; 20],
    };
    keys.encryption[..key.len()].copy_from_slice(key);
    keys.salt[..salt.len()].copy_from_slice(salt);
    keys
}

/// RFC 3711 Appendix B.2: the AES-CM keystream, seen through SRTP encryption of zeros with
/// SSRC 0 and index 0 (so the IV is the salt itself).
#[test]
fn rfc3711_b2_keystream() {
    let keys = direct_keys(
        &hex("2B7E151628AED2A6ABF7158809CF4F3C"),
        &hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
    );
    let t = Transform::new(Profile::Aes128CmHmacSha1_80, &keys, false);
    // 12-byte RTP header (SSRC 0, seq 0), then 0xff01 + 1 blocks of zero payload.
    let blocks = 0xff02;
    let mut buf = vec![0u8; 12 + blocks * 16 + 10];
    buf[0] = 0x80;
    let len = buf.len() - 10;
    t.protect_rtp(&mut buf, 12, len, 0, 0);
    let stream = &buf[12..len];
    let block = |i: usize| &stream[i * 16..i * 16 + 16];
    assert_eq!(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
    assert_eq!(block(1), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
    assert_eq!(block(2), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
    assert_eq!(block(0xfeff), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
    assert_eq!(block(0xff00), hex("362B7C3C6773516318A077D7FC5073AE"));
    assert_eq!(block(0xff01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

const GCM_PLAIN_RTP: &str = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
    20646976 69736120 696e2070 61727465 73207472 6573";
const GCM_PLAIN_RTCP: &str = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930
    4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef";
const KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SALT: &str = "517569642070726f2071756f";

fn gcm_rtp_vector(profile: Profile, key: &str, protected: &str) {
    let t = Transform::new(profile, &direct_keys(&hex(key), &hex(SALT)), false);
    let plain = hex(GCM_PLAIN_RTP);
    let mut buf = plain.clone();
    buf.resize(plain.len() + 16, 0);
    t.protect_rtp(&mut buf, 12, plain.len(), 0x5501a0b2, 0xf17b);
    assert_eq!(buf, hex(protected));
    assert_eq!(
        t.unprotect_rtp(&mut buf, 12, 0x5501a0b2, 0xf17b),
        Ok(plain.len())
    );
    assert_eq!(buf[..plain.len()], plain);
}

/// RFC 7714 §16.1.1.
#[test]
fn rfc7714_16_1_aes_128_gcm_srtp() {
    gcm_rtp_vector(
        Profile::AeadAes128Gcm,
        KEY_128,
        "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f
         42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce",
    );
}

/// RFC 7714 §16.2.1.
#[test]
fn rfc7714_16_2_aes_256_gcm_srtp() {
    gcm_rtp_vector(
        Profile::AeadAes256Gcm,
        KEY_256,
        "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3
         b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13",
    );
}

fn gcm_rtcp_vector(profile: Profile, key: &str, encrypt: bool, protected: &str) {
    let t = Transform::new(profile, &direct_keys(&hex(key), &hex(SALT)), true);
    let plain = hex(GCM_PLAIN_RTCP);
    let mut buf = plain.clone();
    buf.resize(plain.len() + 20, 0);
    assert_eq!(
        t.protect_rtcp(&mut buf, plain.len(), 0x4d617273, 0x5d4, encrypt),
        buf.len()
    );
    assert_eq!(buf, hex(protected));
    assert_eq!(t.rtcp_index(&buf), Some((encrypt, 0x5d4)));
    let len = t.unprotect_rtcp(&mut buf, 0x4d617273, encrypt, 0x5d4);
    assert_eq!(len, Ok(plain.len()));
    assert_eq!(buf[..plain.len()], plain);
}

/// RFC 7714 §17.1: SRTCP AEAD_AES_128_GCM, encrypted.
#[test]
fn rfc7714_17_1_aes_128_gcm_srtcp() {
    gcm_rtcp_vector(
        Profile::AeadAes128Gcm,
        KEY_128,
        true,
        "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1
         730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4",
    );
}

/// RFC 7714 §17.2: SRTCP AEAD_AES_256_GCM, encrypted.
#[test]
fn rfc7714_17_2_aes_256_gcm_srtcp() {
    gcm_rtcp_vector(
        Profile::AeadAes256Gcm,
        KEY_256,
        true,
        "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1
         110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4",
    );
}

/// RFC 7714 §17.3: SRTCP AEAD_AES_128_GCM, authentication only.
#[test]
fn rfc7714_17_3_aes_128_gcm_srtcp_auth_only() {
    gcm_rtcp_vector(
        Profile::AeadAes128Gcm,
        KEY_128,
        false,
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef
         deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4",
    );
}

/// RFC 7714 §17.4: SRTCP AEAD_AES_256_GCM, authentication only.
#[test]
fn rfc7714_17_4_aes_256_gcm_srtcp_auth_only() {
    gcm_rtcp_vector(
        Profile::AeadAes256Gcm,
        KEY_256,
        false,
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef
         deadbeef deadbeef deadbeef deadbeef 91db4afb feee5a97 8fab4393 ed2615fe 000005d4",
    );
}

fn pair(profile: Profile, config: SrtpConfig) -> (SrtpSession, SrtpSession) {
    let key = vec![0x42; profile.master_key_len()];
    let salt = vec![0x24; profile.master_salt_len()];
    (
        SrtpSession::new(profile, &key, &salt, config).unwrap(),
        SrtpSession::new(profile, &key, &salt, config).unwrap(),
    )
}

/// An RTP packet with two CSRCs and a one-byte header extension.
fn rtp(seq: u16, ssrc: u32, payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x92, 0x60];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&1234u32.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 8]);
    p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x22, 1, 2, 3]);
    p.extend((0..payload_len).map(|i| i as u8));
    p
}

fn rtcp(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0xc9, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

#[test]
fn rtp_round_trip_with_wrap_reorder_and_replay() {
    for profile in Profile::ALL {
        let (mut tx, mut rx) = pair(profile, SrtpConfig::default());
        let mut sent = Vec::new();
        for seq in (65530..=65535).chain(0..5) {
            let mut p = rtp(seq, 99, 50);
            tx.protect_rtp_vec(&mut p).unwrap();
            assert_eq!(p.len(), 28 + 50 + profile.srtp_tag_len());
            assert_ne!(p[28..78], rtp(seq, 99, 50)[28..], "payload is encrypted");
            sent.push((seq, p));
        }
        assert_eq!(tx.roc(99), Some(1));
        // Deliver out of order across the wrap: 0 before 65535.
        sent.swap(5, 6);
        for (seq, p) in &sent {
            let mut p = p.clone();
            rx.unprotect_rtp_vec(&mut p).unwrap();
            assert_eq!(p, rtp(*seq, 99, 50), "{profile:?} seq {seq}");
        }
        assert_eq!(rx.roc(99), Some(1));
        let mut again = sent[3].1.clone();
        assert_eq!(rx.unprotect_rtp_vec(&mut again), Err(Error::Replayed));
        let mut fresh = {
            let mut p = rtp(10, 99, 50);
            tx.protect_rtp_vec(&mut p).unwrap();
            p
        };
        *fresh.last_mut().unwrap() ^= 1;
        assert_eq!(
            rx.unprotect_rtp_vec(&mut fresh),
            Err(Error::AuthenticationFailed)
        );
        assert_eq!(rx.stats().auth_failures, 1);
        assert_eq!(rx.stats().replayed, 1);
        // The sender refuses to reuse an index (and its keystream).
        assert_eq!(tx.protect_rtp_vec(&mut rtp(3, 99, 5)), Err(Error::Replayed));
    }
}

#[test]
fn rtcp_round_trip_both_e_flags_and_replay() {
    for profile in Profile::ALL {
        for encrypt in [true, false] {
            let config = SrtpConfig {
                encrypt_rtcp: encrypt,
                ..SrtpConfig::default()
            };
            let (mut tx, mut rx) = pair(profile, config);
            let mut packets = Vec::new();
            for _ in 0..3 {
                let mut p = rtcp(7);
                tx.protect_rtcp_vec(&mut p).unwrap();
                assert_eq!(p.len(), 8 + profile.srtcp_overhead());
                packets.push(p);
            }
            for (i, p) in packets.iter().enumerate().rev() {
                let mut p = p.clone();
                rx.unprotect_rtcp_vec(&mut p)
                    .unwrap_or_else(|e| panic!("{profile:?} E={encrypt} #{i}: {e}"));
                assert_eq!(p, rtcp(7));
            }
            let mut replay = packets[1].clone();
            assert_eq!(rx.unprotect_rtcp_vec(&mut replay), Err(Error::Replayed));
        }
    }
}

#[test]
fn truncated_and_garbage_never_panic() {
    for profile in Profile::ALL {
        let (mut tx, mut rx) = pair(profile, SrtpConfig::default());
        let mut p = rtp(1, 5, 20);
        tx.protect_rtp_vec(&mut p).unwrap();
        let mut c = rtcp(5);
        tx.protect_rtcp_vec(&mut c).unwrap();
        for len in 0..p.len() {
            assert!(rx.unprotect_rtp(&mut p.clone()[..len]).is_err());
        }
        for len in 0..c.len() {
            assert!(rx.unprotect_rtcp(&mut c.clone()[..len]).is_err());
        }
        assert!(rx.stats().malformed > 0);
        // No room for the tag.
        let mut small = rtp(2, 5, 4);
        let len = small.len();
        assert!(matches!(
            tx.protect_rtp(&mut small, len),
            Err(Error::BufferTooSmall { .. })
        ));
    }
}

#[test]
fn ssrc_bound_and_forgeries_do_not_fill_it() {
    let config = SrtpConfig {
        max_ssrcs: 2,
        ..SrtpConfig::default()
    };
    let (mut tx, mut rx) = pair(Profile::Aes128CmHmacSha1_80, config);
    // Forged packets from many SSRCs never create contexts.
    for ssrc in 0..10 {
        let mut p = rtp(1, ssrc, 20);
        p.extend_from_slice(&[0; 10]);
        assert_eq!(rx.unprotect_rtp(&mut p), Err(Error::AuthenticationFailed));
    }
    for ssrc in [1, 2] {
        let mut p = rtp(1, ssrc, 20);
        tx.protect_rtp_vec(&mut p).unwrap();
        rx.unprotect_rtp_vec(&mut p).unwrap();
    }
    let mut p = rtp(1, 3, 20);
    assert_eq!(tx.protect_rtp_vec(&mut p), Err(Error::SsrcLimit));
    p.extend_from_slice(&[0; 10]);
    assert_eq!(rx.unprotect_rtp(&mut p), Err(Error::SsrcLimit));
}

#[test]
fn dtls_keying_material_layout() {
    for profile in Profile::ALL {
        let material: Vec<u8> = (0..profile.keying_material_len() as u8).collect();
        let client =
            SrtpSession::from_dtls(profile, &material, DtlsRole::Client, SrtpConfig::default())
                .unwrap();
        let server =
            SrtpSession::from_dtls(profile, &material, DtlsRole::Server, SrtpConfig::default())
                .unwrap();
        let (mut c_local, mut c_remote) = (client.local, client.remote);
        let (mut s_local, mut s_remote) = (server.local, server.remote);
        let mut p = rtp(1, 1, 10);
        c_local.protect_rtp_vec(&mut p).unwrap();
        s_remote.unprotect_rtp_vec(&mut p).unwrap();
        let mut p = rtp(1, 2, 10);
        s_local.protect_rtp_vec(&mut p).unwrap();
        assert_eq!(
            s_remote.unprotect_rtp(&mut p.clone()),
            Err(Error::AuthenticationFailed)
        );
        c_remote.unprotect_rtp_vec(&mut p).unwrap();
        // Client write key = material[0..key_len], salt after both keys (RFC 5764 §4.2).
        let (k, s) = (profile.master_key_len(), profile.master_salt_len());
        let mut direct = SrtpSession::new(
            profile,
            &material[..k],
            &material[2 * k..2 * k + s],
            SrtpConfig::default(),
        )
        .unwrap();
        let mut p = rtp(1, 1, 10);
        direct.protect_rtp_vec(&mut p).unwrap();
        let mut q = rtp(1, 1, 10);
        SrtpSession::from_dtls(profile, &material, DtlsRole::Client, SrtpConfig::default())
            .unwrap()
            .local
            .protect_rtp_vec(&mut q)
            .unwrap();
        assert_eq!(p, q);
        assert_eq!(
            Profile::from_protection_profile_id(profile.protection_profile_id()),
            Some(profile)
        );
    }
    assert_eq!(
        SrtpSession::from_dtls(
            Profile::AeadAes128Gcm,
            &[0; 10],
            DtlsRole::Client,
            SrtpConfig::default()
        )
        .unwrap_err(),
        Error::BadKeyLength
    );
}
