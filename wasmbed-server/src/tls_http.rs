//! HTTP on the TLS port: `curl -k https://HOST:8081/health` answers like the API's `/health`.
//!
//! Only `/health` and `/ready` are served here; the device API stays on the API port, away from
//! the network devices share. At most `max_tls_http_connections` HTTP clients are served at
//! once; each must send its request headers within `http_header_read_timeout`, is closed after
//! `http_idle_timeout` without a request and after [`TLS_PORT_HTTP_LIFETIME`] in any case, so
//! HTTP clients cannot hold the connection permits devices need (see
//! [`GatewayConfig`](crate::GatewayConfig)).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};
use tracing::warn;

use crate::http::Port;
use crate::metrics::Metrics;
use crate::rewind::Rewind;
use crate::state::Shared;

/// The longest an HTTP connection on the TLS port stays open: enough for a health check,
/// far too short to starve devices of connection permits.
pub const TLS_PORT_HTTP_LIFETIME: Duration = Duration::from_secs(30);

/// Serves HTTP/1.1 or HTTP/2 on an established TLS stream until the client is done, within
/// [`GatewayConfig::max_tls_http_connections`](crate::GatewayConfig) and the HTTP limits.
pub(crate) async fn serve<S>(shared: Arc<Shared>, mut stream: Rewind<S>, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Ok(_permit) = shared.tls_http_connections.clone().try_acquire_owned() else {
        Metrics::count(&shared.metrics.refused, "tls_http_connection_limit");
        if let Some(suppressed) = shared.log_limiter.allow("tls_http_connection_limit") {
            warn!(
                %peer,
                max_tls_http_connections = shared.config.max_tls_http_connections,
                suppressed_since_last = suppressed,
                "HTTP connection limit on the TLS port reached; closing"
            );
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
        return;
    };
    let router = crate::api::tls_port_router(shared.clone());
    crate::http::serve_connection(&shared, stream, peer, router, Port::Tls).await;
}
