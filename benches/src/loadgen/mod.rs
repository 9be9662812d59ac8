//! `wasmbed-loadgen`: many devices against one gateway, or handshakes against any TLS server,
//! on loopback only and bounded in count and time.
//!
//! Two modes:
//!
//! * [`Mode::Sessions`]: `devices` devices connect at `ramp_per_sec`, say HELLO, send
//!   heartbeats at the interval the gateway announces, echo every `echo_interval` if set, and
//!   `churn_per_sec` of them say GOODBYE and reconnect; all are held for `hold` after the
//!   ramp, then say GOODBYE. Gateway memory per session is the server's RSS growth from before
//!   the ramp to after it, divided by the sessions open then.
//! * [`Mode::Handshakes`]: `concurrency` connections at a time, each a TCP connect and a TLS
//!   handshake, then close_notify; `handshakes` in all. Works against any TLS server (nginx
//!   too). Server CPU per handshake is the server's CPU time over the run divided by the
//!   handshakes completed.
//!
//! Server CPU and memory come from `/proc` ([`crate::procfs`]) for the [`ServerProcess`]
//! given to [`run`]: a pid (`--server-pid`, with its child processes for nginx's workers), or a
//! gateway the tool starts itself ([`GatewayProcess`]). The result is a [`Report`], written as
//! JSON.

mod handshakes;
mod process;
mod sessions;
mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::fixture::{ClientOptions, KeyExchange, TlsVersion};
use crate::latency::Summary;
use crate::net::{self, SourceAddrs};

pub use process::{GATEWAY_START_TIMEOUT, GatewayProcess, KEPT_LOG_LINES, ServerProcess};
pub use sessions::RETRY_DELAY;
pub use stats::Stats;

/// The most devices one run may open.
pub const MAX_DEVICES: usize = 100_000;
/// The most handshakes one run may make.
pub const MAX_HANDSHAKES: u64 = 10_000_000;
/// The most connections in flight in handshake mode.
pub const MAX_CONCURRENCY: usize = 10_000;
/// The longest run.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// How long a device waits for a connection, handshake or HELLO_ACK before counting a timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long closing (GOODBYE, close_notify) may take at the end.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Devices that hold sessions.
    Sessions,
    /// TLS handshakes only.
    Handshakes,
}

/// One run's settings; the binary's flags fill it.
///
/// # Defaults
///
/// See the binary's `--help`; [`Config::validate`] checks the bounds ([`MAX_DEVICES`],
/// [`MAX_HANDSHAKES`], [`MAX_CONCURRENCY`], [`MAX_DURATION`]).
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// Sessions or handshakes.
    pub mode: Mode,
    /// The server; loopback only.
    pub target: SocketAddr,
    /// The name the client sends (SNI) and, with a CA, verifies.
    pub server_name: String,
    /// CA certificate (PEM) to verify the server with; `None` verifies nothing (dev mode).
    pub ca: Option<PathBuf>,
    /// Pin the TLS version; `None` offers both, and client and server choose TLS 1.3.
    pub tls_version: Option<TlsVersion>,
    /// Key-exchange groups offered.
    pub key_exchange: KeyExchange,
    /// Keep a session cache and resume (handshake mode).
    pub resume: bool,
    /// Devices (sessions mode).
    pub devices: usize,
    /// New devices per second (sessions mode).
    pub ramp_per_sec: f64,
    /// How long to hold every session after the ramp (sessions mode).
    #[serde(serialize_with = "secs")]
    pub hold: Duration,
    /// Handshakes in all (handshake mode).
    pub handshakes: u64,
    /// Connections in flight (handshake mode).
    pub concurrency: usize,
    /// Whole run bound; the run stops when it is over, whatever is left.
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// Send HEARTBEAT at the announced interval.
    pub heartbeats: bool,
    /// Each device sends ECHO this often; `None` for none.
    #[serde(serialize_with = "optional_secs")]
    pub echo_interval: Option<Duration>,
    /// ECHO payload bytes.
    pub echo_size: usize,
    /// Devices per second that say GOODBYE and reconnect.
    pub churn_per_sec: f64,
    /// How many loopback source addresses to spread connections over (0: the kernel's).
    pub source_addrs: u8,
    /// Time after the ramp before memory is sampled.
    #[serde(serialize_with = "secs")]
    pub settle: Duration,
    /// Device ids are `<prefix>-<n>`.
    pub device_prefix: String,
    /// How often the progress line is printed.
    #[serde(serialize_with = "secs")]
    pub progress_every: Duration,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn optional_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

impl Config {
    /// Checks loopback and every bound.
    ///
    /// # Errors
    ///
    /// A message naming the setting and its allowed range.
    pub fn validate(&self) -> Result<(), String> {
        net::check_loopback(self.target).map_err(|e| e.to_string())?;
        if self.devices == 0 || self.devices > MAX_DEVICES {
            return Err(format!("--devices must be in 1..={MAX_DEVICES}"));
        }
        if self.handshakes == 0 || self.handshakes > MAX_HANDSHAKES {
            return Err(format!("--handshakes must be in 1..={MAX_HANDSHAKES}"));
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return Err(format!("--concurrency must be in 1..={MAX_CONCURRENCY}"));
        }
        if self.duration.is_zero() || self.duration > MAX_DURATION {
            return Err(format!(
                "--duration-secs must be in 1..={}",
                MAX_DURATION.as_secs()
            ));
        }
        if !(self.ramp_per_sec.is_finite() && self.ramp_per_sec > 0.0) {
            return Err("--ramp-per-sec must be a positive number".into());
        }
        if !(self.churn_per_sec.is_finite() && self.churn_per_sec >= 0.0) {
            return Err("--churn-per-sec must be 0 or more".into());
        }
        if self.echo_interval.is_some_and(|i| i.is_zero()) {
            return Err("--echo-interval-ms must be at least 1 (or leave it out)".into());
        }
        if self.echo_size > (wasmbed_protocol::DEFAULT_MAX_FRAME_LEN as usize - 5) {
            return Err(format!(
                "--echo-size must be at most {} (the gateway's default frame limit less 5)",
                wasmbed_protocol::DEFAULT_MAX_FRAME_LEN - 5
            ));
        }
        SourceAddrs::loopback(self.target, self.source_addrs)?;
        Ok(())
    }

    /// The rustls client: verifying against `ca` or (without one) not verifying, offering
    /// `tls_version` or both versions and `key_exchange`, with a session cache only when
    /// `resume` is set.
    ///
    /// # Errors
    ///
    /// A message naming the CA file or the TLS problem.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        let roots = match &self.ca {
            Some(path) => wasmbed_tls::load_certificates(path).map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        let options = ClientOptions {
            roots,
            versions: match self.tls_version {
                Some(version) => vec![version],
                None => ClientOptions::default().versions,
            },
            resumption: self.resume,
            key_exchange: self.key_exchange,
        };
        crate::fixture::client_config(&options).map_err(|e| match &self.ca {
            Some(path) => format!("cannot use {} as a CA: {e}", path.display()),
            None => e.to_string(),
        })
    }

    /// The server name as rustls takes it.
    ///
    /// # Errors
    ///
    /// A message for a name that is neither a DNS name nor an IP address.
    pub fn rustls_server_name(&self) -> Result<ServerName<'static>, String> {
        ServerName::try_from(self.server_name.clone())
            .map_err(|e| format!("--server-name {:?}: {e}", self.server_name))
    }
}

/// Everything a run measured (the JSON the tool writes; durations in `config` are seconds).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `wasmbed-loadgen`.
    pub tool: &'static str,
    /// This crate's version.
    pub version: &'static str,
    /// When the run started, seconds since the Unix epoch.
    pub started_unix_secs: u64,
    /// The settings.
    pub config: Config,
    /// How long the run took.
    pub elapsed_secs: f64,
    /// Whether the run stopped at `duration` before finishing its work.
    pub stopped_by_duration: bool,
    /// Handshakes: count, kinds, rate, latency of connect + handshake.
    pub handshakes: HandshakeReport,
    /// HELLO to HELLO_ACK (sessions mode).
    pub hello_latency: Option<Summary>,
    /// Echo round trips (sessions mode with `echo_interval`).
    pub echo: EchoReport,
    /// Sessions (sessions mode).
    pub sessions: SessionReport,
    /// Errors by kind.
    pub errors: std::collections::BTreeMap<String, u64>,
    /// The server's CPU and memory, when its process was known.
    pub server: Option<ServerReport>,
    /// The machine: cores and load average when the run ended.
    pub machine: Machine,
}

/// Handshake figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HandshakeReport {
    /// Completed handshakes.
    pub ok: u64,
    /// Of which full.
    pub full: u64,
    /// Of which resumed.
    pub resumed: u64,
    /// Completed handshakes per second over the phase that made them.
    pub per_sec: f64,
    /// TCP connect + TLS handshake, as the client saw it.
    pub latency: Option<Summary>,
}

/// Echo figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EchoReport {
    /// ECHO frames answered.
    pub ok: u64,
    /// Round trips, as the device saw them.
    pub latency: Option<Summary>,
}

/// Session figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionReport {
    /// Sessions open when memory was sampled after the ramp.
    pub open_after_ramp: u64,
    /// Most sessions open at once.
    pub peak_open: u64,
    /// Sessions opened in all (including reconnects).
    pub opened: u64,
    /// GOODBYE-and-reconnect cycles done for churn.
    pub churned: u64,
}

/// The server process's CPU and memory over the run.
#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    /// The process id measured.
    pub pid: u32,
    /// Processes counted (the server and, with `--server-children`, its children).
    pub processes: usize,
    /// CPU seconds the server used during the measured phase (handshakes, or the ramp).
    pub cpu_secs: f64,
    /// `cpu_secs` per completed handshake, in microseconds (handshake mode).
    pub cpu_per_handshake_us: Option<f64>,
    /// `cpu_secs` per session opened during the ramp, in microseconds (sessions mode).
    pub cpu_per_session_setup_us: Option<f64>,
    /// The measurement's resolution (10 ms of CPU) per handshake or session, in microseconds.
    pub cpu_resolution_us: f64,
    /// RSS before the ramp, bytes.
    pub rss_before_bytes: u64,
    /// RSS after the ramp and the settle time, bytes.
    pub rss_after_bytes: u64,
    /// `(rss_after - rss_before) / open_after_ramp` (sessions mode).
    pub rss_per_session_bytes: Option<f64>,
}

/// What the numbers were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs available.
    pub cpus: usize,
    /// `/proc/loadavg` when the run ended.
    pub loadavg: String,
}

impl Machine {
    fn now() -> Machine {
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            loadavg: std::fs::read_to_string("/proc/loadavg")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// Runs `config` against `server` (whose process is measured if known).
///
/// # Errors
///
/// A message for a configuration or `/proc` problem; connection failures are counted in the
/// report, not returned.
pub async fn run(config: Config, server: Option<ServerProcess>) -> Result<Report, String> {
    config.validate()?;
    let started_unix_secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let outcome = match config.mode {
        Mode::Handshakes => handshakes::run(&config, &stats, server.as_ref()).await?,
        Mode::Sessions => sessions::run(&config, &stats, server.as_ref()).await?,
    };
    Ok(stats.report(
        config,
        started_unix_secs,
        started.elapsed(),
        outcome,
        Machine::now(),
    ))
}

/// What a mode's run hands back besides the shared [`Stats`].
#[derive(Debug, Default)]
struct Outcome {
    stopped_by_duration: bool,
    /// Duration of the phase handshakes/s is computed over.
    phase: Duration,
    server: Option<ServerReport>,
    open_after_ramp: u64,
}

/// Opens TLS connections as the run's devices do.
#[derive(Clone)]
struct Client {
    target: SocketAddr,
    name: ServerName<'static>,
    connector: tokio_rustls::TlsConnector,
    sources: Arc<SourceAddrs>,
}

type TlsStream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

impl Client {
    fn new(config: &Config) -> Result<Client, String> {
        Ok(Client {
            target: config.target,
            name: config.rustls_server_name()?,
            connector: tokio_rustls::TlsConnector::from(config.client_config()?),
            sources: Arc::new(SourceAddrs::loopback(config.target, config.source_addrs)?),
        })
    }

    /// TCP connect and TLS handshake within [`CONNECT_TIMEOUT`]; returns the stream, the time
    /// both took and whether the session was resumed, or an error kind.
    async fn handshake(&self) -> Result<(TlsStream, Duration, bool), String> {
        let start = Instant::now();
        let attempt = async {
            let tcp = net::connect(self.target, self.sources.next(), true)
                .await
                .map_err(|e| format!("connect_{}", io_kind(&e)))?;
            self.connector
                .connect(self.name.clone(), tcp)
                .await
                .map_err(|e| {
                    match e
                        .get_ref()
                        .and_then(|e| e.downcast_ref::<tokio_rustls::rustls::Error>())
                    {
                        Some(tls) => format!("tls_{}", tls_kind(tls)),
                        None => format!("tls_{}", io_kind(&e)),
                    }
                })
        };
        let tls = tokio::time::timeout(CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| "handshake_timeout".to_owned())??;
        let resumed =
            tls.get_ref().1.handshake_kind() == Some(tokio_rustls::rustls::HandshakeKind::Resumed);
        Ok((tls, start.elapsed(), resumed))
    }
}

/// An I/O error kind as a snake_case label.
fn io_kind(e: &std::io::Error) -> String {
    let debug = format!("{:?}", e.kind());
    let mut label = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            label.push('_');
        }
        label.push(c.to_ascii_lowercase());
    }
    label
}

/// A rustls error as a short label.
fn tls_kind(e: &tokio_rustls::rustls::Error) -> &'static str {
    use tokio_rustls::rustls::Error;
    match e {
        Error::InvalidCertificate(_) => "invalid_certificate",
        Error::AlertReceived(_) => "alert_received",
        Error::PeerIncompatible(_) => "peer_incompatible",
        Error::PeerMisbehaved(_) => "peer_misbehaved",
        Error::InvalidMessage(_) => "invalid_message",
        _ => "other",
    }
}

/// Prints the progress line every `every` until `done` is cancelled.
async fn progress(stats: Arc<Stats>, every: Duration, done: tokio_util::sync::CancellationToken) {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    let mut last = (Instant::now(), 0);
    loop {
        tokio::select! {
            _ = done.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = (Instant::now(), stats.handshakes());
        let rate = (now.1 - last.1) as f64 / now.0.duration_since(last.0).as_secs_f64();
        last = now;
        eprintln!("{}", stats.progress(started.elapsed(), rate));
    }
}

/// The server's usage now, if its process is known.
fn usage(server: Option<&ServerProcess>) -> Result<Option<crate::procfs::Usage>, String> {
    server
        .map(|s| s.usage())
        .transpose()
        .map_err(|e| format!("cannot measure the server: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds_are_snake_case() {
        let e = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(io_kind(&e), "connection_refused");
        let e = std::io::Error::from(std::io::ErrorKind::AddrNotAvailable);
        assert_eq!(io_kind(&e), "addr_not_available");
    }
}
