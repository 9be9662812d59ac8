//! Staying connected: [`connect_with_retry`] and [`PersistentDevice`], which count reconnect
//! attempts as the firmware does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;
use wasmbed_protocol::GoodbyeReason;

use crate::backoff::Backoff;
use crate::client::{DeviceClient, Request};
use crate::error::{ClientError, SessionEnd};
use crate::options::DeviceOptions;

/// The backoff attempt after a session that ended with `end`, as the firmware counts
/// (`gateway_client.c`, `docs/protocol.md` "Reconnecting"): a stable session (it lasted a
/// heartbeat interval and a heartbeat was answered) starts again from the first delay; a
/// GOODBYE saying another session holds the id, or that the certificate is no longer accepted,
/// waits the longest delay, because reconnecting at once would meet the same answer; any other
/// end counts as one more failure. Not resetting at HELLO_ACK is what slows down a gateway
/// that accepts and drops at once.
fn next_attempt(attempt: u32, stable: bool, end: &SessionEnd) -> u32 {
    match end {
        SessionEnd::Goodbye(GoodbyeReason::TakenOver | GoodbyeReason::CredentialsRevoked) => {
            Backoff::MAX_SHIFT
        }
        _ if stable => 0,
        _ => attempt,
    }
}

/// Connects, retrying with `backoff` while the gateway is unreachable or refuses, up to
/// `attempts` tries.
///
/// # Errors
///
/// The last attempt's error.
pub async fn connect_with_retry(
    addr: SocketAddr,
    server_name: ServerName<'static>,
    tls: Arc<ClientConfig>,
    options: DeviceOptions,
    backoff: Backoff,
    attempts: u32,
) -> Result<DeviceClient, ClientError> {
    let mut attempt = 0;
    loop {
        match DeviceClient::connect(addr, server_name.clone(), tls.clone(), options.clone()).await {
            Ok(client) => return Ok(client),
            Err(e) if attempt + 1 >= attempts => return Err(e),
            Err(_) => {
                tokio::time::sleep(backoff.delay(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// Why a [`PersistentDevice`]'s last attempt or session failed ([`Status::last_error`]).
/// Printed as the error it holds, once.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// Connecting failed (TCP, TLS, the HELLO exchange or its timeout).
    #[error(transparent)]
    Connect(Arc<ClientError>),
    /// A session was open and ended.
    #[error("the session ended: {0}")]
    Session(SessionEnd),
}

/// What a [`PersistentDevice`] is doing.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Status {
    /// Whether a session is open now.
    pub connected: bool,
    /// Sessions opened so far.
    pub sessions: u64,
    /// Why the last attempt or session failed, if one did.
    pub last_error: Option<Failure>,
}

/// A device that keeps its session: it reconnects with [`Backoff`] whenever the session ends
/// (gateway restart, takeover, network loss), like the firmware, until [`PersistentDevice::stop`].
/// Attempts are counted as the firmware counts them: only a stable session (one heartbeat
/// interval with an answered heartbeat) starts again from the first delay, and GOODBYE
/// `taken_over` or `credentials_revoked` waits the longest (`docs/protocol.md`, "Reconnecting").
///
/// Heartbeats and the gateway's ECHO are answered as by [`DeviceClient`]; DATA from the gateway
/// is discarded.
#[derive(Debug)]
pub struct PersistentDevice {
    status: tokio::sync::watch::Receiver<Status>,
    stop: tokio_util::sync::CancellationToken,
    task: JoinHandle<()>,
}

impl PersistentDevice {
    /// Starts connecting in the background.
    pub fn spawn(
        addr: SocketAddr,
        server_name: ServerName<'static>,
        tls: Arc<ClientConfig>,
        options: DeviceOptions,
        backoff: Backoff,
    ) -> PersistentDevice {
        let (status_tx, status) = tokio::sync::watch::channel(Status::default());
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut attempt = 0;
                loop {
                    let connect = DeviceClient::connect(
                        addr,
                        server_name.clone(),
                        tls.clone(),
                        options.clone(),
                    );
                    let client = tokio::select! {
                        _ = stop.cancelled() => return,
                        client = connect => client,
                    };
                    match client {
                        Ok(client) => {
                            let stable = client.stable.clone();
                            status_tx.send_modify(|s| {
                                s.connected = true;
                                s.sessions += 1;
                            });
                            let (goodbye_tx, goodbye_rx) = oneshot::channel::<()>();
                            let mut session = tokio::spawn(async move {
                                tokio::select! {
                                    _ = client.requests.closed() => {}
                                    _ = goodbye_rx => {
                                        let _ = client.requests.send(Request::Goodbye).await;
                                    }
                                }
                                client.task.await.unwrap_or(SessionEnd::Closed)
                            });
                            let end = tokio::select! {
                                _ = stop.cancelled() => {
                                    let _ = goodbye_tx.send(());
                                    let _ = session.await;
                                    status_tx.send_modify(|s| s.connected = false);
                                    return;
                                }
                                end = &mut session => end.unwrap_or(SessionEnd::Closed),
                            };
                            status_tx.send_modify(|s| {
                                s.connected = false;
                                s.last_error = Some(Failure::Session(end.clone()));
                            });
                            attempt = next_attempt(attempt, stable.load(Ordering::Relaxed), &end);
                        }
                        Err(e) => {
                            let e = Arc::new(e);
                            status_tx.send_modify(|s| s.last_error = Some(Failure::Connect(e)));
                        }
                    }
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(backoff.delay(attempt)) => {}
                    }
                    attempt = attempt.saturating_add(1);
                }
            }
        });
        PersistentDevice { status, stop, task }
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Waits until a session is open and at least `sessions` have been opened in all.
    pub async fn wait_for_session(&mut self, sessions: u64) {
        let _ = self
            .status
            .wait_for(|s| s.connected && s.sessions >= sessions)
            .await;
    }

    /// Says GOODBYE if connected and stops reconnecting.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The firmware's counting (gateway_client.c): HELLO_ACK alone resets nothing, a stable
    /// session resets, takeover and revoked credentials jump to the longest delay.
    #[test]
    fn reconnect_attempts_are_counted_like_the_firmware() {
        let backoff = Backoff::default();
        assert_eq!(next_attempt(3, false, &SessionEnd::Closed), 3);
        assert_eq!(next_attempt(3, true, &SessionEnd::Closed), 0);
        assert_eq!(
            next_attempt(0, false, &SessionEnd::Goodbye(GoodbyeReason::Shutdown)),
            0
        );
        for reason in [GoodbyeReason::TakenOver, GoodbyeReason::CredentialsRevoked] {
            let attempt = next_attempt(0, true, &SessionEnd::Goodbye(reason));
            assert_eq!(backoff.delay_with(attempt, 0), backoff.max() / 2);
            let top = u32::try_from((backoff.max() - backoff.max() / 2).as_millis()).unwrap();
            assert_eq!(backoff.delay_with(attempt, top), backoff.max());
        }
    }
}
