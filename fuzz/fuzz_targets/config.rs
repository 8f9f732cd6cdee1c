//! Fuzz target `config`: see `keyward::fuzzing::config` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keyward::fuzzing::config(data));
