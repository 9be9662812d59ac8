//! Reloading the gateway certificate, the client CAs and the CRLs on SIGHUP and on file change.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tracing::{error, info, warn};
use wasmbed_server::Gateway;
use wasmbed_tls::rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use wasmbed_tls::{CertResolver, ClientVerifier, check_crl, load_certificates, load_crls};

/// The client CAs in `ca` and the CRLs in `crls`, each CRL checked against the CAs; a CRL past
/// its nextUpdate is applied with a warning.
pub(crate) fn load_trust(
    ca: &Path,
    crls: &[PathBuf],
) -> Result<(
    Vec<CertificateDer<'static>>,
    Vec<CertificateRevocationListDer<'static>>,
)> {
    let roots = load_certificates(ca)?;
    let mut loaded = Vec::new();
    let now = std::time::SystemTime::now();
    for path in crls {
        for crl in load_crls(path)? {
            let status = check_crl(path, &crl, &roots)?;
            if status.is_stale(now) {
                let next_update = status.next_update.map(|t| {
                    time::OffsetDateTime::from(t)
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                });
                warn!(
                    crl = %path.display(),
                    next_update,
                    "the CRL is past its nextUpdate: still applying it, but revocations since then are missing; publish a new one (wasmbed-gateway pki revoke)"
                );
            }
            loaded.push(crl);
        }
    }
    Ok((roots, loaded))
}

/// What SIGHUP and file changes reload: the gateway's certificate and key, and the client CAs
/// with their CRLs.
pub(crate) struct Reloader {
    pub(crate) resolver: Arc<CertResolver>,
    pub(crate) identity: Option<(PathBuf, PathBuf)>,
    pub(crate) trust: Option<Trust>,
    pub(crate) gateway: Gateway,
}

pub(crate) struct Trust {
    pub(crate) verifier: Arc<ClientVerifier>,
    pub(crate) ca: PathBuf,
    pub(crate) crls: Vec<PathBuf>,
    /// The CAs and CRLs in use, so that a reload that changes nothing re-checks no session.
    pub(crate) loaded: std::sync::Mutex<TrustFiles>,
}

type TrustFiles = (
    Vec<CertificateDer<'static>>,
    Vec<CertificateRevocationListDer<'static>>,
);

impl Reloader {
    /// The files of the certificate, and those of the client CAs and CRLs.
    fn files(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let identity = self
            .identity
            .iter()
            .flat_map(|(cert, key)| [cert.clone(), key.clone()])
            .collect();
        let trust = self
            .trust
            .iter()
            .flat_map(|trust| std::iter::once(trust.ca.clone()).chain(trust.crls.iter().cloned()))
            .collect();
        (identity, trust)
    }

    fn reload(&self, why: &str) {
        self.reload_identity(why);
        self.reload_trust(why);
    }

    fn reload_identity(&self, why: &str) {
        if let Some((cert, key)) = &self.identity {
            match self.resolver.reload(cert, key) {
                Ok(()) => {
                    info!(trigger = why, cert = %cert.display(), "certificate reloaded; new handshakes use it, connected devices stay")
                }
                Err(e) => {
                    error!(
                        trigger = why,
                        error = format!("{:#}", anyhow::Error::from(e)),
                        "certificate reload failed; keeping the current certificate"
                    )
                }
            }
        }
    }

    fn reload_trust(&self, why: &str) {
        if let Some(trust) = &self.trust {
            let mut current = trust.loaded.lock().unwrap_or_else(|p| p.into_inner());
            let loaded = load_trust(&trust.ca, &trust.crls).and_then(|files| {
                if files == *current {
                    return Ok(None);
                }
                trust.verifier.replace(&files.0, &files.1)?;
                let counts = (files.0.len(), files.1.len());
                *current = files;
                Ok(Some(counts))
            });
            match loaded {
                Ok(None) => {
                    info!(trigger = why, client_ca = %trust.ca.display(), "client CAs and CRLs unchanged")
                }
                Ok(Some((cas, crls))) => {
                    info!(trigger = why, client_ca = %trust.ca.display(), cas, crls, "client CAs and CRLs reloaded; live sessions whose certificate is no longer accepted end");
                    self.gateway.client_trust_changed();
                }
                Err(e) => {
                    error!(
                        trigger = why,
                        error = format!("{e:#}"),
                        "client CA/CRL reload failed; keeping the current CAs and CRLs"
                    )
                }
            }
        }
    }
}

/// SIGHUP would otherwise end the process (its default action); in dev mode there is nothing
/// to reload.
pub(crate) async fn ignore_sighup_in_dev() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        info!("SIGHUP: nothing to reload in dev mode (the certificate is made at start)");
    }
}

pub(crate) async fn reload_on_signal(reloader: Arc<Reloader>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return error!("cannot listen for SIGHUP; reload on signal is off");
    };
    while hup.recv().await.is_some() {
        reloader.reload("SIGHUP");
    }
}

/// What identifies the file a path leads to, following symbolic links: its device and inode,
/// size and modification time (`None` while it cannot be read).
///
/// Following links is what makes a Kubernetes Secret or ConfigMap volume work: its files are
/// links `cert.pem -> ..data/cert.pem`, and an update swaps the `..data` link to a new
/// directory in one rename (kubelet's `AtomicWriter`), so the link's own metadata never
/// changes. The inode tells a swapped file apart even when the new one carries the old one's
/// size and mtime (copied with `cp -p`, or restored from a backup).
#[derive(Debug, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    modified: std::time::SystemTime,
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt as _;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok()?,
        })
    }
}

/// Polls the certificate, key, client CA and CRL files every `every` and reloads what changed.
pub(crate) async fn reload_on_change(reloader: Arc<Reloader>, every: Duration) {
    let (identity, trust) = reloader.files();
    let stamps =
        |files: &[PathBuf]| -> Vec<_> { files.iter().map(|path| FileStamp::of(path)).collect() };
    let mut seen = (stamps(&identity), stamps(&trust));
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        if (stamps(&identity), stamps(&trust)) != seen {
            // Let a rotation that writes several files finish before reading them.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let settled = (stamps(&identity), stamps(&trust));
            if settled.0 != seen.0 {
                reloader.reload_identity("file change");
            }
            if settled.1 != seen.1 {
                reloader.reload_trust("file change");
            }
            seen = settled;
        }
    }
}
