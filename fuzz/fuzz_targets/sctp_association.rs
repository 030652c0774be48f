#![no_main]

#[path = "../bodies/sctp_association.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::association(data));
