//! HTTP on the TLS port: `curl -k https://HOST:8081/health` answers like the API's `/health`.
//!
//! Only `/health` and `/ready` are served here; the device API stays on the API port, away from
//! the network devices share. A client must send its request headers within the hello timeout
//! and is closed after [`TLS_PORT_HTTP_LIFETIME`], so HTTP clients cannot hold connection permits
//! that devices need.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tracing::debug;

use crate::server::Shared;

/// The longest an HTTP connection on the TLS port stays open: enough for a health check,
/// far too short to starve devices of connection permits.
pub const TLS_PORT_HTTP_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30);

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

/// Serves HTTP/1.1 or HTTP/2 on an established TLS stream until the client is done.
pub(crate) async fn serve<S>(shared: Arc<Shared>, stream: Rewind<S>, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(crate::api::tls_port_router(shared.clone()));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.hello_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(None)
        .max_concurrent_streams(8);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                debug!(%peer, error = %e, "HTTP client on the TLS port");
            }
        }
        _ = tokio::time::sleep(TLS_PORT_HTTP_LIFETIME) => {
            debug!(%peer, "HTTP client on the TLS port closed after {TLS_PORT_HTTP_LIFETIME:?}");
        }
        _ = shared.shutdown.cancelled() => {}
    }
}
