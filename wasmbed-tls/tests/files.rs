//! Saving and loading PEM files: modes, atomic writes, and errors that name the file.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use wasmbed_tls::{
    CertificateAuthority, CertificateOptions, DeviceId, Identity, KEY_FILE_MODE, LoadError,
    Validity, dev_gateway, key_readable_by_others,
};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn gateway() -> Identity {
    dev_gateway(
        &["localhost".parse().unwrap()],
        &CertificateOptions::default(),
    )
    .unwrap()
}

#[test]
fn save_and_load_round_trip_with_modes() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("gw.pem"), dir.path().join("gw-key.pem"));
    let identity = gateway();
    identity.save(&cert, &key).unwrap();
    assert_eq!(mode(&key), KEY_FILE_MODE);
    assert_eq!(mode(&cert), 0o644);
    assert_eq!(key_readable_by_others(&key).unwrap(), None);
    let loaded = Identity::load(&cert, &key).unwrap();
    assert_eq!(loaded.chain(), identity.chain());
    assert_eq!(loaded.key().secret_der(), identity.key().secret_der());
    // Saving again replaces the files atomically and leaves no temporary files behind.
    gateway().save(&cert, &key).unwrap();
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    assert_eq!(mode(&key), KEY_FILE_MODE);

    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(key_readable_by_others(&key).unwrap(), Some(0o644));
}

#[test]
fn ca_round_trip_keeps_issuing() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("ca.pem"), dir.path().join("ca-key.pem"));
    let ca = CertificateAuthority::generate("test CA", &CertificateOptions::default()).unwrap();
    ca.save(&cert, &key).unwrap();
    let loaded = CertificateAuthority::load(&cert, &key).unwrap();
    assert_eq!(loaded.certificate(), ca.certificate());
    loaded
        .issue_device(
            &DeviceId::new("sensor-1").unwrap(),
            &CertificateOptions::default(),
        )
        .unwrap();
    // A leaf is not a CA.
    let (leaf, leaf_key) = (dir.path().join("gw.pem"), dir.path().join("gw-key.pem"));
    gateway().save(&leaf, &leaf_key).unwrap();
    assert!(matches!(
        CertificateAuthority::load(&leaf, &leaf_key),
        Err(LoadError::NotCa { .. })
    ));
}

#[test]
fn load_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let identity = gateway();
    identity.save(&p("gw.pem"), &p("gw-key.pem")).unwrap();
    fs::write(p("gw.der"), &identity.chain()[0]).unwrap();
    fs::write(
        p("garbage.pem"),
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    gateway()
        .save(&p("other.pem"), &p("other-key.pem"))
        .unwrap();

    let err = Identity::load(&p("missing.pem"), &p("gw-key.pem")).unwrap_err();
    assert!(
        matches!(&err, LoadError::Missing { path } if path.ends_with("missing.pem")),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("missing.pem does not exist"),
        "{err}"
    );

    let err = Identity::load(&p("gw.der"), &p("gw-key.pem")).unwrap_err();
    assert!(matches!(err, LoadError::NotPem { .. }), "{err}");
    assert!(err.to_string().contains("gw.der is not PEM"), "{err}");

    let err = Identity::load(&p("garbage.pem"), &p("gw-key.pem")).unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::BadPem { .. } | LoadError::BadCertificate { .. }
        ),
        "{err}"
    );

    let err = Identity::load(&p("gw-key.pem"), &p("gw-key.pem")).unwrap_err();
    assert!(matches!(err, LoadError::NoCertificate { .. }), "{err}");

    let err = Identity::load(&p("gw.pem"), &p("gw.pem")).unwrap_err();
    assert!(matches!(err, LoadError::NoKey { .. }), "{err}");
    assert!(
        err.to_string().contains("gw.pem holds no private key"),
        "{err}"
    );

    let err = Identity::load(&p("gw.pem"), &p("other-key.pem")).unwrap_err();
    assert!(matches!(err, LoadError::KeyMismatch { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("other-key.pem does not match the certificate in"),
        "{err}"
    );
}

#[test]
fn load_refuses_expired_and_not_yet_valid_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let day = Duration::from_secs(86_400);
    for (name, validity) in [
        ("expired", Validity::new(now - 10 * day, now - day)),
        ("future", Validity::new(now + day, now + 10 * day)),
    ] {
        let options = CertificateOptions::default().with_validity(validity);
        let identity = dev_gateway(&["localhost".parse().unwrap()], &options).unwrap();
        let (cert, key) = (
            dir.path().join(format!("{name}.pem")),
            dir.path().join(format!("{name}-key.pem")),
        );
        identity.save(&cert, &key).unwrap();
        let err = Identity::load(&cert, &key).unwrap_err();
        match name {
            "expired" => assert!(matches!(err, LoadError::Expired { .. }), "{err}"),
            _ => assert!(matches!(err, LoadError::NotYetValid { .. }), "{err}"),
        }
        assert!(err.to_string().contains(&format!("{name}.pem")), "{err}");
    }
}

#[test]
fn keys_in_other_pem_forms_load() {
    // openssl writes SEC1 ("EC PRIVATE KEY") keys; they load too.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("gw.pem"), dir.path().join("gw-key.pem"));
    gateway().save(&cert, &key).unwrap();
    let sec1 = dir.path().join("sec1.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "ec",
            "-in",
            key.to_str().unwrap(),
            "-out",
            sec1.to_str().unwrap(),
        ])
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        fs::read_to_string(&sec1)
            .unwrap()
            .contains("BEGIN EC PRIVATE KEY")
    );
    Identity::load(&cert, &sec1).unwrap();
}

#[test]
fn resolver_reloads_from_files_and_keeps_the_old_certificate_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("gw.pem"), dir.path().join("gw-key.pem"));
    let first = gateway();
    first.save(&cert, &key).unwrap();
    let options = wasmbed_tls::ServerOptions::default();
    let resolver =
        wasmbed_tls::CertResolver::new(&Identity::load(&cert, &key).unwrap(), &options).unwrap();

    let second = gateway();
    second.save(&cert, &key).unwrap();
    resolver.reload(&cert, &key).unwrap();
    assert_eq!(resolver.current().cert[0], second.chain()[0]);

    // A half-rotated pair (new certificate, old key) is refused; the second stays.
    gateway()
        .save(&cert, &dir.path().join("unused-key.pem"))
        .unwrap();
    let err = resolver.reload(&cert, &key).unwrap_err();
    assert!(
        err.to_string().contains("does not match the certificate"),
        "{err}"
    );
    assert_eq!(resolver.current().cert[0], second.chain()[0]);
}

#[test]
fn pem_errors_name_what_the_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let identity = gateway();
    identity.save(&p("gw.pem"), &p("gw-key.pem")).unwrap();
    // A passphrase-protected key, as openssl pkcs8 -topk8 writes it.
    let out = std::process::Command::new("openssl")
        .args(["pkcs8", "-topk8", "-passout", "pass:secret", "-in"])
        .arg(p("gw-key.pem"))
        .arg("-out")
        .arg(p("encrypted.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = Identity::load(&p("gw.pem"), &p("encrypted.pem")).unwrap_err();
    assert!(
        err.to_string().contains("found ENCRYPTED PRIVATE KEY"),
        "{err}"
    );
    // A truncated certificate names the missing end line in text.
    let pem = fs::read_to_string(p("gw.pem")).unwrap();
    fs::write(p("cut.pem"), &pem[..pem.len() / 2]).unwrap();
    let err = Identity::load(&p("cut.pem"), &p("gw-key.pem")).unwrap_err();
    assert!(
        err.to_string().contains("-----END CERTIFICATE-----"),
        "{err}"
    );
    // The same path for both would lose the key.
    assert!(matches!(
        identity.save(&p("both.pem"), &p("both.pem")),
        Err(wasmbed_tls::PkiError::SamePath { .. })
    ));
}

#[test]
fn a_short_rsa_key_is_named_with_its_size_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("rsa.pem"), dir.path().join("rsa-key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=short"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is installed");
    assert!(status.success());
    let e = Identity::load(&cert, &key).unwrap_err().to_string();
    assert!(
        e.contains("an RSA key of 1024 bits; at least 2048 are needed")
            && e.contains("rsa-key.pem"),
        "{e}"
    );
}
