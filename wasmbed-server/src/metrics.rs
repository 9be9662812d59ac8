//! Prometheus metrics of the device server, served by `GET /metrics`.

use std::fmt;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::handshake_failure::HandshakeFailure;
use wasmbed_protocol::MessageType;

/// The `Content-Type` of [`Metrics::encode_openmetrics`]'s output (OpenMetrics 1.0 text).
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of `wasmbed_handshakes_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HandshakeLabels {
    /// `ok`, or the failure class ([`HandshakeFailure::as_str`] of one of
    /// [`HandshakeFailure::ALL`]).
    pub(crate) result: &'static str,
}

/// Labels of `wasmbed_frames_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FrameLabels {
    /// Message type, as [`MessageType::as_str`].
    pub(crate) r#type: &'static str,
    /// `in` (device to gateway) or `out`.
    pub(crate) direction: &'static str,
}

/// Labels of `wasmbed_protocol_errors_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabels {
    /// What went wrong, as a snake_case word.
    pub(crate) kind: &'static str,
}

/// The gateway's metrics, registered in one registry; [`Metrics::encode_openmetrics`] is what
/// `GET /metrics` serves. The metric types are prometheus-client's, kept inside: the public
/// surface is the encoded text, whose names are the contract.
///
/// Names follow Prometheus conventions (base units, `_total` counters; in OpenMetrics the
/// `# TYPE` line names a counter family without `_total`, its samples with it):
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `wasmbed_sessions_active` | gauge | |
/// | `wasmbed_connections_active` | gauge | |
/// | `wasmbed_handshakes_total` | counter | `result` |
/// | `wasmbed_handshake_duration_seconds` | histogram | |
/// | `wasmbed_frames_total` | counter | `type`, `direction` |
/// | `wasmbed_protocol_errors_total` | counter | `kind` |
/// | `wasmbed_connections_refused_total` | counter | `kind` (`connection_limit`, `api_connection_limit`, `tls_http_connection_limit`, `credentials_revoked`) |
/// | `wasmbed_sessions_closed_total` | counter | `kind` (why the session ended) |
/// | `wasmbed_device_bindings` | gauge | |
pub struct Metrics {
    registry: Registry,
    /// Device sessions past HELLO.
    pub(crate) sessions_active: Gauge,
    /// Open TLS connections (devices and HTTP clients on the TLS port).
    pub(crate) connections_active: Gauge,
    /// TLS handshakes by result.
    pub(crate) handshakes: Family<HandshakeLabels, Counter>,
    /// Time from TCP accept to a finished TLS handshake, in seconds.
    pub(crate) handshake_duration: Histogram,
    /// Frames by type and direction.
    pub(crate) frames: Family<FrameLabels, Counter>,
    /// Protocol errors by kind.
    pub(crate) protocol_errors: Family<KindLabels, Counter>,
    /// Connections refused, by reason.
    pub(crate) refused: Family<KindLabels, Counter>,
    /// Device sessions ended, by reason.
    pub(crate) sessions_closed: Family<KindLabels, Counter>,
    /// Device ids bound to a client certificate ([`DeviceBindings`](crate::binding::DeviceBindings)).
    pub(crate) device_bindings: Gauge,
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("wasmbed");
        let sessions_active = Gauge::default();
        registry.register(
            "sessions_active",
            "Device sessions past HELLO",
            sessions_active.clone(),
        );
        let connections_active = Gauge::default();
        registry.register(
            "connections_active",
            "Open TLS connections, devices and HTTP clients",
            connections_active.clone(),
        );
        let handshakes = Family::<HandshakeLabels, Counter>::default();
        registry.register("handshakes", "TLS handshakes by result", handshakes.clone());
        // 0.25 ms to about 4 s.
        let handshake_duration = Histogram::new(exponential_buckets(0.000_25, 2.0, 15));
        registry.register_with_unit(
            "handshake_duration",
            "Time from TCP accept to a finished TLS handshake",
            prometheus_client::registry::Unit::Seconds,
            handshake_duration.clone(),
        );
        let frames = Family::<FrameLabels, Counter>::default();
        registry.register(
            "frames",
            "Protocol frames by type and direction",
            frames.clone(),
        );
        let protocol_errors = Family::<KindLabels, Counter>::default();
        registry.register(
            "protocol_errors",
            "Protocol errors by kind",
            protocol_errors.clone(),
        );
        let refused = Family::<KindLabels, Counter>::default();
        registry.register(
            "connections_refused",
            "Connections refused by reason",
            refused.clone(),
        );
        let sessions_closed = Family::<KindLabels, Counter>::default();
        registry.register(
            "sessions_closed",
            "Device sessions ended, by reason",
            sessions_closed.clone(),
        );
        let device_bindings = Gauge::default();
        registry.register(
            "device_bindings",
            "Device ids bound to a client certificate (never forgotten; at most the certificates the device CA issued)",
            device_bindings.clone(),
        );
        // Every known label exists from the start, at zero, so that rates and absence alerts
        // work before the first event.
        for message_type in MessageType::ALL {
            for direction in [Direction::In, Direction::Out] {
                let _ = frames.get_or_create(&FrameLabels {
                    r#type: message_type.as_str(),
                    direction: direction.as_str(),
                });
            }
        }
        let _ = handshakes.get_or_create(&HandshakeLabels { result: "ok" });
        for failure in HandshakeFailure::ALL {
            let _ = handshakes.get_or_create(&HandshakeLabels {
                result: failure.as_str(),
            });
        }
        for kind in [
            "frame_too_short",
            "frame_too_large",
            "unknown_type",
            "malformed",
            "unexpected_message",
            "unsupported_version",
            "device_id_mismatch",
            "hello_timeout",
            "binding_write_failed",
        ] {
            let _ = protocol_errors.get_or_create(&KindLabels { kind });
        }
        for kind in [
            "connection_limit",
            "api_connection_limit",
            "tls_http_connection_limit",
        ] {
            let _ = refused.get_or_create(&KindLabels { kind });
        }
        Metrics {
            registry,
            sessions_active,
            connections_active,
            handshakes,
            handshake_duration,
            frames,
            protocol_errors,
            refused,
            sessions_closed,
            device_bindings,
        }
    }

    /// Counts one frame.
    pub(crate) fn frame(&self, message_type: MessageType, direction: Direction) {
        self.frames
            .get_or_create(&FrameLabels {
                r#type: message_type.as_str(),
                direction: direction.as_str(),
            })
            .inc();
    }

    /// Counts under a `kind` label.
    pub(crate) fn count(family: &Family<KindLabels, Counter>, kind: &'static str) {
        family.get_or_create(&KindLabels { kind }).inc();
    }

    /// Every metric in the OpenMetrics 1.0 text format, ending in `# EOF`, as
    /// prometheus-client encodes it; served with [`OPENMETRICS_CONTENT_TYPE`].
    pub fn encode_openmetrics(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Device to gateway.
    In,
    /// Gateway to device.
    Out,
}

impl Direction {
    /// `in` or `out`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}
