#![no_main]

#[path = "../bodies/ice.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::candidate(data));
