#![no_main]

#[path = "../bodies/turn.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::framing(data));
