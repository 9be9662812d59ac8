//! HTTP on the TLS port: `curl -k https://HOST:8081/health` answers like the API's `/health`.
//!
//! Only `/health` and `/ready` are served here; the device API stays on the API port, away from
//! the network devices share. At most `max_tls_http_connections` HTTP clients are served at
//! once; each must send its request headers within `http_header_read_timeout`, is closed after
//! `http_idle_timeout` without a request and after [`TLS_PORT_HTTP_LIFETIME`] in any case, so
//! HTTP clients cannot hold the connection permits devices need (see
//! [`GatewayConfig`](crate::GatewayConfig)).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tracing::warn;

use crate::http::Port;
use crate::metrics::Metrics;
use crate::server::Shared;

/// The longest an HTTP connection on the TLS port stays open: enough for a health check,
/// far too short to starve devices of connection permits.
pub const TLS_PORT_HTTP_LIFETIME: Duration = Duration::from_secs(30);

/// A stream that first yields bytes already read from it.
#[derive(Debug)]
pub(crate) struct Rewind<S> {
    prefix: BytesMut,
    inner: S,
}

impl<S> Rewind<S> {
    /// `inner`, with `prefix` read back first.
    pub(crate) fn new(inner: S, prefix: BytesMut) -> Rewind<S> {
        Rewind { prefix, inner }
    }

    /// The stream the bytes come from.
    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            if self.prefix.is_empty() {
                // Free the buffer: a device session keeps its stream for days.
                self.prefix = BytesMut::new();
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

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
