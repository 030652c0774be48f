//! ICE (RFC 8445, with the SDP syntax of RFC 8839): finding a working path between two peers
//! behind NATs.
//!
//! So far this module holds the candidate layer only: [`Candidate`]s with their priorities
//! (RFC 8445 §5.1.2), foundations (§5.1.1.3) and pair priorities (§6.1.2.3), and the
//! `a=candidate`, `a=end-of-candidates`, `a=ice-ufrag` and `a=ice-pwd` lines ([`IceAttribute`]).
//! There is no agent yet; see `docs/ice.md`.
pub mod candidate;
pub mod sdp;

pub use candidate::{
    Candidate, CandidateAddress, CandidateKind, DEFAULT_LOCAL_PREFERENCE, Extension, Foundation,
    MAX_COMPONENT, MAX_FOUNDATION_LEN, MAX_PRIORITY, Transport, candidate_priority, is_ice_char,
    pair_priority,
};
pub use sdp::{
    IceAttribute, MAX_EXTENSIONS, MAX_LINE_LEN, Password, SdpError, Ufrag, parse_candidate,
    parse_candidate_bytes, write_candidate_string,
};
