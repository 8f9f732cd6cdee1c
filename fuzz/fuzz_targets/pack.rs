//! Fuzz target `pack`: see `keyward::fuzzing::pack` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keyward::fuzzing::pack(data));
