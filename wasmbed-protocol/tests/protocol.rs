//! The device wire protocol codec: the shared vectors in `tests/vectors/frames.txt`, the limits,
//! and properties (round trip, arbitrary input, streams split anywhere).
//!
//! These tests drive the slice codec and `FrameCodec` side by side, so they need the `codec`
//! feature (on by default). Without it the crate is the same slice codec; CI builds it that way
//! and runs the unit and doc tests.
#![cfg(feature = "codec")]

#[path = "support/frames.rs"]
mod frames;

use std::collections::BTreeSet;

use frames::{cases, hex, quote, unhex};

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use proptest::collection::vec;
use proptest::prelude::*;
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Decoder, Encoder, Framed};
use wasmbed_protocol::{
    DEFAULT_MAX_FRAME_LEN, DeviceId, ErrorCode, Frame, FrameCodec, GoodbyeReason,
    LENGTH_PREFIX_LEN, MAX_DEVICE_ID_LEN, MAX_FIRMWARE_LEN, MAX_HELLO_FRAME_LEN, MIN_FRAME_LEN,
    Message, MessageType, PROTOCOL_VERSION, ProtocolError, decode_frame, encode_frame,
};

const MAX: u32 = DEFAULT_MAX_FRAME_LEN;
const MAX_PAYLOAD: usize = MAX as usize - MIN_FRAME_LEN as usize;

// ---------------------------------------------------------------------------------------------
// The shared vectors

/// The vectors' text form of a frame (described in the header of `frames.txt`).
fn canonical(frame: &Frame) -> String {
    let id = frame.id;
    let name = frame.message.message_type().as_str();
    match &frame.message {
        Message::Hello {
            version,
            device_id,
            firmware_version,
        } => format!(
            "{name} id={id} version={version} device_id={} firmware={}",
            quote(device_id.as_bytes()),
            quote(firmware_version.as_bytes())
        ),
        Message::HelloAck {
            version,
            heartbeat_interval_secs,
            max_frame_len,
        } => format!(
            "{name} id={id} version={version} heartbeat_interval_secs={heartbeat_interval_secs} max_frame_len={max_frame_len}"
        ),
        Message::Heartbeat { uptime_ms } => format!("{name} id={id} uptime_ms={uptime_ms}"),
        Message::HeartbeatAck => format!("{name} id={id}"),
        Message::Echo(b) | Message::EchoReply(b) | Message::Data(b) => {
            format!("{name} id={id} payload={}", hex(b))
        }
        Message::Goodbye { reason } => format!("{name} id={id} reason={}", reason.to_u8()),
        Message::Error { code, message } => format!(
            "{name} id={id} code={} message={}",
            code.to_u16(),
            quote(message.as_bytes())
        ),
        other => panic!("no text form for {other:?}"),
    }
}

fn error_name(e: &ProtocolError) -> &'static str {
    match e {
        ProtocolError::FrameTooShort { .. } => "FrameTooShort",
        ProtocolError::FrameTooLarge { .. } => "FrameTooLarge",
        ProtocolError::UnknownType { .. } => "UnknownType",
        ProtocolError::Malformed { .. } => "Malformed",
        ProtocolError::Io(_) => "Io",
        other => panic!("no name for {other:?}"),
    }
}

fn outcome<T>(result: &Result<Option<T>, ProtocolError>, frame: impl Fn(&T) -> &Frame) -> String {
    match result {
        Ok(Some(t)) => format!("ok {}", canonical(frame(t))),
        Ok(None) => "incomplete".to_string(),
        Err(e) => format!("err {}", error_name(e)),
    }
}

#[test]
fn vectors_decode_frame() {
    let mut types = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for case in cases() {
        let result = decode_frame(&case.input, MAX);
        let got = outcome(&result, |(frame, _)| frame);
        assert_eq!(
            got, case.expected,
            "frames.txt line {} ({})",
            case.line, case.name
        );
        match result {
            Ok(Some((frame, used))) => {
                types.insert(frame.message.message_type() as u8);
                let encoded = encode_frame(&frame, MAX).unwrap();
                assert_eq!(
                    &encoded[..],
                    &case.input[..used],
                    "{}: re-encoded",
                    case.name
                );
            }
            Ok(None) => {
                kinds.insert("incomplete");
            }
            Err(e) => {
                kinds.insert(error_name(&e));
            }
        }
    }
    assert_eq!(
        types.len(),
        MessageType::ALL.len(),
        "every message type has a valid vector"
    );
    let all: BTreeSet<_> = [
        "FrameTooShort",
        "FrameTooLarge",
        "UnknownType",
        "Malformed",
        "incomplete",
    ]
    .into();
    assert_eq!(kinds, all, "every error kind and incomplete have vectors");
}

#[test]
fn vectors_codec() {
    for case in cases() {
        // All input at once.
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::from(&case.input[..]);
        let capacity = buf.capacity();
        let result = codec.decode(&mut buf);
        assert_eq!(
            outcome(&result, |f| f),
            case.expected,
            "frames.txt line {} ({})",
            case.line,
            case.name
        );
        match &result {
            Ok(Some(frame)) => {
                let used = encode_frame(frame, MAX).unwrap().len();
                assert_eq!(&buf[..], &case.input[used..], "{}: rest", case.name);
            }
            Err(ProtocolError::FrameTooShort { .. } | ProtocolError::FrameTooLarge { .. }) => {
                assert_eq!(&buf[..], &case.input[..], "{}: untouched", case.name);
                assert_eq!(buf.capacity(), capacity, "{}: reserved memory", case.name);
            }
            _ => {}
        }

        // One byte at a time: nothing until the whole-input outcome, then that outcome.
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::new();
        let mut got = "incomplete".to_string();
        for &b in &case.input {
            buf.extend_from_slice(&[b]);
            let result = codec.decode(&mut buf);
            if !matches!(result, Ok(None)) {
                got = outcome(&result, |f| f);
                break;
            }
        }
        assert_eq!(got, case.expected, "{}: byte by byte", case.name);
    }
}

// ---------------------------------------------------------------------------------------------
// Limits and errors

#[test]
fn length_is_checked_before_reserving() {
    let mut codec = FrameCodec::default();
    for prefix in [u32::MAX, 0x8000_0000, MAX + 1, 0, 4] {
        let mut buf = BytesMut::from(&prefix.to_be_bytes()[..]);
        let capacity = buf.capacity();
        let err = codec.decode(&mut buf).unwrap_err();
        assert_eq!(buf.capacity(), capacity, "length {prefix:#x}");
        assert_eq!(buf.len(), 4, "length {prefix:#x}");
        match err {
            ProtocolError::FrameTooLarge { len, max } => {
                assert_eq!((len, max), (prefix, MAX));
            }
            ProtocolError::FrameTooShort { len } => assert_eq!(len, prefix),
            other => panic!("length {prefix:#x}: {other:?}"),
        }
    }

    // A valid length: the decoder reserves room for the frame, and not more than twice it.
    let mut buf = BytesMut::from(&MAX.to_be_bytes()[..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    let frame_size = LENGTH_PREFIX_LEN + MAX as usize;
    assert!(buf.capacity() >= frame_size, "{}", buf.capacity());
    assert!(buf.capacity() <= 2 * frame_size, "{}", buf.capacity());

    // A smaller limit applies to both directions.
    let mut small = FrameCodec::new(MAX_HELLO_FRAME_LEN);
    assert_eq!(small.max_frame_len(), 136);
    let data = |n: usize| Frame {
        id: 1,
        message: Message::Data(Bytes::from(vec![0; n])),
    };
    let fits = data(MAX_HELLO_FRAME_LEN as usize - 5);
    let mut buf = BytesMut::new();
    small.encode(&fits, &mut buf).unwrap();
    assert_eq!(small.decode(&mut buf).unwrap(), Some(fits));
    let too_big = data(MAX_HELLO_FRAME_LEN as usize - 4);
    assert!(matches!(
        small.encode(&too_big, &mut buf),
        Err(ProtocolError::FrameTooLarge { len: 137, max: 136 })
    ));
    assert!(buf.is_empty());
    let wire = encode_frame(&too_big, MAX).unwrap();
    assert!(matches!(
        decode_frame(&wire, MAX_HELLO_FRAME_LEN),
        Err(ProtocolError::FrameTooLarge { len: 137, max: 136 })
    ));
}

#[test]
fn largest_hello_fits_max_hello_frame_len() {
    let frame = Frame {
        id: 0,
        message: Message::Hello {
            version: PROTOCOL_VERSION,
            device_id: "d".repeat(MAX_DEVICE_ID_LEN),
            firmware_version: "f".repeat(MAX_FIRMWARE_LEN),
        },
    };
    let wire = encode_frame(&frame, MAX_HELLO_FRAME_LEN).unwrap();
    assert_eq!(wire.len(), LENGTH_PREFIX_LEN + MAX_HELLO_FRAME_LEN as usize);
}

#[test]
fn encoding_refuses_what_the_peer_must_reject() {
    let hello = |device_id: &str, firmware_version: &str| Message::Hello {
        version: PROTOCOL_VERSION,
        device_id: device_id.to_string(),
        firmware_version: firmware_version.to_string(),
    };
    let ack = |heartbeat_interval_secs, max_frame_len| Message::HelloAck {
        version: PROTOCOL_VERSION,
        heartbeat_interval_secs,
        max_frame_len,
    };
    let long_id = "a".repeat(MAX_DEVICE_ID_LEN + 1);
    let long_fw = "€".repeat(22); // 66 bytes, 22 characters
    let cases = [
        (hello("", "1"), ErrorCode::InvalidDeviceId),
        (hello(&long_id, "1"), ErrorCode::InvalidDeviceId),
        (hello("dev 1", "1"), ErrorCode::InvalidDeviceId),
        (hello("dév", "1"), ErrorCode::InvalidDeviceId),
        (hello("dev/1", "1"), ErrorCode::InvalidDeviceId),
        (hello("-x", "1"), ErrorCode::InvalidDeviceId),
        (hello(".x", "1"), ErrorCode::InvalidDeviceId),
        (hello("a..b", "1"), ErrorCode::InvalidDeviceId),
        (hello("dev", &long_fw), ErrorCode::MalformedFrame),
        (ack(0, MAX), ErrorCode::MalformedFrame),
        (ack(30, 4), ErrorCode::MalformedFrame),
        (ack(30, 0), ErrorCode::MalformedFrame),
        (
            Message::Echo(Bytes::from(vec![0; MAX_PAYLOAD + 1])),
            ErrorCode::FrameTooLarge,
        ),
        (
            Message::Error {
                code: ErrorCode::Internal,
                message: "x".repeat(MAX_PAYLOAD - 1),
            },
            ErrorCode::FrameTooLarge,
        ),
    ];
    for (message, code) in cases {
        let frame = Frame { id: 9, message };
        let err = encode_frame(&frame, MAX).unwrap_err();
        assert_eq!(err.error_code(), code, "{frame:?}: {err}");
        if code != ErrorCode::FrameTooLarge {
            assert_eq!(err.frame_id(), Some(9));
            assert_eq!(err.kind(), "malformed");
        }
        // The codec writes nothing.
        let mut buf = BytesMut::from(&b"before"[..]);
        assert!(FrameCodec::default().encode(frame, &mut buf).is_err());
        assert_eq!(&buf[..], b"before");
    }
    assert!(matches!(
        encode_frame(
            &Frame {
                id: 0,
                message: Message::Data(Bytes::from(vec![0; MAX_PAYLOAD + 1])),
            },
            MAX
        ),
        Err(ProtocolError::FrameTooLarge {
            len: 4097,
            max: 4096
        })
    ));
    // Versions other than PROTOCOL_VERSION are the session's business, not the codec's.
    let other_version = Frame {
        id: 0,
        message: Message::Hello {
            version: 2,
            device_id: "dev".into(),
            firmware_version: String::new(),
        },
    };
    assert!(encode_frame(&other_version, MAX).is_ok());
}

fn decode_err(hex: &str) -> ProtocolError {
    decode_frame(&unhex(hex), MAX).unwrap_err()
}

#[test]
fn decoding_errors_say_what_to_answer() {
    // (frame, error_code, kind, frame_id, Display)
    let cases = [
        (
            "00000000",
            ErrorCode::MalformedFrame,
            "frame_too_short",
            None,
            "frame length 0 is below the minimum of 5 bytes (message type and id)",
        ),
        (
            "ffffffff",
            ErrorCode::FrameTooLarge,
            "frame_too_large",
            None,
            "frame length 4294967295 is above the maximum of 4096 bytes",
        ),
        (
            "00000005ff0000002a",
            ErrorCode::MalformedFrame,
            "unknown_type",
            Some(42),
            "unknown message type 0xff in frame 42",
        ),
        (
            "000000080300000007000000",
            ErrorCode::MalformedFrame,
            "malformed",
            Some(7),
            "malformed heartbeat frame 7: payload is not exactly 4 bytes",
        ),
        (
            "0000000b0100000003010361206200",
            ErrorCode::InvalidDeviceId,
            "malformed",
            Some(3),
            "malformed hello frame 3: device id has a byte outside [A-Za-z0-9._-]",
        ),
        (
            "00000009010000000301000000",
            ErrorCode::InvalidDeviceId,
            "malformed",
            Some(3),
            "malformed hello frame 3: device id is empty",
        ),
        (
            "0000000a010000000301022d7800",
            ErrorCode::InvalidDeviceId,
            "malformed",
            Some(3),
            "malformed hello frame 3: device id starts with '.' or '-'",
        ),
        (
            "0000000c01000000030104612e2e6200",
            ErrorCode::InvalidDeviceId,
            "malformed",
            Some(3),
            "malformed hello frame 3: device id contains \"..\"",
        ),
        (
            "000000080100000003010561",
            ErrorCode::MalformedFrame,
            "malformed",
            Some(3),
            "malformed hello frame 3: payload ends inside the device id",
        ),
    ];
    for (hex, code, kind, id, display) in cases {
        let err = decode_err(hex);
        assert_eq!(err.error_code(), code, "{hex}");
        assert_eq!(err.kind(), kind, "{hex}");
        assert_eq!(err.frame_id(), id, "{hex}");
        assert_eq!(err.to_string(), display, "{hex}");
    }
    let io = ProtocolError::from(std::io::Error::other("boom"));
    assert_eq!(
        (io.error_code(), io.kind(), io.frame_id()),
        (ErrorCode::Internal, "io", None)
    );
}

#[test]
fn end_of_stream_inside_a_frame() {
    let mut codec = FrameCodec::default();
    assert!(codec.decode_eof(&mut BytesMut::new()).unwrap().is_none());
    for (partial, detail) in [
        (&b"\x00\x00"[..], "after 2 of the 4 length bytes"),
        (&b"\x00\x00\x00\x09\x03\x00"[..], "after 6 of the 13 bytes"),
    ] {
        let err = codec.decode_eof(&mut BytesMut::from(partial)).unwrap_err();
        let ProtocolError::Io(io) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(io.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(io.to_string().ends_with(detail), "{io}");
        assert!(
            !err.to_string().contains(detail),
            "the cause is printed once: {err}"
        );
    }
    // A whole frame at end of stream is still a frame.
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x05\x04\x00\x00\x00\x01"[..]);
    assert_eq!(
        codec.decode_eof(&mut buf).unwrap(),
        Some(Frame {
            id: 1,
            message: Message::HeartbeatAck
        })
    );
}

#[test]
fn numbered_values() {
    let names: Vec<&str> = MessageType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        names,
        [
            "hello",
            "hello_ack",
            "heartbeat",
            "heartbeat_ack",
            "echo",
            "echo_reply",
            "data",
            "goodbye",
            "error"
        ]
    );
    let known: Vec<u8> = MessageType::ALL.iter().map(|&t| t as u8).collect();
    assert_eq!(known, [1, 2, 3, 4, 5, 6, 7, 8, 0x7f]);
    for b in 0..=u8::MAX {
        match MessageType::from_u8(b) {
            Some(t) => assert_eq!(t as u8, b),
            None => assert!(!known.contains(&b)),
        }
        let reason = GoodbyeReason::from_u8(b);
        assert_eq!(reason.to_u8(), b);
        assert_eq!(matches!(reason, GoodbyeReason::Other(_)), b > 5);
    }
    for v in 0..=u16::MAX {
        let code = ErrorCode::from_u16(v);
        assert_eq!(code.to_u16(), v);
        assert_eq!(matches!(code, ErrorCode::Other(_)), v == 0 || v > 9);
    }
    assert_eq!(GoodbyeReason::TakenOver.to_u8(), 2);
    assert_eq!(ErrorCode::DeviceIdMismatch.to_u16(), 6);
}

#[tokio::test]
async fn framed_over_a_byte_stream() {
    // A 7-byte pipe: every frame crosses several reads.
    let (left, right) = tokio::io::duplex(7);
    let mut device = Framed::new(left, FrameCodec::default());
    let mut gateway = Framed::new(right, FrameCodec::default());
    let frames = vec![
        Frame {
            id: 1,
            message: Message::Hello {
                version: PROTOCOL_VERSION,
                device_id: "dev-01".into(),
                firmware_version: "1.0.0".into(),
            },
        },
        Frame {
            id: 2,
            message: Message::Heartbeat { uptime_ms: 1000 },
        },
        Frame {
            id: 3,
            message: Message::Data(Bytes::from(vec![7; MAX_PAYLOAD])),
        },
    ];
    let sent = frames.clone();
    let writer = tokio::spawn(async move {
        for frame in &sent {
            device.send(frame).await.unwrap();
        }
        // A frame the gateway must reject is not sent at all.
        let bad = Frame {
            id: 4,
            message: Message::Data(Bytes::from(vec![0; MAX_PAYLOAD + 1])),
        };
        assert!(device.send(bad).await.is_err());
        // Then half a frame, and the connection closes.
        let mut io = device.into_inner();
        io.write_all(b"\x00\x00\x00\x09\x03").await.unwrap();
    });
    let mut received = Vec::new();
    let end = loop {
        match gateway.next().await {
            Some(Ok(frame)) => received.push(frame),
            Some(Err(e)) => break e,
            None => panic!("stream ended without an error"),
        }
    };
    writer.await.unwrap();
    assert_eq!(received, frames);
    assert!(
        matches!(&end, ProtocolError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{end:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Properties

fn firmware() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..=MAX_FIRMWARE_LEN).prop_map(|chars| {
        let mut s = String::new();
        for c in chars {
            if s.len() + c.len_utf8() > MAX_FIRMWARE_LEN {
                break;
            }
            s.push(c);
        }
        s
    })
}

fn payload(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

/// Valid device ids: every byte class, `.` and `-` inside and at the end.
fn device_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._-]{1,64}".prop_filter("the DeviceId rule", |id| DeviceId::new(id).is_ok())
}

/// Valid messages whose frames fit `max_frame_len` 4096 when `max_payload <= 4091`.
fn message(max_payload: usize) -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<u8>(), device_id(), firmware()).prop_map(
            |(version, device_id, firmware_version)| Message::Hello {
                version,
                device_id,
                firmware_version,
            }
        ),
        (any::<u8>(), 1..=u16::MAX, MIN_FRAME_LEN..=u32::MAX).prop_map(
            |(version, heartbeat_interval_secs, max_frame_len)| Message::HelloAck {
                version,
                heartbeat_interval_secs,
                max_frame_len,
            }
        ),
        any::<u32>().prop_map(|uptime_ms| Message::Heartbeat { uptime_ms }),
        Just(Message::HeartbeatAck),
        payload(max_payload).prop_map(Message::Echo),
        payload(max_payload).prop_map(Message::EchoReply),
        payload(max_payload).prop_map(Message::Data),
        any::<u8>().prop_map(|b| Message::Goodbye {
            reason: GoodbyeReason::from_u8(b)
        }),
        (any::<u16>(), vec(any::<char>(), 0..100)).prop_map(|(code, chars)| Message::Error {
            code: ErrorCode::from_u16(code),
            message: chars.into_iter().collect(),
        }),
    ]
}

fn frame(max_payload: usize) -> impl Strategy<Value = Frame> {
    (any::<u32>(), message(max_payload)).prop_map(|(id, message)| Frame { id, message })
}

/// Bytes that look like a frame to a decoder with this `max_frame_len`: a length that is often
/// in range or near it, a type byte that is often known, and a body that often has the size
/// the length announces.
fn noisy_frame(max: u32) -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![0..=max.saturating_add(3), Just(u32::MAX), any::<u32>()],
        prop_oneof![1u8..=8, Just(0x7f), any::<u8>()],
        any::<u32>(),
        vec(any::<u8>(), 0..80),
        any::<bool>(),
    )
        .prop_map(|(len, message_type, id, mut body, exact)| {
            if exact {
                body.resize((len as usize).saturating_sub(5).min(600), 0);
            }
            let mut wire = len.to_be_bytes().to_vec();
            wire.push(message_type);
            wire.extend_from_slice(&id.to_be_bytes());
            wire.extend_from_slice(&body);
            wire
        })
}

/// A byte stream for a decoder with this `max_frame_len`: valid frames, noisy frames and
/// random bytes.
fn stream(max: u32) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        frame(40).prop_map(move |f| encode_frame(&f, max).map_or_else(|_| vec![], |b| b.to_vec())),
        noisy_frame(max),
        vec(any::<u8>(), 0..16),
    ];
    vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

/// Decodes frames from `chunks` fed one after the other, until the first error; returns the
/// frames and the error's kind, if any.
fn decode_stream<'a>(
    codec: &mut FrameCodec,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Frame>, Option<&'static str>) {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => return (frames, Some(e.kind())),
            }
        }
    }
    (frames, None)
}

proptest! {
    #[test]
    fn round_trip(frame in frame(MAX_PAYLOAD)) {
        let wire = encode_frame(&frame, MAX).unwrap();
        prop_assert_eq!(
            wire.len(),
            LENGTH_PREFIX_LEN + u32::from_be_bytes(wire[..4].try_into().unwrap()) as usize
        );
        let (decoded, used) = decode_frame(&wire, MAX).unwrap().unwrap();
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(&decoded, &frame);

        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::new();
        codec.encode(&frame, &mut buf).unwrap();
        prop_assert_eq!(&buf[..], &wire[..]);
        prop_assert_eq!(codec.decode(&mut buf).unwrap(), Some(frame));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn arbitrary_bytes(
        (max, bytes) in prop_oneof![Just(MAX), MIN_FRAME_LEN..300].prop_flat_map(|max| {
            (Just(max), prop_oneof![vec(any::<u8>(), 0..600), stream(max)])
        }),
        chunk in 1usize..64,
    ) {
        // The slice decoder: an outcome, no panic; a frame never longer than max.
        if let Ok(Some((frame, used))) = decode_frame(&bytes, max) {
            prop_assert!(used <= LENGTH_PREFIX_LEN + max as usize);
            prop_assert_eq!(&encode_frame(&frame, max).unwrap()[..], &bytes[..used]);
        }

        // The codec, fed in chunks. Before each call the buffer is copied into one without
        // spare room, so what the decoder reserves shows in its capacity: never anything for
        // a length it refuses, and never more than a whole frame (Vec's growth may double it).
        let mut codec = FrameCodec::new(max);
        let mut received = Vec::new();
        'feed: for piece in bytes.chunks(chunk) {
            received.extend_from_slice(piece);
            loop {
                let mut buf = BytesMut::from(&received[..]);
                let (len, capacity) = (buf.len(), buf.capacity());
                let result = codec.decode(&mut buf);
                prop_assert!(
                    buf.capacity() <= capacity.max(2 * (LENGTH_PREFIX_LEN + max as usize)),
                    "capacity {} after {:?}", buf.capacity(), result
                );
                match result {
                    Ok(Some(_)) => received = buf.to_vec(),
                    Ok(None) => break,
                    Err(ProtocolError::FrameTooShort { .. } | ProtocolError::FrameTooLarge { .. }) => {
                        prop_assert_eq!((buf.len(), buf.capacity()), (len, capacity));
                        break 'feed;
                    }
                    Err(_) => break 'feed,
                }
            }
        }
    }

    #[test]
    fn split_streams_decode_like_whole_ones(
        frames in vec(frame(40), 0..6),
        tail in stream(MAX),
    ) {
        let mut stream = Vec::new();
        for frame in &frames {
            stream.extend_from_slice(&encode_frame(frame, MAX).unwrap());
        }
        stream.extend_from_slice(&tail);

        let whole = decode_stream(&mut FrameCodec::default(), [&stream[..]]);
        prop_assert_eq!(&whole.0[..frames.len()], &frames[..]);
        // The slice decoder agrees with the codec.
        let mut rest = &stream[..];
        let mut sliced = Vec::new();
        let sliced_end = loop {
            match decode_frame(rest, MAX) {
                Ok(Some((frame, used))) => {
                    sliced.push(frame);
                    rest = &rest[used..];
                }
                Ok(None) => break None,
                Err(e) => break Some(e.kind()),
            }
        };
        prop_assert_eq!(&(sliced, sliced_end), &whole);
        for at in 0..=stream.len() {
            let (a, b) = stream.split_at(at);
            let split = decode_stream(&mut FrameCodec::default(), [a, b]);
            prop_assert_eq!(&split, &whole, "split at {}", at);
        }
        let bytewise = decode_stream(&mut FrameCodec::default(), stream.chunks(1));
        prop_assert_eq!(&bytewise, &whole);
    }

    /// The codec accepts a HELLO exactly when its id follows the `DeviceId` rule, and answers
    /// any other id with ERROR(invalid_device_id).
    #[test]
    fn hello_ids_follow_the_device_id_rule(id in prop_oneof![
        "[A-Za-z0-9._-]{1,64}",
        "[.-]?[a.-]{0,6}",
        "[ -~]{0,8}",
    ]) {
        let mut wire = vec![0, 0, 0, 0, 1, 0, 0, 0, 5, PROTOCOL_VERSION, id.len() as u8];
        wire.extend_from_slice(id.as_bytes());
        wire.push(0);
        let len = u32::try_from(wire.len() - LENGTH_PREFIX_LEN).unwrap();
        wire[..4].copy_from_slice(&len.to_be_bytes());
        match (DeviceId::new(&id), decode_frame(&wire, MAX)) {
            (Ok(valid), Ok(Some((frame, _)))) => prop_assert_eq!(
                frame.message,
                Message::Hello {
                    version: PROTOCOL_VERSION,
                    device_id: valid.into_string(),
                    firmware_version: String::new(),
                }
            ),
            (Err(_), Err(e)) => prop_assert_eq!(e.error_code(), ErrorCode::InvalidDeviceId),
            (rule, codec) => prop_assert!(false, "{id:?}: rule {rule:?}, codec {codec:?}"),
        }
    }
}
