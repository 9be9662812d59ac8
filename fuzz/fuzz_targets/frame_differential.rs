//! The firmware's C frame decoder (under AddressSanitizer) and the gateway's Rust decoder agree
//! on every input: verdict, error kind, message type and id, consumed length and every field;
//! a decoded frame re-encodes with C to the bytes it came from.
//!
//! Run: `cargo +nightly fuzz run frame_differential fuzz/corpus/frame_differential fuzz/seeds/frame_differential`
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};
use wasmbed_zephyr_host::protocol::compare_decode;

/// The gateway's default `max_frame_len` (the seeds' limit), the largest HELLO's length and the
/// smallest valid limit.
const LIMITS: [u32; 3] = [4096, 136, 5];

fuzz_target!(|data: &[u8]| -> Corpus {
    // The largest frame under the largest limit, and a few bytes after it.
    if data.len() > 4 + 4096 + 16 {
        return Corpus::Reject;
    }
    for max in LIMITS {
        if let Err(difference) = compare_decode(data, max) {
            panic!("{difference}");
        }
    }
    Corpus::Keep
});
