//! Fuzz target `cli`: see `keyward::fuzzing::cli` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keyward::fuzzing::cli(data));
