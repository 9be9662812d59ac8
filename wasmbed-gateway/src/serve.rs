//! `wasmbed-gateway serve`: flags to a running gateway, listeners, limits and shutdown.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tracing::{error, info, warn};
use wasmbed_endpoint::Host;
use wasmbed_server::binding::DeviceBindings;
use wasmbed_server::{ALPN, ConfigError, Gateway, GatewayConfig, Mode};
use wasmbed_tls::{
    CertResolver, ClientAuth, ClientVerifier, Identity, Resumption, ServerOptions,
    key_readable_by_others, server_config_with_verifier,
};

use crate::api_token::{api_auth, reload_api_token_on_signal};
use crate::cli::ServeArgs;
use crate::dev_identity::{dev_identity, device_endpoints};
use crate::reload::{
    Reloader, Trust, ignore_sighup_in_dev, load_trust, reload_on_change, reload_on_signal,
};

pub(crate) fn serve(args: ServeArgs) -> Result<()> {
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
    config.validate().map_err(|e| {
        let flag = flag_of(&e);
        anyhow::Error::new(e).context(format!("invalid {flag}"))
    })?;
    raise_open_file_limit(args.max_connections, args.max_api_connections);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve_async(args, config))
}

/// The `serve` flag that sets the [`GatewayConfig`] field a [`ConfigError`] is about: the
/// field's name in kebab case, with `-secs` for durations (`max_frame_len` is
/// `--max-frame-len`, `hello_timeout` is `--hello-timeout-secs`).
fn flag_of(error: &ConfigError) -> String {
    let flag = format!("--{}", error.field_name().replace('_', "-"));
    if error.is_duration() {
        format!("{flag}-secs")
    } else {
        flag
    }
}

/// Default `--listen-backlog`: Linux's default net.core.somaxconn since 5.4. Measured: 19,000
/// devices connecting at 1,000/s overflowed tokio's default of 1,024 49 times (`nstat`
/// TcpExtListenOverflows), each a 1 s SYN retransmission for a device.
pub(crate) const DEFAULT_LISTEN_BACKLOG: u32 = 4096;

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
    let options = ServerOptions::default()
        .with_alpn(ALPN.iter().map(|p| p.to_vec()).collect())
        .with_client_auth(client_auth)
        .with_device_max_content_len(Some(args.device_max_content_len))
        .with_session_lifetime(Duration::from_secs(args.session_lifetime_secs))
        .with_device_hosts(device_hosts);
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

fn describe_resumption(resumption: Resumption) -> &'static str {
    match resumption {
        Resumption::Stateful { .. } => {
            "session resumption: stateful (TLS 1.3 tickets name a session kept in the gateway, TLS 1.2 resumes by session id), so a ticket's size does not depend on the device certificate chain"
        }
        _ => "session resumption: stateless tickets (RFC 5077, RFC 8446 section 4.6.1)",
    }
}

/// With `--client-ca`, the device ids bound to a client certificate, kept in the state
/// directory; without it no device presents a certificate and the set stays empty in memory.
fn device_bindings(args: &ServeArgs) -> Result<DeviceBindings> {
    if args.client_ca.is_none() {
        return Ok(DeviceBindings::in_memory());
    }
    let bindings = DeviceBindings::open(&args.state_dir)
        .context("cannot keep the device bindings in --state-dir")?;
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
