//! Full and resumed TLS handshakes, TLS 1.3 and 1.2, between the gateway's `ServerConfig`
//! (`wasmbed_tls::server_config`, exactly as the gateway builds it) and a rustls client that
//! verifies the chain, over loopback TCP with `TCP_NODELAY`. ECDSA P-256 is the gateway's
//! default; RSA-2048 and RSA-4096 (the seed's choice) show why. The client offers X25519, as
//! devices do; one more row (`tls13_full_x25519mlkem768`) shows what rustls' default
//! post-quantum hybrid, which the gateway picks when a client offers it, costs.
//!
//! One iteration is what a device waits for: TCP connect, the handshake, and reading until
//! the server's close_notify (which also delivers TLS 1.3 session tickets). Full handshakes use
//! a client without a session cache; resumed ones a client whose cache was filled by an
//! earlier connection (tickets, or a session id for TLS 1.2), and each iteration checks that
//! rustls did resume. The server runs on one thread of its own runtime; the client on the
//! benchmark thread.
//!
//! Run: `cargo bench -p wasmbed-benches --bench handshake`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_main};
use tokio::io::AsyncReadExt;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, HandshakeKind};
use wasmbed_benches::fixture::{
    ClientOptions, KeyExchange, Pki, ServerKey, TlsVersion, client_config, server_name,
};
use wasmbed_benches::{net, server};

/// One handshake as described in the module docs; panics when it fails or when resumption
/// was (not) expected and (not) done, so a broken setup cannot pass as fast.
async fn connect_once(addr: SocketAddr, client: &Arc<ClientConfig>, expect_resumed: bool) {
    let tcp = net::connect(addr, None, true)
        .await
        .expect("the handshake server accepts");
    let mut tls = TlsConnector::from(client.clone())
        .connect(server_name(), tcp)
        .await
        .expect("the TLS handshake succeeds");
    let resumed = tls.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed);
    assert_eq!(
        resumed, expect_resumed,
        "resumption expected: {expect_resumed}"
    );
    let mut buf = [0u8; 256];
    while let Ok(n) = tls.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

fn handshakes(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("handshake");
    // An RSA-4096 handshake takes milliseconds; 20 samples keep the group within minutes.
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    for key in ServerKey::ALL {
        let pki = Pki::generate(key).expect("certificates generate");
        let server = server::handshake(pki.server_config().expect("server config"), true, 1)
            .expect("the handshake server starts");
        let addr = server.addr();
        for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
            for resumed in [false, true] {
                let client = pki.client_config(version, resumed).expect("client config");
                if resumed {
                    rt.block_on(connect_once(addr, &client, false));
                }
                let kind = if resumed { "resumed" } else { "full" };
                let id = format!("{}_{kind}/{}", version.name(), key.name());
                group.bench_function(id, |b| {
                    b.iter(|| rt.block_on(connect_once(addr, &client, resumed)))
                });
            }
        }
        if key == ServerKey::EcdsaP256 {
            let client = client_config(&ClientOptions {
                roots: vec![pki.ca.certificate().clone()],
                versions: vec![TlsVersion::Tls13],
                key_exchange: KeyExchange::X25519mlkem768,
                ..ClientOptions::default()
            })
            .expect("client config");
            let id = format!("tls13_full_x25519mlkem768/{}", key.name());
            group.bench_function(id, |b| {
                b.iter(|| rt.block_on(connect_once(addr, &client, false)))
            });
        }
    }
    group.finish();
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::handshakes);
}

criterion_main!(group::benches);
