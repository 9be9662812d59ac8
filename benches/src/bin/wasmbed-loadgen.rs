//! `wasmbed-loadgen`: devices or handshakes against a gateway (or any TLS server) on this
//! machine, bounded in count and time; prints progress on stderr and writes a JSON report.
//! See `wasmbed_benches::loadgen` and `wasmbed-loadgen --help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use wasmbed_benches::fixture::{KeyExchange, TlsVersion};
use wasmbed_benches::loadgen::{self, Config, GatewayProcess, Mode, ServerProcess};
use wasmbed_benches::net;

/// Devices or TLS handshakes against a server on this machine (loopback only).
#[derive(Debug, Parser)]
#[command(name = "wasmbed-loadgen", version)]
struct Cli {
    /// sessions: devices that say HELLO and hold sessions; handshakes: TLS handshakes only
    /// (works against any TLS server).
    #[arg(long, value_enum, default_value_t = ModeArg::Sessions)]
    mode: ModeArg,
    /// The server's TLS address (loopback only). Not needed with --spawn-gateway.
    #[arg(long, required_unless_present = "spawn_gateway")]
    target: Option<SocketAddr>,
    /// Start this wasmbed-gateway binary on 127.0.0.1 and measure it.
    #[arg(long, conflicts_with_all = ["target", "server_pid"])]
    spawn_gateway: Option<PathBuf>,
    /// An argument for the started gateway (repeatable), e.g. --gateway-arg=--heartbeat-interval-secs=60.
    #[arg(
        long = "gateway-arg",
        allow_hyphen_values = true,
        requires = "spawn_gateway"
    )]
    gateway_args: Vec<String>,
    /// Measure this server process's CPU and memory from /proc.
    #[arg(long, alias = "gateway-pid")]
    server_pid: Option<u32>,
    /// Also count the server's child processes (nginx's workers).
    #[arg(long, requires = "server_pid")]
    server_children: bool,
    /// Server name sent (SNI) and, with --ca, verified.
    #[arg(long, default_value = "localhost")]
    server_name: String,
    /// CA certificate (PEM) to verify the server with; without it nothing is verified (dev mode).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Offer only this TLS version.
    #[arg(long, value_enum)]
    tls_version: Option<TlsVersion>,
    /// Key-exchange groups to offer (x25519 as devices and nginx's OpenSSL 3.0 do; rustls'
    /// own default would pick the X25519MLKEM768 hybrid against a rustls server).
    #[arg(long, value_enum, default_value_t = KeyExchange::X25519)]
    key_exchange: KeyExchange,
    /// Keep a session cache and resume handshakes.
    #[arg(long)]
    resume: bool,
    /// Devices to connect (sessions mode).
    #[arg(long, default_value_t = 100)]
    devices: usize,
    /// New devices per second (sessions mode).
    #[arg(long, default_value_t = 1000.0)]
    ramp_per_sec: f64,
    /// Seconds to hold every session after the ramp (sessions mode).
    #[arg(long, default_value_t = 10)]
    hold_secs: u64,
    /// Handshakes in all (handshakes mode).
    #[arg(long, default_value_t = 10_000)]
    handshakes: u64,
    /// Connections in flight (handshakes mode).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Upper bound on the whole run, in seconds; whatever is left then is not done.
    #[arg(long, default_value_t = 600)]
    duration_secs: u64,
    /// Do not send heartbeats (the gateway then closes sessions after 3 intervals).
    #[arg(long)]
    no_heartbeats: bool,
    /// Each device sends ECHO this often, in milliseconds (default: never).
    #[arg(long)]
    echo_interval_ms: Option<u64>,
    /// ECHO payload size in bytes.
    #[arg(long, default_value_t = 64)]
    echo_size: usize,
    /// Devices per second that say GOODBYE and reconnect while sessions are held.
    #[arg(long, default_value_t = 0.0)]
    churn_per_sec: f64,
    /// Spread connections over 127.0.0.1..127.0.0.N (0: the kernel's choice; about 28,000
    /// ports per source address).
    #[arg(long, default_value_t = 0)]
    source_addrs: u8,
    /// Seconds between the end of the ramp and the memory sample.
    #[arg(long, default_value_t = 2)]
    settle_secs: u64,
    /// Device ids are `PREFIX-<n>`.
    #[arg(long, default_value = "loadgen")]
    device_prefix: String,
    /// Seconds between progress lines on stderr.
    #[arg(long, default_value_t = 1)]
    progress_secs: u64,
    /// Write the report here as JSON (it is printed to stdout too).
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Sessions,
    Handshakes,
}

/// File descriptors kept aside for the runtime, stdio and the server's own sockets when
/// choosing a started gateway's connection limit.
const SPARE_FDS: u64 = 64;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let (soft_before, nofile) =
        net::raise_nofile_limit().context("cannot read or raise RLIMIT_NOFILE")?;
    let mode = match cli.mode {
        ModeArg::Sessions => Mode::Sessions,
        ModeArg::Handshakes => Mode::Handshakes,
    };
    let connections = match mode {
        Mode::Sessions => cli.devices as u64,
        Mode::Handshakes => cli.concurrency as u64,
    };
    if connections + SPARE_FDS > nofile {
        bail!(
            "{connections} connections need more file descriptors than this process's limit of {nofile} (raised from {soft_before}); raise the hard limit (ulimit -Hn) or use fewer"
        );
    }
    let gateway = match &cli.spawn_gateway {
        None => None,
        Some(binary) => {
            let mut args = cli.gateway_args.clone();
            if !args.iter().any(|a| a.starts_with("--max-connections")) {
                // Room for every device plus the connections being churned.
                args.push(format!("--max-connections={}", connections + SPARE_FDS));
            }
            Some(GatewayProcess::start(binary, &args).map_err(anyhow::Error::msg)?)
        }
    };
    let target = match (&gateway, cli.target) {
        (Some(gateway), _) => gateway.addr(),
        (None, Some(target)) => target,
        (None, None) => bail!("--target or --spawn-gateway is required"),
    };
    let server = match (&gateway, cli.server_pid) {
        (Some(gateway), _) => Some(gateway.process()),
        (None, Some(pid)) => Some(ServerProcess {
            pid,
            children: cli.server_children,
        }),
        (None, None) => None,
    };
    let config = Config {
        mode,
        target,
        server_name: cli.server_name,
        ca: cli.ca,
        tls_version: cli.tls_version,
        key_exchange: cli.key_exchange,
        resume: cli.resume,
        devices: cli.devices,
        ramp_per_sec: cli.ramp_per_sec,
        hold: Duration::from_secs(cli.hold_secs),
        handshakes: cli.handshakes,
        concurrency: cli.concurrency,
        duration: Duration::from_secs(cli.duration_secs),
        heartbeats: !cli.no_heartbeats,
        echo_interval: cli.echo_interval_ms.map(Duration::from_millis),
        echo_size: cli.echo_size,
        churn_per_sec: cli.churn_per_sec,
        source_addrs: cli.source_addrs,
        settle: Duration::from_secs(cli.settle_secs),
        device_prefix: cli.device_prefix,
        progress_every: Duration::from_secs(cli.progress_secs.max(1)),
    };
    config.validate().map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime
        .block_on(loadgen::run(config, server))
        .map_err(anyhow::Error::msg);
    let report = match (report, &gateway) {
        (Err(e), Some(gateway)) => {
            return Err(e.context(format!("gateway log:\n{}", gateway.log_tail())));
        }
        (report, _) => report?,
    };
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(path) = &cli.json {
        wasmbed_benches::report::write_json(path, &report)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
