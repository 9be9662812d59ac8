//! A persistent device reconnects with backoff after the gateway restarts on the same port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wasmbed_client::{Backoff, DeviceOptions, PersistentDevice};
use wasmbed_server::{ALPN, Gateway, GatewayConfig, Mode};
use wasmbed_tls::{
    CertResolver, CertificateOptions, ServerOptions, danger, dev_gateway, server_config,
};

/// Starts a library gateway on `addr`; returns the port and a stop switch.
async fn start(
    addr: SocketAddr,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let identity = dev_gateway(
        &["localhost".parse().unwrap()],
        &CertificateOptions::default(),
    )
    .unwrap();
    let options = ServerOptions::default().with_alpn(ALPN.iter().map(|p| p.to_vec()).collect());
    let tls = server_config(Arc::new(CertResolver::new(&identity, &options).unwrap())).unwrap();
    let config = GatewayConfig::default().with_shutdown_grace(Duration::from_secs(2));
    let gateway = Gateway::new(config, tls, Mode::Dev).unwrap();
    let devices = TcpListener::bind(addr).await.unwrap();
    let bound = devices.local_addr().unwrap();
    let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(gateway.serve(devices, api, async {
        let _ = stopped.await;
    }));
    (bound, stop, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn persistent_device_survives_a_gateway_restart() {
    let (addr, stop, server) = start("127.0.0.1:0".parse().unwrap()).await;
    let backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(200)).unwrap();
    let options = DeviceOptions::new("persistent".parse().unwrap());
    let tls = danger::insecure_dev_client_config(None, &[]).unwrap();
    let mut device =
        PersistentDevice::spawn(addr, "localhost".try_into().unwrap(), tls, options, backoff);
    tokio::time::timeout(Duration::from_secs(5), device.wait_for_session(1))
        .await
        .unwrap();

    // The gateway goes away (GOODBYE shutdown) and comes back on the same port.
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while device.status().connected {
        assert!(
            std::time::Instant::now() < deadline,
            "the device still reports a session 5 s after the gateway stopped"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, stop, server) = start(addr).await;
    tokio::time::timeout(Duration::from_secs(5), device.wait_for_session(2))
        .await
        .unwrap();
    let status = device.status();
    assert_eq!((status.connected, status.sessions), (true, 2));

    device.stop().await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[test]
fn backoff_stays_within_its_bounds() {
    let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2)).unwrap();
    for attempt in 0..40 {
        let cap =
            Duration::from_millis(100 * (1u64 << attempt.min(20))).min(Duration::from_secs(2));
        for _ in 0..20 {
            assert!(backoff.delay(attempt) <= cap);
        }
    }
}
