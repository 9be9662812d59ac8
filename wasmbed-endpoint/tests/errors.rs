//! Error kinds, codes and messages.

use wasmbed_endpoint::{DecodeError, Endpoint, ErrorKind, MemoryImage};

#[test]
fn codes_are_stable_and_invertible() {
    for (i, kind) in ErrorKind::ALL.iter().enumerate() {
        assert_eq!(kind.code(), i as i32 + 1);
        assert_eq!(ErrorKind::from_code(kind.code()), Some(*kind));
        assert_eq!(ErrorKind::from_code(-kind.code()), Some(*kind));
    }
    for code in [0, 15, -15, i32::MIN, i32::MAX] {
        assert_eq!(ErrorKind::from_code(code), None);
    }
}

#[test]
fn parse_error_display() {
    let e = "10.42.0.12:80801".parse::<Endpoint>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid endpoint \"10.42.0.12:80801\": invalid port (expected 1-65535 without sign or leading zeros) at byte 11"
    );
    let e = Endpoint::parse_bytes(b"gw\0:1").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid endpoint \"gw\\x00:1\": invalid DNS name at byte 2"
    );
    let long = "a".repeat(300);
    let e = long.parse::<Endpoint>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLong);
    assert!(e.input().is_truncated());
    assert_eq!(e.input().as_bytes().len(), 64);
    assert!(
        e.to_string()
            .contains("aaaa...\": endpoint longer than 255 bytes at byte 255")
    );
}

#[test]
fn errors_show_the_offending_byte_and_what_was_parsed() {
    let text = format!("{}_:1", "a".repeat(70));
    let e = text.parse::<Endpoint>().unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::InvalidDnsName, 70));
    assert_eq!(e.input().start(), 9);
    assert_eq!(e.input().as_bytes().len(), 64);
    assert!(e.input().is_truncated());
    assert_eq!(
        e.to_string(),
        format!(
            "invalid endpoint \"...{}_:1\": invalid DNS name at byte 70",
            "a".repeat(61)
        )
    );

    let e = wasmbed_endpoint::Host::parse("[fd00::1]x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid host \"[fd00::1]x\": unexpected trailing bytes at byte 9"
    );
    let e = wasmbed_endpoint::DnsName::parse("10.0.0.1").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid DNS name \"10.0.0.1\": invalid DNS name at byte 0"
    );
}

#[test]
fn decode_error_display() {
    assert_eq!(
        MemoryImage::decode(&[0, 0, 0, 0]).unwrap_err().to_string(),
        "mailbox empty: the length word is 0, so no endpoint was written; check that the Renode \
         script writes the mailbox at the address the firmware reads"
    );
    assert_eq!(
        MemoryImage::decode(b"\x03\0\0\0a b").unwrap_err(),
        DecodeError::NonPrintable {
            offset: 1,
            byte: b' '
        }
    );
    assert_eq!(
        MemoryImage::decode(b"\x03\0\0\0a b")
            .unwrap_err()
            .to_string(),
        "mailbox text byte 1 is 0x20, not printable ASCII (0x21-0x7e)"
    );
    // The parse error is the source, not part of the message, so a chain prints it once.
    let e = MemoryImage::decode(b"\x02\0\0\0gw").unwrap_err();
    assert_eq!(e.to_string(), "mailbox text is not an endpoint");
    assert_eq!(
        core::error::Error::source(&e).map(|source| source.to_string()),
        Some(
            "invalid endpoint \"gw\": missing ':' and port at byte 2; write HOST:PORT, e.g. 10.42.0.12:8081"
                .into()
        )
    );
    assert_eq!(
        MemoryImage::decode(b"\x10\0\0\0gw:1").unwrap_err(),
        DecodeError::Truncated {
            needed: 20,
            available: 8
        }
    );
}
