#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tillpoint_fuzz_targets::money_tax(data));
