//! [`Shared`]: the state every task of one gateway shares. It depends on the parts it holds and
//! on nothing that uses it, so the accept loop, sessions and the API all import it without
//! importing each other.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Authenticator;
use crate::binding::DeviceBindings;
use crate::config::{GatewayConfig, MAX_POLITE_REFUSALS, Mode};
use crate::log_limiter::LogLimiter;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::trust::Trust;

/// State shared by every task of one gateway.
pub(crate) struct Shared {
    pub(crate) config: GatewayConfig,
    pub(crate) registry: Registry,
    pub(crate) bindings: DeviceBindings,
    pub(crate) metrics: Metrics,
    /// Cancelled when the gateway shuts down.
    pub(crate) shutdown: CancellationToken,
    pub(crate) mode: Mode,
    pub(crate) started: Instant,
    pub(crate) started_at: SystemTime,
    pub(crate) acceptor: TlsAcceptor,
    /// Permits for TLS connections (`max_connections`).
    pub(crate) connections: Arc<Semaphore>,
    /// Permits for connections over the limit that are told ERROR(overloaded).
    pub(crate) refusals: Arc<Semaphore>,
    pub(crate) api_connections: Arc<Semaphore>,
    pub(crate) tls_http_connections: Arc<Semaphore>,
    /// Every connection task, so that shutdown can wait for them.
    pub(crate) tracker: TaskTracker,
    pub(crate) log_limiter: LogLimiter,
    pub(crate) authenticator: Authenticator,
    pub(crate) trust: Trust,
}

impl Shared {
    /// The state of a new gateway; `config` must have passed [`GatewayConfig::validate`].
    pub(crate) fn new(
        config: GatewayConfig,
        tls: Arc<rustls::ServerConfig>,
        mode: Mode,
        bindings: DeviceBindings,
    ) -> Shared {
        let metrics = Metrics::new();
        metrics.device_bindings.set(bindings.len() as i64);
        Shared {
            registry: Registry::new(&config),
            bindings,
            metrics,
            shutdown: CancellationToken::new(),
            mode,
            started: Instant::now(),
            started_at: SystemTime::now(),
            acceptor: TlsAcceptor::from(tls),
            connections: Arc::new(Semaphore::new(config.max_connections)),
            refusals: Arc::new(Semaphore::new(MAX_POLITE_REFUSALS)),
            api_connections: Arc::new(Semaphore::new(config.max_api_connections)),
            tls_http_connections: Arc::new(Semaphore::new(config.max_tls_http_connections)),
            tracker: TaskTracker::new(),
            log_limiter: LogLimiter::new(config.log_burst),
            authenticator: Authenticator::new(),
            trust: Trust::new(),
            config,
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("mode", &self.mode)
            .field("sessions", &self.registry.connected_count())
            .finish_non_exhaustive()
    }
}
