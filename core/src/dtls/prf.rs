//! The TLS 1.2 pseudo-random function (RFC 5246 §5) and what DTLS 1.2 derives with it: the
//! master secret (RFC 5246 §8.1), the extended master secret (RFC 7627 §4), the Finished
//! verify_data (RFC 5246 §7.4.9) and keying-material export (RFC 5705 §4).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256, Sha384};

/// Length of the master secret (RFC 5246 §8.1).
pub const MASTER_SECRET_LEN: usize = 48;

/// Length of Finished.verify_data for every cipher suite pigeon offers (RFC 5246 §7.4.9).
pub const VERIFY_DATA_LEN: usize = 12;

/// The hash a cipher suite names for its PRF and handshake hash (RFC 5246 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrfHash {
    /// P_SHA256.
    Sha256,
    /// P_SHA384.
    Sha384,
}

impl PrfHash {
    /// Length of one digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            PrfHash::Sha256 => 32,
            PrfHash::Sha384 => 48,
        }
    }

    /// The plain hash of `data` (the handshake hash of RFC 5246 §7.4.9 and RFC 7627 §3).
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            PrfHash::Sha256 => Sha256::digest(data).to_vec(),
            PrfHash::Sha384 => Sha384::digest(data).to_vec(),
        }
    }
}

/// RFC 5246 §5: P_hash(secret, seed) is HMAC(secret, A(1) + seed), then
/// HMAC(secret, A(2) + seed) and so on, with A(0) = seed and A(i) = HMAC(secret, A(i-1)).
/// `seed` comes in parts so the label and the randoms need not be copied together.
fn p_hash<M: Mac + KeyInit + Clone>(secret: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    // NOTE(unwrap): HMAC accepts keys of any length.
    let keyed = <M as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    let mut a = {
        let mut mac = keyed.clone();
        for part in seed {
            mac.update(part);
        }
        mac.finalize().into_bytes()
    };
    for chunk in out.chunks_mut(a.len()) {
        let mut mac = keyed.clone();
        mac.update(&a);
        for part in seed {
            mac.update(part);
        }
        let block = mac.finalize().into_bytes();
        chunk.copy_from_slice(&block[..chunk.len()]);
        let mut next = keyed.clone();
        next.update(&a);
        a = next.finalize().into_bytes();
    }
}

/// RFC 5246 §5: PRF(secret, label, seed) = `P_<hash>(secret, label + seed)`, filling `out`.
pub fn prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len() + 1);
    parts.push(label);
    parts.extend_from_slice(seed);
    match hash {
        PrfHash::Sha256 => p_hash::<Hmac<Sha256>>(secret, &parts, out),
        PrfHash::Sha384 => p_hash::<Hmac<Sha384>>(secret, &parts, out),
    }
}

/// RFC 5246 §8.1: master_secret = PRF(pre_master_secret, "master secret",
/// ClientHello.random + ServerHello.random)[0..47].
pub fn master_secret(
    hash: PrfHash,
    pre_master_secret: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> [u8; MASTER_SECRET_LEN] {
    let mut out = [0u8; MASTER_SECRET_LEN];
    prf(
        hash,
        pre_master_secret,
        b"master secret",
        &[client_random, server_random],
        &mut out,
    );
    out
}

/// RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master secret",
/// session_hash)[0..47], where session_hash is the hash of the handshake messages up to and
/// including ClientKeyExchange (RFC 7627 §3).
pub fn extended_master_secret(
    hash: PrfHash,
    pre_master_secret: &[u8],
    session_hash: &[u8],
) -> [u8; MASTER_SECRET_LEN] {
    let mut out = [0u8; MASTER_SECRET_LEN];
    prf(
        hash,
        pre_master_secret,
        b"extended master secret",
        &[session_hash],
        &mut out,
    );
    out
}

/// Which side computes a Finished message (RFC 5246 §7.4.9 labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishedLabel {
    /// "client finished".
    Client,
    /// "server finished".
    Server,
}

/// RFC 5246 §7.4.9: verify_data = PRF(master_secret, finished_label,
/// Hash(handshake_messages))[0..11].
pub fn verify_data(
    hash: PrfHash,
    master_secret: &[u8],
    label: FinishedLabel,
    handshake_hash: &[u8],
) -> [u8; VERIFY_DATA_LEN] {
    let label: &[u8] = match label {
        FinishedLabel::Client => b"client finished",
        FinishedLabel::Server => b"server finished",
    };
    let mut out = [0u8; VERIFY_DATA_LEN];
    prf(hash, master_secret, label, &[handshake_hash], &mut out);
    out
}

/// RFC 5705 §4: PRF(master_secret, label, client_random + server_random [+ context_length +
/// context]) filling `out`. `context: None` is the no-context form that DTLS-SRTP uses
/// (RFC 5764 §4.2); `Some(..)` longer than 65535 bytes is cut at that length.
pub fn export_keying_material(
    hash: PrfHash,
    master_secret: &[u8],
    label: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    context: Option<&[u8]>,
    out: &mut [u8],
) {
    match context {
        None => prf(
            hash,
            master_secret,
            label,
            &[client_random, server_random],
            out,
        ),
        Some(context) => {
            let context = &context[..context.len().min(usize::from(u16::MAX))];
            // NOTE(unwrap): cut to u16::MAX just above.
            let len = u16::try_from(context.len())
                .expect("cut to u16")
                .to_be_bytes();
            prf(
                hash,
                master_secret,
                label,
                &[client_random, server_random, &len, context],
                out,
            );
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // The public "TLS 1.2 PRF test vectors" (label "test label"); the same bytes come out of
    // `openssl kdf -keylen 100 -kdfopt digest:SHA256 -kdfopt hexsecret:.. -kdfopt hexseed:..
    // TLS1-PRF` with the seed being the label followed by the seed below.
    #[test]
    fn prf_sha256_vector() {
        let mut out = [0u8; 100];
        prf(
            PrfHash::Sha256,
            &hex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &[&hex("a0ba9f936cda311827a6f796ffd5198c")],
            &mut out,
        );
        let expected = hex(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66",
        );
        assert_eq!(out.to_vec(), expected);
    }

    #[test]
    fn prf_sha384_vector() {
        let mut out = [0u8; 148];
        prf(
            PrfHash::Sha384,
            &hex("b80b733d6ceefcdc71566ea48e5567df"),
            b"test label",
            &[&hex("cd665cf6a8447dd6ff8b27555edb7465")],
            &mut out,
        );
        let expected = hex(
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f",
        );
        assert_eq!(out.to_vec(), expected);
    }

    #[test]
    fn prf_splits_seed_parts_transparently() {
        let mut a = [0u8; 77];
        let mut b = [0u8; 77];
        prf(PrfHash::Sha256, b"k", b"lab", &[b"one", b"two"], &mut a);
        prf(PrfHash::Sha256, b"k", b"labone", &[b"two"], &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn master_secrets_follow_their_labels() {
        let pms = [7u8; 32];
        let cr = [1u8; 32];
        let sr = [2u8; 32];
        let mut expected = [0u8; 48];
        prf(
            PrfHash::Sha256,
            &pms,
            b"master secret",
            &[&cr, &sr],
            &mut expected,
        );
        assert_eq!(master_secret(PrfHash::Sha256, &pms, &cr, &sr), expected);
        let session_hash = PrfHash::Sha256.digest(b"handshake");
        prf(
            PrfHash::Sha256,
            &pms,
            b"extended master secret",
            &[&session_hash],
            &mut expected,
        );
        assert_eq!(
            extended_master_secret(PrfHash::Sha256, &pms, &session_hash),
            expected
        );
    }

    #[test]
    fn exporter_context_adds_length_prefix() {
        let ms = [3u8; 48];
        let cr = [1u8; 32];
        let sr = [2u8; 32];
        let mut with = [0u8; 20];
        let mut manual = [0u8; 20];
        export_keying_material(
            PrfHash::Sha256,
            &ms,
            b"L",
            &cr,
            &sr,
            Some(b"ctx"),
            &mut with,
        );
        prf(
            PrfHash::Sha256,
            &ms,
            b"L",
            &[&cr, &sr, &[0, 3], b"ctx"],
            &mut manual,
        );
        assert_eq!(with, manual);
        let mut without = [0u8; 20];
        export_keying_material(PrfHash::Sha256, &ms, b"L", &cr, &sr, None, &mut without);
        assert_ne!(with, without);
    }
}
