//! [`GatewayConfig`]: every limit of the device server, named, documented and configurable.

use std::time::Duration;

use wasmbed_protocol::DEFAULT_MAX_FRAME_LEN;

/// Limits and timings of the device server and API.
///
/// The binary fills it from flags and `WASMBED_GATEWAY_*` variables; library users build it
/// directly. [`GatewayConfig::validate`] checks it before anything starts.
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
///   ([`DEFAULT_MAX_OFFLINE_DEVICES`](crate::registry::DEFAULT_MAX_OFFLINE_DEVICES))
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
    /// A message naming the field, its value and the allowed range.
    pub fn validate(&self) -> Result<(), String> {
        let secs = self.heartbeat_interval.as_secs();
        if !(1..=u64::from(u16::MAX)).contains(&secs) || self.heartbeat_interval.subsec_nanos() != 0
        {
            return Err(format!(
                "heartbeat interval {:?} must be whole seconds in 1..=65535",
                self.heartbeat_interval
            ));
        }
        // Every valid HELLO must fit, or a device with a long id could never connect.
        let min = wasmbed_protocol::MAX_HELLO_FRAME_LEN;
        if !(min..=MAX_MAX_FRAME_LEN).contains(&self.max_frame_len) {
            return Err(format!(
                "max frame length {} must be in {min}..={MAX_MAX_FRAME_LEN} bytes",
                self.max_frame_len
            ));
        }
        for (name, value) in [
            ("max connections", self.max_connections),
            ("outbound queue length", self.outbound_queue_len),
            ("inbound queue length", self.inbound_queue_len),
            ("inbound bytes limit", self.inbound_bytes_limit),
            ("max API connections", self.max_api_connections),
            (
                "max HTTP connections on the TLS port",
                self.max_tls_http_connections,
            ),
            (
                "HTTP/2 max concurrent streams",
                self.http2_max_concurrent_streams as usize,
            ),
            ("max offline devices", self.max_offline_devices),
            ("log burst", self.log_burst as usize),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        for (name, value) in [
            ("handshake timeout", self.handshake_timeout),
            ("hello timeout", self.hello_timeout),
            ("echo timeout", self.echo_timeout),
            ("shutdown grace period", self.shutdown_grace),
            ("HTTP header read timeout", self.http_header_read_timeout),
            ("HTTP idle timeout", self.http_idle_timeout),
        ] {
            if value.is_zero() && name != "shutdown grace period" {
                return Err(format!("{name} must be longer than 0"));
            }
            if value > MAX_TIMEOUT {
                return Err(format!(
                    "{name} {value:?} is longer than the maximum of {MAX_TIMEOUT:?}"
                ));
            }
        }
        Ok(())
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
            max_offline_devices: crate::registry::DEFAULT_MAX_OFFLINE_DEVICES,
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
