//! Accepting with back-off: the accept step both listeners (devices and API) share.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tracing::warn;

use crate::state::Shared;

/// The next connection on `listener`, or `None` once the gateway shuts down. A failed accept
/// (out of file descriptors and similar) is logged as `failure`, rate-limited under `class`,
/// and retried after 100 ms instead of spinning.
pub(crate) async fn accept_next(
    shared: &Shared,
    listener: &TcpListener,
    class: &'static str,
    failure: &str,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return None,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok(accepted) => return Some(accepted),
            Err(e) => {
                if let Some(suppressed) = shared.log_limiter.allow(class) {
                    warn!(error = %e, suppressed_since_last = suppressed, "{failure}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
