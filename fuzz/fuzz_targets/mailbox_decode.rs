//! Mailbox regions of any content and size: the Rust decoder never panics, the C reader never
//! reads past the region (AddressSanitizer), and both reach the same verdict, kind and offset.
//!
//! Run: `cargo +nightly fuzz run mailbox_decode fuzz/corpus/mailbox_decode fuzz/seeds/mailbox_decode`
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};
use wasmbed_endpoint::{MAILBOX_MAX_LEN, MemoryImage};
use wasmbed_zephyr_host::mailbox_read_checked;

fuzz_target!(|data: &[u8]| -> Corpus {
    if data.len() > MAILBOX_MAX_LEN + 16 {
        return Corpus::Reject;
    }
    let c = mailbox_read_checked(data).unwrap_or_else(|v| panic!("C broke its contract: {v:?}"));
    match (MemoryImage::decode(data), c) {
        (Ok(rust), Ok(c)) => {
            assert_eq!(c.port, rust.port);
            let image = MemoryImage::encode(&rust).expect("decoded endpoint encodes");
            assert_eq!(MemoryImage::decode(image.as_bytes()), Ok(rust));
        }
        (Err(rust), Err(c)) => {
            assert_eq!(
                (c.code, c.offset),
                (rust.kind().code(), rust.offset()),
                "{rust}"
            );
        }
        (rust, c) => panic!(
            "disagree on {:?}: rust {rust:?}, C {c:?}",
            data.escape_ascii().to_string()
        ),
    }
    Corpus::Keep
});
