//! The Rust endpoint parser never panics, errors point inside the input, and accepted text
//! round-trips through `Display`.
//!
//! Run: `cargo +nightly fuzz run endpoint_parse fuzz/corpus/endpoint_parse fuzz/seeds/endpoint_parse`
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};
use wasmbed_endpoint::{Endpoint, MAX_LEN, MemoryImage};

fuzz_target!(|data: &[u8]| -> Corpus {
    // Everything past 255 bytes is one error; longer inputs only slow the fuzzer down.
    if data.len() > MAX_LEN + 8 {
        return Corpus::Reject;
    }
    match Endpoint::parse_bytes(data) {
        Ok(endpoint) => {
            let shown = endpoint.to_string();
            let again: Endpoint = shown.parse().expect("displayed endpoint parses");
            assert_eq!(again, endpoint, "round trip of {shown}");
            assert_eq!(again.to_string(), shown, "display is canonical");
            let image = MemoryImage::encode(&endpoint).expect("parsed endpoint encodes");
            assert_eq!(MemoryImage::decode(image.as_bytes()), Ok(endpoint));
        }
        Err(e) => {
            assert!(
                e.offset() <= data.len().min(MAX_LEN),
                "offset {} past input",
                e.offset()
            );
            let _ = e.to_string();
        }
    }
    Corpus::Keep
});
