//! Client certificates after the handshake: a resumed session's certificate is verified again
//! (rustls does not), and live sessions end when a reload of the client CAs or CRLs no longer
//! accepts their certificate.
//!
//! # Why a watch channel?
//!
//! A reload bumps one generation counter; each session with a certificate holds a
//! `watch::Receiver` (16 bytes, plus 136 for the pending `changed()` future in its `select!`)
//! and checks its own certificate, which rustls keeps anyway, when the counter moves. No
//! certificate is copied per session and nothing walks the registry under its lock.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_rustls::rustls::HandshakeKind;
use tokio_rustls::rustls::server::ServerConnection;
use wasmbed_tls::ClientVerifier;

/// The client verifier the gateway re-checks certificates with, and the reload generation.
#[derive(Debug)]
pub(crate) struct Trust {
    verifier: OnceLock<Arc<ClientVerifier>>,
    generation: watch::Sender<u64>,
    last_change: Mutex<Option<Instant>>,
}

impl Trust {
    pub(crate) fn new() -> Trust {
        Trust {
            verifier: OnceLock::new(),
            generation: watch::Sender::new(0),
            last_change: Mutex::new(None),
        }
    }

    /// Whether the CAs or CRLs changed within `window`: a session whose handshake started
    /// that long ago may have been verified before the change and subscribed after it.
    pub(crate) fn changed_within(&self, window: Duration) -> bool {
        self.last_change
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| at.elapsed() <= window)
    }

    /// A receiver for sessions whose client presented a certificate; `None` otherwise.
    pub(crate) fn watch(&self, conn: &ServerConnection) -> Option<watch::Receiver<u64>> {
        (self.verifier.get().is_some() && conn.peer_certificates().is_some())
            .then(|| self.generation.subscribe())
    }

    /// Whether the connection's client certificate is accepted now, with the current CAs and
    /// CRLs at the current time. `Err` says why not.
    pub(crate) fn check(&self, conn: &ServerConnection) -> Result<(), String> {
        let (Some(verifier), Some(chain)) = (self.verifier.get(), conn.peer_certificates()) else {
            return Ok(());
        };
        verifier.verify_now(chain).map_err(|e| e.to_string())
    }

    /// Checks certificates with `verifier` from now on; set once, later calls are ignored.
    pub(crate) fn set_verifier(&self, verifier: Arc<ClientVerifier>) {
        let _ = self.verifier.set(verifier);
    }

    /// Records a reload of the client CAs or CRLs and wakes every watching session.
    pub(crate) fn changed_now(&self) {
        *self.last_change.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.generation.send_modify(|g| *g += 1);
    }

    /// [`Trust::check`] for a resumed session; full handshakes were verified by rustls.
    pub(crate) fn check_resumed(&self, conn: &ServerConnection) -> Result<(), String> {
        if conn.handshake_kind() == Some(HandshakeKind::Resumed) {
            self.check(conn)
        } else {
            Ok(())
        }
    }
}

/// Completes when the trust generation moves; never without a receiver.
pub(crate) async fn changed(receiver: &mut Option<watch::Receiver<u64>>) {
    if let Some(receiver) = receiver
        && receiver.changed().await.is_ok()
    {
        return;
    }
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reload costs an idle session: the receiver in `Session` and the future its
    /// `select!` polls while the session is idle (measured on x86-64: 16 and 136 bytes).
    #[test]
    fn an_idle_session_pays_little_for_reload_notices() {
        let trust = Trust::new();
        let mut receiver = Some(trust.generation.subscribe());
        assert_eq!(size_of_val(&receiver), 16);
        let waiting = changed(&mut receiver);
        let future = size_of_val(&waiting);
        assert!(future <= 160, "{future} bytes");
        drop(waiting);
        eprintln!("receiver 16 bytes, pending changed() future {future} bytes");
    }
}
