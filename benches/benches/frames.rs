//! The device wire protocol's codec (`wasmbed_protocol`): encoding and decoding one
//! frame, for the messages a session carries most.
//!
//! Run: `cargo bench -p wasmbed-benches --bench frames`

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use tokio_util::codec::{Decoder, Encoder};
use wasmbed_protocol::{Frame, FrameCodec, Message, PROTOCOL_VERSION, encode_frame};

/// Large enough for the 16 KiB DATA frame.
const MAX_FRAME_LEN: u32 = 64 * 1024;

fn frames() -> Vec<(&'static str, Frame)> {
    let frame = |id, message| Frame { id, message };
    vec![
        (
            "hello",
            frame(
                1,
                Message::Hello {
                    version: PROTOCOL_VERSION,
                    device_id: "sensor-0042".into(),
                    firmware_version: "1.4.2".into(),
                },
            ),
        ),
        (
            "heartbeat",
            frame(7, Message::Heartbeat { uptime_ms: 123_456 }),
        ),
        (
            "echo_64",
            frame(8, Message::Echo(Bytes::from(vec![0xa5; 64]))),
        ),
        (
            "data_1k",
            frame(9, Message::Data(Bytes::from(vec![0x5a; 1024]))),
        ),
        (
            "data_16k",
            frame(10, Message::Data(Bytes::from(vec![0x5a; 16 * 1024]))),
        ),
    ]
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_encode");
    let mut codec = FrameCodec::new(MAX_FRAME_LEN);
    let mut buf = BytesMut::with_capacity(MAX_FRAME_LEN as usize + 4);
    for (name, frame) in frames() {
        let len = encode_frame(&frame, MAX_FRAME_LEN)
            .expect("valid frame")
            .len();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &frame, |b, frame| {
            b.iter(|| {
                buf.clear();
                codec
                    .encode(black_box(frame), &mut buf)
                    .expect("valid frame");
                buf.len()
            })
        });
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_decode");
    let mut codec = FrameCodec::new(MAX_FRAME_LEN);
    for (name, frame) in frames() {
        let wire = encode_frame(&frame, MAX_FRAME_LEN).expect("valid frame");
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &wire, |b, wire| {
            b.iter_batched_ref(
                || BytesMut::from(&wire[..]),
                |buf| {
                    let decoded = codec.decode(black_box(buf)).expect("valid frame");
                    assert!(decoded.is_some(), "a whole frame decodes");
                    decoded
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::encode, super::decode);
}

criterion_main!(group::benches);
