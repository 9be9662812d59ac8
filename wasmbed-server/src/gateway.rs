//! [`Gateway`]: the library's entry point, the TLS device server and the HTTP API around one
//! shared state.

use std::future::Future;
use std::io;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tracing::{info, warn};
use wasmbed_tls::ClientVerifier;

use crate::auth::ApiAuth;
use crate::binding::DeviceBindings;
use crate::config::{ConfigError, GatewayConfig, Mode};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::state::Shared;

/// ALPN protocol names the TLS port offers: HTTP clients pick `h2` or `http/1.1`; devices send
/// no ALPN (or `wasmbed/1`) and speak the frame protocol.
pub const ALPN: [&[u8]; 3] = [b"wasmbed/1", b"h2", b"http/1.1"];

/// A gateway: the TLS device server and the HTTP API around one shared state.
///
/// Cloning is cheap (one `Arc`); every clone is the same gateway, so a clone kept before
/// [`Gateway::serve`] reads its registry and metrics while it serves.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use wasmbed_server::{Gateway, GatewayConfig, Mode, TcpListener};
/// use wasmbed_tls::{dev_gateway, server_config, CertResolver, CertificateOptions, ServerOptions};
///
/// let identity = dev_gateway(&["localhost".parse()?], &CertificateOptions::default())?;
/// let options = ServerOptions::default().with_alpn(wasmbed_server::ALPN.iter().map(|p| p.to_vec()).collect());
/// let tls = server_config(Arc::new(CertResolver::new(&identity, &options)?))?;
/// let gateway = Gateway::new(GatewayConfig::default(), tls, Mode::Dev)?;
/// let tls_listener = TcpListener::bind("0.0.0.0:8081").await?;
/// let api_listener = TcpListener::bind("0.0.0.0:8080").await?;
/// gateway.serve(tls_listener, api_listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Gateway {
    shared: Arc<Shared>,
}

impl Gateway {
    /// A gateway with `config` serving TLS with `tls` (from `wasmbed_tls::server_config`,
    /// with [`ALPN`] among its protocols so HTTP clients are recognised).
    ///
    /// Its API starts [`ApiAuth::Locked`]: every device endpoint answers 401 until
    /// [`Gateway::set_api_auth`] names a token.
    ///
    /// Device ids bound to a client certificate are kept in memory only; use
    /// [`Gateway::with_bindings`] with [`DeviceBindings::open`] to keep them across restarts.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] from [`GatewayConfig::validate`]: a field out of its range.
    pub fn new(
        config: GatewayConfig,
        tls: Arc<rustls::ServerConfig>,
        mode: Mode,
    ) -> Result<Gateway, ConfigError> {
        Gateway::with_bindings(config, tls, mode, DeviceBindings::in_memory())
    }

    /// Like [`Gateway::new`], with the set of device ids bound to client certificates (see
    /// [`crate::binding`]), usually [`DeviceBindings::open`] on the state directory.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] from [`GatewayConfig::validate`]: a field out of its range.
    pub fn with_bindings(
        config: GatewayConfig,
        tls: Arc<rustls::ServerConfig>,
        mode: Mode,
        bindings: DeviceBindings,
    ) -> Result<Gateway, ConfigError> {
        config.validate()?;
        Ok(Gateway {
            shared: Arc::new(Shared::new(config, tls, mode, bindings)),
        })
    }

    /// Checks client certificates after the handshake with `verifier`, the one given to
    /// `wasmbed_tls::server_config_with_verifier`: resumed sessions are verified again at the
    /// current time (an expired, revoked or no longer trusted certificate ends them with
    /// GOODBYE `CredentialsRevoked` before HELLO), and [`Gateway::client_trust_changed`]
    /// re-checks live sessions. Set once; later calls are ignored.
    pub fn with_client_verifier(self, verifier: Arc<ClientVerifier>) -> Gateway {
        self.shared.trust.set_verifier(verifier);
        self
    }

    /// Tells live sessions that the client CAs or CRLs changed (after
    /// `ClientVerifier::replace`): each session with a certificate verifies it again and, if
    /// it is no longer accepted, ends with GOODBYE `CredentialsRevoked` and a log line.
    pub fn client_trust_changed(&self) {
        self.shared.trust.changed_now();
    }

    /// How the API authenticates requests from now on (also for a token reload: requests
    /// already past the check are not affected).
    pub fn set_api_auth(&self, auth: ApiAuth) {
        self.shared.authenticator.set(auth);
    }

    /// The limits and timings the gateway runs with.
    pub fn config(&self) -> &GatewayConfig {
        &self.shared.config
    }

    /// Dev or production, as given to [`Gateway::new`].
    pub fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// The devices: connected sessions and those remembered after they left.
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    /// Device ids bound to a client certificate.
    pub fn bindings(&self) -> &DeviceBindings {
        &self.shared.bindings
    }

    /// The gateway's metrics, as `GET /metrics` serves them.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Starts shutting down, as if the `shutdown` future given to [`Gateway::serve`] had
    /// completed: `serve` stops accepting, says GOODBYE to devices and returns after the
    /// grace period. Calling it again is harmless; calling it before `serve` makes `serve`
    /// stop as soon as it starts.
    pub fn shutdown(&self) {
        self.shared.shutdown.cancel();
    }

    /// Whether shutdown has started ([`Gateway::shutdown`] or `serve`'s `shutdown` future).
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutdown.is_cancelled()
    }

    /// Serves devices on `tls_listener` and the API on `api_listener` until `shutdown`
    /// completes (or [`Gateway::shutdown`] is called), then stops accepting, sends GOODBYE to
    /// every device, closes idle HTTP connections and waits up to
    /// [`GatewayConfig::shutdown_grace`] for the rest to close.
    ///
    /// The API port serves HTTP/1.1 to at most [`GatewayConfig::max_api_connections`]
    /// clients.
    ///
    /// # Errors
    ///
    /// None today (accept errors are logged and retried); the `Result` leaves room for
    /// listener errors that end serving.
    pub async fn serve(
        self,
        tls_listener: TcpListener,
        api_listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let shared = self.shared;
        let token = shared.shutdown.clone();
        let accept = tokio::spawn(crate::server::accept_loop(shared.clone(), tls_listener));
        let api = tokio::spawn(crate::http::api_accept_loop(
            shared.clone(),
            api_listener,
            crate::api::router(shared.clone()),
        ));
        tokio::select! {
            _ = shutdown => {}
            _ = token.cancelled() => {}
        }
        info!(
            sessions = shared.registry.connected_count(),
            grace = ?shared.config.shutdown_grace,
            "shutting down: no new connections; sending GOODBYE to devices"
        );
        token.cancel();
        let _ = accept.await;
        let _ = api.await;
        shared.tracker.close();
        // Devices, HTTP clients on either port and API requests all get the same grace
        // period; after it, whatever is left is dropped rather than holding up the exit.
        if tokio::time::timeout(shared.config.shutdown_grace, shared.tracker.wait())
            .await
            .is_err()
        {
            warn!(
                remaining = shared.tracker.len(),
                "shutdown grace period over; closing the remaining connections"
            );
        }
        info!("gateway stopped");
        Ok(())
    }
}
