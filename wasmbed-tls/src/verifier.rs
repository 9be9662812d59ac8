//! Client certificate verification whose device CAs and CRLs can be replaced while the
//! gateway runs.
//!
//! # Why does the CertificateRequest name no CA?
//!
//! rustls asks a verifier for the CA names to list in the CertificateRequest by reference, so a
//! verifier whose CAs change cannot hand out the current list. The list is optional (RFC 5246
//! section 7.4.4: "If the certificate_authorities list is empty, then the client MAY send any
//! certificate"; RFC 8446 section 4.2.4 makes the extension optional), mbedTLS ignores it, and
//! leaving it out keeps the handshake flight independent of the CA set, so that a CA reload can
//! never push it over the device record limit.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::error::ConfigError;
use crate::server::{ClientAuth, root_store};

/// The gateway's client certificate verifier: WebPKI path validation against the device CAs,
/// with revocation checked against the CRLs, both replaceable by [`ClientVerifier::replace`].
///
/// Handshakes that start after a replacement use the new CAs and CRLs. Sessions already
/// established (and resumed ones, which rustls does not verify again) are checked with
/// [`ClientVerifier::verify_now`], which the gateway calls on every resumption and, for live
/// sessions, after every replacement ([`ClientVerifier::generation`] tells them apart).
///
/// Revocation: only the end-entity certificate is checked, and a certificate whose issuer has
/// no CRL is accepted (a CRL is optional per CA); a CRL past its nextUpdate still applies.
pub struct ClientVerifier {
    mandatory: bool,
    current: RwLock<Arc<dyn ClientCertVerifier>>,
    generation: AtomicU64,
}

impl ClientVerifier {
    /// A verifier trusting `roots` (device CAs) and applying `crls`; `mandatory` refuses
    /// clients without a certificate (it stays as given across replacements).
    ///
    /// # Errors
    ///
    /// [`ConfigError::BadRoot`] for a CA rustls cannot use, [`ConfigError::Verifier`] for no CA
    /// or a CRL that cannot be parsed.
    pub fn new(
        roots: &[CertificateDer<'static>],
        crls: &[CertificateRevocationListDer<'static>],
        mandatory: bool,
    ) -> Result<ClientVerifier, ConfigError> {
        Ok(ClientVerifier {
            mandatory,
            current: RwLock::new(webpki_verifier(roots, crls)?),
            generation: AtomicU64::new(0),
        })
    }

    /// The verifier for `client_auth` and `crls`, or `None` for [`ClientAuth::None`].
    ///
    /// # Errors
    ///
    /// As [`ClientVerifier::new`].
    pub fn for_client_auth(
        client_auth: &ClientAuth,
        crls: &[CertificateRevocationListDer<'static>],
    ) -> Result<Option<Arc<ClientVerifier>>, ConfigError> {
        let (roots, mandatory) = match client_auth {
            ClientAuth::None => return Ok(None),
            ClientAuth::Optional(roots) => (roots, false),
            ClientAuth::Required(roots) => (roots, true),
        };
        Ok(Some(Arc::new(ClientVerifier::new(roots, crls, mandatory)?)))
    }

    /// Trusts `roots` and applies `crls` from the next verification on, and advances
    /// [`ClientVerifier::generation`].
    ///
    /// # Errors
    ///
    /// As [`ClientVerifier::new`]; on error the current CAs and CRLs stay.
    pub fn replace(
        &self,
        roots: &[CertificateDer<'static>],
        crls: &[CertificateRevocationListDer<'static>],
    ) -> Result<(), ConfigError> {
        let verifier = webpki_verifier(roots, crls)?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = verifier;
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Verifies a client chain (leaf first, as rustls' `peer_certificates`) with the current
    /// CAs and CRLs at the current time: what a full handshake would decide now.
    ///
    /// # Errors
    ///
    /// The rustls error a full handshake would fail with (for example
    /// `InvalidCertificate(Expired)`, `InvalidCertificate(Revoked)`,
    /// `InvalidCertificate(UnknownIssuer)`), or `NoCertificatesPresented` for an empty chain.
    pub fn verify_now(&self, chain: &[CertificateDer<'_>]) -> Result<(), rustls::Error> {
        let (leaf, intermediates) = chain
            .split_first()
            .ok_or(rustls::Error::NoCertificatesPresented)?;
        self.inner()
            .verify_client_cert(leaf, intermediates, UnixTime::now())
            .map(|_| ())
    }

    /// How many times the CAs and CRLs were replaced.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether clients without a certificate are refused.
    pub fn mandatory(&self) -> bool {
        self.mandatory
    }

    fn inner(&self) -> Arc<dyn ClientCertVerifier> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

fn webpki_verifier(
    roots: &[CertificateDer<'static>],
    crls: &[CertificateRevocationListDer<'static>],
) -> Result<Arc<dyn ClientCertVerifier>, ConfigError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder =
        WebPkiClientVerifier::builder_with_provider(Arc::new(root_store(roots)?), provider)
            .with_crls(crls.iter().cloned())
            .only_check_end_entity_revocation()
            .allow_unknown_revocation_status();
    Ok(builder.build()?)
}

impl fmt::Debug for ClientVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientVerifier")
            .field("mandatory", &self.mandatory)
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner()
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner().supported_verify_schemes()
    }
}
