//! What `TCP_NODELAY` saves: Nagle's algorithm holds back a small write while an earlier one
//! is unacknowledged, and the receiver delays its ACK (Linux: 40 ms at least) while it waits
//! for the rest of a message. A sender that writes one message in two pieces then waits up to
//! the delayed-ACK timer per round trip. The gateway sets `TCP_NODELAY` on every accepted
//! socket and the device client on its own; this benchmark shows the difference on loopback:
//!
//! * `write_write_read`: a 4-byte length and a 60-byte body written separately, then the
//!   64-byte answer read; plain TCP, `TCP_NODELAY` on or off on both ends;
//! * `tls13_handshake`: a full TLS 1.3 handshake with the gateway's `ServerConfig`, on or off
//!   on both ends.
//!
//! Run: `cargo bench -p wasmbed-benches --bench nodelay`

use std::net::SocketAddr;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_main};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use wasmbed_benches::fixture::{Pki, ServerKey, TlsVersion, server_name};
use wasmbed_benches::{net, server};

/// Body bytes after the 4-byte length.
const BODY_LEN: usize = 60;

/// Answers each length-prefixed message with one write of the same size.
async fn answer(mut tcp: TcpStream) {
    let mut message = [0u8; 4 + BODY_LEN];
    while tcp.read_exact(&mut message).await.is_ok() {
        if tcp.write_all(&message).await.is_err() {
            return;
        }
    }
}

fn spawn_answerer(rt: &tokio::runtime::Runtime, nodelay: bool) -> SocketAddr {
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind on loopback");
    let addr = listener.local_addr().expect("bound address");
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(nodelay);
            tokio::spawn(answer(tcp));
        }
    });
    addr
}

fn nodelay(c: &mut Criterion) {
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("nodelay");
    // With Nagle on, an iteration can take 40 ms or more.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));

    for nodelay in [true, false] {
        let setting = if nodelay { "on" } else { "off" };
        let addr = spawn_answerer(&server_rt, nodelay);
        let mut tcp = client_rt
            .block_on(net::connect(addr, None, nodelay))
            .expect("connect");
        let length = (BODY_LEN as u32).to_be_bytes();
        let body = [0x42u8; BODY_LEN];
        let mut answer = [0u8; 4 + BODY_LEN];
        group.bench_function(BenchmarkId::new("write_write_read", setting), |b| {
            b.iter(|| {
                client_rt.block_on(async {
                    tcp.write_all(&length).await.expect("write length");
                    tcp.write_all(&body).await.expect("write body");
                    tcp.read_exact(&mut answer).await.expect("read answer");
                })
            })
        });
    }

    let pki = Pki::generate(ServerKey::EcdsaP256).expect("certificates generate");
    let client = pki
        .client_config(TlsVersion::Tls13, false)
        .expect("client config");
    for nodelay in [true, false] {
        let setting = if nodelay { "on" } else { "off" };
        let server = server::handshake(pki.server_config().expect("server config"), nodelay, 1)
            .expect("the handshake server starts");
        let addr = server.addr();
        group.bench_function(BenchmarkId::new("tls13_handshake", setting), |b| {
            b.iter(|| {
                client_rt.block_on(async {
                    let tcp = net::connect(addr, None, nodelay).await.expect("connect");
                    let mut tls = TlsConnector::from(client.clone())
                        .connect(server_name(), tcp)
                        .await
                        .expect("the TLS handshake succeeds");
                    let mut buf = [0u8; 256];
                    while let Ok(n) = tls.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                })
            })
        });
    }
    group.finish();
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::nodelay);
}

criterion_main!(group::benches);
