//! Production mode with a PKI made by the binary's `pki` commands: CA verification, mTLS with
//! the device id bound to the certificate, and certificate reload without dropping devices.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use support::{Gateway, device_options, run};
use wasmbed_gateway::client::{ClientError, DeviceClient};
use wasmbed_gateway::protocol::ErrorCode;
use wasmbed_tls::rustls::ClientConfig;
use wasmbed_tls::{Identity, client_config, load_certificates};

fn pki(dir: &Path, args: &[&str]) {
    let (code, out, err) = run(args, dir);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
}

/// A gateway CA and certificate for 127.0.0.1, and a device CA with one device, in `dir`.
fn make_pki(dir: &Path) {
    pki(dir, &["pki", "ca", "--out-dir", "ca"]);
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
            "127.0.0.1,gw.example",
            "--out-dir",
            "gw",
        ],
    );
    pki(
        dir,
        &[
            "pki",
            "ca",
            "--out-dir",
            "devices",
            "--name",
            "device-ca",
            "--common-name",
            "wasmbed device CA",
        ],
    );
    pki(
        dir,
        &[
            "pki",
            "device",
            "--ca-cert",
            "devices/device-ca.pem",
            "--ca-key",
            "devices/device-ca-key.pem",
            "--id",
            "sensor-1",
            "--out-dir",
            "devices",
        ],
    );
}

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
    make_pki(dir.path());
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
    assert!(
        err.to_string().contains("UnknownIssuer") || err.to_string().contains("unknown issuer"),
        "{err}"
    );
    let mut gw = gw;
    gw.wait_for_log("client rejected our certificate", Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mtls_binds_the_device_id_to_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path());
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
    make_pki(dir.path());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sighup_reloads_the_certificate_without_dropping_devices() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path());
    let args = production(&dir, &["--reload-check-secs", "0"]);
    let path = dir.path().to_owned();
    let mut gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let tls = client(&path, "ca/ca.pem", None);
    let before = connect(&gw, tls.clone(), "steady").await.unwrap();
    let old_leaf = load_certificates(&path.join("gw/gateway.pem")).unwrap();

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
    let new_leaf = load_certificates(&path.join("gw/gateway.pem")).unwrap();
    assert_ne!(old_leaf, new_leaf);
    gw.signal("HUP");
    gw.wait_for_log("certificate reloaded", Duration::from_secs(5));
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
    let _still_served = connect(&gw, tls, "still-served").await.unwrap();
    assert_eq!(gw.connected(), ["fresh", "steady", "still-served"]);
}
