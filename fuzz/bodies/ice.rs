//! Fuzz body for ICE's SDP syntax, shared by the `ice_candidate` target and by
//! `tests/tests/fuzz_corpus.rs`.
//!
//! `candidate`: the input as one attribute line (`a=candidate:...`, `candidate:...`,
//! `a=ice-ufrag:...`, ...). Parsing must not panic, and whatever parses must write back to a
//! line that parses to the same value (the writer's output is always what the parser takes).

// The fuzz target calls the body, the corpus test too; `pub` for the fuzz target although this
// file is a private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use pigeon::ice::{IceAttribute, parse_candidate, parse_candidate_bytes, write_candidate_string};

pub fn candidate(data: &[u8]) {
    if let Ok(candidate) = parse_candidate_bytes(data) {
        let written = write_candidate_string(&candidate);
        assert_eq!(
            parse_candidate(&written).as_ref(),
            Ok(&candidate),
            "{written}"
        );
        // Writing is deterministic: the rewritten candidate writes the same line.
        assert_eq!(write_candidate_string(&candidate), written);
    }
    if let Ok(line) = core::str::from_utf8(data)
        && let Ok(attribute) = IceAttribute::parse(line)
    {
        let written = attribute.to_sdp_line();
        assert_eq!(
            IceAttribute::parse(&written).as_ref(),
            Ok(&attribute),
            "{written}"
        );
    }
}
