//! Issue 11, items 4-6, against the real binary: resumption is refused once the device
//! certificate has expired, the gateway certificate is checked at start and on every reload,
//! and the client CAs and CRLs reload (SIGHUP or file change) and end the live sessions they
//! no longer accept.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use support::{Gateway, device_options, make_pki, pki, pki_device, run};
use wasmbed_client::{ClientError, DeviceClient, SessionEnd};
use wasmbed_protocol::GoodbyeReason;
use wasmbed_tls::rustls::pki_types::CertificateDer;
use wasmbed_tls::rustls::{self, ClientConfig, RootCertStore, SupportedProtocolVersion};
use wasmbed_tls::{
    CertificateAuthority, CertificateOptions, DeviceId, Identity, Validity, client_config,
    load_certificates,
};

fn identity(dir: &Path, out: &str, id: &str) -> Identity {
    Identity::load(
        &dir.join(format!("{out}/{id}.pem")),
        &dir.join(format!("{out}/{id}-key.pem")),
    )
    .unwrap()
}

/// A device's TLS configuration: verifies the gateway with ca/ca.pem, presents `device`, and
/// keeps sessions for resumption like a device would.
fn client(
    dir: &Path,
    device: &Identity,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for root in load_certificates(&dir.join("ca/ca.pem")).unwrap() {
        roots.add(root).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(device.chain().to_vec(), device.key().clone_key())
        .unwrap();
    Arc::new(config)
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

fn start(dir: tempfile::TempDir, extra: &[&str]) -> Gateway {
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let mut args = vec![
        "--cert".to_owned(),
        p("gw/gateway.pem"),
        "--key".to_owned(),
        p("gw/gateway-key.pem"),
    ];
    // Names of files in `dir` given relative are made absolute: the gateway runs elsewhere.
    args.extend(extra.iter().map(|s| {
        if s.ends_with(".pem") {
            p(s)
        } else {
            (*s).to_owned()
        }
    }));
    Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

async fn ended(device: DeviceClient) -> SessionEnd {
    tokio::time::timeout(Duration::from_secs(10), device.closed())
        .await
        .expect("the session ends")
}

const TLS13: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];
const TLS12: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// Item 4: on main a resumed session is accepted (HELLO_ACK, a fresh ticket) however long ago
/// the device certificate expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumption_with_an_expired_device_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1", "sensor-2"]);
    let path = dir.path().to_owned();
    let mut gw = start(
        dir,
        &[
            "--client-ca",
            "devices/device-ca.pem",
            "--require-client-cert",
            "--reload-check-secs",
            "0",
        ],
    );
    let device_ca = CertificateAuthority::load(
        &path.join("devices/device-ca.pem"),
        &path.join("devices/device-ca-key.pem"),
    )
    .unwrap();
    for (version, versions, id) in [
        ("TLS 1.3", TLS13, "short-13"),
        ("TLS 1.2", TLS12, "short-12"),
    ] {
        let now = SystemTime::now();
        let not_after = now + Duration::from_secs(4);
        let options = CertificateOptions::default()
            .with_validity(Validity::new(now - Duration::from_secs(60), not_after));
        let short = device_ca
            .issue_device(&DeviceId::new(id).unwrap(), &options)
            .unwrap();
        let tls = client(&path, &short, versions);
        let first = connect(&gw, tls.clone(), id).await.unwrap();
        first.echo(Bytes::from_static(b"valid")).await.unwrap();
        first.goodbye().await;

        while SystemTime::now() < not_after + Duration::from_secs(2) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // The client still holds the session (ticket or session id) from the first connection.
        let err = connect(&gw, tls, id).await.unwrap_err();
        assert!(
            matches!(
                err,
                ClientError::Ended(SessionEnd::Goodbye(GoodbyeReason::CredentialsRevoked))
            ),
            "{version}: {err}\n{}",
            gw.log_text()
        );
        let line = gw.wait_for_log("refused a resumed TLS session", Duration::from_secs(5));
        assert!(line.to_lowercase().contains("expired"), "{line}");
        // A full handshake with the certificate fails too.
        let full = connect(&gw, client(&path, &short, versions), id).await;
        assert!(
            full.is_err(),
            "{version}: a full handshake with an expired certificate"
        );
        assert!(!gw.connected().iter().any(|c| c == id));
    }
}

/// Item 6: on main there is no --crl and no `pki revoke`; a revoked device stays connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pki_revoke_and_sighup_end_the_session_and_refuse_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1", "sensor-2"]);
    let path = dir.path().to_owned();
    let revoke = |extra: &[&str]| {
        let mut args = vec![
            "pki",
            "revoke",
            "--ca-cert",
            "devices/device-ca.pem",
            "--ca-key",
            "devices/device-ca-key.pem",
            "--crl",
            "devices/crl.pem",
        ];
        args.extend_from_slice(extra);
        pki(&path, &args)
    };
    let out = revoke(&[]);
    assert!(out.contains("CRL number 1, 0 revoked"), "{out}");
    let mut gw = start(
        dir,
        &[
            "--client-ca",
            "devices/device-ca.pem",
            "--crl",
            "devices/crl.pem",
            "--require-client-cert",
            "--reload-check-secs",
            "0",
        ],
    );
    let one_tls = client(&path, &identity(&path, "devices", "sensor-1"), TLS13);
    let two_tls = client(&path, &identity(&path, "devices", "sensor-2"), TLS13);
    let one = connect(&gw, one_tls.clone(), "sensor-1").await.unwrap();
    let two = connect(&gw, two_tls.clone(), "sensor-2").await.unwrap();

    let out = revoke(&["--id", "sensor-1", "--dir", "devices"]);
    assert!(out.contains("CRL number 2, 1 revoked"), "{out}");
    // Kept across invocations: revoking again keeps the entry and bumps the number.
    let out = revoke(&["--id", "sensor-1", "--dir", "devices"]);
    assert!(out.contains("CRL number 3, 1 revoked"), "{out}");
    gw.signal("HUP");
    assert_eq!(
        ended(one).await,
        SessionEnd::Goodbye(GoodbyeReason::CredentialsRevoked)
    );
    let line = gw.wait_for_log(
        "device certificate no longer accepted",
        Duration::from_secs(5),
    );
    assert!(line.contains("sensor-1"), "{line}");
    two.echo(Bytes::from_static(b"still trusted"))
        .await
        .unwrap();
    // Refused on resumption and on a full handshake.
    assert!(connect(&gw, one_tls, "sensor-1").await.is_err());
    let fresh = client(&path, &identity(&path, "devices", "sensor-1"), TLS13);
    assert!(connect(&gw, fresh.clone(), "sensor-1").await.is_err());

    // A corrupt CRL on reload: an error, and the previous CAs and CRLs stay.
    std::fs::write(
        path.join("devices/crl.pem"),
        "-----BEGIN X509 CRL-----\nAAAA\n",
    )
    .unwrap();
    gw.signal("HUP");
    let line = gw.wait_for_log("client CA/CRL reload failed", Duration::from_secs(5));
    assert!(line.contains("crl.pem"), "{line}");
    two.echo(Bytes::from_static(b"kept")).await.unwrap();
    assert!(connect(&gw, fresh, "sensor-1").await.is_err());
    assert_eq!(gw.connected(), ["sensor-2"]);
}

/// Item 6: on main the client CA is read once; after replacing it, old-CA devices stay
/// connected and are still accepted, new-CA devices are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_client_ca_drops_old_ca_devices_and_accepts_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1", "sensor-2"]);
    let path = dir.path().to_owned();
    pki(
        &path,
        &["pki", "ca", "--out-dir", "next", "--name", "device-ca"],
    );
    pki_device(&path, "next", "device-ca", "sensor-9", &[]);
    std::fs::copy(
        path.join("devices/device-ca.pem"),
        path.join("client-ca.pem"),
    )
    .unwrap();
    let mut gw = start(
        dir,
        &[
            "--client-ca",
            "client-ca.pem",
            "--require-client-cert",
            "--reload-check-secs",
            "1",
        ],
    );
    let old_tls = client(&path, &identity(&path, "devices", "sensor-1"), TLS13);
    let new_tls = client(&path, &identity(&path, "next", "sensor-9"), TLS13);
    let old = connect(&gw, old_tls, "sensor-1").await.unwrap();
    assert!(connect(&gw, new_tls.clone(), "sensor-9").await.is_err());

    // Replaced atomically, as a deployment would; the file watch notices.
    std::fs::copy(path.join("next/device-ca.pem"), path.join("client-ca.tmp")).unwrap();
    std::fs::rename(path.join("client-ca.tmp"), path.join("client-ca.pem")).unwrap();
    gw.wait_for_log("client CAs and CRLs reloaded", Duration::from_secs(10));
    assert_eq!(
        ended(old).await,
        SessionEnd::Goodbye(GoodbyeReason::CredentialsRevoked)
    );
    let fresh_old = client(&path, &identity(&path, "devices", "sensor-1"), TLS13);
    assert!(connect(&gw, fresh_old, "sensor-1").await.is_err());
    let new = connect(&gw, new_tls, "sensor-9").await.unwrap();
    new.echo(Bytes::from_static(b"new CA")).await.unwrap();
    assert_eq!(gw.connected(), ["sensor-9"]);
}

/// The gateway CA's issuer, to sign certificates with defects.
fn gateway_ca(dir: &Path) -> rcgen::Issuer<'static, rcgen::KeyPair> {
    let cert = std::fs::read_to_string(dir.join("ca/ca.pem")).unwrap();
    let key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(dir.join("ca/ca-key.pem")).unwrap())
            .unwrap();
    rcgen::Issuer::from_ca_cert_pem(&cert, key).unwrap()
}

/// Writes a gateway certificate for `san` made by `tweak` to `<out>/gateway.pem` and
/// `<out>/gateway-key.pem`.
fn bad_gateway(
    dir: &Path,
    out: &str,
    san: &str,
    algorithm: &'static rcgen::SignatureAlgorithm,
    tweak: impl FnOnce(&mut rcgen::CertificateParams),
) {
    let mut params = rcgen::CertificateParams::new(vec![san.to_owned()]).unwrap();
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    tweak(&mut params);
    let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
    let cert = params.signed_by(&key, &gateway_ca(dir)).unwrap();
    std::fs::create_dir_all(dir.join(out)).unwrap();
    std::fs::write(dir.join(format!("{out}/gateway.pem")), cert.pem()).unwrap();
    std::fs::write(
        dir.join(format!("{out}/gateway-key.pem")),
        key.serialize_pem(),
    )
    .unwrap();
}

/// (name, SAN, key, defect, the error's text). On main every one of these starts.
type Defect = (
    &'static str,
    &'static str,
    &'static rcgen::SignatureAlgorithm,
    fn(&mut rcgen::CertificateParams),
    &'static str,
);

const DEFECTS: &[Defect] = &[
    (
        "client-auth-only",
        "127.0.0.1",
        &rcgen::PKCS_ECDSA_P256_SHA256,
        |p| p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth],
        "extended key usage allows clientAuth only; devices need serverAuth (reissue with `wasmbed-gateway pki gateway`)",
    ),
    (
        "no-digital-signature",
        "127.0.0.1",
        &rcgen::PKCS_ECDSA_P256_SHA256,
        |p| p.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment],
        "key usage (Key Encipherment) lacks digitalSignature, which signing the TLS handshake needs (reissue with `wasmbed-gateway pki gateway`)",
    ),
    (
        "p521",
        "127.0.0.1",
        &rcgen::PKCS_ECDSA_P521_SHA512,
        |_| {},
        "the key is ECDSA P-521; devices accept ECDSA P-256 or P-384, or RSA of at least 2048 bits (reissue with `wasmbed-gateway pki gateway --algorithm p256`)",
    ),
    (
        "expired",
        "127.0.0.1",
        &rcgen::PKCS_ECDSA_P256_SHA256,
        |p| {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
        },
        "expired at 2021-01-01T00:00:00Z; issue a new one (wasmbed-gateway pki ...)",
    ),
    (
        "wrong-name",
        "gw.example",
        &rcgen::PKCS_ECDSA_P256_SHA256,
        |_| {},
        "does not name 127.0.0.1, the host of the device endpoint (it names gw.example); reissue with `wasmbed-gateway pki gateway --san 127.0.0.1`, or correct --device-endpoint",
    ),
];

/// Item 5 at start: each defect stops the gateway with one line naming the check and the fix.
#[test]
fn a_defective_gateway_certificate_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1", "sensor-2"]);
    for (name, san, algorithm, tweak, message) in DEFECTS {
        bad_gateway(dir.path(), name, san, algorithm, tweak);
        let cert = format!("{name}/gateway.pem");
        let (code, out, err) = run(
            &[
                "--cert",
                &cert,
                "--key",
                &format!("{name}/gateway-key.pem"),
                "--device-endpoint",
                "127.0.0.1:8081",
                "--tls-addr",
                "127.0.0.1:0",
                "--api-addr",
                "127.0.0.1:0",
                "--state-dir",
                "state",
                "--insecure-api-no-auth",
            ],
            dir.path(),
        );
        assert_ne!(code, 0, "{name} started:\n{out}{err}");
        // The certificate's own defects come from the check after loading, its validity from
        // loading; either way one line names the file, the check and the fix.
        assert!(err.starts_with("error: "), "{name}: {err}");
        assert!(
            err.contains(&cert) && err.contains(message),
            "{name}: {err}"
        );
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{name}: one line:\n{err:?}"
        );
    }
}

async fn served_leaf(gw: &Gateway, dir: &Path) -> CertificateDer<'static> {
    let roots = load_certificates(&dir.join("ca/ca.pem")).unwrap();
    let connector = tokio_rustls::TlsConnector::from(client_config(&roots, None, &[]).unwrap());
    let tcp = tokio::net::TcpStream::connect(gw.tls).await.unwrap();
    let tls = connector
        .connect("127.0.0.1".try_into().unwrap(), tcp)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].clone()
}

/// Item 5 on reload: each defect is refused on SIGHUP, said in the log, and the certificate
/// served stays the previous one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_defective_gateway_certificate_is_refused_on_reload() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1", "sensor-2"]);
    let path = dir.path().to_owned();
    let gw = start(
        dir,
        &[
            "--device-endpoint",
            "127.0.0.1:8081",
            "--reload-check-secs",
            "0",
        ],
    );
    let original = load_certificates(&path.join("gw/gateway.pem")).unwrap()[0].clone();
    assert_eq!(served_leaf(&gw, &path).await, original);
    for (i, (name, san, algorithm, tweak, message)) in DEFECTS.iter().enumerate() {
        bad_gateway(&path, "gw", san, algorithm, tweak);
        gw.signal("HUP");
        gw.eventually(Duration::from_secs(5), "reload refused", || {
            gw.log_text().matches("certificate reload failed").count() > i
        });
        let log = gw.log_text();
        let line = log
            .lines()
            .filter(|l| l.contains("certificate reload failed"))
            .nth(i)
            .unwrap();
        assert!(line.contains(message), "{name}: {line}");
        assert!(line.contains("gw/gateway.pem"), "{name}: {line}");
        assert_eq!(served_leaf(&gw, &path).await, original, "{name}");
    }
}

/// A CRL past its nextUpdate still applies, with a warning: refusing to start would turn a
/// missed CRL refresh into an outage of every device, and the certificates it lists stay
/// revoked. On main there is no --crl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_crl_still_applies_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), &["sensor-1", "sensor-2"]);
    let path = dir.path().to_owned();
    let device_ca = CertificateAuthority::load(
        &path.join("devices/device-ca.pem"),
        &path.join("devices/device-ca-key.pem"),
    )
    .unwrap();
    let revoked = identity(&path, "devices", "sensor-1");
    let serial = wasmbed_tls::certificate_serial(&revoked.chain()[0]).unwrap();
    let crl = device_ca
        .revoke(None, &[serial], Duration::from_secs(1))
        .unwrap();
    wasmbed_tls::save_crl(&path.join("devices/crl.pem"), &crl).unwrap();
    let made = SystemTime::now();
    while SystemTime::now() < made + Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut gw = start(
        dir,
        &[
            "--client-ca",
            "devices/device-ca.pem",
            "--crl",
            "devices/crl.pem",
            "--require-client-cert",
        ],
    );
    let line = gw.wait_for_log("past its nextUpdate", Duration::from_secs(5));
    assert!(line.contains("WARN") && line.contains("crl.pem"), "{line}");
    assert!(
        connect(&gw, client(&path, &revoked, TLS13), "sensor-1")
            .await
            .is_err()
    );
    let kept = identity(&path, "devices", "sensor-2");
    connect(&gw, client(&path, &kept, TLS13), "sensor-2")
        .await
        .unwrap();
}

/// Dev mode: `--device-endpoint` is logged as the endpoint to use and its host is one of the
/// dev certificate's names. On main there is no such flag.
#[test]
fn dev_mode_names_the_device_endpoint_in_its_certificate() {
    use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
    let mut gw = Gateway::start(&["--device-endpoint", "gw.example:8081"]);
    gw.wait_for_log(
        "devices can use endpoint gw.example:8081",
        Duration::from_secs(5),
    );
    let cert = load_certificates(&gw.path("state/dev/gateway.pem")).unwrap();
    let (_, parsed) = X509Certificate::from_der(&cert[0]).unwrap();
    let san = parsed.subject_alternative_name().unwrap().unwrap();
    assert!(
        san.value
            .general_names
            .iter()
            .any(|name| matches!(name, GeneralName::DNSName("gw.example"))),
        "{:?}",
        san.value.general_names
    );
}
