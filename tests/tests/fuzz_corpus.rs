//! Runs every fuzz target's body over its seed corpus (`fuzz/corpus/TARGET/`), so that a plain
//! `cargo test` exercises the fuzzers' code paths. A target with an empty or missing corpus fails.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/bodies/dht.rs"]
mod dht;
#[path = "../../fuzz/bodies/dtls.rs"]
mod dtls;
#[path = "../../fuzz/bodies/ice.rs"]
mod ice;
#[path = "../../fuzz/bodies/srtp.rs"]
mod srtp;
#[path = "../../fuzz/bodies/stun.rs"]
mod stun;
#[path = "../../fuzz/bodies/stun_server.rs"]
mod stun_server;
#[path = "../../fuzz/bodies/turn.rs"]
mod turn;

/// Every file of `fuzz/corpus/<target>/`, read into memory; panics if there are none.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()))
        .map(|entry| entry.expect("readable corpus entry").path())
        .collect();
    files.sort();
    let inputs: Vec<_> = files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("readable corpus file");
            (path, bytes)
        })
        .collect();
    assert!(!inputs.is_empty(), "corpus {} is empty", dir.display());
    inputs
}

/// `bytes` is stored at `path` byte for byte, so the seeds follow the code that builds them;
/// with `PIGEON_WRITE_SEEDS=1` the file is (re)written first.
fn assert_seed_stored(path: &Path, bytes: &[u8]) {
    if std::env::var_os("PIGEON_WRITE_SEEDS").is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("writable corpus");
        }
        std::fs::write(path, bytes).expect("writable corpus");
    }
    let stored = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e} (set PIGEON_WRITE_SEEDS=1)", path.display()));
    assert_eq!(stored, bytes, "{} is stale", path.display());
}

/// Runs `body` over every input of `target`'s corpus.
fn run_corpus(target: &str, body: impl Fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        eprintln!("{}", path.display());
        body(&bytes);
    }
}

#[test]
fn stun_decode() {
    run_corpus("stun_decode", stun::decode);
}

#[test]
fn stun_round_trip() {
    run_corpus("stun_round_trip", stun::round_trip);
}

/// The messages `stun::seeds()` builds are in both STUN corpora byte for byte, so the seeds
/// follow the codec. `PIGEON_WRITE_SEEDS=1 cargo test -p pigeon-tests --test fuzz_corpus`
/// (re)writes them first.
#[test]
fn stun_seeds_are_in_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for target in ["stun_decode", "stun_round_trip"] {
        for (name, bytes) in stun::seeds() {
            let path = root.join(target).join(name);
            assert_seed_stored(&path, &bytes);
        }
    }
}

#[test]
fn stun_server() {
    run_corpus("stun_server", stun_server::server);
}

/// `stun_server::seeds()` are in `fuzz/corpus/stun_server/` byte for byte;
/// `PIGEON_WRITE_SEEDS=1` (re)writes them first.
#[test]
fn stun_server_seeds_are_in_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/stun_server");
    for (name, bytes) in stun_server::seeds() {
        let path = dir.join(name);
        assert_seed_stored(&path, &bytes);
    }
}

#[test]
fn turn_server() {
    run_corpus("turn_server", turn::server);
}

#[test]
fn turn_framing() {
    run_corpus("turn_framing", turn::framing);
}

/// `turn::server_seeds()` and `turn::framing_seeds()` are in `fuzz/corpus/turn_*/` byte for
/// byte; `PIGEON_WRITE_SEEDS=1` (re)writes them first.
#[test]
fn turn_seeds_are_in_corpus() {
    let corpora = [
        ("turn_server", turn::server_seeds()),
        ("turn_framing", turn::framing_seeds()),
    ];
    for (target, seeds) in corpora {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/corpus")
            .join(target);
        for (name, bytes) in seeds {
            let path = dir.join(name);
            assert_seed_stored(&path, &bytes);
        }
    }
}

#[test]
fn srtp_unprotect() {
    run_corpus("srtp_unprotect", srtp::unprotect);
}

#[test]
fn srtp_round_trip() {
    run_corpus("srtp_round_trip", srtp::round_trip);
}

#[test]
fn rtp_header() {
    run_corpus("rtp_header", srtp::headers);
}

/// `srtp::seeds()` are in their corpora byte for byte; `PIGEON_WRITE_SEEDS=1` (re)writes them.
#[test]
fn srtp_seeds_are_in_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (target, name, bytes) in srtp::seeds() {
        let path = root.join(target).join(name);
        assert_seed_stored(&path, &bytes);
    }
}

#[test]
fn dht_bencode() {
    run_corpus("dht_bencode", dht::bencode);
}

#[test]
fn dht_krpc() {
    run_corpus("dht_krpc", dht::krpc);
}

#[test]
fn dht_node() {
    run_corpus("dht_node", dht::node);
}

#[test]
fn dtls_record() {
    run_corpus("dtls_record", dtls::record);
}

#[test]
fn dtls_handshake() {
    run_corpus("dtls_handshake", dtls::handshake);
}

#[test]
fn dtls_server() {
    run_corpus("dtls_server", dtls::server);
}

#[test]
fn dtls_client() {
    run_corpus("dtls_client", dtls::client);
}

/// `dtls::seeds()` (a real in-memory handshake) are in `fuzz/corpus/dtls_*/` byte for byte, and
/// the recorded client (server) side still takes the fuzzed server (client) to Connected;
/// `PIGEON_WRITE_SEEDS=1` (re)writes them first.
#[test]
fn dtls_seeds_are_in_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (target, name, bytes) in dtls::seeds() {
        let path = root.join(target).join(name);
        assert_seed_stored(&path, &bytes);
        if target == "dtls_server" || target == "dtls_client" {
            assert!(
                dtls::seed_connects(target, &bytes),
                "{} no longer connects",
                path.display()
            );
        }
    }
}

#[test]
fn ice_candidate() {
    run_corpus("ice_candidate", ice::candidate);
}

#[path = "../../fuzz/bodies/sctp.rs"]
mod sctp;

#[test]
fn sctp_packet() {
    run_corpus("sctp_packet", sctp::packet);
}

/// The hand-built SCTP seeds (CRC32c from an independent implementation) are real packets:
/// all but `bad_checksum` decode with their checksum verified, so the fuzzer starts deep.
#[test]
fn sctp_seeds_decode() {
    for (path, bytes) in corpus("sctp_packet") {
        let decoded = pigeon::sctp::Packet::decode(&bytes);
        let bad = path.ends_with("bad_checksum");
        assert_eq!(decoded.is_err(), bad, "{}: {decoded:?}", path.display());
    }
}

#[path = "../../fuzz/bodies/ice_agent.rs"]
mod ice_agent;

#[test]
fn ice_agent() {
    run_corpus("ice_agent", ice_agent::agent);
}

/// `ice_agent::seeds()` (checks authenticated with the seeded agent's credentials) are in
/// `fuzz/corpus/ice_agent/` byte for byte, and `connect` still takes the agent to a selected
/// pair; `PIGEON_WRITE_SEEDS=1` (re)writes them first.
#[test]
fn ice_agent_seeds_are_in_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ice_agent");
    for (name, bytes) in ice_agent::seeds() {
        assert_seed_stored(&dir.join(name), &bytes);
        if name == "connect" {
            assert!(
                ice_agent::seed_connects(&bytes),
                "the connect seed no longer connects"
            );
        }
    }
}

#[path = "../../fuzz/bodies/sctp_association.rs"]
mod sctp_association;

#[test]
fn sctp_association() {
    run_corpus("sctp_association", sctp_association::association);
}

/// `sctp_association::seeds()` are in `fuzz/corpus/sctp_association/` byte for byte;
/// `PIGEON_WRITE_SEEDS=1` (re)writes them.
#[test]
fn sctp_association_seeds_are_in_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sctp_association");
    for (name, bytes) in sctp_association::seeds() {
        assert_seed_stored(&dir.join(name), &bytes);
    }
}

#[path = "../../fuzz/bodies/datachannel.rs"]
mod datachannel;

#[test]
fn dcep_parse() {
    run_corpus("dcep_parse", datachannel::dcep_parse);
}

/// `datachannel::seeds()` are in `fuzz/corpus/dcep_parse/` byte for byte;
/// `PIGEON_WRITE_SEEDS=1` (re)writes them.
#[test]
fn dcep_parse_seeds_are_in_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/dcep_parse");
    for (name, bytes) in datachannel::seeds() {
        assert_seed_stored(&dir.join(name), &bytes);
    }
}
