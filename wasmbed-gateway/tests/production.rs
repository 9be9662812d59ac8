//! Production mode with a PKI made by the binary's `pki` commands: CA verification, mTLS with
//! the device id bound to the certificate, and certificate reload without dropping devices.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use support::{Gateway, device_options, make_pki, pki};
use wasmbed_client::{ClientError, DeviceClient};
use wasmbed_protocol::ErrorCode;
use wasmbed_tls::rustls::ClientConfig;
use wasmbed_tls::rustls::pki_types::CertificateDer;
use wasmbed_tls::{Identity, client_config, load_certificates};

fn client(dir: &Path, ca: &str, device: Option<&str>) -> Arc<ClientConfig> {
    let roots = load_certificates(&dir.join(ca)).unwrap();
    let identity = device.map(|id| {
        Identity::load(
            &dir.join(format!("devices/{id}.pem")),
            &dir.join(format!("devices/{id}-key.pem")),
        )
        .unwrap()
    });
    client_config(&roots, identity.as_ref(), &[]).unwrap()
}

async fn connect(
    gw: &Gateway,
    tls: Arc<ClientConfig>,
    id: &str,
) -> Result<DeviceClient, ClientError> {
    DeviceClient::connect(
        gw.tls,
        "127.0.0.1".try_into().unwrap(),
        tls,
        device_options(id),
    )
    .await
}

fn production(dir: &tempfile::TempDir, extra: &[&str]) -> Vec<String> {
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let mut args = vec![
        "--cert".into(),
        p("gw/gateway.pem"),
        "--key".into(),
        p("gw/gateway-key.pem"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn right_ca_connects_and_wrong_ca_fails() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1"]);
    let args = production(&dir, &[]);
    let path = dir.path().to_owned();
    let gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(gw.api_json("/health")["mode"], "production");
    assert!(!gw.log_text().contains("development mode"));

    let dev = connect(&gw, client(&path, "ca/ca.pem", None), "sensor-1")
        .await
        .unwrap();
    dev.echo(Bytes::from_static(b"verified")).await.unwrap();

    // The device CA did not sign the gateway: verification fails on the device side.
    let err = connect(
        &gw,
        client(&path, "devices/device-ca.pem", None),
        "sensor-2",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ClientError::Tls { .. }), "{err}");
    // The message names the gateway; the rustls error is its source, printed once by a chain.
    let cause = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        cause.contains("UnknownIssuer") || cause.contains("unknown issuer"),
        "{err}: {cause}"
    );
    let mut gw = gw;
    gw.wait_for_log("client rejected our certificate", Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mtls_binds_the_device_id_to_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1"]);
    let ca = dir
        .path()
        .join("devices/device-ca.pem")
        .to_str()
        .unwrap()
        .to_owned();
    let args = production(&dir, &["--client-ca", &ca, "--require-client-cert"]);
    let path = dir.path().to_owned();
    let gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());

    let dev = connect(
        &gw,
        client(&path, "ca/ca.pem", Some("sensor-1")),
        "sensor-1",
    )
    .await
    .unwrap();
    assert_eq!(
        gw.api_json("/devices/sensor-1")["client_certificate_cn"],
        "sensor-1"
    );
    dev.echo(Bytes::from_static(b"mutual")).await.unwrap();

    // The right certificate with another id in HELLO is refused.
    let err = connect(
        &gw,
        client(&path, "ca/ca.pem", Some("sensor-1")),
        "sensor-9",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused {
                code: ErrorCode::DeviceIdMismatch,
                ..
            }
        ),
        "{err}"
    );

    // No client certificate at all: the handshake is refused (TLS 1.3 reports it after the
    // client's Finished, so it surfaces as a failed HELLO exchange or a TLS error).
    assert!(
        connect(&gw, client(&path, "ca/ca.pem", None), "sensor-1")
            .await
            .is_err()
    );
    assert_eq!(gw.connected(), ["sensor-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn optional_mtls_keeps_a_certified_id_from_anonymous_takeover() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1"]);
    let ca = dir
        .path()
        .join("devices/device-ca.pem")
        .to_str()
        .unwrap()
        .to_owned();
    let args = production(&dir, &["--client-ca", &ca]);
    let path = dir.path().to_owned();
    let gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let certified = connect(
        &gw,
        client(&path, "ca/ca.pem", Some("sensor-1")),
        "sensor-1",
    )
    .await
    .unwrap();
    let err = connect(&gw, client(&path, "ca/ca.pem", None), "sensor-1")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused {
                code: ErrorCode::DeviceIdMismatch,
                ..
            }
        ),
        "{err}"
    );
    certified
        .echo(Bytes::from_static(b"still mine"))
        .await
        .unwrap();
    // Ids never bound to a certificate may still connect without one (the migration path).
    connect(&gw, client(&path, "ca/ca.pem", None), "legacy-7")
        .await
        .unwrap();
}

fn assert_id_mismatch(result: Result<DeviceClient, ClientError>) {
    match result {
        Err(ClientError::Refused {
            code: ErrorCode::DeviceIdMismatch,
            ..
        }) => {}
        Err(e) => panic!("expected ERROR(device_id_mismatch), got {e}"),
        Ok(_) => panic!("expected ERROR(device_id_mismatch), got a session"),
    }
}

/// Issue 11, item 7: under optional mTLS, an id that once connected with a certificate stays
/// bound to it after the registry forgot the device and after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_certificate_binding_survives_registry_eviction_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1"]);
    let ca = dir.path().join("devices/device-ca.pem");
    let ca = ca.to_str().unwrap();
    let args = production(&dir, &["--client-ca", ca, "--max-offline-devices", "2"]);
    let path = dir.path().to_owned();
    let mut gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let certified = || client(&path, "ca/ca.pem", Some("sensor-1"));
    let anonymous = || client(&path, "ca/ca.pem", None);

    connect(&gw, certified(), "sensor-1")
        .await
        .unwrap()
        .goodbye()
        .await;
    // Three ids connect and leave: the registry (2 offline devices) forgets sensor-1.
    for id in ["other-1", "other-2", "other-3"] {
        connect(&gw, anonymous(), id).await.unwrap().goodbye().await;
    }
    gw.eventually(Duration::from_secs(5), "sensor-1 forgotten", || {
        gw.api("GET", "/devices/sensor-1", None).0 == 404
    });
    assert_id_mismatch(connect(&gw, anonymous(), "sensor-1").await);

    let state = gw.path("state/device-bindings.json");
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("\"device_id\":\"sensor-1\""), "{text}");
    assert!(
        !text.contains("other-1"),
        "only certified ids are bound: {text}"
    );

    gw.restart();
    assert_id_mismatch(connect(&gw, anonymous(), "sensor-1").await);
    assert!(
        gw.api("GET", "/metrics", None)
            .1
            .contains("wasmbed_device_bindings 1"),
        "the binding count is exported"
    );
    let back = connect(&gw, certified(), "sensor-1").await.unwrap();
    back.echo(Bytes::from_static(b"mine")).await.unwrap();
    connect(&gw, anonymous(), "other-1").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        text,
        "no rewrite for a known id"
    );
}

/// A damaged or unreadable binding file stops the gateway at start with a message naming the
/// file, instead of serving with the bindings forgotten.
#[test]
fn a_damaged_binding_file_is_a_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1"]);
    let state = dir.path().join("state");
    let file = state.join("device-bindings.json");
    std::fs::create_dir_all(&state).unwrap();
    let mut args = production(&dir, &["--client-ca", "devices/device-ca.pem"]);
    args.extend(
        [
            "--state-dir",
            "state",
            "--tls-addr",
            "127.0.0.1:0",
            "--api-addr",
            "127.0.0.1:0",
            "--insecure-api-no-auth",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for (damage, expected) in [
        (
            "{\"format\":\"wasmbed-device-bindings\",\"version\":1,\"bindings\":[",
            "is damaged",
        ),
        (
            "{\"format\":\"wasmbed-device-bindings\",\"version\":9,\"bindings\":[]}",
            "has version 9",
        ),
        ("", "is damaged"),
    ] {
        std::fs::write(&file, damage).unwrap();
        let (code, err) = run_to_exit(&args, dir.path());
        assert_ne!(code, 0, "{damage:?}: {err}");
        assert!(
            err.contains("device binding file")
                && err.contains("device-bindings.json")
                && err.contains(expected),
            "{damage:?}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            damage,
            "left as it was"
        );
    }
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    let (code, err) = run_to_exit(&args, dir.path());
    assert_ne!(code, 0);
    assert!(err.contains("cannot read the device binding file"), "{err}");
}

/// Runs the binary in `dir` and returns its exit code and stderr; a gateway still serving
/// after 20 s (it did not refuse to start) is killed and reported as exit code 0.
fn run_to_exit(args: &[&str], dir: &Path) -> (i32, String) {
    use std::io::Read as _;
    let mut child = std::process::Command::new(support::bin())
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break 0;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    (code, err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sighup_reloads_the_certificate_without_dropping_devices() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1"]);
    let args = production(&dir, &["--reload-check-secs", "0"]);
    let path = dir.path().to_owned();
    let mut gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let tls = client(&path, "ca/ca.pem", None);
    let before = connect(&gw, tls.clone(), "steady").await.unwrap();
    let old_leaf = leaf(&path.join("gw/gateway.pem"));
    assert_eq!(served_leaf(&gw, tls.clone()).await, old_leaf);

    // A new certificate from the same CA, then SIGHUP.
    pki(
        &path,
        &[
            "pki",
            "gateway",
            "--ca-cert",
            "ca/ca.pem",
            "--ca-key",
            "ca/ca-key.pem",
            "--san",
            "127.0.0.1",
            "--out-dir",
            "gw",
            "--force",
        ],
    );
    let new_leaf = leaf(&path.join("gw/gateway.pem"));
    assert_ne!(old_leaf, new_leaf);
    gw.signal("HUP");
    gw.wait_for_log("certificate reloaded", Duration::from_secs(5));
    // The log line alone would pass without a swap; the handshake shows what is served.
    assert_eq!(served_leaf(&gw, tls.clone()).await, new_leaf);
    let after = connect(&gw, tls.clone(), "fresh").await.unwrap();
    before
        .echo(Bytes::from_static(b"not dropped"))
        .await
        .unwrap();
    after
        .echo(Bytes::from_static(b"new certificate"))
        .await
        .unwrap();

    // A broken file: the reload fails, says why, and the gateway keeps serving.
    std::fs::write(path.join("gw/gateway-key.pem"), "not a key\n").unwrap();
    gw.signal("HUP");
    let line = gw.wait_for_log("certificate reload failed", Duration::from_secs(5));
    assert!(line.contains("gateway-key.pem"), "{line}");
    let _still_served = connect(&gw, tls.clone(), "still-served").await.unwrap();
    assert_eq!(served_leaf(&gw, tls).await, new_leaf);
    assert_eq!(gw.connected(), ["fresh", "steady", "still-served"]);
}

/// The first certificate in a PEM file.
fn leaf(path: &Path) -> CertificateDer<'static> {
    load_certificates(path).unwrap().swap_remove(0)
}

/// The leaf certificate the gateway presents in a new full TLS handshake.
async fn served_leaf(gw: &Gateway, tls: Arc<ClientConfig>) -> CertificateDer<'static> {
    // A resumed handshake carries no certificate; rustls would report the first session's.
    let mut config = (*tls).clone();
    config.resumption = wasmbed_tls::rustls::client::Resumption::disabled();
    let tcp = tokio::net::TcpStream::connect(gw.tls).await.unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("127.0.0.1".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (_, connection) = stream.get_ref();
    connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .expect("the gateway presents a certificate")
        .clone()
        .into_owned()
}

/// Waits until new handshakes present `expected`, or fails after `limit`.
async fn wait_until_served(
    gw: &Gateway,
    tls: Arc<ClientConfig>,
    expected: &CertificateDer<'_>,
    limit: Duration,
) {
    let deadline = std::time::Instant::now() + limit;
    while served_leaf(gw, tls.clone()).await != *expected {
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway still presents another certificate after {limit:?}:\n{}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Issues a new gateway certificate from the test CA into `out_dir`, replacing what is there.
fn issue_gateway(dir: &Path, out_dir: &str) {
    pki(
        dir,
        &[
            "pki",
            "gateway",
            "--ca-cert",
            "ca/ca.pem",
            "--ca-key",
            "ca/ca-key.pem",
            "--san",
            "127.0.0.1",
            "--out-dir",
            out_dir,
            "--force",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replaced_certificate_file_is_served_without_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &[]);
    let args = production(&dir, &["--reload-check-secs", "1"]);
    let path = dir.path().to_owned();
    let gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let tls = client(&path, "ca/ca.pem", None);
    let steady = connect(&gw, tls.clone(), "steady").await.unwrap();
    let old_leaf = leaf(&path.join("gw/gateway.pem"));
    assert_eq!(served_leaf(&gw, tls.clone()).await, old_leaf);

    // pki gateway --force replaces both files, each by an atomic rename.
    issue_gateway(&path, "gw");
    let new_leaf = leaf(&path.join("gw/gateway.pem"));
    assert_ne!(old_leaf, new_leaf);
    wait_until_served(&gw, tls.clone(), &new_leaf, Duration::from_secs(30)).await;
    assert!(
        gw.log_text().contains("trigger=\"file change\""),
        "{}",
        gw.log_text()
    );
    steady
        .echo(Bytes::from_static(b"still here"))
        .await
        .unwrap();
}

/// Writes `files` into the Secret volume `volume` the way kubelet's `AtomicWriter` does: the
/// contents go into a new `..<timestamp>` directory, a `..data_tmp` link to it is renamed over
/// `..data` (the one atomic step), and the old directory is removed. The visible files are links
/// `<name> -> ..data/<name>`, made on the first write. With `keep_mtimes`, each new file gets
/// the modification time of the file it replaces.
fn write_secret_volume(volume: &Path, timestamp: &str, files: &[(&str, &Path)], keep_mtimes: bool) {
    use std::os::unix::fs::symlink;
    let data = volume.join("..data");
    let old = std::fs::read_link(&data).ok();
    std::fs::create_dir_all(volume.join(timestamp)).unwrap();
    for (name, source) in files {
        let target = volume.join(timestamp).join(name);
        std::fs::copy(source, &target).unwrap();
        if keep_mtimes {
            let mtime = std::fs::metadata(volume.join(name))
                .unwrap()
                .modified()
                .unwrap();
            std::fs::File::options()
                .write(true)
                .open(&target)
                .unwrap()
                .set_modified(mtime)
                .unwrap();
        }
    }
    let tmp = volume.join("..data_tmp");
    symlink(timestamp, &tmp).unwrap();
    std::fs::rename(&tmp, &data).unwrap();
    for (name, _) in files {
        let visible = volume.join(name);
        if std::fs::symlink_metadata(&visible).is_err() {
            symlink(Path::new("..data").join(name), &visible).unwrap();
        }
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(volume.join(old)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kubernetes_secret_update_swaps_the_certificate_and_the_client_ca() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1"]);
    let path = dir.path().to_owned();
    // A second device CA with its own device, for the update.
    pki(
        &path,
        &[
            "pki",
            "ca",
            "--out-dir",
            "devices2",
            "--name",
            "device-ca",
            "--common-name",
            "second device CA",
        ],
    );
    support::pki_device(&path, "devices2", "device-ca", "sensor-2", &[]);
    let names = ["gateway.pem", "gateway-key.pem", "device-ca.pem"];
    let volume = path.join("secret");
    write_secret_volume(
        &volume,
        "..2026_12_07_21_00_00.000000001",
        &[
            (names[0], &path.join("gw/gateway.pem")),
            (names[1], &path.join("gw/gateway-key.pem")),
            (names[2], &path.join("devices/device-ca.pem")),
        ],
        false,
    );
    let in_volume = |name: &str| volume.join(name).to_str().unwrap().to_owned();
    let args = [
        "--cert".to_owned(),
        in_volume(names[0]),
        "--key".to_owned(),
        in_volume(names[1]),
        "--client-ca".to_owned(),
        in_volume(names[2]),
        "--reload-check-secs".to_owned(),
        "1".to_owned(),
    ];
    let mut gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let tls = client(&path, "ca/ca.pem", None);
    let device_tls = |dir: &str, id: &str| {
        let identity = Identity::load(
            &path.join(format!("{dir}/{id}.pem")),
            &path.join(format!("{dir}/{id}-key.pem")),
        )
        .unwrap();
        client_config(
            &load_certificates(&path.join("ca/ca.pem")).unwrap(),
            Some(&identity),
            &[],
        )
        .unwrap()
    };
    let old_leaf = leaf(&path.join("gw/gateway.pem"));
    assert_eq!(served_leaf(&gw, tls.clone()).await, old_leaf);
    connect(&gw, device_tls("devices", "sensor-1"), "sensor-1")
        .await
        .unwrap();

    // The update: a new gateway certificate and the second device CA. The new files keep the
    // old files' mtimes, so only what the links now lead to tells the change.
    issue_gateway(&path, "gw2");
    let new_leaf = leaf(&path.join("gw2/gateway.pem"));
    write_secret_volume(
        &volume,
        "..2026_12_07_21_05_00.000000002",
        &[
            (names[0], &path.join("gw2/gateway.pem")),
            (names[1], &path.join("gw2/gateway-key.pem")),
            (names[2], &path.join("devices2/device-ca.pem")),
        ],
        true,
    );
    assert!(
        std::fs::symlink_metadata(volume.join(names[0]))
            .unwrap()
            .is_symlink()
    );

    wait_until_served(&gw, tls, &new_leaf, Duration::from_secs(30)).await;
    gw.wait_for_log("client CAs and CRLs reloaded", Duration::from_secs(30));
    connect(&gw, device_tls("devices2", "sensor-2"), "sensor-2")
        .await
        .unwrap();
    assert!(
        connect(&gw, device_tls("devices", "sensor-1"), "sensor-1")
            .await
            .is_err(),
        "a device of the removed CA still connects"
    );
}
