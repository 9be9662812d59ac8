//! Echo round trips (64 B and 1 KiB) and one-stream bulk DATA (1 MiB in 16 KiB frames)
//! through the gateway, beside two baselines, in one run:
//!
//! * `plain_tcp`: a frame server with the gateway's codec over plain TCP;
//! * `tls_baseline`: the same server over TLS 1.3 with the gateway's `ServerConfig`;
//! * `gateway_tls`: the gateway itself (`wasmbed_server::Gateway`), over TLS 1.3.
//!
//! Same frames, sizes, socket options (`TCP_NODELAY`) and thread layout for all three: each
//! server on one thread of its own runtime, the device on the benchmark thread. So
//! `tls_baseline − plain_tcp` is what TLS adds, and `gateway_tls − tls_baseline` what the
//! gateway's session handling (registry, metrics, liveness) adds.
//!
//! A bulk iteration sends 1 MiB of DATA frames and then an ECHO; the ECHO_REPLY comes back
//! only after the server has read every DATA frame before it.
//!
//! Besides criterion's estimates, a bench run (`--bench`, not `--test`) times every echo
//! round trip and writes the percentiles to `<criterion dir>/echo/latency.json`
//! (`{"64": {"plain_tcp": {"p50_us": ..}, ..}, ..}`), which `bench-report` reads for the
//! p50/p99 figures.
//!
//! Run: `cargo bench -p wasmbed-benches --bench echo`

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use tokio::runtime::Runtime;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use wasmbed_benches::device::{AnyDevice, Device, Io};
use wasmbed_benches::fixture::{Pki, ServerKey, TlsVersion, server_name};
use wasmbed_benches::latency::Latencies;
use wasmbed_benches::server::{self, Baseline, Running};
use wasmbed_benches::{net, report};
use wasmbed_protocol::Message;

/// Echo payload sizes in bytes.
const ECHO_SIZES: [usize; 2] = [64, 1024];
/// Bytes one bulk iteration sends.
const BULK_BYTES: usize = 1 << 20;
/// DATA payload per bulk frame: one full TLS record's worth.
const BULK_FRAME_PAYLOAD: usize = 16 * 1024;
/// Frame limit on every server and device: room for the bulk frames.
const MAX_FRAME_LEN: u32 = 64 * 1024;

struct Target {
    name: &'static str,
    _server: Running,
    device: AnyDevice,
}

async fn device(addr: SocketAddr, tls: Option<Arc<ClientConfig>>, id: &str) -> AnyDevice {
    let tcp = net::connect(addr, None, true)
        .await
        .expect("the server accepts");
    let stream: Box<dyn Io> = match tls {
        None => Box::new(tcp),
        Some(config) => Box::new(
            TlsConnector::from(config)
                .connect(server_name(), tcp)
                .await
                .expect("the TLS handshake succeeds"),
        ),
    };
    Device::hello(stream, id, MAX_FRAME_LEN)
        .await
        .expect("HELLO is answered")
}

fn targets(rt: &Runtime) -> Vec<Target> {
    let pki = Pki::generate(ServerKey::EcdsaP256).expect("certificates generate");
    let tls = pki.server_config().expect("server config");
    let client = pki
        .client_config(TlsVersion::Tls13, false)
        .expect("client config");
    let servers = [
        (
            "plain_tcp",
            server::baseline(Baseline::PlainTcp, MAX_FRAME_LEN, 1),
            None,
        ),
        (
            "tls_baseline",
            server::baseline(Baseline::Tls(tls.clone()), MAX_FRAME_LEN, 1),
            Some(client.clone()),
        ),
        (
            "gateway_tls",
            server::gateway(server::bench_config(MAX_FRAME_LEN), tls, 1),
            Some(client),
        ),
    ];
    servers
        .into_iter()
        .map(|(name, server, tls)| {
            let server = server.expect("the server starts");
            let device = rt.block_on(device(server.addr(), tls, "bench-device"));
            Target {
                name,
                _server: server,
                device,
            }
        })
        .collect()
}

fn echo_and_bulk(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let targets: Vec<RefCell<Target>> = targets(&rt).into_iter().map(RefCell::new).collect();
    let mut latencies: BTreeMap<(usize, &str), Latencies> = BTreeMap::new();

    let mut group = c.benchmark_group("echo");
    for size in ECHO_SIZES {
        let payload = Bytes::from(vec![0xa5; size]);
        group.throughput(Throughput::Bytes(size as u64));
        for target in &targets {
            let name = target.borrow().name;
            let recorded = latencies.entry((size, name)).or_default();
            group.bench_function(BenchmarkId::new(size.to_string(), name), |b| {
                b.iter_custom(|iters| {
                    let device = &mut target.borrow_mut().device;
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let sent = Instant::now();
                            device.echo(payload.clone()).await.expect("echo");
                            recorded.record(sent.elapsed());
                        }
                        start.elapsed()
                    })
                })
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("bulk");
    group.throughput(Throughput::Bytes(BULK_BYTES as u64));
    let chunk = Bytes::from(vec![0x5a; BULK_FRAME_PAYLOAD]);
    for target in &targets {
        let name = target.borrow().name;
        group.bench_function(BenchmarkId::new("1MiB", name), |b| {
            b.iter(|| {
                let device = &mut target.borrow_mut().device;
                rt.block_on(async {
                    for _ in 0..BULK_BYTES / BULK_FRAME_PAYLOAD {
                        device
                            .feed(Message::Data(chunk.clone()))
                            .await
                            .expect("DATA");
                    }
                    device
                        .echo(Bytes::from_static(b"sync"))
                        .await
                        .expect("echo")
                })
            })
        });
    }
    group.finish();

    if std::env::args().any(|a| a == "--bench") {
        // {"64": {"plain_tcp": summary, ...}, "1024": {...}}
        let mut summaries: BTreeMap<String, BTreeMap<&str, _>> = BTreeMap::new();
        for ((size, name), recorded) in &latencies {
            if let Some(summary) = recorded.summary() {
                summaries
                    .entry(size.to_string())
                    .or_default()
                    .insert(name, summary);
            }
        }
        let path = report::criterion_dir()
            .join("echo")
            .join(report::ECHO_LATENCY_FILE);
        if let Err(e) = report::write_json(&path, &summaries) {
            eprintln!("warning: cannot write {}: {e}", path.display());
        }
    }
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::echo_and_bulk);
}

criterion_main!(group::benches);
