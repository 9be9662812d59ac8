//! The load tool against an in-process gateway: counts and reports, never timings.

use std::time::Duration;

use wasmbed_benches::fixture::{KeyExchange, Pki, ServerKey, TlsVersion};
use wasmbed_benches::loadgen::{self, Config, Mode, ServerProcess};
use wasmbed_benches::server;

fn config(mode: Mode, target: std::net::SocketAddr) -> Config {
    Config {
        mode,
        target,
        server_name: "localhost".into(),
        ca: None,
        tls_version: None,
        key_exchange: KeyExchange::X25519,
        resume: false,
        devices: 20,
        ramp_per_sec: 200.0,
        hold: Duration::from_secs(1),
        handshakes: 30,
        concurrency: 3,
        duration: Duration::from_secs(60),
        heartbeats: true,
        echo_interval: Some(Duration::from_millis(20)),
        echo_size: 64,
        churn_per_sec: 5.0,
        source_addrs: 2,
        settle: Duration::from_millis(200),
        device_prefix: "test".into(),
        progress_every: Duration::from_secs(1),
    }
}

fn this_process() -> Option<ServerProcess> {
    Some(ServerProcess {
        pid: std::process::id(),
        children: false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_mode_counts_every_handshake() {
    let pki = Pki::generate(ServerKey::EcdsaP256).unwrap();
    let gateway =
        server::gateway(server::bench_config(4096), pki.server_config().unwrap(), 1).unwrap();
    let report = loadgen::run(config(Mode::Handshakes, gateway.addr()), this_process())
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.handshakes.ok, 30);
    assert_eq!(report.handshakes.full, 30);
    assert_eq!(report.handshakes.latency.unwrap().count, 30);
    assert!(!report.stopped_by_duration);
    let server = report.server.unwrap();
    assert!(server.cpu_per_handshake_us.is_some());
    assert!(server.rss_per_session_bytes.is_none());

    let mut resumed = config(Mode::Handshakes, gateway.addr());
    resumed.resume = true;
    resumed.concurrency = 1;
    let report = loadgen::run(resumed, None).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.handshakes.full, 1, "only the first is full");
    assert_eq!(report.handshakes.resumed, 29);

    let dir = tempfile::tempdir().unwrap();
    let (ca, ca_key) = (dir.path().join("ca.pem"), dir.path().join("ca-key.pem"));
    pki.ca.save(&ca, &ca_key).unwrap();
    let mut verified = config(Mode::Handshakes, gateway.addr());
    verified.ca = Some(ca);
    verified.tls_version = Some(TlsVersion::Tls12);
    verified.key_exchange = KeyExchange::Secp256r1;
    let report = loadgen::run(verified, None).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.handshakes.ok, 30);

    let mut wrong_name = config(Mode::Handshakes, gateway.addr());
    wrong_name.ca = Some(dir.path().join("ca.pem"));
    wrong_name.server_name = "elsewhere.example".into();
    wrong_name.handshakes = 3;
    let report = loadgen::run(wrong_name, None).await.unwrap();
    assert_eq!(report.handshakes.ok, 0);
    assert_eq!(
        report.errors.get("tls_invalid_certificate"),
        Some(&3),
        "{:?}",
        report.errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_mode_holds_echoes_and_churns() {
    let pki = Pki::generate(ServerKey::EcdsaP256).unwrap();
    let gateway =
        server::gateway(server::bench_config(4096), pki.server_config().unwrap(), 1).unwrap();
    let report = loadgen::run(config(Mode::Sessions, gateway.addr()), this_process())
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.sessions.open_after_ramp, 20);
    assert_eq!(report.sessions.peak_open, 20);
    assert!(report.echo.ok > 0);
    assert!(report.sessions.churned > 0);
    assert_eq!(
        report.sessions.opened,
        20 + report.sessions.churned,
        "every churned device reconnected"
    );
    assert_eq!(report.hello_latency.unwrap().count, report.sessions.opened);
    let server = report.server.unwrap();
    assert!(server.rss_per_session_bytes.is_some());
    assert!(server.cpu_per_session_setup_us.is_some());
}

#[tokio::test]
async fn non_loopback_targets_and_bad_bounds_are_refused() {
    let far = config(Mode::Handshakes, "192.0.2.1:8081".parse().unwrap());
    let e = loadgen::run(far, None).await.unwrap_err();
    assert!(e.contains("not a loopback address"), "{e}");
    let mut unbounded = config(Mode::Sessions, "127.0.0.1:8081".parse().unwrap());
    unbounded.duration = Duration::from_secs(24 * 3600);
    let e = loadgen::run(unbounded, None).await.unwrap_err();
    assert!(e.contains("--duration-secs"), "{e}");
    let mut many = config(Mode::Handshakes, "127.0.0.1:8081".parse().unwrap());
    many.concurrency = loadgen::MAX_CONCURRENCY + 1;
    let e = loadgen::run(many, None).await.unwrap_err();
    assert!(e.contains("--concurrency"), "{e}");
}
