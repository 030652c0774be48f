#![no_main]

#[path = "../bodies/stun.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::decode(data));
