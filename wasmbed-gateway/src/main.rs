//! `wasmbed-gateway`: the reference gateway binary.
//!
//! With no arguments it serves in dev mode; see `wasmbed-gateway --help`.

mod cli_renode;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio::net::TcpListener;
use tracing::{error, info, warn};
use wasmbed_endpoint::{Endpoint, Host, MemoryImage};
use wasmbed_server::binding::DeviceBindings;
use wasmbed_server::{ALPN, ApiAuth, ApiToken, Gateway, GatewayConfig, Mode};
use wasmbed_tls::rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use wasmbed_tls::{
    CertResolver, CertificateAuthority, CertificateOptions, ClientAuth, ClientVerifier, DeviceId,
    Identity, KeyAlgorithm, Resumption, ServerOptions, c_header, certificate_serial, check_crl,
    dev_gateway, key_readable_by_others, load_certificates, load_crls, save_crl,
    server_config_with_verifier,
};

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
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
// Parsed once per run; boxing the subcommands would only add noise.
#[allow(clippy::large_enum_variant)]
enum Command {
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

#[derive(Debug, Clone, Args)]
struct ServeArgs {
    /// Address of the TLS device port.
    #[arg(long, env = "WASMBED_GATEWAY_TLS_ADDR", default_value = "0.0.0.0:8081")]
    tls_addr: SocketAddr,
    /// Address of the HTTP API.
    #[arg(long, env = "WASMBED_GATEWAY_API_ADDR", default_value = "0.0.0.0:8080")]
    api_addr: SocketAddr,
    /// Directory for the gateway's state: the dev-mode certificate and key (made once, then
    /// reused) and, with --client-ca, device-bindings.json (device ids bound to a client
    /// certificate; keep it, and back it up, with the gateway).
    #[arg(
        long,
        env = "WASMBED_GATEWAY_STATE_DIR",
        default_value = "wasmbed-state"
    )]
    state_dir: PathBuf,
    /// Production: the gateway's certificate chain (PEM). Needs --key.
    #[arg(long, env = "WASMBED_GATEWAY_CERT", requires = "key")]
    cert: Option<PathBuf>,
    /// Production: the gateway's private key (PEM). Needs --cert.
    #[arg(long, env = "WASMBED_GATEWAY_KEY", requires = "cert")]
    key: Option<PathBuf>,
    /// Device CA certificate(s) (PEM) for client certificates (mTLS). Reloaded on SIGHUP and
    /// when the file changes: devices from a removed CA are refused and their live sessions end
    /// with GOODBYE(credentials_revoked).
    #[arg(long, env = "WASMBED_GATEWAY_CLIENT_CA")]
    client_ca: Option<PathBuf>,
    /// Certificate revocation list for device certificates (PEM or DER, repeatable), signed by
    /// a --client-ca certificate; make one with `pki revoke`. Checked and reloaded with
    /// --client-ca; a CRL past its nextUpdate still applies, with a warning.
    #[arg(
        long = "crl",
        env = "WASMBED_GATEWAY_CRL",
        value_delimiter = ',',
        requires = "client_ca"
    )]
    crls: Vec<PathBuf>,
    /// The endpoint devices are told to dial, HOST:PORT (repeatable): logged at start, and the
    /// gateway certificate's names must cover its host (dev mode adds it to the dev certificate).
    #[arg(
        long = "device-endpoint",
        env = "WASMBED_GATEWAY_DEVICE_ENDPOINT",
        value_delimiter = ','
    )]
    device_endpoints: Vec<Endpoint>,
    /// Seconds a TLS session can be resumed after its full handshake (1..=43200); resumption
    /// also verifies the device certificate again.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_SESSION_LIFETIME_SECS",
        default_value_t = wasmbed_tls::DEFAULT_SESSION_LIFETIME.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=43_200)
    )]
    session_lifetime_secs: u64,
    /// Refuse devices without a certificate from --client-ca (env: true/false, 1/0, yes/no).
    #[arg(
        long,
        env = "WASMBED_GATEWAY_REQUIRE_CLIENT_CERT",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value_t = false,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    require_client_cert: bool,
    /// Extra DNS name or IP address for the dev certificate (repeatable).
    #[arg(long = "san", env = "WASMBED_GATEWAY_SAN", value_delimiter = ',')]
    sans: Vec<Host>,
    /// Seconds from TCP accept to a finished TLS handshake.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HANDSHAKE_TIMEOUT_SECS",
        default_value_t = 10
    )]
    handshake_timeout_secs: u64,
    /// Seconds from the handshake to the device's HELLO.
    #[arg(long, env = "WASMBED_GATEWAY_HELLO_TIMEOUT_SECS", default_value_t = 10)]
    hello_timeout_secs: u64,
    /// Heartbeat interval announced to devices, in seconds; 3 missed intervals close a session.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HEARTBEAT_INTERVAL_SECS",
        default_value_t = 30
    )]
    heartbeat_interval_secs: u64,
    /// Largest protocol frame in bytes.
    #[arg(long, env = "WASMBED_GATEWAY_MAX_FRAME_LEN", default_value_t = 4096)]
    max_frame_len: u32,
    /// Most TLS connections at once; more are refused.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_MAX_CONNECTIONS",
        default_value_t = 10_000
    )]
    max_connections: usize,
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
    listen_backlog: u32,
    /// Frames queued per device by the API.
    #[arg(long, env = "WASMBED_GATEWAY_OUTBOUND_QUEUE_LEN", default_value_t = 64)]
    outbound_queue_len: usize,
    /// DATA messages kept per device until read.
    #[arg(long, env = "WASMBED_GATEWAY_INBOUND_QUEUE_LEN", default_value_t = 64)]
    inbound_queue_len: usize,
    /// Bytes of DATA from devices kept until read, for all devices together.
    #[arg(long, env = "WASMBED_GATEWAY_INBOUND_BYTES_LIMIT", default_value_t = 64 << 20)]
    inbound_bytes_limit: usize,
    /// Devices remembered after they disconnect, for GET /devices/{id}; the longest-gone are
    /// forgotten first. (Device ids bound to a client certificate are kept apart, in the state
    /// directory, and never forgotten.)
    #[arg(
        long,
        env = "WASMBED_GATEWAY_MAX_OFFLINE_DEVICES",
        default_value_t = wasmbed_server::config::DEFAULT_MAX_OFFLINE_DEVICES
    )]
    max_offline_devices: usize,
    /// Seconds POST /devices/{id}/echo waits for the reply.
    #[arg(long, env = "WASMBED_GATEWAY_ECHO_TIMEOUT_SECS", default_value_t = 5)]
    echo_timeout_secs: u64,
    /// Seconds to drain sessions on SIGTERM/SIGINT.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_SHUTDOWN_GRACE_SECS",
        default_value_t = 10
    )]
    shutdown_grace_secs: u64,
    /// The devices' CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN: records and the Certificate message must fit it.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_DEVICE_MAX_CONTENT_LEN",
        default_value_t = 1500
    )]
    device_max_content_len: usize,
    /// Seconds between checks of --cert/--key, --client-ca and --crl for changes (0: reload
    /// only on SIGHUP).
    #[arg(long, env = "WASMBED_GATEWAY_RELOAD_CHECK_SECS", default_value_t = 10)]
    reload_check_secs: u64,
    /// Log lines per class of failure (handshake class, protocol error, refused API client,
    /// ...) per 10 seconds; the rest are counted and reported by the next line
    /// (`suppressed_since_last`).
    #[arg(long, env = "WASMBED_GATEWAY_LOG_BURST", default_value_t = 10)]
    log_burst: u32,
    /// File holding the API's bearer token (32-512 characters of A-Z a-z 0-9 - . _ ~ + /, e.g.
    /// `openssl rand -hex 32`), reread on SIGHUP. Required with --cert; in dev mode the
    /// gateway makes <state-dir>/api-token once when this is not given.
    #[arg(long, env = "WASMBED_GATEWAY_API_TOKEN_FILE")]
    api_token_file: Option<PathBuf>,
    /// Serve the device endpoints of the API without authentication: anyone who reaches the
    /// API port can read and change every device's state. For isolated test networks only.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_INSECURE_API_NO_AUTH",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value_t = false,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    insecure_api_no_auth: bool,
    /// Most connections on the API port at once; more are answered 503 and closed. Counted
    /// in the file-descriptor budget with --max-connections.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_MAX_API_CONNECTIONS",
        default_value_t = 256
    )]
    max_api_connections: usize,
    /// Most HTTP clients (health checks) on the TLS port at once, within --max-connections.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_MAX_TLS_HTTP_CONNECTIONS",
        default_value_t = 64
    )]
    max_tls_http_connections: usize,
    /// Seconds an HTTP client has to send its request headers (both ports); it also bounds
    /// how long a keep-alive connection waits for its next request.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HTTP_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10
    )]
    http_header_read_timeout_secs: u64,
    /// Seconds an HTTP connection (both ports) may sit with no request in progress and no
    /// byte moving before it is closed.
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HTTP_IDLE_TIMEOUT_SECS",
        default_value_t = 5
    )]
    http_idle_timeout_secs: u64,
    /// Streams one HTTP/2 client may open at once (HTTP/2 is served on the TLS port only).
    #[arg(
        long,
        env = "WASMBED_GATEWAY_HTTP2_MAX_CONCURRENT_STREAMS",
        default_value_t = 8
    )]
    http2_max_concurrent_streams: u32,
}

#[derive(Debug, Subcommand)]
enum Pki {
    /// Make a CA: <out-dir>/<name>.pem, <name>-key.pem (0600) and <name>.h (C header).
    Ca {
        /// Directory to write into.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
        /// File name stem.
        #[arg(long, default_value = "ca")]
        name: String,
        /// Subject common name.
        #[arg(long, default_value = "wasmbed CA")]
        common_name: String,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Issue the gateway's certificate for the names and addresses devices dial.
    Gateway {
        /// The CA certificate.
        #[arg(long)]
        ca_cert: PathBuf,
        /// The CA key.
        #[arg(long)]
        ca_key: PathBuf,
        /// DNS name or IP address devices dial (repeatable).
        #[arg(long = "san", required = true, value_delimiter = ',')]
        sans: Vec<Host>,
        /// Directory to write gateway.pem and gateway-key.pem into.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Issue a device certificate for mTLS (CN = device id), as PEM and as C headers.
    Device {
        /// The device CA certificate.
        #[arg(long)]
        ca_cert: PathBuf,
        /// The device CA key.
        #[arg(long)]
        ca_key: PathBuf,
        /// The device id.
        #[arg(long)]
        id: String,
        /// Directory to write <id>.pem, <id>-key.pem and the firmware's C headers <id>.h and
        /// <id>-key.h into.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Revoke device certificates: add them to the device CA's CRL (created if missing; the
    /// entries already in it stay, the CRL number goes up), signed by the CA and written
    /// atomically. Then SIGHUP the gateway (or let it see the change) with --crl FILE.
    Revoke {
        /// The device CA certificate.
        #[arg(long)]
        ca_cert: PathBuf,
        /// The device CA key.
        #[arg(long)]
        ca_key: PathBuf,
        /// The CRL file to update (PEM).
        #[arg(long)]
        crl: PathBuf,
        /// Device id whose certificate <dir>/<id>.pem to revoke (repeatable).
        #[arg(long = "id", value_delimiter = ',')]
        ids: Vec<String>,
        /// Directory holding <id>.pem for --id.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Serial number to revoke, in hex (repeatable). With no --id and no --serial the CRL
        /// is only signed again with a fresh nextUpdate.
        #[arg(long = "serial", value_delimiter = ',', value_parser = parse_serial)]
        serials: Vec<Vec<u8>>,
        /// Days until the CRL's nextUpdate: publish a new one before then.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
        next_update_days: u32,
    },
    /// Print a certificate as a C header for Zephyr's tls_credential_add.
    CHeader {
        /// The certificate (PEM).
        #[arg(long)]
        cert: PathBuf,
        /// C array name.
        #[arg(long, default_value = "ca_certificate")]
        symbol: String,
    },
}

#[derive(Debug, Clone, Args)]
struct KeyArgs {
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = Algorithm::P256)]
    algorithm: Algorithm,
    /// Validity in days from now; default: 1970-01-01 to 9999-12-31, for devices without a clock.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    days: Option<u32>,
    /// Overwrite existing files (replacing a CA's key breaks every device that trusts it).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Algorithm {
    P256,
    P384,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl KeyArgs {
    fn options(&self) -> CertificateOptions {
        CertificateOptions {
            algorithm: match self.algorithm {
                Algorithm::P256 => KeyAlgorithm::EcdsaP256,
                Algorithm::P384 => KeyAlgorithm::EcdsaP384,
                Algorithm::Rsa2048 => KeyAlgorithm::Rsa2048,
                Algorithm::Rsa3072 => KeyAlgorithm::Rsa3072,
                Algorithm::Rsa4096 => KeyAlgorithm::Rsa4096,
            },
            validity: self
                .days
                .map(wasmbed_tls::Validity::days_from_now)
                .unwrap_or_default(),
            ..CertificateOptions::default()
        }
    }
}

#[derive(Debug, Subcommand)]
// Parsed once per run; boxing the inline endpoint would only add noise.
#[allow(clippy::large_enum_variant)]
enum EndpointCommand {
    /// Print the sysbus WriteDoubleWord lines that put ENDPOINT into the RAM mailbox.
    Encode {
        /// Endpoint, e.g. 10.42.0.12:8081.
        endpoint: Endpoint,
        /// Mailbox base address (hex with 0x, or decimal).
        #[arg(long, default_value = "0x20001000", value_parser = parse_u32)]
        base: u32,
    },
    /// Decode a mailbox image given as hex bytes (length word first).
    Decode {
        /// The image, e.g. 0f00000031302e34...
        hex: String,
    },
}

/// A serial number as `parse_serial` reads it: hex digit pairs joined by colons.
fn hex_serial(serial: &[u8]) -> String {
    serial
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A certificate serial number in hex (colons allowed, as openssl prints them).
fn parse_serial(text: &str) -> Result<Vec<u8>, String> {
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    let hex = hex.strip_prefix("0x").unwrap_or(&hex);
    if hex.is_empty() || hex.len() > 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{text:?} is not a serial number: 1-40 hex digits, e.g. 3f:a2:01"
        ));
    }
    let hex = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    Ok((0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits"))
        .collect())
}

fn parse_u32(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("{text:?} is not a 32-bit address: {e}"))
}

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

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Pki(pki)) => run_pki(pki),
        Some(Command::Endpoint(command)) => run_endpoint(command),
        Some(Command::Renode(command)) => cli_renode::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    let config = GatewayConfig::default()
        .with_handshake_timeout(Duration::from_secs(args.handshake_timeout_secs))
        .with_hello_timeout(Duration::from_secs(args.hello_timeout_secs))
        .with_heartbeat_interval(Duration::from_secs(args.heartbeat_interval_secs))
        .with_max_frame_len(args.max_frame_len)
        .with_max_connections(args.max_connections)
        .with_outbound_queue_len(args.outbound_queue_len)
        .with_inbound_queue_len(args.inbound_queue_len)
        .with_inbound_bytes_limit(args.inbound_bytes_limit)
        .with_max_offline_devices(args.max_offline_devices)
        .with_echo_timeout(Duration::from_secs(args.echo_timeout_secs))
        .with_shutdown_grace(Duration::from_secs(args.shutdown_grace_secs))
        .with_log_burst(args.log_burst)
        .with_max_api_connections(args.max_api_connections)
        .with_max_tls_http_connections(args.max_tls_http_connections)
        .with_http_header_read_timeout(Duration::from_secs(args.http_header_read_timeout_secs))
        .with_http_idle_timeout(Duration::from_secs(args.http_idle_timeout_secs))
        .with_http2_max_concurrent_streams(args.http2_max_concurrent_streams);
    config.validate()?;
    raise_open_file_limit(args.max_connections, args.max_api_connections);
    if args.require_client_cert && args.client_ca.is_none() {
        bail!(
            "--require-client-cert needs --client-ca, the device CA certificate(s) to verify devices with"
        );
    }
    if args.cert.is_some() && !args.sans.is_empty() {
        bail!(
            "--san names the dev certificate; with --cert the names come from the certificate (pki gateway --san)"
        );
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve_async(args, config))
}

/// Default `--listen-backlog`: Linux's default net.core.somaxconn since 5.4. Measured: 19,000
/// devices connecting at 1,000/s overflowed tokio's default of 1,024 49 times (`nstat`
/// TcpExtListenOverflows), each a 1 s SYN retransmission for a device.
const DEFAULT_LISTEN_BACKLOG: u32 = 4096;

/// A listening socket with `SO_REUSEADDR` (a restarted gateway binds at once while old
/// connections sit in TIME_WAIT) and the given backlog.
fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// File descriptors the gateway needs besides its TLS and API connections: listeners, the
/// TLS connections refused politely (`MAX_POLITE_REFUSALS`), the runtime's own, log output,
/// certificate and token reloads.
const RESERVED_FDS: u64 = 256;

/// Raises the soft open-file limit to the hard one (every connection is a descriptor; a soft
/// limit of 1024 is common) and warns when the budget, `max_connections` TLS connections plus
/// `max_api_connections` API connections plus [`RESERVED_FDS`], cannot fit even so. Each
/// port's cap keeps its connections inside its share, so a flood of API connections cannot
/// take the descriptors devices need.
fn raise_open_file_limit(max_connections: usize, max_api_connections: usize) {
    let limit = match rlimit::Resource::NOFILE.get() {
        Ok((soft, hard)) if soft < hard => match rlimit::Resource::NOFILE.set(hard, hard) {
            Ok(()) => {
                info!(from = soft, to = hard, "raised the open-file limit");
                hard
            }
            Err(e) => {
                warn!(soft, hard, error = %e, "cannot raise the open-file limit");
                soft
            }
        },
        Ok((soft, _)) => soft,
        Err(e) => return warn!(error = %e, "cannot read the open-file limit"),
    };
    let needed = max_connections as u64 + max_api_connections as u64 + RESERVED_FDS;
    if needed > limit {
        warn!(
            max_connections,
            max_api_connections,
            reserved = RESERVED_FDS,
            open_file_limit = limit,
            "--max-connections + --max-api-connections + {RESERVED_FDS} reserved need about {needed} file descriptors but the open-file limit is {limit}; device accepts fail past it (raise the hard limit: ulimit -Hn, or LimitNOFILE= in systemd, or lower the caps)"
        );
    } else {
        info!(
            max_connections,
            max_api_connections,
            reserved = RESERVED_FDS,
            open_file_limit = limit,
            "file-descriptor budget fits the open-file limit"
        );
    }
}

async fn serve_async(args: ServeArgs, config: GatewayConfig) -> Result<()> {
    let trust = match &args.client_ca {
        None => None,
        Some(ca) => Some(
            load_trust(ca, &args.crls)
                .context("cannot load the device CAs and CRLs (--client-ca, --crl)")?,
        ),
    };
    let device_hosts: Vec<Host> = args.device_endpoints.iter().map(|e| e.host).collect();
    let client_auth = match &trust {
        None => ClientAuth::None,
        Some((roots, _)) if args.require_client_cert => ClientAuth::Required(roots.clone()),
        Some((roots, _)) => ClientAuth::Optional(roots.clone()),
    };
    let options = ServerOptions {
        alpn: ALPN.iter().map(|p| p.to_vec()).collect(),
        client_auth,
        device_max_content_len: Some(args.device_max_content_len),
        session_lifetime: Duration::from_secs(args.session_lifetime_secs),
        device_hosts,
        ..ServerOptions::default()
    };
    let (identity, mode) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => {
            let identity = Identity::load(cert, key)
                .context("cannot load the gateway certificate (--cert, --key)")?;
            if let Some(mode) = key_readable_by_others(key)? {
                warn!(key = %key.display(), mode = format!("{mode:o}"), "the private key is readable by other users; chmod 600 it");
            }
            (identity, Mode::Production)
        }
        _ => (dev_identity(&args)?, Mode::Dev),
    };
    let resolver = Arc::new(CertResolver::new(&identity, &options).with_context(
        || match &args.cert {
            Some(cert) => format!("gateway certificate {}", cert.display()),
            None => "dev gateway certificate".to_owned(),
        },
    )?);
    let resumption = wasmbed_tls::resumption(&options)?;
    info!(
        certificate_bytes = resolver.certificate_message_len(),
        largest_flight_bytes = resolver.handshake_flight_len(),
        ticket_flight_bytes = resumption.ticket_flight_len(),
        device_max_content_len = args.device_max_content_len,
        "every handshake flight and the session tickets fit one device TLS record"
    );
    info!(
        tickets = resumption.tickets(),
        lifetime_secs = args.session_lifetime_secs,
        "{}",
        describe_resumption(resumption)
    );
    let verifier = match &trust {
        None => None,
        Some((roots, crls)) => Some(Arc::new(ClientVerifier::new(
            roots,
            crls,
            args.require_client_cert,
        )?)),
    };
    let tls = server_config_with_verifier(resolver.clone(), verifier.clone())?;
    let bindings = device_bindings(&args)?;
    let mut gateway = Gateway::with_bindings(config, tls, mode, bindings)?;
    if let Some(verifier) = &verifier {
        gateway = gateway.with_client_verifier(verifier.clone());
    }
    let token_file = api_auth(&args, mode, &gateway)?;

    let tls_listener = listen(args.tls_addr, args.listen_backlog).with_context(|| {
        format!(
            "cannot listen on {} (TLS port); is another gateway running?",
            args.tls_addr
        )
    })?;
    let api_listener = TcpListener::bind(args.api_addr).await.with_context(|| {
        format!(
            "cannot listen on {} (API port); is another gateway running?",
            args.api_addr
        )
    })?;
    let tls_addr = tls_listener.local_addr()?;
    let api_addr = api_listener.local_addr()?;
    info!("Starting TLS server on {tls_addr}");
    info!("Starting HTTP API on {api_addr}");
    match &token_file {
        Some(path) => {
            let host = match api_addr.ip() {
                ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
                IpAddr::V6(ip) => format!("[{ip}]"),
                IpAddr::V4(ip) => ip.to_string(),
            };
            info!(
                "the API needs a bearer token from {}: curl -H \"Authorization: Bearer $(cat {})\" http://{host}:{}/devices",
                path.display(),
                path.display(),
                api_addr.port()
            );
        }
        None => warn!(
            "--insecure-api-no-auth: the HTTP API on {api_addr} has NO AUTHENTICATION; anyone who reaches it can read every device and send it data"
        ),
    }
    if mode == Mode::Dev {
        warn!(
            "development mode: self-signed certificate; devices do not verify the gateway (TLS_PEER_VERIFY_NONE). Use --cert and --key in production"
        );
    }
    let endpoints = if args.device_endpoints.is_empty() {
        device_endpoints(tls_addr)
    } else {
        args.device_endpoints.clone()
    };
    for endpoint in endpoints {
        info!(
            "devices can use endpoint {endpoint} (Renode lines: wasmbed-gateway endpoint encode {endpoint})"
        );
    }
    if let Some(path) = args.api_token_file.clone() {
        tokio::spawn(reload_api_token_on_signal(gateway.clone(), path));
    }
    let reloader = Arc::new(Reloader {
        resolver,
        identity: args.cert.clone().zip(args.key.clone()),
        trust: verifier
            .zip(args.client_ca.clone())
            .zip(trust)
            .map(|((verifier, ca), loaded)| Trust {
                verifier,
                ca,
                crls: args.crls.clone(),
                loaded: std::sync::Mutex::new(loaded),
            }),
        gateway: gateway.clone(),
    });
    if reloader.identity.is_none() && reloader.trust.is_none() {
        // With a token file, its reload task owns SIGHUP (and says what it did).
        if args.api_token_file.is_none() {
            tokio::spawn(ignore_sighup_in_dev());
        }
    } else {
        tokio::spawn(reload_on_signal(reloader.clone()));
        if args.reload_check_secs > 0 {
            tokio::spawn(reload_on_change(
                reloader,
                Duration::from_secs(args.reload_check_secs),
            ));
        }
    }
    gateway
        .serve(tls_listener, api_listener, shutdown_signal())
        .await?;
    Ok(())
}

/// The dev-mode token file, in the state directory.
const DEV_API_TOKEN_FILE: &str = "api-token";

/// Sets the API's authentication from the flags; returns the token file clients read.
///
/// Production needs `--api-token-file` (or `--insecure-api-no-auth`, by name); dev mode makes
/// `<state-dir>/api-token` once and reuses it.
fn api_auth(args: &ServeArgs, mode: Mode, gateway: &Gateway) -> Result<Option<PathBuf>> {
    // Checked here rather than by clap, which would take WASMBED_GATEWAY_INSECURE_API_NO_AUTH=false
    // for the flag being given.
    if args.insecure_api_no_auth && args.api_token_file.is_some() {
        bail!(
            "--insecure-api-no-auth (WASMBED_GATEWAY_INSECURE_API_NO_AUTH) and --api-token-file (WASMBED_GATEWAY_API_TOKEN_FILE) contradict each other; give one"
        );
    }
    if args.insecure_api_no_auth {
        gateway.set_api_auth(ApiAuth::InsecureNoAuth);
        return Ok(None);
    }
    let path = match (&args.api_token_file, mode) {
        (Some(path), _) => path.clone(),
        (None, Mode::Production) => bail!(
            "production mode (--cert) needs --api-token-file FILE (or WASMBED_GATEWAY_API_TOKEN_FILE) with the HTTP API's bearer token, e.g. made with `(umask 077; openssl rand -hex 32 > api-token)`; --insecure-api-no-auth serves the API without authentication instead"
        ),
        (None, Mode::Dev) => {
            let path = args.state_dir.join(DEV_API_TOKEN_FILE);
            if !path.exists() {
                std::fs::create_dir_all(&args.state_dir).with_context(|| {
                    format!(
                        "cannot create the state directory {}",
                        args.state_dir.display()
                    )
                })?;
                ApiToken::generate().save_new(&path)?;
                info!(file = %path.display(), "made an API token (mode 0600)");
            }
            path
        }
    };
    let token = load_api_token(&path).with_context(|| {
        if args.api_token_file.is_none() {
            format!(
                "the dev API token is unusable (delete {} to make a new one)",
                path.display()
            )
        } else {
            "cannot use --api-token-file".to_owned()
        }
    })?;
    gateway.set_api_auth(ApiAuth::Bearer(token));
    Ok(Some(path))
}

/// Loads a token file and warns when others may read it.
fn load_api_token(path: &Path) -> Result<ApiToken, wasmbed_server::ApiTokenError> {
    let token = ApiToken::load(path)?;
    if let Ok(Some(mode)) = key_readable_by_others(path) {
        warn!(file = %path.display(), mode = format!("{mode:o}"), "the API token file is readable by other users; chmod 600 it");
    }
    Ok(token)
}

/// Rereads the token file on SIGHUP; a file that fails its checks keeps the current token.
async fn reload_api_token_on_signal(gateway: Gateway, path: PathBuf) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return error!("cannot listen for SIGHUP; API token reload is off");
    };
    while hup.recv().await.is_some() {
        match load_api_token(&path) {
            Ok(token) => {
                gateway.set_api_auth(ApiAuth::Bearer(token));
                info!(file = %path.display(), "API token reloaded");
            }
            Err(e) => error!(
                error = %anyhow::Error::from(e).chain().map(ToString::to_string).collect::<Vec<_>>().join(": "),
                "API token reload failed; keeping the current token"
            ),
        }
    }
}

fn describe_resumption(resumption: Resumption) -> &'static str {
    match resumption {
        Resumption::Stateful { .. } => {
            "session resumption: stateful (TLS 1.3 tickets name a session kept in the gateway, TLS 1.2 resumes by session id), so a ticket's size does not depend on the device certificate chain"
        }
        _ => "session resumption: stateless tickets (RFC 5077, RFC 8446 section 4.6.1)",
    }
}

/// The client CAs in `ca` and the CRLs in `crls`, each CRL checked against the CAs; a CRL past
/// its nextUpdate is applied with a warning.
fn load_trust(
    ca: &Path,
    crls: &[PathBuf],
) -> Result<(
    Vec<CertificateDer<'static>>,
    Vec<CertificateRevocationListDer<'static>>,
)> {
    let roots = load_certificates(ca)?;
    let mut loaded = Vec::new();
    let now = std::time::SystemTime::now();
    for path in crls {
        for crl in load_crls(path)? {
            let status = check_crl(path, &crl, &roots)?;
            if status.is_stale(now) {
                let next_update = status.next_update.map(|t| {
                    time::OffsetDateTime::from(t)
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                });
                warn!(
                    crl = %path.display(),
                    next_update,
                    "the CRL is past its nextUpdate: still applying it, but revocations since then are missing; publish a new one (wasmbed-gateway pki revoke)"
                );
            }
            loaded.push(crl);
        }
    }
    Ok((roots, loaded))
}

/// What SIGHUP and file changes reload: the gateway's certificate and key, and the client CAs
/// with their CRLs.
struct Reloader {
    resolver: Arc<CertResolver>,
    identity: Option<(PathBuf, PathBuf)>,
    trust: Option<Trust>,
    gateway: Gateway,
}

struct Trust {
    verifier: Arc<ClientVerifier>,
    ca: PathBuf,
    crls: Vec<PathBuf>,
    /// The CAs and CRLs in use, so that a reload that changes nothing re-checks no session.
    loaded: std::sync::Mutex<TrustFiles>,
}

type TrustFiles = (
    Vec<CertificateDer<'static>>,
    Vec<CertificateRevocationListDer<'static>>,
);

impl Reloader {
    /// The files of the certificate, and those of the client CAs and CRLs.
    fn files(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let identity = self
            .identity
            .iter()
            .flat_map(|(cert, key)| [cert.clone(), key.clone()])
            .collect();
        let trust = self
            .trust
            .iter()
            .flat_map(|trust| std::iter::once(trust.ca.clone()).chain(trust.crls.iter().cloned()))
            .collect();
        (identity, trust)
    }

    fn reload(&self, why: &str) {
        self.reload_identity(why);
        self.reload_trust(why);
    }

    fn reload_identity(&self, why: &str) {
        if let Some((cert, key)) = &self.identity {
            match self.resolver.reload(cert, key) {
                Ok(()) => {
                    info!(trigger = why, cert = %cert.display(), "certificate reloaded; new handshakes use it, connected devices stay")
                }
                Err(e) => {
                    error!(
                        trigger = why,
                        error = format!("{:#}", anyhow::Error::from(e)),
                        "certificate reload failed; keeping the current certificate"
                    )
                }
            }
        }
    }

    fn reload_trust(&self, why: &str) {
        if let Some(trust) = &self.trust {
            let mut current = trust.loaded.lock().unwrap_or_else(|p| p.into_inner());
            let loaded = load_trust(&trust.ca, &trust.crls).and_then(|files| {
                if files == *current {
                    return Ok(None);
                }
                trust.verifier.replace(&files.0, &files.1)?;
                let counts = (files.0.len(), files.1.len());
                *current = files;
                Ok(Some(counts))
            });
            match loaded {
                Ok(None) => {
                    info!(trigger = why, client_ca = %trust.ca.display(), "client CAs and CRLs unchanged")
                }
                Ok(Some((cas, crls))) => {
                    info!(trigger = why, client_ca = %trust.ca.display(), cas, crls, "client CAs and CRLs reloaded; live sessions whose certificate is no longer accepted end");
                    self.gateway.client_trust_changed();
                }
                Err(e) => {
                    error!(
                        trigger = why,
                        error = format!("{e:#}"),
                        "client CA/CRL reload failed; keeping the current CAs and CRLs"
                    )
                }
            }
        }
    }
}

/// With `--client-ca`, the device ids bound to a client certificate, kept in the state
/// directory; without it no device presents a certificate and the set stays empty in memory.
fn device_bindings(args: &ServeArgs) -> Result<DeviceBindings> {
    if args.client_ca.is_none() {
        return Ok(DeviceBindings::in_memory());
    }
    let bindings = DeviceBindings::open(&args.state_dir)?;
    if let Some(path) = bindings.path() {
        info!(
            file = %std::path::absolute(path).unwrap_or_else(|_| path.to_owned()).display(),
            bound = bindings.len(),
            "device ids bound to a client certificate are refused without one (state file)"
        );
    }
    Ok(bindings)
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            error!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM: shutting down"),
        _ = tokio::signal::ctrl_c() => info!("SIGINT: shutting down"),
    }
}

/// SIGHUP would otherwise end the process (its default action); in dev mode there is nothing
/// to reload.
async fn ignore_sighup_in_dev() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        info!("SIGHUP: nothing to reload in dev mode (the certificate is made at start)");
    }
}

async fn reload_on_signal(reloader: Arc<Reloader>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return error!("cannot listen for SIGHUP; reload on signal is off");
    };
    while hup.recv().await.is_some() {
        reloader.reload("SIGHUP");
    }
}

async fn reload_on_change(reloader: Arc<Reloader>, every: Duration) {
    let (identity, trust) = reloader.files();
    let stamps = |files: &[PathBuf]| -> Vec<_> {
        files
            .iter()
            .map(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
            .collect()
    };
    let mut seen = (stamps(&identity), stamps(&trust));
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        if (stamps(&identity), stamps(&trust)) != seen {
            // Let a rotation that writes several files finish before reading them.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let settled = (stamps(&identity), stamps(&trust));
            if settled.0 != seen.0 {
                reloader.reload_identity("file change");
            }
            if settled.1 != seen.1 {
                reloader.reload_trust("file change");
            }
            seen = settled;
        }
    }
}

/// The dev identity in the state directory, made when missing or when its names no longer
/// cover this machine's.
fn dev_identity(args: &ServeArgs) -> Result<Identity> {
    let dir = args.state_dir.join("dev");
    let (cert, key) = (dir.join("gateway.pem"), dir.join("gateway-key.pem"));
    let mut extra = args.sans.clone();
    extra.extend(args.device_endpoints.iter().map(|e| e.host));
    let names = dev_names(&extra);
    let wanted: BTreeSet<String> = names.iter().map(ToString::to_string).collect();
    if let Ok(identity) = Identity::load(&cert, &key) {
        if wanted.is_subset(&san_names(&identity)) {
            info!(dir = %dir.display(), "using the dev certificate in the state directory");
            return Ok(identity);
        }
        info!("the dev certificate does not cover this machine's names; making a new one");
    }
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
    let identity = dev_gateway(&names, &CertificateOptions::default())?;
    identity.save(&cert, &key)?;
    info!(dir = %dir.display(), names = ?wanted, "made a dev certificate");
    Ok(identity)
}

fn dev_names(extra: &[Host]) -> Vec<Host> {
    let mut names: Vec<Host> = vec![
        Host::Dns(wasmbed_endpoint::DnsName::parse("localhost").expect("valid name")),
        Host::from(IpAddr::from([127, 0, 0, 1])),
        Host::from(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
    ];
    if let Some(name) = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .and_then(|h| Host::parse(h.trim()).ok())
    {
        names.push(name);
    }
    names.extend(local_addresses().into_iter().map(Host::from));
    names.extend_from_slice(extra);
    names.dedup();
    names
}

fn san_names(identity: &Identity) -> BTreeSet<String> {
    use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
    let mut names = BTreeSet::new();
    if let Some(Ok((_, cert))) = identity
        .chain()
        .first()
        .map(|c| X509Certificate::from_der(c))
        && let Ok(Some(san)) = cert.subject_alternative_name()
    {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => {
                    names.insert((*dns).to_owned());
                }
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                        _ => None,
                    };
                    names.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    names
}

fn local_addresses() -> Vec<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|interfaces| interfaces.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default()
}

/// The endpoints devices can dial: each non-loopback local address when bound to all
/// interfaces, else the bound address.
fn device_endpoints(bound: SocketAddr) -> Vec<Endpoint> {
    let port = bound.port();
    if !bound.ip().is_unspecified() {
        return vec![Endpoint::from(bound)];
    }
    let mut endpoints: Vec<Endpoint> = local_addresses()
        .into_iter()
        .filter(|ip| !ip.is_loopback() && (bound.is_ipv6() || ip.is_ipv4()))
        .filter(|ip| !matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local()))
        .map(|ip| Endpoint::from((ip, port)))
        .collect();
    if endpoints.is_empty() {
        endpoints.push(Endpoint::from((IpAddr::from([127, 0, 0, 1]), port)));
    }
    endpoints
}

/// Refuses to replace existing files unless `force`.
fn check_new(paths: &[&Path], force: bool) -> Result<()> {
    if let Some(existing) = paths.iter().find(|p| p.exists()).filter(|_| !force) {
        bail!(
            "{} exists; refusing to overwrite it (pass --force to replace it)",
            existing.display()
        );
    }
    Ok(())
}

/// A file name stem: 1-64 of [A-Za-z0-9._-], not starting with '.', so it stays in --out-dir.
fn check_stem(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        bail!("--name {name:?} must be 1-64 of A-Z a-z 0-9 . _ - and not start with '.'");
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// The array in `<id>.h` that `pki device` writes: the device certificate, as the firmware's
/// `CONFIG_WASMBED_DEVICE_CERT_HEADER` declares it (`zephyr-app/src/network_handler.c`).
const DEVICE_CERTIFICATE_SYMBOL: &str = "device_certificate";

/// The array in `<id>-key.h`: the device's private key (PKCS #8 DER), for
/// `CONFIG_WASMBED_DEVICE_KEY_HEADER`.
const DEVICE_PRIVATE_KEY_SYMBOL: &str = "device_private_key";

fn run_pki(pki: Pki) -> Result<()> {
    match pki {
        Pki::Ca {
            out_dir,
            name,
            common_name,
            key,
        } => {
            check_stem(&name)?;
            let cert = out_dir.join(format!("{name}.pem"));
            let key_path = out_dir.join(format!("{name}-key.pem"));
            let header = out_dir.join(format!("{name}.h"));
            check_new(&[&cert, &key_path, &header], key.force)?;
            create_dir(&out_dir)?;
            let ca = CertificateAuthority::generate(&common_name, &key.options())?;
            ca.save(&cert, &key_path)?;
            let symbol = format!(
                "{}_certificate",
                name.to_ascii_lowercase().replace(['.', '-'], "_")
            );
            let symbol = if symbol.starts_with(|c: char| c.is_ascii_lowercase()) {
                symbol
            } else {
                format!("ca_{symbol}")
            };
            std::fs::write(&header, c_header(ca.certificate(), &symbol)?)
                .with_context(|| format!("cannot write {}", header.display()))?;
            println!(
                "wrote {}, {} (0600) and {}",
                cert.display(),
                key_path.display(),
                header.display()
            );
        }
        Pki::Gateway {
            ca_cert,
            ca_key,
            sans,
            out_dir,
            key,
        } => {
            let ca = CertificateAuthority::load(&ca_cert, &ca_key)?;
            let (cert, key_path) = (out_dir.join("gateway.pem"), out_dir.join("gateway-key.pem"));
            check_new(&[&cert, &key_path], key.force)?;
            create_dir(&out_dir)?;
            let identity = ca.issue_gateway(&sans, &key.options())?;
            identity.save(&cert, &key_path)?;
            println!(
                "wrote {} and {} (0600); Certificate message {} bytes",
                cert.display(),
                key_path.display(),
                wasmbed_tls::certificate_message_len(identity.chain())
            );
        }
        Pki::Device {
            ca_cert,
            ca_key,
            id,
            out_dir,
            key,
        } => {
            let ca = CertificateAuthority::load(&ca_cert, &ca_key)?;
            let id = DeviceId::new(&id)?;
            let (cert, key_path) = (
                out_dir.join(format!("{id}.pem")),
                out_dir.join(format!("{id}-key.pem")),
            );
            let (cert_header, key_header) = (
                out_dir.join(format!("{id}.h")),
                out_dir.join(format!("{id}-key.h")),
            );
            check_new(&[&cert, &key_path, &cert_header, &key_header], key.force)?;
            // The certificate being replaced stays valid (by default until 9999) until it is
            // revoked; say how, since nothing else will.
            let replaced = load_certificates(&cert)
                .ok()
                .and_then(|chain| chain.first().cloned())
                .and_then(|old| certificate_serial(&old).ok());
            create_dir(&out_dir)?;
            let identity = ca.issue_device(&id, &key.options())?;
            identity.save(&cert, &key_path)?;
            identity.save_c_headers(
                &cert_header,
                DEVICE_CERTIFICATE_SYMBOL,
                &key_header,
                DEVICE_PRIVATE_KEY_SYMBOL,
            )?;
            println!(
                "wrote {} and {} (0600), and for the firmware {} and {} (0600, secret)",
                cert.display(),
                key_path.display(),
                cert_header.display(),
                key_header.display()
            );
            if let Some(serial) = replaced {
                let serial = hex_serial(&serial);
                eprintln!(
                    "warning: the certificate replaced in {} (serial {serial}) is still valid; revoke it unless it was never deployed: wasmbed-gateway pki revoke --ca-cert {} --ca-key {} --crl <your CRL> --serial {serial}",
                    cert.display(),
                    ca_cert.display(),
                    ca_key.display()
                );
            }
        }
        Pki::Revoke {
            ca_cert,
            ca_key,
            crl,
            ids,
            dir,
            serials,
            next_update_days,
        } => {
            let ca = CertificateAuthority::load(&ca_cert, &ca_key)?;
            let previous = if crl.exists() {
                let mut crls = load_crls(&crl)?;
                if crls.len() != 1 {
                    bail!(
                        "{} holds {} CRLs; pki revoke keeps one CRL per file",
                        crl.display(),
                        crls.len()
                    );
                }
                crls.pop()
            } else {
                None
            };
            let mut revoke = serials;
            for id in &ids {
                let id = DeviceId::new(id)?;
                let path = dir.join(format!("{id}.pem"));
                let cert = load_certificates(&path)?;
                revoke.push(certificate_serial(&cert[0])?);
            }
            let next_update = Duration::from_secs(u64::from(next_update_days) * 24 * 60 * 60);
            let signed = ca.revoke(previous.as_ref(), &revoke, next_update)?;
            let status = check_crl(&crl, &signed, std::slice::from_ref(ca.certificate()))?;
            save_crl(&crl, &signed)?;
            println!(
                "wrote {}: CRL number {}, {} revoked certificate(s), next update in {next_update_days} days; reload the gateway (SIGHUP) if it does not watch the file",
                crl.display(),
                status.number.unwrap_or(0),
                status.revoked.len()
            );
        }
        Pki::CHeader { cert, symbol } => {
            let certs = load_certificates(&cert)?;
            print!("{}", c_header(&certs[0], &symbol)?);
        }
    }
    Ok(())
}

fn run_endpoint(command: EndpointCommand) -> Result<()> {
    match command {
        EndpointCommand::Encode { endpoint, base } => {
            let image = MemoryImage::encode(&endpoint)?;
            print!("{}", image.sysbus_lines(base)?);
        }
        EndpointCommand::Decode { hex } => {
            let hex: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
            if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("the image must be an even number of hex digits, e.g. 0f00000031302e34...");
            }
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits"))
                .collect();
            println!("{}", MemoryImage::decode(&bytes)?);
        }
    }
    Ok(())
}
