//! Fuzz target `scan`: see `keyward::fuzzing::scan` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keyward::fuzzing::scan(data));
