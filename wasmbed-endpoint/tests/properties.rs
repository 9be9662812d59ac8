//! Properties of the Rust implementation (the C comparison lives in `zephyr-app/host`).

#[path = "support/strategies.rs"]
mod strategies;

use proptest::prelude::*;
use strategies::{mailbox_region, near_miss, valid_endpoint};
use wasmbed_endpoint::{Endpoint, ErrorKind, MAX_LEN, MemoryImage};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Everything the generator calls valid parses, and display then parse is the identity.
    #[test]
    fn valid_text_parses_and_round_trips(text in valid_endpoint()) {
        let endpoint: Endpoint = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let shown = endpoint.to_string();
        prop_assert_eq!(shown.parse::<Endpoint>().unwrap(), endpoint);
        // Display is canonical: showing the reparsed value gives the same text.
        prop_assert_eq!(shown.parse::<Endpoint>().unwrap().to_string(), shown);
    }

    /// On any input the parser returns (no panic); accepted input round-trips; errors point
    /// inside the input (or just past it) and carry a parse kind.
    #[test]
    fn any_bytes_parse_without_panic(bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..300), near_miss()]) {
        match Endpoint::parse_bytes(&bytes) {
            Ok(endpoint) => {
                let shown = endpoint.to_string();
                prop_assert!(shown.len() <= MAX_LEN);
                prop_assert_eq!(shown.parse::<Endpoint>().unwrap(), endpoint);
            }
            Err(e) => {
                prop_assert!(e.offset() <= bytes.len().min(MAX_LEN), "offset {} for {} bytes", e.offset(), bytes.len());
                prop_assert!(e.kind().code() <= ErrorKind::TrailingBytes.code());
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// decode(encode(e)) == e, and the image is what the layout says.
    #[test]
    fn mailbox_round_trips(text in valid_endpoint(), base in (0u32..0x4000_0000).prop_map(|b| b & !3)) {
        let endpoint: Endpoint = text.parse().unwrap();
        let image = MemoryImage::encode(&endpoint).unwrap();
        prop_assert_eq!(MemoryImage::decode(image.as_bytes()).unwrap(), endpoint);
        let bytes = image.as_bytes();
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize, image.text().len());
        let writes: Vec<_> = image.sysbus_lines(base).unwrap().collect();
        prop_assert_eq!(writes.len(), bytes.len() / 4);
        for (i, write) in writes.iter().enumerate() {
            prop_assert_eq!(write.address(), u64::from(base) + 4 * i as u64);
        }
    }

    /// The rendered lines read back as the writes they were rendered from.
    #[cfg(feature = "alloc")]
    #[test]
    fn sysbus_lines_read_back(text in valid_endpoint(), base in (0u32..0x4000_0000).prop_map(|b| b & !3)) {
        let image = MemoryImage::encode(&text.parse().unwrap()).unwrap();
        let lines = image.sysbus_lines(base).unwrap();
        let read: Vec<wasmbed_endpoint::MemoryOp> = wasmbed_endpoint::sysbus::read_writes(&lines.to_string()).unwrap().iter().map(|w| w.op).collect();
        prop_assert_eq!(read, lines.collect::<Vec<_>>());
    }

    /// The reader never panics and never reports an offset beyond what it could have read.
    #[test]
    fn mailbox_decode_any_region(region in mailbox_region()) {
        match MemoryImage::decode(&region) {
            Ok(endpoint) => prop_assert!(MemoryImage::encode(&endpoint).is_ok()),
            Err(e) => prop_assert!(e.offset() <= 4 + MAX_LEN),
        }
    }
}

/// `PROPTEST_CASES` or 10,000: the Rust-only properties are cheap.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}
