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
