//! The session registry (`wasmbed_server::registry`): admitting a new device id when the
//! registry is full of offline devices, the per-frame bookkeeping of a session, and queueing
//! DATA when the byte budget is full; and binding a device id to its client certificate
//! (`wasmbed_server::binding`), which a device's first connection with a certificate waits for.
//!
//! Run: `cargo bench -p wasmbed-benches --bench registry`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, criterion_main};
use wasmbed_server::binding::{BINDINGS_FILE, Binding, DeviceBindings};
use wasmbed_server::registry::{DeviceInfo, DeviceState, Registration, Registry};
use wasmbed_server::{CipherSuite, GatewayConfig, TlsVersion};

/// Offline devices the registry remembers by default (`--max-offline-devices`).
const OFFLINE: usize = wasmbed_server::config::DEFAULT_MAX_OFFLINE_DEVICES;

fn info(id: String) -> DeviceInfo {
    DeviceInfo::new(
        id,
        "1.0.0".into(),
        "127.0.0.1:40000".parse().expect("valid address"),
        TlsVersion::Tls13,
        CipherSuite::new("TLS13_AES_128_GCM_SHA256"),
        None,
    )
}

/// A registry holding `offline` devices that have connected and left.
fn registry(offline: usize, inbound_bytes_limit: usize) -> Registry {
    let registry = Registry::new(
        &GatewayConfig::default()
            .with_inbound_queue_len(64)
            .with_inbound_bytes_limit(inbound_bytes_limit)
            .with_max_offline_devices(OFFLINE),
    );
    for n in 0..offline {
        let id = format!("gone-{n:05}");
        let session = registry.internal_register(info(id.clone())).session_id;
        registry.internal_unregister(&id, session, DeviceState::Disconnected);
    }
    registry
}

/// One new id connects and leaves, with the registry at its offline capacity: every admission
/// forgets the longest-gone device.
fn admission(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_admission");
    let registry = registry(OFFLINE, 64 << 20);
    let mut n = 0u64;
    group.bench_function("new_id_at_capacity_10000", |b| {
        b.iter(|| {
            n += 1;
            let id = format!("new-{n}");
            let session = registry.internal_register(info(id.clone())).session_id;
            registry.internal_unregister(black_box(&id), session, DeviceState::Disconnected);
        })
    });
    group.finish();
}

/// What a session does for every frame it reads, with 10,000 offline devices remembered.
fn per_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_frame");
    let registry = registry(OFFLINE, 64 << 20);
    let session = registry.internal_register(info("live".into())).session_id;
    group.bench_function("seen", |b| {
        b.iter(|| registry.internal_seen(black_box("live"), session))
    });
    group.finish();
}

/// DATA from a live device when the byte budget is full and the 10,000 offline devices hold
/// none: the sender's own oldest message makes room.
fn inbound_at_budget(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_inbound");
    let registry = registry(OFFLINE, 64 * 16);
    // Kept so that the session stays registered as live for the whole benchmark.
    let _live: Registration = registry.internal_register(info("live".into()));
    let data = Bytes::from_static(&[0x5a; 16]);
    for _ in 0..64 {
        registry.internal_push_inbound("live", data.clone());
    }
    group.bench_function("push_at_budget_16b", |b| {
        b.iter(|| registry.internal_push_inbound(black_box("live"), data.clone()))
    });
    group.finish();
}

/// Ids already bound when a new one is: a fleet of this many certified devices.
const BOUND: usize = 1_000;

/// A state directory whose binding file holds [`BOUND`] ids.
fn state_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines: Vec<String> = (0..BOUND)
        .map(|n| {
            format!(
                r#"{{"device_id":"sensor-{n:05}","issuer":"CN=wasmbed device CA","serial":"01:02:03:04:05:06:07:08","first_bound":"2026-01-01T00:00:00Z"}}"#
            )
        })
        .collect();
    let text = format!(
        "{{\"format\":\"wasmbed-device-bindings\",\"version\":1,\n  \"bindings\": [\n    {}\n  ]\n}}\n",
        lines.join(",\n    ")
    );
    std::fs::write(dir.path().join(BINDINGS_FILE), text).expect("writable");
    dir
}

fn binding(id: &str) -> Binding {
    Binding::new(
        id.into(),
        "CN=wasmbed device CA".into(),
        "01:02:03:04:05:06:07:08".into(),
    )
}

/// A device's first connection with a certificate: the binding file (here in the system's
/// temporary directory) is rewritten and synced before HELLO_ACK. A known id costs a lookup.
fn bind(c: &mut Criterion) {
    let mut group = c.benchmark_group("device_binding");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    group.bench_function("first_bind_with_1000_bound", |b| {
        b.iter_batched(
            || {
                let dir = state_dir();
                let set = DeviceBindings::open(dir.path()).expect("a valid file");
                (dir, set)
            },
            |(dir, set)| {
                runtime
                    .block_on(set.bind(binding("new-device")))
                    .expect("written");
                dir
            },
            BatchSize::PerIteration,
        )
    });
    let dir = state_dir();
    let set = DeviceBindings::open(dir.path()).expect("a valid file");
    group.bench_function("known_id", |b| {
        b.iter(|| runtime.block_on(set.bind(binding(black_box("sensor-00500")))))
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
        super::inbound_at_budget,
        super::bind
    );
}
criterion_main!(group::benches);
