//! Fuzz target `index`: see `keyward::fuzzing::index` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keyward::fuzzing::index(data));
