//! Mailbox regions of any content and size: the Rust decoder never panics, the C reader never
//! reads past the region (AddressSanitizer), and both give the same verdict, kind, offset, host
//! and port; a decoded endpoint encodes back to an image that decodes to it.
//!
//! Run: `cargo +nightly fuzz run mailbox_decode fuzz/corpus/mailbox_decode fuzz/seeds/mailbox_decode`
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};
use wasmbed_endpoint::{MAILBOX_MAX_LEN, MemoryImage};
use wasmbed_zephyr_host::compare;

fuzz_target!(|data: &[u8]| -> Corpus {
    if data.len() > MAILBOX_MAX_LEN + 16 {
        return Corpus::Reject;
    }
    if let Err(difference) = compare::mailbox(data) {
        panic!("{difference}");
    }
    if let Ok(endpoint) = MemoryImage::decode(data) {
        let image = MemoryImage::encode(&endpoint).expect("decoded endpoint encodes");
        assert_eq!(MemoryImage::decode(image.as_bytes()), Ok(endpoint));
    }
    Corpus::Keep
});
