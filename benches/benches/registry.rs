//! The session registry (`wasmbed_gateway::registry`): admitting a new device id when the
//! registry is full of offline devices, the per-frame bookkeeping of a session, and queueing
//! DATA when the byte budget is full.
//!
//! Run: `cargo bench -p wasmbed-benches --bench registry`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_main};
use tokio::sync::mpsc;
use wasmbed_gateway::registry::{Command, DeviceInfo, DeviceState, Registry};

/// Offline devices the registry remembers by default (`--max-offline-devices`).
const OFFLINE: usize = wasmbed_gateway::registry::DEFAULT_MAX_OFFLINE_DEVICES;

fn info(id: String) -> DeviceInfo {
    DeviceInfo::new(
        id,
        "1.0.0".into(),
        "127.0.0.1:40000".parse().expect("valid address"),
        "TLSv1_3".into(),
        "TLS13_AES_128_GCM_SHA256".into(),
        None,
    )
}

/// A registry holding `offline` devices that have connected and left, and the command channel
/// receiver to keep the sessions' senders valid.
fn registry(offline: usize, inbound_bytes_limit: usize) -> (Registry, mpsc::Receiver<Command>) {
    let registry = Registry::new(64, inbound_bytes_limit, OFFLINE);
    let (tx, rx) = mpsc::channel(1);
    for n in 0..offline {
        let id = format!("gone-{n:05}");
        let session = registry.register(info(id.clone()), tx.clone()).session_id;
        registry.unregister(&id, session, DeviceState::Disconnected);
    }
    (registry, rx)
}

/// One new id connects and leaves, with the registry at its offline capacity: every admission
/// forgets the longest-gone device.
fn admission(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_admission");
    let (registry, _rx) = registry(OFFLINE, 64 << 20);
    let (tx, _rx2) = mpsc::channel(1);
    let mut n = 0u64;
    group.bench_function("new_id_at_capacity_10000", |b| {
        b.iter(|| {
            n += 1;
            let id = format!("new-{n}");
            let session = registry.register(info(id.clone()), tx.clone()).session_id;
            registry.unregister(black_box(&id), session, DeviceState::Disconnected);
        })
    });
    group.finish();
}

/// What a session does for every frame it reads, with 10,000 offline devices remembered.
fn per_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_frame");
    let (registry, _rx) = registry(OFFLINE, 64 << 20);
    let (tx, _rx2) = mpsc::channel(1);
    let session = registry
        .register(info("live".into()), tx.clone())
        .session_id;
    group.bench_function("seen", |b| {
        b.iter(|| registry.seen(black_box("live"), session))
    });
    group.finish();
}

/// DATA from a live device when the byte budget is full and the 10,000 offline devices hold
/// none: the sender's own oldest message makes room.
fn inbound_at_budget(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_inbound");
    let (registry, _rx) = registry(OFFLINE, 64 * 16);
    let (tx, _rx2) = mpsc::channel(1);
    registry.register(info("live".into()), tx.clone());
    let data = Bytes::from_static(&[0x5a; 16]);
    for _ in 0..64 {
        registry.push_inbound("live", data.clone());
    }
    group.bench_function("push_at_budget_16b", |b| {
        b.iter(|| registry.push_inbound(black_box("live"), data.clone()))
    });
    group.finish();
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(
        benches,
        super::admission,
        super::per_frame,
        super::inbound_at_budget
    );
}
criterion_main!(group::benches);
