//! Rust (`wasmbed_protocol`) and C (`zephyr-app/src/wasmbed_protocol.c`) agree on every
//! input: verdict, error kind, message type and id, consumed length and every decoded field;
//! both encoders refuse the same frames with the same kind and write the same bytes otherwise,
//! and each decoder turns the other's bytes back into the frame.
//!
//! Each property runs `WASMBED_DIFF_CASES` cases (default 100,000). The C code gets exact-length
//! heap copies, so an over-read is caught when CI runs these tests under AddressSanitizer.

use std::collections::BTreeSet;
use std::sync::Mutex;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use wasmbed_protocol::{
    DEFAULT_MAX_FRAME_LEN, DeviceId, ErrorCode, Frame, GoodbyeReason, MAX_DEVICE_ID_LEN,
    MAX_FIRMWARE_LEN, MAX_HELLO_FRAME_LEN, MIN_FRAME_LEN, Message, MessageType, encode_frame,
};
use wasmbed_zephyr_host::protocol::{Kind, Verdict, compare_decode, compare_encode};

fn cases() -> u32 {
    std::env::var("WASMBED_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Runs `strategy` through `check` for `cases()` cases and returns what `check` reported.
fn run<S: Strategy, T: Ord>(
    strategy: S,
    check: impl Fn(&S::Value) -> Result<T, String>,
) -> BTreeSet<T> {
    let seen = Mutex::new(BTreeSet::new());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |value| {
            let got = check(&value).map_err(TestCaseError::fail)?;
            seen.lock().unwrap().insert(got);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    seen.into_inner().unwrap()
}

/// Every verdict a decoder can reach: a frame of each type, incomplete, each error kind.
fn every_verdict() -> BTreeSet<Verdict> {
    let mut all: BTreeSet<Verdict> = MessageType::ALL
        .iter()
        .map(|&t| Verdict::Frame(t as u8))
        .collect();
    all.insert(Verdict::Incomplete);
    all.extend(Kind::ALL.map(Verdict::Error));
    all
}

// ---------------------------------------------------------------------------------------------
// Generators

/// `max_frame_len` values: the default, those around the largest HELLO, small ones (down to
/// below the smallest frame), and any.
fn max_frame_len() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => Just(DEFAULT_MAX_FRAME_LEN),
        1 => Just(MAX_HELLO_FRAME_LEN),
        1 => Just(MAX_HELLO_FRAME_LEN - 1),
        2 => MIN_FRAME_LEN..=300,
        1 => 0..MIN_FRAME_LEN,
        1 => Just(u32::MAX),
        1 => any::<u32>(),
    ]
}

/// `len` bytes made from `seed`: fast for payloads of thousands of bytes.
fn bytes_from(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A payload length for a frame limit: small, or around what the limit leaves for a payload of
/// `overhead` fixed bytes (one more is too large).
fn payload_len(max: u32, overhead: usize) -> impl Strategy<Value = usize> {
    let room = (max as usize)
        .min(DEFAULT_MAX_FRAME_LEN as usize + 16)
        .saturating_sub(MIN_FRAME_LEN as usize + overhead);
    prop_oneof![
        2 => 0..=64usize,
        2 => room.saturating_sub(2)..=room + 1,
        1 => 0..=room + 1,
    ]
}

fn payload(max: u32, overhead: usize) -> impl Strategy<Value = Vec<u8>> {
    (payload_len(max, overhead), any::<u64>()).prop_map(|(len, seed)| bytes_from(seed, len))
}

/// Firmware versions of 0 to 64 bytes of UTF-8, often exactly or nearly 64 bytes with
/// multi-byte characters.
fn firmware() -> impl Strategy<Value = String> {
    let fill = |chars: Vec<char>, limit: usize| {
        let mut s = String::new();
        for c in chars {
            if s.len() + c.len_utf8() > limit {
                break;
            }
            s.push(c);
        }
        s
    };
    prop_oneof![
        vec(any::<char>(), 0..=16).prop_map(move |c| fill(c, MAX_FIRMWARE_LEN)),
        vec(any::<char>(), 16..=64).prop_map(move |c| fill(c, MAX_FIRMWARE_LEN)),
        "[ -~]{60,64}",
        Just("\u{20ac}".repeat(21) + "x"),
        Just("\u{1d11e}".repeat(16)),
    ]
}

fn device_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._-]{1,8}",
        "[A-Za-z0-9._-]{1,64}",
        "[A-Za-z0-9._-]{63,64}",
    ]
    .prop_filter("the DeviceId rule", |id| DeviceId::new(id).is_ok())
}

fn error_message(max: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect::<String>()),
        1 => payload_len(max, 2).prop_map(|len| "e".repeat(len)),
        1 => payload_len(max, 2).prop_map(|len| {
            // Multi-byte characters up to the limit: the last one may not fit.
            let mut s = "\u{20ac}".repeat(len / 3);
            s.push_str(&"x".repeat(len % 3));
            s
        }),
    ]
}

fn id() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), Just(0), Just(u32::MAX)]
}

/// Valid messages, with byte payloads sized around what `max` allows.
fn message(max: u32) -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<u8>(), device_id(), firmware()).prop_map(
            |(version, device_id, firmware_version)| {
                Message::Hello {
                    version,
                    device_id,
                    firmware_version,
                }
            }
        ),
        (
            any::<u8>(),
            prop_oneof![1..=u16::MAX, Just(1), Just(u16::MAX)],
            prop_oneof![
                MIN_FRAME_LEN..=u32::MAX,
                Just(MIN_FRAME_LEN),
                Just(u32::MAX)
            ],
        )
            .prop_map(|(version, heartbeat_interval_secs, max_frame_len)| {
                Message::HelloAck {
                    version,
                    heartbeat_interval_secs,
                    max_frame_len,
                }
            }),
        any::<u32>().prop_map(|uptime_ms| Message::Heartbeat { uptime_ms }),
        Just(Message::HeartbeatAck),
        payload(max, 0).prop_map(|b| Message::Echo(b.into())),
        payload(max, 0).prop_map(|b| Message::EchoReply(b.into())),
        payload(max, 0).prop_map(|b| Message::Data(b.into())),
        any::<u8>().prop_map(|b| Message::Goodbye {
            reason: GoodbyeReason::from_u8(b)
        }),
        (prop_oneof![any::<u16>(), 0..=10u16], error_message(max)).prop_map(|(code, message)| {
            Message::Error {
                code: ErrorCode::from_u16(code),
                message,
            }
        }),
    ]
}

/// A `max_frame_len` and a valid frame that may or may not fit it.
fn frame_and_max() -> impl Strategy<Value = (Frame, u32)> {
    max_frame_len().prop_flat_map(|max| {
        (id(), message(max)).prop_map(move |(id, message)| (Frame { id, message }, max))
    })
}

/// Frames the encoders must refuse as malformed: invalid device ids, firmware versions longer
/// than 64 bytes, HELLO_ACKs with an interval of 0 or a `max_frame_len` below 5.
fn invalid_frame() -> impl Strategy<Value = Frame> {
    let bad_id = prop_oneof![
        Just(String::new()),
        "[A-Za-z0-9._-]{65,70}",
        "[A-Za-z0-9._-]{200,255}",
        // One byte outside the set, anywhere.
        (
            "[A-Za-z0-9._-]{0,30}",
            "[ /:@+\\x00\\x7fé€]",
            "[A-Za-z0-9._-]{0,30}"
        )
            .prop_map(|(a, b, c)| a + &b + &c),
        // A leading '.' or '-', or a "..": the DeviceId rule on top of the byte set.
        "[.-][A-Za-z0-9._-]{0,20}",
        ("[A-Za-z0-9_-]{0,20}", "[A-Za-z0-9._-]{0,20}").prop_map(|(a, b)| a + ".." + &b),
    ];
    let hello = |device_id: String, firmware_version: String| Message::Hello {
        version: 1,
        device_id,
        firmware_version,
    };
    let message = prop_oneof![
        (bad_id, firmware()).prop_map(move |(d, f)| hello(d, f)),
        (device_id(), "[ -~]{65,80}").prop_map(move |(d, f)| hello(d, f)),
        (device_id(), Just("\u{20ac}".repeat(22))).prop_map(move |(d, f)| hello(d, f)),
        (any::<u8>(), any::<u32>()).prop_map(|(version, max_frame_len)| Message::HelloAck {
            version,
            heartbeat_interval_secs: 0,
            max_frame_len,
        }),
        (any::<u8>(), any::<u16>(), 0..MIN_FRAME_LEN).prop_map(
            |(version, heartbeat_interval_secs, max_frame_len)| Message::HelloAck {
                version,
                heartbeat_interval_secs,
                max_frame_len,
            }
        ),
    ];
    (id(), message).prop_map(|(id, message)| Frame { id, message })
}

/// How a valid frame is damaged.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the byte at this position (modulo the length).
    Set(usize, u8),
    /// Insert a byte at this position.
    Insert(usize, u8),
    /// Remove the byte at this position.
    Remove(usize),
    /// Keep only this many bytes.
    Truncate(usize),
    /// Append bytes.
    Append(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Positions favour the length prefix and header; values favour lengths, types and
    // boundaries.
    let pos = prop_oneof![2 => 0..9usize, 1 => 0..300usize, 1 => any::<usize>()];
    let byte = prop_oneof![
        0..=9u8,
        Just(0x7f),
        Just(0x80),
        Just(0xc0),
        Just(0xed),
        Just(0xff),
        any::<u8>()
    ];
    prop_oneof![
        4 => (pos.clone(), byte.clone()).prop_map(|(p, b)| Mutation::Set(p, b)),
        2 => (pos.clone(), byte).prop_map(|(p, b)| Mutation::Insert(p, b)),
        2 => pos.clone().prop_map(Mutation::Remove),
        2 => pos.prop_map(Mutation::Truncate),
        1 => vec(any::<u8>(), 1..8).prop_map(Mutation::Append),
    ]
}

fn apply(wire: &mut Vec<u8>, mutation: &Mutation) {
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % len };
    match mutation {
        Mutation::Set(p, b) => {
            if !wire.is_empty() {
                let i = at(*p, wire.len());
                wire[i] = *b;
            }
        }
        Mutation::Insert(p, b) => {
            let i = at(*p, wire.len() + 1);
            wire.insert(i, *b);
        }
        Mutation::Remove(p) => {
            if !wire.is_empty() {
                let i = at(*p, wire.len());
                wire.remove(i);
            }
        }
        Mutation::Truncate(n) => wire.truncate(at(*n, wire.len() + 1)),
        Mutation::Append(b) => wire.extend_from_slice(b),
    }
}

/// Bytes that look like a frame: a length often in range or near it, a type byte often
/// known, a body often of the announced size.
fn noisy_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![0..=12u32, 0..=300u32, Just(u32::MAX), any::<u32>()],
        prop_oneof![1u8..=8, Just(0x7f), any::<u8>()],
        any::<u32>(),
        vec(any::<u8>(), 0..24),
        any::<bool>(),
    )
        .prop_map(|(len, message_type, id, mut body, exact)| {
            if exact {
                body.resize((len as usize).saturating_sub(5).min(300), 0);
            }
            let mut wire = len.to_be_bytes().to_vec();
            wire.push(message_type);
            wire.extend_from_slice(&id.to_be_bytes());
            wire.extend_from_slice(&body);
            wire
        })
}

/// Valid UTF-8 of 0 to 70 bytes, often of exactly 60 to 70 bytes (around the firmware limit),
/// with characters of every encoded length.
fn valid_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<char>(), 0..16).prop_map(|c| c.into_iter().collect::<String>().into_bytes()),
        (60..=70usize, vec(any::<char>(), 0..70)).prop_map(|(target, chars)| {
            let mut s = String::new();
            for c in chars {
                if s.len() + c.len_utf8() > target {
                    break;
                }
                s.push(c);
            }
            while s.len() < target {
                s.push('x');
            }
            s.into_bytes()
        }),
    ]
}

/// Each kind of invalid UTF-8 (lone continuation, overlong forms, surrogates, above U+10FFFF,
/// bytes never valid, a sequence cut short), and sequences at the edges of the valid ranges.
fn odd_utf8() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => Just(vec![0x80]),
        1 => Just(vec![0xbf]),
        1 => Just(vec![0xc0, 0x80]),
        1 => Just(vec![0xc1, 0xbf]),
        1 => Just(vec![0xe0, 0x80, 0xaf]),
        1 => Just(vec![0xe0, 0x9f, 0xbf]),
        1 => Just(vec![0xed, 0xa0, 0x80]),
        1 => Just(vec![0xed, 0xbf, 0xbf]),
        1 => Just(vec![0xf0, 0x8f, 0xbf, 0xbf]),
        1 => Just(vec![0xf4, 0x90, 0x80, 0x80]),
        1 => (0xf5u8..=0xff).prop_map(|b| vec![b]),
        // Lead and second bytes at the edges of RFC 3629's table, then continuation bytes:
        // valid or not depending on the pair.
        4 => (
            prop_oneof![
                Just(0xc1u8),
                Just(0xc2),
                Just(0xdf),
                Just(0xe0),
                Just(0xe1),
                Just(0xec),
                Just(0xed),
                Just(0xee),
                Just(0xef),
                Just(0xf0),
                Just(0xf1),
                Just(0xf3),
                Just(0xf4),
                Just(0xf5),
                0x80u8..=0xff,
            ],
            prop_oneof![
                Just(0x7fu8),
                Just(0x80),
                Just(0x8f),
                Just(0x90),
                Just(0x9f),
                Just(0xa0),
                Just(0xbf),
                Just(0xc0),
            ],
            vec(prop_oneof![Just(0x80u8), Just(0xbf), Just(0x7f), Just(0xc0)], 2),
            0..=2usize,
        )
            .prop_map(|(lead, second, rest, keep)| {
                let mut b = vec![lead, second];
                b.extend_from_slice(&rest[..keep]);
                b
            }),
        1 => (0x80u32..=0x10ffff)
            .prop_filter_map("a char", char::from_u32)
            .prop_map(|c| {
                let mut b = c.to_string().into_bytes();
                b.pop();
                b
            }),
        1 => (0xc2u8..=0xf4, 0x80u8..=0xbf, any::<u8>()).prop_map(|(a, b, c)| vec![a, b, c]),
    ]
}

/// Text bytes: valid UTF-8, or valid text with one odd (mostly invalid) sequence in it.
fn utf8ish() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => valid_text(),
        2 => (valid_text(), odd_utf8(), valid_text()).prop_map(|(a, bad, c)| {
            // Cut the valid text between two characters.
            let mut cut = a.len() / 2;
            while a.get(cut).is_some_and(|&b| b & 0xc0 == 0x80) {
                cut -= 1;
            }
            let mut b = a[..cut].to_vec();
            b.extend_from_slice(&bad);
            b.extend_from_slice(&c[..c.len().min(8)]);
            b
        }),
    ]
}

/// Device id bytes: valid, with a byte outside `[A-Za-z0-9._-]`, or breaking the rule for dots
/// and dashes.
fn device_id_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => device_id().prop_map(String::into_bytes),
        1 => "[a.-]{1,8}".prop_map(String::into_bytes),
        1 => "[A-Za-z0-9._-]{64,70}".prop_map(String::into_bytes),
        1 => (device_id(), any::<u8>(), any::<prop::sample::Index>()).prop_map(|(id, b, at)| {
            let mut id = id.into_bytes();
            let i = at.index(id.len());
            id[i] = b;
            id
        }),
    ]
}

/// A length byte: usually the true length, sometimes near it or any value.
fn length_byte(actual: usize) -> impl Strategy<Value = u8> {
    let actual = actual.min(255) as u8;
    prop_oneof![
        6 => Just(actual),
        2 => (-2i16..=2).prop_map(move |d| (i16::from(actual) + d).clamp(0, 255) as u8),
        1 => prop_oneof![Just(0u8), Just(64), Just(65), Just(255)],
        1 => any::<u8>(),
    ]
}

/// A HELLO payload built field by field, right or wrong in every way docs/protocol.md lists:
/// the lengths, the device id bytes, the firmware's UTF-8, bytes missing or left over.
fn raw_hello() -> impl Strategy<Value = Vec<u8>> {
    (device_id_bytes(), utf8ish(), any::<u8>())
        .prop_flat_map(|(id, firmware, version)| {
            (
                Just(id.clone()),
                Just(firmware.clone()),
                Just(version),
                length_byte(id.len()),
                length_byte(firmware.len()),
                prop_oneof![8 => Just(None), 1 => (0..140usize).prop_map(Some)],
                vec(any::<u8>(), 0..3),
            )
        })
        .prop_map(|(id, firmware, version, id_len, fw_len, cut, tail)| {
            let mut p = vec![version, id_len];
            p.extend_from_slice(&id);
            p.push(fw_len);
            p.extend_from_slice(&firmware);
            if tail.len() == 2 {
                p.extend_from_slice(&tail);
            }
            if let Some(n) = cut {
                p.truncate(n);
            }
            p
        })
}

/// A whole frame (right length prefix) of `message_type` around a payload built field by field:
/// HELLO, HELLO_ACK, HEARTBEAT, GOODBYE and ERROR payloads of right and wrong sizes and
/// contents.
fn structured_frame() -> impl Strategy<Value = Vec<u8>> {
    let payload = prop_oneof![
        4 => raw_hello().prop_map(|p| (0x01u8, p)),
        1 => (vec(any::<u8>(), 5..=9), any::<bool>()).prop_map(|(mut p, zero)| {
            if zero && p.len() >= 7 {
                // An interval of 0, or a max_frame_len below 5.
                if p[0] % 2 == 0 {
                    p[1..3].fill(0);
                } else {
                    p[3..6].fill(0);
                    p[6] %= 6;
                }
            }
            (0x02, p)
        }),
        1 => vec(any::<u8>(), 3..=5).prop_map(|p| (0x03, p)),
        1 => vec(any::<u8>(), 0..=1).prop_map(|p| (0x04, p)),
        1 => vec(any::<u8>(), 0..=2).prop_map(|p| (0x08, p)),
        3 => (vec(any::<u8>(), 0..=2), utf8ish()).prop_map(|(code, text)| {
            let mut p = code;
            if p.len() == 2 {
                p.extend_from_slice(&text);
            }
            (0x7f, p)
        }),
    ];
    (payload, any::<u32>()).prop_map(|((message_type, payload), id)| {
        let mut wire = ((payload.len() + 5) as u32).to_be_bytes().to_vec();
        wire.push(message_type);
        wire.extend_from_slice(&id.to_be_bytes());
        wire.extend_from_slice(&payload);
        wire
    })
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Arbitrary byte strings with any limit: mostly incomplete or too large (a length below 5 needs
/// three zero bytes), but any byte anywhere.
#[test]
fn arbitrary_bytes() {
    let seen = run(
        (vec(any::<u8>(), 0..64), max_frame_len()),
        |(bytes, max)| compare_decode(bytes, *max),
    );
    for verdict in [Verdict::Incomplete, Verdict::Error(Kind::FrameTooLarge)] {
        assert!(
            seen.contains(&verdict),
            "arbitrary bytes never gave {verdict:?}: {seen:?}"
        );
    }
}

/// Bytes shaped like frames: every error kind and incomplete (a valid HELLO is too unlikely
/// to require).
#[test]
fn noisy_frames() {
    let seen = run((noisy_frame(), max_frame_len()), |(bytes, max)| {
        compare_decode(bytes, *max)
    });
    let errors: BTreeSet<Verdict> = every_verdict()
        .into_iter()
        .filter(|v| !matches!(v, Verdict::Frame(_)))
        .collect();
    assert!(
        seen.is_superset(&errors),
        "noisy frames must reach every error kind and incomplete: {seen:?}"
    );
}

/// Payloads built field by field (lengths, device id bytes, UTF-8): both decoders agree on each,
/// and both accept and refuse some of each type.
#[test]
fn structured_payloads() {
    let seen = run(structured_frame(), |wire| {
        compare_decode(wire, DEFAULT_MAX_FRAME_LEN)
    });
    for t in [0x01, 0x02, 0x03, 0x04, 0x08, 0x7f] {
        assert!(
            seen.contains(&Verdict::Frame(t)),
            "no valid 0x{t:02x}: {seen:?}"
        );
    }
    assert!(seen.contains(&Verdict::Error(Kind::Malformed)), "{seen:?}");
}

/// Valid frames of every type, with random fields and lengths near the limit: both encoders
/// give the same bytes (or both refuse with FrameTooLarge), both decoders give the frame back,
/// also with bytes after it.
#[test]
fn valid_frames() {
    let seen = run(
        (frame_and_max(), vec(any::<u8>(), 0..4)),
        |((frame, max), tail)| {
            let refused = compare_encode(frame, *max)?;
            if refused.is_none() {
                let mut wire = encode_frame(frame, *max)
                    .map_err(|e| e.to_string())?
                    .to_vec();
                wire.extend_from_slice(tail);
                let verdict = compare_decode(&wire, *max)?;
                if verdict != Verdict::Frame(frame.message.message_type() as u8) {
                    return Err(format!("{frame:?} decoded as {verdict:?}"));
                }
            }
            Ok((frame.message.message_type() as u8, refused))
        },
    );
    for &t in MessageType::ALL {
        assert!(
            seen.contains(&(t as u8, None)),
            "no valid {t} frame was encoded: {seen:?}"
        );
    }
    for t in [MessageType::Hello, MessageType::Echo, MessageType::Error] {
        assert!(
            seen.contains(&(t as u8, Some(Kind::FrameTooLarge))),
            "no {t} frame was too large: {seen:?}"
        );
    }
}

/// Frames with values the peer must reject: both encoders refuse them as malformed.
#[test]
fn invalid_frames() {
    let seen = run((invalid_frame(), max_frame_len()), |(frame, max)| {
        compare_encode(frame, *max)
    });
    assert_eq!(
        seen,
        BTreeSet::from([Some(Kind::Malformed)]),
        "every invalid frame is malformed, whatever the limit"
    );
}

/// Valid frames with a byte changed, inserted or removed, truncated or extended: every
/// verdict, and agreement on each.
#[test]
fn mutated_frames() {
    let strategy = (frame_and_max(), vec(mutation(), 1..3), max_frame_len());
    let seen = run(strategy, |((frame, encode_max), mutations, max)| {
        // Encode with the frame's own limit when it fits, else with the default one.
        let wire = encode_frame(frame, *encode_max)
            .or_else(|_| encode_frame(frame, u32::MAX))
            .map_err(|e| format!("{frame:?}: {e}"))?;
        let mut wire = wire.to_vec();
        for m in mutations {
            apply(&mut wire, m);
        }
        // Half the time with the default limit, so that mutated lengths stay in range.
        let max = if wire.len() % 2 == 0 {
            DEFAULT_MAX_FRAME_LEN
        } else {
            *max
        };
        compare_decode(&wire, max)
    });
    assert_eq!(
        seen,
        every_verdict(),
        "mutated frames must reach every verdict"
    );
}

/// Frames of the largest size and HELLOs at the `MAX_HELLO_FRAME_LEN` boundary, exactly.
#[test]
fn limits_exactly() {
    let largest_hello = Frame {
        id: 1,
        message: Message::Hello {
            version: 1,
            device_id: "d".repeat(MAX_DEVICE_ID_LEN),
            firmware_version: "f".repeat(MAX_FIRMWARE_LEN),
        },
    };
    assert_eq!(
        compare_encode(&largest_hello, MAX_HELLO_FRAME_LEN),
        Ok(None)
    );
    assert_eq!(
        compare_encode(&largest_hello, MAX_HELLO_FRAME_LEN - 1),
        Ok(Some(Kind::FrameTooLarge))
    );
    for max in [MIN_FRAME_LEN, 6, 4096, 65_536] {
        let room = (max - MIN_FRAME_LEN) as usize;
        for len in [room, room + 1] {
            let data = Frame {
                id: 7,
                message: Message::Data(bytes_from(u64::from(max), len).into()),
            };
            let expected = if len == room {
                None
            } else {
                Some(Kind::FrameTooLarge)
            };
            assert_eq!(
                compare_encode(&data, max),
                Ok(expected),
                "max {max}, len {len}"
            );
        }
    }
    for max in [0, 1, 4] {
        let ack = Frame {
            id: 0,
            message: Message::HeartbeatAck,
        };
        assert_eq!(compare_encode(&ack, max), Ok(Some(Kind::FrameTooLarge)));
    }
}
