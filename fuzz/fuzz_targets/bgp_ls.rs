//! Fuzz target: see `checks::bgp_ls`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::bgp_ls(data));
