#![no_main]

#[path = "../bodies/datachannel.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::dcep_parse(data));
