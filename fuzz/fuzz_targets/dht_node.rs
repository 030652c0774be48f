#![no_main]

#[path = "../bodies/dht.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::node(data));
