//! The command line: the top-level parser, its subcommands and the `serve` flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use wasmbed_endpoint::{Endpoint, Host};

use crate::cli_endpoint::EndpointCommand;
use crate::cli_pki::Pki;
use crate::cli_renode;
use crate::serve::DEFAULT_LISTEN_BACKLOG;

/// The wasmbed gateway: devices connect over TLS, operators use the HTTP API.
#[derive(Debug, Parser)]
#[command(
    name = "wasmbed-gateway",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Logging: WASMBED_GATEWAY_LOG (or RUST_LOG) takes a tracing filter, e.g. info, warn, debug \
or info,wasmbed_server=debug; the default is info. The gateway logs one rate-limited line per failed \
handshake, with the peer and its class. rustls' own lines (per connection, without the peer, e.g. \
\"Illegal SNI extension: ignoring IP address\" for every device that dials by IP) are shown only at \
error unless the filter names rustls (info,rustls=warn) or is a bare debug or trace."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
// Parsed once per run; boxing the subcommands would only add noise.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    /// Serve devices and the API (the default; dev mode unless --cert and --key are given).
    Serve(ServeArgs),
    /// Make certificates: a CA, the gateway's certificate, device certificates, C headers.
    #[command(subcommand)]
    Pki(Pki),
    /// Encode an endpoint as the RAM mailbox's Renode sysbus lines, or decode a mailbox image.
    #[command(subcommand)]
    Endpoint(EndpointCommand),
    /// Generate Renode scripts that write the endpoint into a device's mailbox on every boot.
    #[command(subcommand)]
    Renode(cli_renode::RenodeCommand),
}

/// The environment variable of `--require-client-cert`.
const REQUIRE_CLIENT_CERT_ENV: &str = "WASMBED_GATEWAY_REQUIRE_CLIENT_CERT";

/// The environment variable of `--insecure-api-no-auth`.
const INSECURE_API_NO_AUTH_ENV: &str = "WASMBED_GATEWAY_INSECURE_API_NO_AUTH";

/// The `serve` switches that an environment variable may also turn off, by the argument id.
const SWITCHES: [(&str, &str); 2] = [
    ("require_client_cert", REQUIRE_CLIENT_CERT_ENV),
    ("insecure_api_no_auth", INSECURE_API_NO_AUTH_ENV),
];

/// Parses the command line and the environment, exiting with clap's message on bad input.
///
/// clap counts a switch set from its environment variable as given even when the value is
/// false, so `requires` and `conflicts_with` would fire for `..._INSECURE_API_NO_AUTH=false`
/// (an environment file spelling out the default). A switch whose variable holds a false value
/// (`false`, `0`, `no`, `off`, `n`, `f`, as clap's boolish parser reads them, or empty) is
/// therefore parsed as absent, which is what its value says.
pub(crate) fn parse() -> Cli {
    let mut command = Cli::command();
    for (id, var) in SWITCHES {
        if std::env::var(var).is_ok_and(|value| is_false(&value)) {
            command = command
                .mut_arg(id, |arg| arg.env(None))
                .mut_subcommand("serve", |serve| serve.mut_arg(id, |arg| arg.env(None)));
        }
    }
    let matches: ArgMatches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Whether clap's `BoolishValueParser` reads `value` as false, or it is empty (`VAR=` in an
/// environment file, which clap would refuse as "not a boolean").
fn is_false(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "" | "n" | "no" | "f" | "false" | "off" | "0"
    )
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Address of the TLS device port.
    #[arg(long, env = "WASMBED_GATEWAY_TLS_ADDR", default_value = "0.0.0.0:8081")]
    pub(crate) tls_addr: SocketAddr,
    /// Address of the HTTP API.
    #[arg(long, env = "WASMBED_GATEWAY_API_ADDR", default_value = "0.0.0.0:8080")]
    pub(crate) api_addr: SocketAddr,
    /// Directory for the gateway's state: the dev-mode certificate and key (made once, then
    /// reused) and, with --client-ca, device-bindings.json (device ids bound to a client
    /// certificate; keep it, and back it up, with the gateway).
    #[arg(
        long,
        env = "WASMBED_GATEWAY_STATE_DIR",
        default_value = "wasmbed-state"
    )]
    pub(crate) state_dir: PathBuf,
    /// Production: the gateway's certificate chain (PEM). Needs --key, and --api-token-file
    /// (or, by name, --insecure-api-no-auth); its names come from the certificate, so --san
    /// does not apply.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_CERT",
        requires_all = ["key", "api-auth"],
        conflicts_with = "sans"
    )]
    pub(crate) cert: Option<PathBuf>,
    /// Production: the gateway's private key (PEM). Needs --cert.
    #[arg(long, env = "WASMBED_GATEWAY_KEY", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Device CA certificate(s) (PEM) for client certificates (mTLS). Reloaded on SIGHUP and
    /// when the file changes: devices from a removed CA are refused and their live sessions end
    /// with GOODBYE(credentials_revoked).
    #[arg(long, env = "WASMBED_GATEWAY_CLIENT_CA")]
    pub(crate) client_ca: Option<PathBuf>,
    /// Certificate revocation list for device certificates (PEM or DER, repeatable), signed by
    /// a --client-ca certificate; make one with `pki revoke`. Checked and reloaded with
    /// --client-ca; a CRL past its nextUpdate still applies, with a warning.
    #[arg(
        long = "crl",
        env = "WASMBED_GATEWAY_CRL",
        value_delimiter = ',',
        requires = "client_ca"
    )]
    pub(crate) crls: Vec<PathBuf>,
    /// The endpoint devices are told to dial, HOST:PORT (repeatable): logged at start, and the
    /// gateway certificate's names must cover its host (dev mode adds it to the dev certificate).
    #[arg(
        long = "device-endpoint",
        env = "WASMBED_GATEWAY_DEVICE_ENDPOINT",
        value_delimiter = ','
    )]
    pub(crate) device_endpoints: Vec<Endpoint>,
    /// Seconds a TLS session can be resumed after its full handshake (1..=43200); resumption
    /// also verifies the device certificate again.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_SESSION_LIFETIME_SECS",
        default_value_t = wasmbed_tls::DEFAULT_SESSION_LIFETIME.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=43_200)
    )]
    pub(crate) session_lifetime_secs: u64,
    /// Refuse devices without a certificate from --client-ca, the CA(s) to verify them with
    /// (env: true/false, 1/0, yes/no).
    #[arg(
        long,
        env = REQUIRE_CLIENT_CERT_ENV,
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new(),
        requires = "client_ca"
    )]
    pub(crate) require_client_cert: bool,
    /// Extra DNS name or IP address for the dev certificate (repeatable; not with --cert, whose
    /// names come from the certificate: pki gateway --san).
    #[arg(long = "san", env = "WASMBED_GATEWAY_SAN", value_delimiter = ',')]
    pub(crate) sans: Vec<Host>,
    /// Seconds from TCP accept to a finished TLS handshake.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HANDSHAKE_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub(crate) handshake_timeout_secs: u64,
    /// Seconds from the handshake to the device's HELLO.
    #[arg(long, env = "WASMBED_GATEWAY_HELLO_TIMEOUT_SECS", default_value_t = 10)]
    pub(crate) hello_timeout_secs: u64,
    /// Heartbeat interval announced to devices, in seconds; 3 missed intervals close a session.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HEARTBEAT_INTERVAL_SECS",
        default_value_t = 30
    )]
    pub(crate) heartbeat_interval_secs: u64,
    /// Largest protocol frame in bytes.
    #[arg(long, env = "WASMBED_GATEWAY_MAX_FRAME_LEN", default_value_t = 4096)]
    pub(crate) max_frame_len: u32,
    /// Most TLS connections at once; more are refused.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_MAX_CONNECTIONS",
        default_value_t = 10_000
    )]
    pub(crate) max_connections: usize,
    /// Pending TCP connections the kernel queues on the TLS port before the gateway accepts
    /// them (listen(2) backlog, 1..=65535; Linux caps it at net.core.somaxconn). Too small a
    /// queue drops SYNs when many devices reconnect at once, and each costs the device a 1 s
    /// SYN retransmission.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_LISTEN_BACKLOG",
        default_value_t = DEFAULT_LISTEN_BACKLOG,
        value_parser = clap::value_parser!(u32).range(1..=65_535)
    )]
    pub(crate) listen_backlog: u32,
    /// Frames queued per device by the API.
    #[arg(long, env = "WASMBED_GATEWAY_OUTBOUND_QUEUE_LEN", default_value_t = 64)]
    pub(crate) outbound_queue_len: usize,
    /// DATA messages kept per device until read.
    #[arg(long, env = "WASMBED_GATEWAY_INBOUND_QUEUE_LEN", default_value_t = 64)]
    pub(crate) inbound_queue_len: usize,
    /// Bytes of DATA from devices kept until read, for all devices together.
    #[arg(long, env = "WASMBED_GATEWAY_INBOUND_BYTES_LIMIT", default_value_t = 64 << 20)]
    pub(crate) inbound_bytes_limit: usize,
    /// Devices remembered after they disconnect, for GET /devices/{id}; the longest-gone are
    /// forgotten first. (Device ids bound to a client certificate are kept apart, in the state
    /// directory, and never forgotten.)
    #[arg(
        long,
        env = "WASMBED_GATEWAY_MAX_OFFLINE_DEVICES",
        default_value_t = wasmbed_server::config::DEFAULT_MAX_OFFLINE_DEVICES
    )]
    pub(crate) max_offline_devices: usize,
    /// Seconds POST /devices/{id}/echo waits for the reply.
    #[arg(long, env = "WASMBED_GATEWAY_ECHO_TIMEOUT_SECS", default_value_t = 5)]
    pub(crate) echo_timeout_secs: u64,
    /// Seconds to drain sessions on SIGTERM/SIGINT.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_SHUTDOWN_GRACE_SECS",
        default_value_t = 10
    )]
    pub(crate) shutdown_grace_secs: u64,
    /// The devices' CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN: records and the Certificate message must fit it.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_DEVICE_MAX_CONTENT_LEN",
        default_value_t = 1500
    )]
    pub(crate) device_max_content_len: usize,
    /// Seconds between checks of --cert/--key, --client-ca and --crl for changes (0: reload
    /// only on SIGHUP). A change is a different file behind the path, symbolic links followed
    /// (a Kubernetes Secret update swaps its ..data link), or a new size or mtime.
    #[arg(long, env = "WASMBED_GATEWAY_RELOAD_CHECK_SECS", default_value_t = 10)]
    pub(crate) reload_check_secs: u64,
    /// Log lines per class of failure (handshake class, protocol error, refused API client,
    /// ...) per 10 seconds; the rest are counted and reported by the next line
    /// (`suppressed_since_last`).
    #[arg(long, env = "WASMBED_GATEWAY_LOG_BURST", default_value_t = 10)]
    pub(crate) log_burst: u32,
    /// File holding the API's bearer token (32-512 characters of A-Z a-z 0-9 - . _ ~ + /, e.g.
    /// `openssl rand -hex 32`, made with `(umask 077; openssl rand -hex 32 > api-token)`),
    /// reread on SIGHUP. Required with --cert unless --insecure-api-no-auth; in dev mode the
    /// gateway makes <state-dir>/api-token once when this is not given.
    #[arg(long, env = "WASMBED_GATEWAY_API_TOKEN_FILE", group = "api-auth")]
    pub(crate) api_token_file: Option<PathBuf>,
    /// Serve the device endpoints of the API without authentication: anyone who reaches the
    /// API port can read and change every device's state. For isolated test networks only
    /// (env: true/false, 1/0, yes/no; not with --api-token-file).
    #[arg(
        long,
        env = INSECURE_API_NO_AUTH_ENV,
        group = "api-auth",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub(crate) insecure_api_no_auth: bool,
    /// Most connections on the API port at once; more are answered 503 and closed. Counted
    /// in the file-descriptor budget with --max-connections.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_MAX_API_CONNECTIONS",
        default_value_t = 256
    )]
    pub(crate) max_api_connections: usize,
    /// Most HTTP clients (health checks) on the TLS port at once, within --max-connections.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_MAX_TLS_HTTP_CONNECTIONS",
        default_value_t = 64
    )]
    pub(crate) max_tls_http_connections: usize,
    /// Seconds an HTTP client has to send its request headers (both ports); it also bounds
    /// how long a keep-alive connection waits for its next request.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HTTP_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub(crate) http_header_read_timeout_secs: u64,
    /// Seconds an HTTP connection (both ports) may sit with no request in progress and no
    /// byte moving before it is closed.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HTTP_IDLE_TIMEOUT_SECS",
        default_value_t = 5
    )]
    pub(crate) http_idle_timeout_secs: u64,
    /// Streams one HTTP/2 client may open at once (HTTP/2 is served on the TLS port only).
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HTTP2_MAX_CONCURRENT_STREAMS",
        default_value_t = 8
    )]
    pub(crate) http2_max_concurrent_streams: u32,
}

pub(crate) fn parse_u32(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("{text:?} is not a 32-bit address: {e}"))
}
