//! The log filter: `WASMBED_GATEWAY_LOG`/`RUST_LOG`, with rustls' own lines held back.

/// The log filter without `WASMBED_GATEWAY_LOG`/`RUST_LOG`.
const DEFAULT_LOG_FILTER: &str = "info";

/// The level rustls' own log records are held to unless the filter asks for them (see
/// [`log_filter`]).
const RUSTLS_LOG_CAP: &str = "rustls=error";

/// The tracing filter for `spec` (or the default), with rustls capped at `error` unless `spec`
/// names rustls or logs everything at `debug` or `trace`.
///
/// rustls logs per connection, without the peer address, past the gateway's rate limiter:
/// above all "Illegal SNI extension: ignoring IP address presented as hostname", a `warn` for
/// every Mbed TLS device that dials its gateway by IP (it sends the address as SNI, which RFC
/// 6066 section 3 forbids and rustls ignores). The gateway logs one line per failed handshake
/// itself, so at ordinary levels (`info`, `warn`) rustls' lines would only repeat it per
/// device.
fn log_filter(spec: Option<&str>) -> (tracing_subscriber::EnvFilter, Option<String>) {
    let parse = |spec: &str| {
        let capped = if names_rustls_or_verbose(spec) {
            spec.to_owned()
        } else if spec.trim().is_empty() {
            RUSTLS_LOG_CAP.to_owned()
        } else {
            format!("{spec},{RUSTLS_LOG_CAP}")
        };
        tracing_subscriber::EnvFilter::try_new(capped)
    };
    match spec {
        Some(spec) => match parse(spec) {
            Ok(filter) => (filter, None),
            Err(e) => (
                tracing_subscriber::EnvFilter::new(format!(
                    "{DEFAULT_LOG_FILTER},{RUSTLS_LOG_CAP}"
                )),
                Some(format!(
                    "warning: ignoring log filter {spec:?} ({e}); logging at {DEFAULT_LOG_FILTER}"
                )),
            ),
        },
        None => (
            tracing_subscriber::EnvFilter::new(format!("{DEFAULT_LOG_FILTER},{RUSTLS_LOG_CAP}")),
            None,
        ),
    }
}

/// Whether a filter spec names a rustls target, or sets a bare `debug`/`trace` level that
/// should show rustls' lines too.
fn names_rustls_or_verbose(spec: &str) -> bool {
    spec.split(',').map(str::trim).any(|directive| {
        let lower = directive.to_ascii_lowercase();
        lower.contains("rustls") || matches!(lower.as_str(), "debug" | "trace")
    })
}

/// Installs the log subscriber: the filter from `WASMBED_GATEWAY_LOG` (or `RUST_LOG`) through
/// [`log_filter`], lines on standard output without targets, colours on a terminal only.
pub(crate) fn init() {
    let spec = std::env::var("WASMBED_GATEWAY_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let (filter, warning) = log_filter(spec.as_deref());
    if let Some(warning) = warning {
        eprintln!("{warning}");
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
}
