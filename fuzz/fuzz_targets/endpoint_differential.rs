//! The firmware's C parser (under AddressSanitizer) and the Rust parser agree on every input:
//! verdict, error kind and offset, host kind, address, host text and port.
//!
//! Run: `cargo +nightly fuzz run endpoint_differential fuzz/corpus/endpoint_differential fuzz/seeds/endpoint_differential`
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};
use wasmbed_endpoint::MAX_LEN;
use wasmbed_zephyr_host::compare;

fuzz_target!(|data: &[u8]| -> Corpus {
    // Everything past 255 bytes is one error; longer inputs only slow the fuzzer down.
    if data.len() > MAX_LEN + 8 {
        return Corpus::Reject;
    }
    if let Err(difference) = compare::parse(data) {
        panic!("{difference}");
    }
    Corpus::Keep
});
