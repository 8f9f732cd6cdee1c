//! Fuzz target `pre_receive`: see `keyward::fuzzing::pre_receive` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keyward::fuzzing::pre_receive(data));
