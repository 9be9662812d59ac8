//! The generated PKI checked by the real `openssl` binary, and a real `openssl s_client`
//! handshake (with an IP address as SNI, as Zephyr devices send) against a rustls server on
//! loopback.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::thread;

use wasmbed_tls::rustls::{self, ServerConnection, StreamOwned};
use wasmbed_tls::{
    CertResolver, CertificateAuthority, CertificateOptions, DeviceId, ServerOptions, server_config,
};

fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the openssl binary is installed (.ci/run installs it)")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

struct Files {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    gateway: PathBuf,
    gateway_key: PathBuf,
    device_ca: PathBuf,
    device: PathBuf,
}

fn production_files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let options = CertificateOptions::default();
    let ca = CertificateAuthority::generate("wasmbed gateway CA", &options).unwrap();
    ca.save(&path("ca.pem"), &path("ca-key.pem")).unwrap();
    let names = [
        "10.42.0.12".parse().unwrap(),
        "gw.example".parse().unwrap(),
        "127.0.0.1".parse().unwrap(),
    ];
    ca.issue_gateway(&names, &options)
        .unwrap()
        .save(&path("gateway.pem"), &path("gateway-key.pem"))
        .unwrap();
    let device_ca = CertificateAuthority::generate("wasmbed device CA", &options).unwrap();
    device_ca
        .save(&path("device-ca.pem"), &path("device-ca-key.pem"))
        .unwrap();
    device_ca
        .issue_device(&DeviceId::new("sensor-1").unwrap(), &options)
        .unwrap()
        .save(&path("device.pem"), &path("device-key.pem"))
        .unwrap();
    Files {
        ca: path("ca.pem"),
        gateway: path("gateway.pem"),
        gateway_key: path("gateway-key.pem"),
        device_ca: path("device-ca.pem"),
        device: path("device.pem"),
        _dir: dir,
    }
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn openssl_verifies_the_gateway_chain_names_and_purpose() {
    let f = production_files();
    let out = openssl(&[
        "verify",
        "-CAfile",
        s(&f.ca),
        "-purpose",
        "sslserver",
        s(&f.gateway),
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains(": OK"), "{}", stdout(&out));

    for (flag, name, matches) in [
        ("-checkip", "10.42.0.12", true),
        ("-checkip", "127.0.0.1", true),
        ("-checkip", "10.42.0.13", false),
        ("-checkhost", "gw.example", true),
        ("-checkhost", "other.example", false),
    ] {
        let out = openssl(&["x509", "-in", s(&f.gateway), "-noout", flag, name]);
        let text = stdout(&out);
        assert_eq!(
            !text.contains("NOT match"),
            matches,
            "{flag} {name}: {text}"
        );
        assert!(text.contains("match certificate"), "{flag} {name}: {text}");
    }

    // The SANs mbedTLS 2.x needs: the address text as a dNSName next to the iPAddress.
    let out = openssl(&[
        "x509",
        "-in",
        s(&f.gateway),
        "-noout",
        "-ext",
        "subjectAltName,extendedKeyUsage",
    ]);
    let text = stdout(&out);
    for expected in [
        "DNS:10.42.0.12",
        "IP Address:10.42.0.12",
        "DNS:gw.example",
        "TLS Web Server Authentication",
    ] {
        assert!(text.contains(expected), "missing {expected} in {text}");
    }
    let out = openssl(&["x509", "-in", s(&f.gateway), "-noout", "-text"]);
    let text = stdout(&out);
    assert!(
        text.contains("ecdsa-with-SHA256") && text.contains("prime256v1"),
        "{text}"
    );
    assert!(
        text.contains("Not Before: Jan  1 00:00:00 1970 GMT"),
        "{text}"
    );
    assert!(
        text.contains("Not After : Dec 31 23:59:59 9999 GMT"),
        "{text}"
    );
}

#[test]
fn openssl_verifies_the_device_certificate_for_client_auth() {
    let f = production_files();
    let out = openssl(&[
        "verify",
        "-CAfile",
        s(&f.device_ca),
        "-purpose",
        "sslclient",
        s(&f.device),
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    let out = openssl(&["x509", "-in", s(&f.device), "-noout", "-subject"]);
    assert!(
        stdout(&out).contains("CN = sensor-1") || stdout(&out).contains("CN=sensor-1"),
        "{}",
        stdout(&out)
    );
    // Signed by the device CA, so the gateway CA must not vouch for it.
    let out = openssl(&["verify", "-CAfile", s(&f.ca), s(&f.device)]);
    assert!(!out.status.success());
}

/// Serves one TLS connection on loopback with the gateway's configuration; returns the port and
/// a handle yielding the server-side outcome.
fn serve_once(f: &Files) -> (u16, thread::JoinHandle<Result<(), rustls::Error>>) {
    let identity = wasmbed_tls::Identity::load(&f.gateway, &f.gateway_key).unwrap();
    let options = ServerOptions::default();
    let config = server_config(Arc::new(CertResolver::new(&identity, &options).unwrap())).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut stream = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock).map_err(|e| {
                match e.into_inner().map(|e| e.downcast::<rustls::Error>()) {
                    Some(Ok(e)) => *e,
                    _ => rustls::Error::General("I/O error during handshake".into()),
                }
            })?;
        }
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        Ok(())
    });
    (port, handle)
}

#[test]
fn openssl_s_client_with_an_ip_address_as_sni() {
    let f = production_files();
    let (port, server) = serve_once(&f);
    let connect = format!("127.0.0.1:{port}");
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "127.0.0.1",
        "-CAfile",
        s(&f.ca),
        "-verify_ip",
        "127.0.0.1",
        "-verify_return_error",
        "-brief",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Verification: OK"), "{text}");
    assert!(text.contains("TLSv1.3"), "{text}");
    server.join().unwrap().unwrap();
}

#[test]
fn openssl_s_client_tls12_ecdhe_ecdsa_aes_gcm() {
    // The suite a Zephyr device's mbedTLS offers: ECDHE-ECDSA with AES-128-GCM over TLS 1.2.
    let f = production_files();
    let (port, server) = serve_once(&f);
    let connect = format!("127.0.0.1:{port}");
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-tls1_2",
        "-cipher",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "-CAfile",
        s(&f.ca),
        "-verify_hostname",
        "gw.example",
        "-verify_return_error",
        "-brief",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("ECDHE-ECDSA-AES128-GCM-SHA256"), "{text}");
    server.join().unwrap().unwrap();
}
