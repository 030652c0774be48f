#![no_main]

#[path = "../bodies/srtp.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::round_trip(data));
