//! CRLs made by the device CA, loaded and checked, and a client verifier whose CAs and CRLs
//! are replaced while it is in use.

use wasmbed_tls::rustls::pki_types::CertificateRevocationListDer;
use wasmbed_tls::rustls::{CertificateError, Error};
use wasmbed_tls::{
    CertificateAuthority, CertificateOptions, ClientVerifier, DeviceId, LoadError,
    certificate_serial, check_crl, load_crls, save_crl,
};

fn ca(name: &str) -> CertificateAuthority {
    CertificateAuthority::generate(name, &CertificateOptions::default()).unwrap()
}

#[test]
fn revoke_keeps_earlier_entries_and_bumps_the_crl_number() {
    let ca = ca("device CA");
    let one = ca
        .issue_device(
            &DeviceId::new("one").unwrap(),
            &CertificateOptions::default(),
        )
        .unwrap();
    let two = ca
        .issue_device(
            &DeviceId::new("two").unwrap(),
            &CertificateOptions::default(),
        )
        .unwrap();
    let (s1, s2) = (
        certificate_serial(&one.chain()[0]).unwrap(),
        certificate_serial(&two.chain()[0]).unwrap(),
    );
    let day = std::time::Duration::from_secs(86_400);
    let path = std::path::Path::new("crl.pem");
    let roots = [ca.certificate().clone()];

    let first = ca.revoke(None, std::slice::from_ref(&s1), day).unwrap();
    let status = check_crl(path, &first, &roots).unwrap();
    assert_eq!(
        (status.number, status.revoked.clone()),
        (Some(1), vec![s1.clone()])
    );
    assert!(!status.is_stale(std::time::SystemTime::now()));

    let second = ca
        .revoke(Some(&first), &[s2.clone(), s1.clone()], day)
        .unwrap();
    let status = check_crl(path, &second, &roots).unwrap();
    assert_eq!(status.number, Some(2));
    assert_eq!(status.revoked, vec![s1, s2]);
    assert!(status.is_stale(std::time::SystemTime::now() + 2 * day));
}

#[test]
fn a_crl_is_checked_against_the_client_cas() {
    let (ca, other) = (ca("device CA"), ca("other CA"));
    let crl = ca
        .revoke(None, &[], std::time::Duration::from_secs(60))
        .unwrap();
    let path = std::path::Path::new("crl.pem");
    assert!(matches!(
        check_crl(path, &crl, &[other.certificate().clone()]),
        Err(LoadError::CrlNotFromClientCa { .. })
    ));
    let garbage = CertificateRevocationListDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
    assert!(matches!(
        check_crl(path, &garbage, &[ca.certificate().clone()]),
        Err(LoadError::BadCrl { .. })
    ));
    // Someone else's CRL cannot be extended by this CA either.
    assert!(
        other
            .revoke(Some(&crl), &[], std::time::Duration::from_secs(60))
            .is_err()
    );
}

#[test]
fn crl_files_load_as_pem_or_der_and_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca("device CA");
    let crl = ca
        .revoke(None, &[], std::time::Duration::from_secs(60))
        .unwrap();
    let pem = dir.path().join("crl.pem");
    save_crl(&pem, &crl).unwrap();
    assert_eq!(load_crls(&pem).unwrap(), std::slice::from_ref(&crl));
    let der = dir.path().join("crl.der");
    std::fs::write(&der, crl.as_ref()).unwrap();
    assert_eq!(load_crls(&der).unwrap(), [crl]);
    let bad = dir.path().join("bad.pem");
    for contents in [
        "not a crl\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        std::fs::write(&bad, contents).unwrap();
        let err = load_crls(&bad).unwrap_err();
        assert!(
            matches!(err, LoadError::BadCrl { .. }),
            "{contents:?}: {err}"
        );
        assert!(err.to_string().contains("bad.pem"), "{err}");
    }
    assert!(matches!(
        load_crls(&dir.path().join("missing.pem")),
        Err(LoadError::Missing { .. })
    ));
}

#[test]
fn replacing_the_cas_and_crls_changes_what_verifies() {
    let (ca, next) = (ca("device CA"), ca("next device CA"));
    let device = ca
        .issue_device(&DeviceId::new("d").unwrap(), &CertificateOptions::default())
        .unwrap();
    let verifier = ClientVerifier::new(&[ca.certificate().clone()], &[], true).unwrap();
    assert!(verifier.mandatory());
    verifier.verify_now(device.chain()).unwrap();
    assert_eq!(verifier.generation(), 0);

    let serial = certificate_serial(&device.chain()[0]).unwrap();
    let crl = ca
        .revoke(None, &[serial], std::time::Duration::from_secs(60))
        .unwrap();
    verifier
        .replace(&[ca.certificate().clone()], std::slice::from_ref(&crl))
        .unwrap();
    assert_eq!(verifier.generation(), 1);
    assert_eq!(
        verifier.verify_now(device.chain()),
        Err(Error::InvalidCertificate(CertificateError::Revoked))
    );

    verifier
        .replace(&[next.certificate().clone()], &[])
        .unwrap();
    assert_eq!(
        verifier.verify_now(device.chain()),
        Err(Error::InvalidCertificate(CertificateError::UnknownIssuer))
    );
    // A failed replacement keeps what was there.
    assert!(verifier.replace(&[], &[]).is_err());
    assert_eq!(verifier.generation(), 2);
    assert_eq!(
        verifier.verify_now(&[]),
        Err(Error::NoCertificatesPresented)
    );
}
