//! HTTP connections on both ports, with their limits: the API port's accept loop and
//! connection cap, and for every HTTP connection a header-read deadline, an idle timeout and
//! graceful shutdown.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tower::ServiceExt as _;
use tracing::{debug, warn};

use crate::metrics::Metrics;
use crate::state::Shared;

/// What an over-the-cap API client reads before the gateway closes its connection.
const API_BUSY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\ncontent-length: 61\r\nconnection: close\r\nretry-after: 1\r\n\r\n\
{\"error\": \"too many API connections; retry after one closes\"}";

/// Which port an HTTP connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Port {
    /// The API port: HTTP/1.1.
    Api,
    /// The TLS device port: HTTP/1.1 or HTTP/2, for at most
    /// [`TLS_PORT_HTTP_LIFETIME`](crate::TLS_PORT_HTTP_LIFETIME).
    Tls,
}

/// Accepts API connections up to [`GatewayConfig::max_api_connections`](crate::GatewayConfig)
/// until shutdown.
pub(crate) async fn api_accept_loop(shared: Arc<Shared>, listener: TcpListener, router: Router) {
    const FAILURE: &str = "API accept failed; retrying in 100 ms";
    while let Some((tcp, peer)) =
        crate::accept::accept_next(&shared, &listener, "api_accept", FAILURE).await
    {
        match shared.api_connections.clone().try_acquire_owned() {
            Ok(permit) => {
                let router = router.clone();
                let shared2 = shared.clone();
                shared.tracker.spawn(async move {
                    serve_connection(&shared2, tcp, peer, router, Port::Api).await;
                    drop(permit);
                });
            }
            Err(_) => {
                Metrics::count(&shared.metrics.refused, "api_connection_limit");
                if let Some(suppressed) = shared.log_limiter.allow("api_connection_limit") {
                    warn!(
                        %peer,
                        max_api_connections = shared.config.max_api_connections,
                        suppressed_since_last = suppressed,
                        "API connection limit reached; answering 503 and closing"
                    );
                }
                // A fresh socket's send buffer is empty, so this never blocks; a client
                // that misses it sees the close.
                let _ = tcp.try_write(API_BUSY_RESPONSE);
                drop(tcp);
            }
        }
    }
}

/// Serves HTTP on one connection with the configured limits until the client is done, it
/// idles out, the TLS port's lifetime ends, or the gateway shuts down.
pub(crate) async fn serve_connection<S>(
    shared: &Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    router: Router,
    port: Port,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = &shared.config;
    let activity = Arc::new(Activity::new());
    let counter = activity.clone();
    let service = tower::service_fn(move |mut request: axum::http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let in_flight = InFlight::new(counter.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await;
            drop(in_flight);
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.http_header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(None)
        .max_concurrent_streams(config.http2_max_concurrent_streams);
    let builder = match port {
        Port::Api => builder.http1_only(),
        Port::Tls => builder,
    };
    let io = TokioIo::new(ActivityIo {
        inner: stream,
        activity: activity.clone(),
    });
    let connection = builder.serve_connection(io, TowerToHyperService::new(service));
    tokio::pin!(connection);
    let lifetime = match port {
        Port::Api => None,
        Port::Tls => Some(Instant::now() + crate::TLS_PORT_HTTP_LIFETIME),
    };
    let idle = config.http_idle_timeout;
    let mut closing: Option<Instant> = None;
    let mut idle_check = Instant::now() + idle;
    loop {
        let hard_stop = closing.or(lifetime);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    debug!(%peer, ?port, error = %e, "HTTP connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep_until(idle_check), if closing.is_none() => {
                let now = Instant::now();
                if activity.in_flight() > 0 {
                    idle_check = now + idle;
                } else if activity.last() + idle > now {
                    idle_check = activity.last() + idle;
                } else {
                    debug!(%peer, ?port, ?idle, "HTTP connection idle; closing");
                    connection.as_mut().graceful_shutdown();
                    closing = Some(now + config.shutdown_grace.max(Duration::from_secs(1)));
                }
            }
            _ = shared.shutdown.cancelled(), if closing.is_none() => {
                connection.as_mut().graceful_shutdown();
                closing = Some(Instant::now() + config.shutdown_grace);
            }
            _ = sleep_until_opt(hard_stop) => {
                debug!(%peer, ?port, "HTTP connection closed at its deadline");
                return;
            }
        }
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// When a connection last moved a byte, and how many requests it has in progress.
#[derive(Debug)]
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

/// One request in progress; the count drops with it, also when hyper cancels the request.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that records when it last read or wrote a byte.
struct ActivityIo<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for ActivityIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ActivityIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_busy_response_is_well_formed() {
        let text = std::str::from_utf8(super::API_BUSY_RESPONSE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["error"].is_string());
    }
}
