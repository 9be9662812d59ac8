//! Why a session failed or ended: [`ClientError`] and [`SessionEnd`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use wasmbed_protocol::{ErrorCode, GoodbyeReason, ProtocolError};

/// Why a device session failed or ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// TCP connect failed.
    #[error("cannot connect to {addr}")]
    Connect {
        /// The gateway address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The TLS handshake failed (for example the gateway's certificate did not verify).
    #[error("TLS handshake with {addr} failed")]
    Tls {
        /// The gateway address.
        addr: SocketAddr,
        /// The I/O error wrapping the rustls error.
        #[source]
        source: io::Error,
    },
    /// Connecting took longer than `connect_timeout`.
    #[error("connecting to {addr} took longer than {timeout:?}")]
    Timeout {
        /// The gateway address.
        addr: SocketAddr,
        /// The limit.
        timeout: Duration,
    },
    /// The gateway answered with ERROR; printed with the code's standard name
    /// (`the gateway refused: invalid_device_id: ...`).
    #[error("the gateway refused: {code}: {message}")]
    Refused {
        /// The error code.
        code: ErrorCode,
        /// The gateway's message.
        message: String,
    },
    /// The gateway sent something that is not the protocol; the error says what.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The session is over.
    #[error("the session ended: {0}")]
    Ended(SessionEnd),
}

/// How a session ended. [`Display`](fmt::Display) uses the protocol's standard names
/// (`the gateway said GOODBYE taken_over`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEnd {
    /// The gateway sent GOODBYE.
    Goodbye(GoodbyeReason),
    /// The gateway sent ERROR.
    Error(ErrorCode, String),
    /// The connection closed without GOODBYE.
    Closed,
    /// The client said GOODBYE.
    Left,
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEnd::Goodbye(reason) => write!(f, "the gateway said GOODBYE {reason}"),
            SessionEnd::Error(code, message) => {
                write!(f, "the gateway sent ERROR {code}: {message}")
            }
            SessionEnd::Closed => f.write_str("the connection closed without GOODBYE"),
            SessionEnd::Left => f.write_str("this device said GOODBYE"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12: codes and reasons print as the protocol's standard names, not as Debug.
    #[test]
    fn ends_and_refusals_print_the_standard_names() {
        let refused = ClientError::Refused {
            code: ErrorCode::InvalidDeviceId,
            message: "device id is empty".into(),
        };
        assert_eq!(
            refused.to_string(),
            "the gateway refused: invalid_device_id: device id is empty"
        );
        let ended = ClientError::Ended(SessionEnd::Goodbye(GoodbyeReason::TakenOver));
        assert_eq!(
            ended.to_string(),
            "the session ended: the gateway said GOODBYE taken_over"
        );
        assert_eq!(
            SessionEnd::Error(ErrorCode::Overloaded, "full".into()).to_string(),
            "the gateway sent ERROR overloaded: full"
        );
    }
}
