//! The shared frame vectors (`wasmbed-protocol/tests/vectors/frames.txt`) run against the C codec
//! (`zephyr-app/src/wasmbed_protocol.c`).
//!
//! Each case is decoded by C from an exact-length heap copy (an over-read is a heap overflow
//! under AddressSanitizer) with `max_frame_len` 4096; C's frame is written in the file's text
//! form, independently of the Rust codec, and compared with the expected outcome. `ok` frames
//! must re-encode with C to the bytes they came from. Every case is also fed one byte at a time
//! and compared with the Rust decoder.

#[path = "../../../wasmbed-protocol/tests/support/frames.rs"]
mod frames;

use std::collections::BTreeSet;

use frames::{cases, hex, quote};

use wasmbed_zephyr_host::protocol::{self, CFrame, CMessage, DecodeError, Verdict};

const MAX: u32 = 4096;

/// C's frame in the text form the header of `frames.txt` defines.
fn text(frame: &CFrame) -> String {
    let id = frame.id;
    match &frame.message {
        CMessage::Hello {
            version,
            device_id,
            firmware,
        } => format!(
            "hello id={id} version={version} device_id={} firmware={}",
            quote(device_id),
            quote(firmware)
        ),
        CMessage::HelloAck {
            version,
            heartbeat_interval_secs,
            max_frame_len,
        } => format!(
            "hello_ack id={id} version={version} heartbeat_interval_secs={heartbeat_interval_secs} max_frame_len={max_frame_len}"
        ),
        CMessage::Heartbeat { uptime_ms } => format!("heartbeat id={id} uptime_ms={uptime_ms}"),
        CMessage::HeartbeatAck => format!("heartbeat_ack id={id}"),
        CMessage::Echo(b) => format!("echo id={id} payload={}", hex(b)),
        CMessage::EchoReply(b) => format!("echo_reply id={id} payload={}", hex(b)),
        CMessage::Data(b) => format!("data id={id} payload={}", hex(b)),
        CMessage::Goodbye { reason } => format!("goodbye id={id} reason={reason}"),
        CMessage::Error { code, message } => {
            format!("error id={id} code={code} message={}", quote(message))
        }
        CMessage::Unknown(t) => panic!("C decoded an unknown type 0x{t:02x}"),
    }
}

fn outcome(result: &Result<protocol::Decoded, DecodeError>) -> String {
    match result {
        Ok(d) => format!("ok {}", text(&d.frame)),
        Err(DecodeError::Incomplete { .. }) => "incomplete".into(),
        Err(e) => format!("err {}", e.kind().expect("an error kind").name()),
    }
}

#[test]
fn frame_vectors() {
    let mut types = BTreeSet::new();
    let mut outcomes = BTreeSet::new();
    for case in cases() {
        let result = protocol::decode(&case.input, MAX);
        assert_eq!(
            outcome(&result),
            case.expected,
            "frames.txt line {} ({})",
            case.line,
            case.name
        );
        match &result {
            Ok(decoded) => {
                types.insert(decoded.frame.message.type_byte());
                let encoded = protocol::encode(&decoded.frame, MAX).unwrap();
                assert_eq!(
                    hex(&encoded),
                    hex(&case.input[..decoded.consumed]),
                    "{}: re-encoded by C",
                    case.name
                );
            }
            Err(DecodeError::Incomplete { .. }) => {
                outcomes.insert("incomplete");
            }
            Err(e) => {
                outcomes.insert(e.kind().unwrap().name());
            }
        }
    }
    assert_eq!(types.len(), 9, "every message type has a valid vector");
    let all: BTreeSet<_> = [
        "FrameTooShort",
        "FrameTooLarge",
        "UnknownType",
        "Malformed",
        "incomplete",
    ]
    .into();
    assert_eq!(
        outcomes, all,
        "every error kind and incomplete have vectors"
    );
}

/// Every prefix of every case: C reports nothing but "incomplete" (asking for 4, then 4 + L
/// bytes) until the whole-input outcome, and agrees with Rust on each prefix.
#[test]
fn frame_vectors_byte_by_byte() {
    for case in cases() {
        let whole = outcome(&protocol::decode(&case.input, MAX));
        let mut got = "incomplete".to_string();
        for end in 0..=case.input.len() {
            let prefix = &case.input[..end];
            let verdict = protocol::compare_decode(prefix, MAX)
                .unwrap_or_else(|d| panic!("{} after {end} bytes: {d}", case.name));
            if verdict != Verdict::Incomplete {
                got = outcome(&protocol::decode(prefix, MAX));
                break;
            }
        }
        assert_eq!(got, whole, "{}: byte by byte", case.name);
        assert_eq!(got, case.expected, "{}: byte by byte", case.name);
    }
}

/// The whole-input comparison with Rust, and with other limits: the smallest useful
/// `max_frame_len` (that of the largest HELLO), the smallest valid one, and the largest.
#[test]
fn frame_vectors_agree_with_rust_at_every_limit() {
    for case in cases() {
        for max in [MAX, 136, 5, 4, u32::MAX] {
            protocol::compare_decode(&case.input, max)
                .unwrap_or_else(|d| panic!("{} (max_frame_len {max}): {d}", case.name));
        }
    }
}
