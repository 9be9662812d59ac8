//! The HTTP API (port 8080): health, devices, data, echo, metrics. JSON bodies, RFC 3339 times,
//! errors as `{"error": "..."}` with the matching status code.
//!
//! Everything but [`OPEN_PATHS`] (`/health`, `/ready`, `/metrics`)
//! needs `Authorization: Bearer <token>` ([`crate::auth`]); the check runs before routing, so
//! a refused request learns nothing about the path it asked for.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::json;
use tracing::{debug, error, warn};

use crate::auth::{LogRefusal, OPEN_PATHS, REFUSAL_LOG_WINDOW};
use crate::command::CommandError;
use crate::config::Mode;
use crate::registry::DeviceInfo;
use crate::rfc3339::rfc3339;
use crate::state::Shared;

/// Payload of `POST /devices/{id}/echo` when the request has no body.
pub const DEFAULT_ECHO_PAYLOAD: &[u8] = b"wasmbed echo";

/// An API failure: status code and a message for the client.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn not_connected(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("device {id:?} is not connected"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // 502-504 describe a device (gone, slow, full queue), not a gateway fault.
        if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            error!(status = %self.status, message = self.message, "API request failed");
        } else {
            debug!(status = %self.status, message = self.message, "API request refused");
        }
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// The API router on the shared state.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let body_limit = shared.config.max_frame_len as usize;
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/devices", get(devices))
        .route("/devices/{id}", get(device))
        .route("/devices/{id}/data", post(send_data).get(received_data))
        .route("/devices/{id}/echo", post(echo))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(json_errors))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            authenticate,
        ))
        .with_state(shared)
}

/// Lets the open paths through and checks the bearer token of everything else.
async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if OPEN_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let Err(refusal) = shared.authenticator.check(request.headers()) else {
        return next.run(request).await;
    };
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let client_text = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let log = match client {
        Some(ip) => shared.authenticator.log_refusal(ip),
        None => LogRefusal::Overflow,
    };
    let reason = refusal.message();
    match log {
        LogRefusal::Log(unlogged) => warn!(
            client = client_text,
            reason,
            refused_since_last_line = unlogged,
            "API request refused: no valid bearer token (logged once per client address per {REFUSAL_LOG_WINDOW:?})"
        ),
        LogRefusal::Overflow => {
            if let Some(suppressed) = shared.log_limiter.allow("api_unauthorized") {
                warn!(
                    client = client_text,
                    reason,
                    suppressed_since_last = suppressed,
                    "API request refused: no valid bearer token"
                );
            }
        }
        LogRefusal::Quiet => {}
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, refusal.challenge())],
        Json(json!({ "error": reason })),
    )
        .into_response()
}

/// `/health` and `/ready` only, for HTTP clients on the TLS port.
pub(crate) fn tls_port_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "only /health and /ready are served on the TLS port; the API is on the API port (8080)",
            )
        })
        .with_state(shared)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this path",
    )
}

/// Gives axum's own rejections (an oversized body, a bad path) the API's JSON error shape.
async fn json_errors(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let status = response.status();
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let message = String::from_utf8_lossy(&body).trim().to_owned();
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        message
    };
    ApiError::new(status, message).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /health, /ready, /devices, /devices/{id}, /devices/{id}/data, /devices/{id}/echo, /metrics",
    )
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    mode: Mode,
    started_at: String,
    uptime_secs: u64,
    sessions: usize,
}

async fn health(State(shared): State<Arc<Shared>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        mode: shared.mode,
        started_at: rfc3339(shared.started_at),
        uptime_secs: shared.started.elapsed().as_secs(),
        sessions: shared.registry.connected_count(),
    })
}

async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    if shared.shutdown.is_cancelled() {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    Json(json!({ "ready": true })).into_response()
}

async fn devices(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let devices: Vec<DeviceInfo> = shared.registry.connected();
    Json(json!({ "count": devices.len(), "devices": devices }))
}

async fn device(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<DeviceInfo>, ApiError> {
    shared.registry.get(&id).map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no device {id:?} has connected"),
        )
    })
}

async fn send_data(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let device = shared
        .registry
        .device(&id)
        .ok_or_else(|| ApiError::not_connected(&id))?;
    fits_one_frame(&shared, &body)?;
    let len = body.len();
    device.try_send_data(body).map_err(|e| match e {
        CommandError::QueueFull => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the queue for device {id:?} is full ({} frames); retry later",
                shared.config.outbound_queue_len
            ),
        ),
        CommandError::Disconnected => ApiError::not_connected(&id),
    })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "queued": true, "bytes": len })),
    )
        .into_response())
}

/// Refuses a payload that does not fit one frame (`max_frame_len` minus type and id).
fn fits_one_frame(shared: &Shared, payload: &[u8]) -> Result<(), ApiError> {
    let max = shared.config.max_frame_len as usize - wasmbed_protocol::MIN_FRAME_LEN as usize;
    if payload.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} bytes do not fit one frame; at most {max}",
                payload.len()
            ),
        ));
    }
    Ok(())
}

#[derive(Serialize)]
struct Received {
    received_at: String,
    bytes: usize,
    hex: String,
    text: Option<String>,
}

async fn received_data(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let messages = shared.registry.drain_inbound(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no device {id:?} has connected"),
        )
    })?;
    let messages: Vec<Received> = messages
        .into_iter()
        .map(|(received_at, data)| Received {
            received_at: rfc3339(received_at),
            bytes: data.len(),
            hex: hex::encode(&data),
            text: std::str::from_utf8(&data).ok().map(str::to_owned),
        })
        .collect();
    Ok(Json(json!({ "messages": messages })))
}

async fn echo(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let device = shared
        .registry
        .device(&id)
        .ok_or_else(|| ApiError::not_connected(&id))?;
    let payload = if body.is_empty() {
        Bytes::from_static(DEFAULT_ECHO_PAYLOAD)
    } else {
        body
    };
    fits_one_frame(&shared, &payload)?;
    let sent = payload.clone();
    let answer = device.try_echo(payload).map_err(|e| match e {
        CommandError::QueueFull => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the queue for device {id:?} is full"),
        ),
        CommandError::Disconnected => ApiError::not_connected(&id),
    })?;
    match tokio::time::timeout(shared.config.echo_timeout, answer.wait()).await {
        Ok(Some((rtt, returned))) => Ok(Json(json!({
            "device_id": id,
            "rtt_us": rtt.as_micros() as u64,
            "bytes": sent.len(),
            "matches": returned == sent,
            "at": rfc3339(SystemTime::now()),
        }))),
        Ok(None) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("device {id:?} disconnected before replying"),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "device {id:?} did not reply within {:?}",
                shared.config.echo_timeout
            ),
        )),
    }
}

/// OpenMetrics 1.0 text, to every scraper: Prometheus negotiates and parses it natively, and
/// serving one format means serving prometheus-client's own encoding unchanged.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            crate::metrics::OPENMETRICS_CONTENT_TYPE,
        )],
        shared.metrics.encode_openmetrics(),
    )
        .into_response()
}
