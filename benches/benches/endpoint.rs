//! The endpoint parser and mailbox reader: Rust (`wasmbed-endpoint`) against the firmware's C,
//! on the same inputs in the same run, so the ratio between them is the figure to quote.
//!
//! Run: `cargo bench -p wasmbed-benches --bench endpoint`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use wasmbed_endpoint::{Endpoint, MemoryImage};
use wasmbed_zephyr_host::ffi::WasmbedEndpoint;
use wasmbed_zephyr_host::{mailbox_read_into, parse_into};

const INPUTS: &[(&str, &str)] = &[
    ("ipv4", "10.42.0.12:8081"),
    ("ipv6", "[2001:db8:85a3::8a2e:370:7334]:8081"),
    ("dns", "gateway.wasmbed.svc.cluster.local:8081"),
    ("invalid", "10.42.0.256:8081"),
];

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("endpoint_parse");
    let mut out = WasmbedEndpoint::ZEROED;
    for &(name, text) in INPUTS {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("rust", name),
            text.as_bytes(),
            |b, text| b.iter(|| Endpoint::parse_bytes(black_box(text)).is_ok()),
        );
        group.bench_with_input(BenchmarkId::new("c", name), text.as_bytes(), |b, text| {
            b.iter(|| parse_into(black_box(text), &mut out).is_ok())
        });
    }
    group.finish();
}

fn mailbox(c: &mut Criterion) {
    let mut group = c.benchmark_group("mailbox_decode");
    let mut out = WasmbedEndpoint::ZEROED;
    for &(name, text) in &INPUTS[..3] {
        let image = MemoryImage::encode(&text.parse().expect("valid input")).expect("encodes");
        let region = image.as_bytes();
        group.throughput(Throughput::Bytes(region.len() as u64));
        group.bench_with_input(BenchmarkId::new("rust", name), region, |b, region| {
            b.iter(|| MemoryImage::decode(black_box(region)).is_ok())
        });
        group.bench_with_input(BenchmarkId::new("c", name), region, |b, region| {
            b.iter(|| mailbox_read_into(black_box(region), &mut out).is_ok())
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let endpoint: Endpoint = "10.42.0.12:8081".parse().expect("valid input");
    c.bench_function("mailbox_encode/sysbus_lines", |b| {
        b.iter(|| {
            let image = MemoryImage::encode(black_box(&endpoint)).expect("encodes");
            image.sysbus_script(0x2000_1000).expect("aligned base")
        })
    });
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::parse, super::mailbox, super::encode);
}

criterion_main!(group::benches);
