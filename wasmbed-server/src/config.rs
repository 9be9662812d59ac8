//! [`GatewayConfig`]: every limit of the device server, named, documented and configurable,
//! how it is checked ([`ConfigError`]), and the gateway's [`Mode`].

use std::time::Duration;

use wasmbed_protocol::DEFAULT_MAX_FRAME_LEN;

/// How the gateway's devices authenticate it (shown by `/health` as `"dev"` or
/// `"production"`).
///
/// Deliberately exhaustive: a certificate is either self-signed or CA-signed, and callers
/// (the binary picks the API token source by mode) should be made to handle a new case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Self-signed certificate, devices do not verify.
    Dev,
    /// CA-signed certificate, devices verify.
    Production,
}

/// TLS connections beyond the limit that are still handshaken to be told ERROR(overloaded);
/// past this many at once, they are closed without a word.
pub const MAX_POLITE_REFUSALS: usize = 32;

/// Default of [`GatewayConfig::max_offline_devices`]: devices remembered after they
/// disconnect, for `GET /devices/{id}`; the longest-gone are forgotten first.
pub const DEFAULT_MAX_OFFLINE_DEVICES: usize = 10_000;

/// Limits and timings of the device server and API.
///
/// The binary fills it from flags and `WASMBED_GATEWAY_*` variables; library users start from
/// [`GatewayConfig::default`] and change what they need with the `with_*` methods (one per
/// field, so that a new field is not a breaking change):
///
/// ```
/// use std::time::Duration;
/// use wasmbed_server::GatewayConfig;
///
/// let config = GatewayConfig::default()
///     .with_max_connections(500)
///     .with_heartbeat_interval(Duration::from_secs(10));
/// config.validate()?;
/// assert_eq!(config.liveness_timeout(), Duration::from_secs(30));
/// # Ok::<(), wasmbed_server::ConfigError>(())
/// ```
///
/// [`GatewayConfig::validate`] checks it before anything starts.
///
/// # Defaults
///
/// * `handshake_timeout`: 10 s ([`GatewayConfig::DEFAULT_HANDSHAKE_TIMEOUT`])
/// * `hello_timeout`: 10 s
/// * `heartbeat_interval`: 30 s; a device silent for 3 intervals (90 s) is closed and marked
///   unreachable
/// * `max_frame_len`: 4096 bytes
/// * `max_connections`: 10,000 TLS connections (devices and HTTP clients on the TLS port)
/// * `outbound_queue_len`: 64 frames queued per device
/// * `inbound_queue_len`: 64 DATA messages kept per device for `GET /devices/{id}/data`
/// * `inbound_bytes_limit`: 64 MiB of DATA kept for all devices together
/// * `max_offline_devices`: 10,000 devices remembered after they disconnect
///   ([`DEFAULT_MAX_OFFLINE_DEVICES`])
/// * `echo_timeout`: 5 s for `POST /devices/{id}/echo`
/// * `shutdown_grace`: 10 s to drain sessions on SIGTERM/SIGINT
/// * `log_burst`: 10 lines per failure class (handshake class, protocol error, refused API
///   client) per 10 s, the rest counted
/// * `max_api_connections`: 256 connections on the API port; more are answered 503 and closed
/// * `max_tls_http_connections`: 64 HTTP clients on the TLS port
/// * `http_header_read_timeout`: 10 s to send a request's headers, on both ports
/// * `http_idle_timeout`: 5 s without a request in progress or a byte moved, on both ports
/// * `http2_max_concurrent_streams`: 8 streams per HTTP/2 connection (the TLS port)
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// Time from TCP accept to a finished TLS handshake; slower clients are closed.
    pub handshake_timeout: Duration,
    /// Time from the finished handshake to the device's HELLO.
    pub hello_timeout: Duration,
    /// Heartbeat interval announced in HELLO_ACK (whole seconds, 1..=65535).
    pub heartbeat_interval: Duration,
    /// Largest frame (type + id + payload) accepted and sent, in bytes (136, the largest
    /// HELLO, ..=16 MiB).
    pub max_frame_len: u32,
    /// Most TLS connections served at once; more are refused with ERROR(overloaded).
    pub max_connections: usize,
    /// Frames the API may queue for one device before `POST .../data` answers 503.
    pub outbound_queue_len: usize,
    /// DATA messages from one device kept until read; the oldest is dropped when full.
    pub inbound_queue_len: usize,
    /// Bytes of DATA kept for all devices together; see [`Registry`](crate::registry::Registry)
    /// for what is dropped first.
    pub inbound_bytes_limit: usize,
    /// Devices remembered after they disconnect (state, counters and unread DATA for
    /// `GET /devices/{id}`); when one more leaves, the one gone longest is forgotten. Each
    /// costs a few hundred bytes plus its unread DATA. This does not limit the binding of
    /// device ids to client certificates ([`DeviceBindings`](crate::binding::DeviceBindings)),
    /// which is never forgotten.
    pub max_offline_devices: usize,
    /// How long `POST /devices/{id}/echo` waits for the ECHO_REPLY.
    pub echo_timeout: Duration,
    /// How long shutdown waits for sessions to say GOODBYE and close.
    pub shutdown_grace: Duration,
    /// Log lines per failure class (handshake class, protocol error, refused API client) per
    /// 10 seconds, at least 1; the rest are counted in the next line's `suppressed_since_last`.
    pub log_burst: u32,
    /// Most connections on the API port at once. A connection beyond it is answered
    /// `503 Service Unavailable` and closed at once, so it holds no file descriptor; the
    /// binary counts this cap in its file-descriptor budget next to `max_connections`.
    pub max_api_connections: usize,
    /// Most HTTP clients on the TLS port at once (they also count against
    /// `max_connections`); more are closed right after the handshake, so health checkers
    /// cannot take the permits devices need.
    pub max_tls_http_connections: usize,
    /// Time an HTTP/1.1 client has to send a request's headers, on the API port and on the
    /// TLS port. hyper starts this clock when it waits for a request, so it also bounds how
    /// long a keep-alive connection may wait for its next one.
    pub http_header_read_timeout: Duration,
    /// Time an HTTP connection (either port, HTTP/1.1 or HTTP/2) may stay open with no request
    /// in progress and no byte read or written; then it is closed (HTTP/2: GOAWAY).
    pub http_idle_timeout: Duration,
    /// Streams an HTTP/2 client may open at once on one connection (HTTP/2 is served on the
    /// TLS port only; the API port speaks HTTP/1.1), RFC 9113
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`.
    pub http2_max_concurrent_streams: u32,
}

/// Heartbeat intervals a device may miss before it is closed.
pub const MISSED_HEARTBEATS: u32 = 3;

/// The longest timeout or grace period accepted: one day.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);

/// The largest `max_frame_len` accepted: 16 MiB.
pub const MAX_MAX_FRAME_LEN: u32 = 16 << 20;

impl GatewayConfig {
    /// Default handshake timeout.
    pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

    /// Time without any frame after which a device is closed: [`MISSED_HEARTBEATS`] intervals.
    pub fn liveness_timeout(&self) -> Duration {
        self.heartbeat_interval * MISSED_HEARTBEATS
    }

    /// The heartbeat interval in whole seconds, as HELLO_ACK carries it.
    pub fn heartbeat_interval_secs(&self) -> u16 {
        u16::try_from(self.heartbeat_interval.as_secs()).unwrap_or(u16::MAX)
    }

    /// Checks every field.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the field, its value and the allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let secs = self.heartbeat_interval.as_secs();
        if !(1..=u64::from(u16::MAX)).contains(&secs) || self.heartbeat_interval.subsec_nanos() != 0
        {
            return Err(ConfigError::HeartbeatInterval(self.heartbeat_interval));
        }
        // Every valid HELLO must fit, or a device with a long id could never connect.
        let min = wasmbed_protocol::MAX_HELLO_FRAME_LEN;
        if !(min..=MAX_MAX_FRAME_LEN).contains(&self.max_frame_len) {
            return Err(ConfigError::MaxFrameLen {
                value: self.max_frame_len,
                min,
                max: MAX_MAX_FRAME_LEN,
            });
        }
        for (field, name, value) in [
            ("max connections", "max_connections", self.max_connections),
            (
                "outbound queue length",
                "outbound_queue_len",
                self.outbound_queue_len,
            ),
            (
                "inbound queue length",
                "inbound_queue_len",
                self.inbound_queue_len,
            ),
            (
                "inbound bytes limit",
                "inbound_bytes_limit",
                self.inbound_bytes_limit,
            ),
            (
                "max API connections",
                "max_api_connections",
                self.max_api_connections,
            ),
            (
                "max HTTP connections on the TLS port",
                "max_tls_http_connections",
                self.max_tls_http_connections,
            ),
            (
                "HTTP/2 max concurrent streams",
                "http2_max_concurrent_streams",
                self.http2_max_concurrent_streams as usize,
            ),
            (
                "max offline devices",
                "max_offline_devices",
                self.max_offline_devices,
            ),
            ("log burst", "log_burst", self.log_burst as usize),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { field, name });
            }
        }
        for (field, name, value) in [
            (
                "handshake timeout",
                "handshake_timeout",
                self.handshake_timeout,
            ),
            ("hello timeout", "hello_timeout", self.hello_timeout),
            ("echo timeout", "echo_timeout", self.echo_timeout),
            (
                "shutdown grace period",
                "shutdown_grace",
                self.shutdown_grace,
            ),
            (
                "HTTP header read timeout",
                "http_header_read_timeout",
                self.http_header_read_timeout,
            ),
            (
                "HTTP idle timeout",
                "http_idle_timeout",
                self.http_idle_timeout,
            ),
        ] {
            if value.is_zero() && name != "shutdown_grace" {
                return Err(ConfigError::ZeroTimeout { field, name });
            }
            if value > MAX_TIMEOUT {
                return Err(ConfigError::TimeoutTooLong {
                    field,
                    name,
                    value,
                    max: MAX_TIMEOUT,
                });
            }
        }
        Ok(())
    }
}

/// `with_*` setters, one per field, each documented with the field it sets.
macro_rules! setters {
    ($($(#[$doc:meta])* $setter:ident => $field:ident: $ty:ty;)*) => {
        impl GatewayConfig {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $setter(mut self, $field: $ty) -> GatewayConfig {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Sets [`GatewayConfig::handshake_timeout`].
    with_handshake_timeout => handshake_timeout: Duration;
    /// Sets [`GatewayConfig::hello_timeout`].
    with_hello_timeout => hello_timeout: Duration;
    /// Sets [`GatewayConfig::heartbeat_interval`] (whole seconds, 1..=65535).
    with_heartbeat_interval => heartbeat_interval: Duration;
    /// Sets [`GatewayConfig::max_frame_len`] (bytes).
    with_max_frame_len => max_frame_len: u32;
    /// Sets [`GatewayConfig::max_connections`].
    with_max_connections => max_connections: usize;
    /// Sets [`GatewayConfig::outbound_queue_len`] (frames per device).
    with_outbound_queue_len => outbound_queue_len: usize;
    /// Sets [`GatewayConfig::inbound_queue_len`] (DATA messages per device).
    with_inbound_queue_len => inbound_queue_len: usize;
    /// Sets [`GatewayConfig::inbound_bytes_limit`] (bytes, all devices together).
    with_inbound_bytes_limit => inbound_bytes_limit: usize;
    /// Sets [`GatewayConfig::max_offline_devices`].
    with_max_offline_devices => max_offline_devices: usize;
    /// Sets [`GatewayConfig::echo_timeout`].
    with_echo_timeout => echo_timeout: Duration;
    /// Sets [`GatewayConfig::shutdown_grace`].
    with_shutdown_grace => shutdown_grace: Duration;
    /// Sets [`GatewayConfig::log_burst`] (lines per class per 10 s).
    with_log_burst => log_burst: u32;
    /// Sets [`GatewayConfig::max_api_connections`].
    with_max_api_connections => max_api_connections: usize;
    /// Sets [`GatewayConfig::max_tls_http_connections`].
    with_max_tls_http_connections => max_tls_http_connections: usize;
    /// Sets [`GatewayConfig::http_header_read_timeout`].
    with_http_header_read_timeout => http_header_read_timeout: Duration;
    /// Sets [`GatewayConfig::http_idle_timeout`].
    with_http_idle_timeout => http_idle_timeout: Duration;
    /// Sets [`GatewayConfig::http2_max_concurrent_streams`].
    with_http2_max_concurrent_streams => http2_max_concurrent_streams: u32;
}

/// A [`GatewayConfig`] field out of its range, from [`GatewayConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The heartbeat interval is not whole seconds in 1..=65535 (HELLO_ACK carries it as a
    /// 16-bit number of seconds).
    #[error("heartbeat interval {0:?} must be whole seconds in 1..=65535")]
    HeartbeatInterval(Duration),
    /// `max_frame_len` is outside `min..=max`: below the largest HELLO, or above 16 MiB.
    #[error("max frame length {value} must be in {min}..={max} bytes")]
    MaxFrameLen {
        /// The configured length, in bytes.
        value: u32,
        /// The smallest accepted: the largest valid HELLO frame.
        min: u32,
        /// The largest accepted ([`MAX_MAX_FRAME_LEN`]).
        max: u32,
    },
    /// A count or limit is 0.
    #[error("{field} must be at least 1")]
    Zero {
        /// The field, in words (`"max connections"`).
        field: &'static str,
        /// The [`GatewayConfig`] field's name (`"max_connections"`).
        name: &'static str,
    },
    /// A timeout is 0 (only the shutdown grace period may be).
    #[error("{field} must be longer than 0")]
    ZeroTimeout {
        /// The field, in words (`"hello timeout"`).
        field: &'static str,
        /// The [`GatewayConfig`] field's name (`"hello_timeout"`).
        name: &'static str,
    },
    /// A timeout or grace period is longer than [`MAX_TIMEOUT`].
    #[error("{field} {value:?} is longer than the maximum of {max:?}")]
    TimeoutTooLong {
        /// The field, in words.
        field: &'static str,
        /// The [`GatewayConfig`] field's name (`"echo_timeout"`).
        name: &'static str,
        /// The configured duration.
        value: Duration,
        /// The longest accepted.
        max: Duration,
    },
}

impl ConfigError {
    /// The name of the [`GatewayConfig`] field at fault (`"max_frame_len"`), which is also the
    /// name of its `with_*` setter without the prefix; a CLI maps it to its own flag.
    pub fn field_name(&self) -> &'static str {
        match self {
            ConfigError::HeartbeatInterval(_) => "heartbeat_interval",
            ConfigError::MaxFrameLen { .. } => "max_frame_len",
            ConfigError::Zero { name, .. }
            | ConfigError::ZeroTimeout { name, .. }
            | ConfigError::TimeoutTooLong { name, .. } => name,
        }
    }

    /// Whether the field at fault is a duration (a CLI may take it in seconds).
    pub fn is_duration(&self) -> bool {
        !matches!(
            self,
            ConfigError::MaxFrameLen { .. } | ConfigError::Zero { .. }
        )
    }
}

impl Default for GatewayConfig {
    fn default() -> GatewayConfig {
        GatewayConfig {
            handshake_timeout: GatewayConfig::DEFAULT_HANDSHAKE_TIMEOUT,
            hello_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(30),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_connections: 10_000,
            outbound_queue_len: 64,
            inbound_queue_len: 64,
            inbound_bytes_limit: 64 << 20,
            max_offline_devices: DEFAULT_MAX_OFFLINE_DEVICES,
            echo_timeout: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
            log_burst: 10,
            max_api_connections: 256,
            max_tls_http_connections: 64,
            http_header_read_timeout: Duration::from_secs(10),
            http_idle_timeout: Duration::from_secs(5),
            http2_max_concurrent_streams: 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{ConfigError, GatewayConfig};

    #[test]
    fn each_out_of_range_field_is_named() {
        let cases = [
            (
                GatewayConfig::default().with_heartbeat_interval(Duration::from_millis(1500)),
                "heartbeat interval 1.5s must be whole seconds in 1..=65535",
            ),
            (
                GatewayConfig::default().with_max_connections(0),
                "max connections must be at least 1",
            ),
            (
                GatewayConfig::default().with_hello_timeout(Duration::ZERO),
                "hello timeout must be longer than 0",
            ),
            (
                GatewayConfig::default().with_echo_timeout(Duration::from_secs(86_401)),
                "echo timeout 86401s is longer than the maximum of 86400s",
            ),
        ];
        for (config, message) in cases {
            assert_eq!(config.validate().unwrap_err().to_string(), message);
        }
        assert!(matches!(
            GatewayConfig::default().with_max_frame_len(16).validate(),
            Err(ConfigError::MaxFrameLen { value: 16, .. })
        ));
        assert_eq!(
            GatewayConfig::default()
                .with_shutdown_grace(Duration::ZERO)
                .validate(),
            Ok(())
        );
    }
}
