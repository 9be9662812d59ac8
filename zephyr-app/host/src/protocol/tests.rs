use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};

use wasmbed_protocol::{self as rust, ErrorCode, GoodbyeReason, MessageType};

use super::ffi::*;
use super::*;

/// The C constants, message types, codes and reasons equal the Rust codec's; the C structs
/// have the mirror's size and offsets; every entry of the table is checked.
#[test]
fn layout_agrees() {
    let table: BTreeMap<&str, u64> = layout().into_iter().collect();
    assert_eq!(table.len(), layout().len(), "duplicate names in the table");
    let mut checked = BTreeMap::new();
    let mut check = |name: &'static str, expected: u64| {
        let got = *table
            .get(name)
            .unwrap_or_else(|| panic!("{name} not in the table"));
        assert_eq!(got, expected, "{name}");
        checked.insert(name, ());
    };
    check(
        "WASMBED_PROTOCOL_VERSION",
        u64::from(rust::PROTOCOL_VERSION),
    );
    check(
        "WASMBED_FRAME_DEFAULT_MAX_LEN",
        u64::from(rust::DEFAULT_MAX_FRAME_LEN),
    );
    check("WASMBED_FRAME_MIN_LEN", u64::from(rust::MIN_FRAME_LEN));
    check("WASMBED_FRAME_PREFIX_LEN", rust::LENGTH_PREFIX_LEN as u64);
    check("WASMBED_FRAME_HEADER_LEN", u64::from(rust::MIN_FRAME_LEN));
    check("WASMBED_DEVICE_ID_MAX_LEN", rust::MAX_DEVICE_ID_LEN as u64);
    check("WASMBED_FIRMWARE_MAX_LEN", rust::MAX_FIRMWARE_LEN as u64);
    check(
        "WASMBED_HELLO_FRAME_MAX_LEN",
        u64::from(rust::MAX_HELLO_FRAME_LEN),
    );
    let types = [
        ("WASMBED_MSG_HELLO", MessageType::Hello),
        ("WASMBED_MSG_HELLO_ACK", MessageType::HelloAck),
        ("WASMBED_MSG_HEARTBEAT", MessageType::Heartbeat),
        ("WASMBED_MSG_HEARTBEAT_ACK", MessageType::HeartbeatAck),
        ("WASMBED_MSG_ECHO", MessageType::Echo),
        ("WASMBED_MSG_ECHO_REPLY", MessageType::EchoReply),
        ("WASMBED_MSG_DATA", MessageType::Data),
        ("WASMBED_MSG_GOODBYE", MessageType::Goodbye),
        ("WASMBED_MSG_ERROR", MessageType::Error),
    ];
    assert_eq!(types.len(), MessageType::ALL.len());
    for (name, t) in types {
        check(name, t as u64);
    }
    let codes = [
        ("WASMBED_ERROR_MALFORMED_FRAME", ErrorCode::MalformedFrame),
        ("WASMBED_ERROR_FRAME_TOO_LARGE", ErrorCode::FrameTooLarge),
        (
            "WASMBED_ERROR_UNEXPECTED_MESSAGE",
            ErrorCode::UnexpectedMessage,
        ),
        (
            "WASMBED_ERROR_UNSUPPORTED_VERSION",
            ErrorCode::UnsupportedVersion,
        ),
        (
            "WASMBED_ERROR_INVALID_DEVICE_ID",
            ErrorCode::InvalidDeviceId,
        ),
        (
            "WASMBED_ERROR_DEVICE_ID_MISMATCH",
            ErrorCode::DeviceIdMismatch,
        ),
        ("WASMBED_ERROR_HELLO_TIMEOUT", ErrorCode::HelloTimeout),
        ("WASMBED_ERROR_OVERLOADED", ErrorCode::Overloaded),
        ("WASMBED_ERROR_INTERNAL", ErrorCode::Internal),
    ];
    for (name, code) in codes {
        check(name, u64::from(code.to_u16()));
    }
    // Every named code is above: the first unnamed one is 10.
    assert_eq!(ErrorCode::from_u16(10), ErrorCode::Other(10));
    let reasons = [
        ("WASMBED_GOODBYE_NORMAL", GoodbyeReason::Normal),
        ("WASMBED_GOODBYE_SHUTDOWN", GoodbyeReason::Shutdown),
        ("WASMBED_GOODBYE_TAKEN_OVER", GoodbyeReason::TakenOver),
        (
            "WASMBED_GOODBYE_HEARTBEAT_TIMEOUT",
            GoodbyeReason::HeartbeatTimeout,
        ),
        (
            "WASMBED_GOODBYE_PROTOCOL_ERROR",
            GoodbyeReason::ProtocolError,
        ),
        (
            "WASMBED_GOODBYE_CREDENTIALS_REVOKED",
            GoodbyeReason::CredentialsRevoked,
        ),
    ];
    for (name, reason) in reasons {
        check(name, u64::from(reason.to_u8()));
    }
    assert_eq!(GoodbyeReason::from_u8(6), GoodbyeReason::Other(6));
    check("WASMBED_PROTOCOL_EINCOMPLETE", EINCOMPLETE as u64);
    check("WASMBED_PROTOCOL_EFRAME_TOO_SHORT", 2);
    check("WASMBED_PROTOCOL_EFRAME_TOO_LARGE", 3);
    check("WASMBED_PROTOCOL_EUNKNOWN_TYPE", 4);
    check("WASMBED_PROTOCOL_EMALFORMED", 5);
    check("WASMBED_PROTOCOL_ENOSPC", ENOSPC as u64);
    for kind in Kind::ALL {
        assert_eq!(Kind::from_code(kind.code()), Some(kind));
    }

    macro_rules! size {
        ($c:literal, $t:ty) => {
            check(concat!("sizeof(struct ", $c, ")"), size_of::<$t>() as u64)
        };
    }
    macro_rules! offset {
        ($c:literal, $t:ty, $f:ident) => {
            check(
                concat!("offsetof(struct ", $c, ", ", stringify!($f), ")"),
                offset_of!($t, $f) as u64,
            )
        };
    }
    size!("wasmbed_frame", WasmbedFrame);
    check(
        "offsetof(struct wasmbed_frame, type)",
        offset_of!(WasmbedFrame, r#type) as u64,
    );
    offset!("wasmbed_frame", WasmbedFrame, id);
    offset!("wasmbed_frame", WasmbedFrame, msg);
    size!("wasmbed_msg_hello", WasmbedMsgHello);
    offset!("wasmbed_msg_hello", WasmbedMsgHello, device_id_len);
    offset!("wasmbed_msg_hello", WasmbedMsgHello, firmware_len);
    offset!("wasmbed_msg_hello", WasmbedMsgHello, version);
    offset!("wasmbed_msg_hello", WasmbedMsgHello, device_id);
    offset!("wasmbed_msg_hello", WasmbedMsgHello, firmware);
    size!("wasmbed_msg_hello_ack", WasmbedMsgHelloAck);
    offset!("wasmbed_msg_hello_ack", WasmbedMsgHelloAck, version);
    offset!(
        "wasmbed_msg_hello_ack",
        WasmbedMsgHelloAck,
        heartbeat_interval_secs
    );
    offset!("wasmbed_msg_hello_ack", WasmbedMsgHelloAck, max_frame_len);
    size!("wasmbed_msg_heartbeat", WasmbedMsgHeartbeat);
    offset!("wasmbed_msg_heartbeat", WasmbedMsgHeartbeat, uptime_ms);
    size!("wasmbed_msg_bytes", WasmbedMsgBytes);
    offset!("wasmbed_msg_bytes", WasmbedMsgBytes, data);
    offset!("wasmbed_msg_bytes", WasmbedMsgBytes, len);
    size!("wasmbed_msg_goodbye", WasmbedMsgGoodbye);
    offset!("wasmbed_msg_goodbye", WasmbedMsgGoodbye, reason);
    size!("wasmbed_msg_error", WasmbedMsgError);
    offset!("wasmbed_msg_error", WasmbedMsgError, code);
    offset!("wasmbed_msg_error", WasmbedMsgError, message);
    offset!("wasmbed_msg_error", WasmbedMsgError, message_len);
    // `hello` is the largest member, so `WasmbedFrame::filled` covers the whole union.
    assert_eq!(size_of::<WasmbedMsg>(), size_of::<WasmbedMsgHello>());

    let unchecked: Vec<_> = table.keys().filter(|k| !checked.contains_key(*k)).collect();
    assert!(
        unchecked.is_empty(),
        "table entries no test checks: {unchecked:?}"
    );
}

#[test]
fn strerror_names_every_code() {
    assert_eq!(strerror(0), "success");
    for code in 1..=6 {
        assert_ne!(strerror(code), "unknown error", "{code}");
        assert_eq!(strerror(code), strerror(-code));
    }
    assert_eq!(strerror(-5), "malformed payload");
    for code in [7, -7, i32::MAX, i32::MIN] {
        assert_eq!(strerror(code), "unknown error");
    }
}

fn hello(device_id: &[u8], firmware: &[u8]) -> CFrame {
    CFrame {
        id: 1,
        message: CMessage::Hello {
            version: 1,
            device_id: device_id.to_vec(),
            firmware: firmware.to_vec(),
        },
    }
}

/// What only C can be asked to encode (Rust's types rule it out) is refused too.
#[test]
fn encoder_refuses_what_rust_cannot_express() {
    let unknown = CFrame {
        id: 1,
        message: CMessage::Unknown(0x09),
    };
    assert_eq!(encode(&unknown, 4096), Err(EncodeError::UnknownType));
    assert_eq!(
        encode(&hello(b"dev", b"\xc3"), 4096),
        Err(EncodeError::Malformed)
    );
    assert_eq!(
        encode(&hello(b"dev", b"\xed\xa0\x80"), 4096),
        Err(EncodeError::Malformed)
    );
    let error = CFrame {
        id: 1,
        message: CMessage::Error {
            code: 1,
            message: b"\xff".to_vec(),
        },
    };
    assert_eq!(encode(&error, 4096), Err(EncodeError::Malformed));
    // Malformed comes before FrameTooLarge, as in Rust.
    assert_eq!(encode(&hello(b"", b""), 5), Err(EncodeError::Malformed));
    assert_eq!(
        encode(&hello(b"a", b""), 8),
        Err(EncodeError::FrameTooLarge)
    );
    assert_eq!(encode(&hello(b"a", b""), 9).unwrap().len(), 13);
    // A device id of 65 bytes (the array holds 65 chars) and one of 255.
    assert_eq!(
        encode(&hello(&[b'a'; 65], b""), 4096),
        Err(EncodeError::Malformed)
    );
    assert_eq!(
        encode(&hello(&[b'a'; 255], b""), 4096),
        Err(EncodeError::Malformed)
    );
    assert_eq!(
        encode(&hello(b"a", &[b'f'; 65]), 4096),
        Err(EncodeError::Malformed)
    );
}

#[test]
fn null_payload_pointers() {
    let mut frame = WasmbedFrame::filled(0);
    frame.r#type = 0x07;
    frame.msg.bytes = WasmbedMsgBytes {
        data: std::ptr::null(),
        len: 0,
    };
    let mut buf = [0u8; 16];
    let mut written = 0;
    // SAFETY: `frame` is valid (a NULL pointer with length 0 is allowed); `buf` is valid for
    // 16 bytes; `written` is writable.
    let rc = unsafe { wasmbed_frame_encode(&frame, 4096, buf.as_mut_ptr(), 16, &mut written) };
    assert_eq!((rc, written), (0, 9));
    assert_eq!(buf[..9], *b"\0\0\0\x05\x07\0\0\0\0");
    frame.msg.bytes.len = 1;
    // SAFETY: as above; C must refuse the NULL pointer with a nonzero length without
    // reading it.
    let rc = unsafe { wasmbed_frame_encode(&frame, 4096, buf.as_mut_ptr(), 16, &mut written) };
    assert_eq!((rc, written), (-5, 0));
    frame.r#type = 0x7f;
    frame.msg.error = WasmbedMsgError {
        code: 7,
        message: std::ptr::null(),
        message_len: 3,
    };
    // SAFETY: as above.
    let rc = unsafe { wasmbed_frame_encode(&frame, 4096, buf.as_mut_ptr(), 16, &mut written) };
    assert_eq!((rc, written), (-5, 0));
    // Decoding an empty input from a NULL pointer.
    let mut out = WasmbedFrame::filled(1);
    let mut consumed = 0;
    // SAFETY: a NULL buffer with length 0 is allowed; `out` and `consumed` are writable.
    let rc = unsafe { wasmbed_frame_decode(std::ptr::null(), 0, 4096, &mut out, &mut consumed) };
    assert_eq!((rc, consumed), (-EINCOMPLETE, 4));
    // NULL `consumed` and `written` are allowed.
    let wire = b"\0\0\0\x05\x04\0\0\0\x02";
    // SAFETY: `wire` is valid for its length; `out` is writable; NULL `consumed` is allowed.
    let rc = unsafe {
        wasmbed_frame_decode(
            wire.as_ptr(),
            wire.len(),
            4096,
            &mut out,
            std::ptr::null_mut(),
        )
    };
    assert_eq!((rc, out.r#type, out.id), (0, 4, 2));
    // SAFETY: `out` is a valid frame; `buf` is valid for 16 bytes; NULL `written` is allowed.
    let rc =
        unsafe { wasmbed_frame_encode(&out, 4096, buf.as_mut_ptr(), 16, std::ptr::null_mut()) };
    assert_eq!((rc, &buf[..9]), (0, &wire[..]));
}

#[test]
fn encode_into_a_buffer() {
    let frame = CFrame {
        id: 5,
        message: CMessage::Goodbye { reason: 2 },
    };
    let mut buf = [0xee; 10];
    assert_eq!(
        encode_into(&frame, 4096, &mut buf[..9]),
        Err(EncodeError::NoSpace { needed: 10 })
    );
    assert_eq!(buf, [0xee; 10], "nothing written on failure");
    assert_eq!(encode_into(&frame, 4096, &mut buf), Ok(10));
    assert_eq!(buf, *b"\0\0\0\x06\x08\0\0\0\x05\x02");
}

/// A length that does not fit in memory: C must not compute 4 + L naively, nor read it.
#[test]
fn largest_lengths() {
    let wire = [0xff, 0xff, 0xff, 0xff, 0x07, 0, 0, 0, 1];
    assert_eq!(
        decode(&wire, u32::MAX),
        Err(DecodeError::Incomplete {
            needed: 4 + u32::MAX as usize
        })
    );
    assert_eq!(decode(&wire, u32::MAX - 1), Err(DecodeError::FrameTooLarge));
    // With max_frame_len below 5, a length of 5 is too large and 4 too short, as in Rust.
    assert_eq!(
        decode(b"\0\0\0\x05\x04\0\0\0\x01", 4),
        Err(DecodeError::FrameTooLarge)
    );
    assert_eq!(decode(b"\0\0\0\x04", 0), Err(DecodeError::FrameTooShort));
    compare_decode(b"\0\0\0\x05\x04\0\0\0\x01", 4).unwrap();
    compare_decode(b"\0\0\0\x04", 0).unwrap();
}
