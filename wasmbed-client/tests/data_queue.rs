//! DATA from the gateway beyond `DeviceOptions::data_queue_len` unread frames is dropped and
//! counted, never lost silently (issue 12). A real gateway (the `wasmbed-server` library) on
//! loopback sends the DATA.

use std::sync::Arc;
use std::time::Duration;

use wasmbed_client::{Bytes, DeviceClient, DeviceOptions, SessionEnd};
use wasmbed_server::{ALPN, Gateway, GatewayConfig, Mode, TcpListener};
use wasmbed_tls::{CertResolver, CertificateOptions, ServerOptions, dev_gateway, server_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_beyond_the_queue_is_dropped_and_counted() {
    let identity = dev_gateway(
        &["localhost".parse().unwrap()],
        &CertificateOptions::default(),
    )
    .unwrap();
    let options = ServerOptions::default().with_alpn(ALPN.iter().map(|p| p.to_vec()).collect());
    let tls = server_config(Arc::new(CertResolver::new(&identity, &options).unwrap())).unwrap();
    let gateway = Gateway::new(GatewayConfig::default(), tls, Mode::Dev).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = tokio::spawn(gateway.clone().serve(listener, api, std::future::pending()));

    const KEPT: usize = 3;
    const SENT: u8 = 10;
    let tls = wasmbed_tls::danger::insecure_dev_client_config(None, &[]).unwrap();
    let options = DeviceOptions::new("slow-reader".parse().unwrap()).with_data_queue_len(KEPT);
    let mut device = DeviceClient::connect(addr, "localhost".try_into().unwrap(), tls, options)
        .await
        .unwrap();

    let handle = gateway
        .registry()
        .device("slow-reader")
        .expect("the gateway registers a device before HELLO_ACK");
    for i in 0..SENT {
        handle.try_send_data(Bytes::from(vec![i])).unwrap();
    }
    // The ECHO follows the DATA on the same connection, so its reply means the device's
    // session task has handled every DATA frame before it.
    let reply = handle.try_echo(Bytes::from_static(b"after")).unwrap();
    tokio::time::timeout(Duration::from_secs(10), reply.wait())
        .await
        .expect("the device answers ECHO while its DATA queue is full")
        .expect("the session is still open");

    assert_eq!(device.dropped_data(), u64::from(SENT) - KEPT as u64);
    for i in 0..KEPT {
        let data = device.recv_data().await.unwrap();
        assert_eq!(
            &data[..],
            &[u8::try_from(i).unwrap()],
            "the oldest frames are kept"
        );
    }
    assert_eq!(device.goodbye().await, SessionEnd::Left);
    gateway.shutdown();
    server.await.unwrap().unwrap();
}
