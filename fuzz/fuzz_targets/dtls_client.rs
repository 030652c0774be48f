#![no_main]

#[path = "../bodies/dtls.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::client(data));
