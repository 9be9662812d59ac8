//! The CA as a C header: compiled with gcc -Werror, its bytes equal the DER.

use std::process::Command;

use wasmbed_tls::{CertificateAuthority, CertificateOptions, PkiError, c_header, fingerprint};

#[test]
fn header_compiles_and_holds_the_der() {
    let ca =
        CertificateAuthority::generate("wasmbed */ CA", &CertificateOptions::default()).unwrap();
    let der = ca.certificate();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ca_certificate.h"),
        c_header(der, "ca_certificate").unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("main.c"),
        "#include <stdio.h>\n#include \"ca_certificate.h\"\n\
         int main(void)\n{\n\tsize_t i;\n\n\
         \tif (sizeof(ca_certificate) != CA_CERTIFICATE_LEN) {\n\t\treturn 1;\n\t}\n\
         \tfor (i = 0; i < sizeof(ca_certificate); i++) {\n\t\tprintf(\"%02x\", ca_certificate[i]);\n\t}\n\
         \treturn 0;\n}\n",
    )
    .unwrap();
    let exe = dir.path().join("dump");
    let cc = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o"])
        .arg(&exe)
        .arg(dir.path().join("main.c"))
        .output()
        .expect("a C compiler is installed");
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success());
    let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), hex);
}

#[test]
fn header_names_the_certificate() {
    let ca = CertificateAuthority::generate("wasmbed CA", &CertificateOptions::default()).unwrap();
    let header = c_header(ca.certificate(), "gateway_ca").unwrap();
    assert!(header.contains("Subject: CN=wasmbed CA"), "{header}");
    assert!(header.contains(&format!("SHA-256: {}", fingerprint(ca.certificate()))));
    assert!(header.contains("#ifndef WASMBED_GATEWAY_CA_H_"));
    assert_eq!(fingerprint(ca.certificate()).len(), 32 * 3 - 1);
}

#[test]
fn symbols_must_be_c_identifiers() {
    let ca = CertificateAuthority::generate("wasmbed CA", &CertificateOptions::default()).unwrap();
    for bad in ["", "1ca", "ca-cert", "ca cert", "ca;"] {
        assert!(
            matches!(
                c_header(ca.certificate(), bad),
                Err(PkiError::InvalidSymbol { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn symbols_are_lower_case_non_keywords_and_credentials_are_named() {
    let ca = CertificateAuthority::generate("wasmbed CA", &CertificateOptions::default()).unwrap();
    for bad in ["int", "_ca", "CA_CERTIFICATE", "Ca"] {
        assert!(
            matches!(
                c_header(ca.certificate(), bad),
                Err(PkiError::InvalidSymbol { .. })
            ),
            "{bad:?}"
        );
    }
    let key = ca.key();
    let header = wasmbed_tls::c_header_credential(
        key.secret_der(),
        "device_key",
        wasmbed_tls::Credential::PrivateKey,
    )
    .unwrap();
    assert!(header.contains("TLS_CREDENTIAL_PRIVATE_KEY"), "{header}");
    assert!(header.contains("SECRET"), "{header}");
    assert!(!header.contains("Subject:"), "{header}");
    let header = c_header(ca.certificate(), "ca_certificate").unwrap();
    assert!(
        header.contains("Valid: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z"),
        "{header}"
    );
}
