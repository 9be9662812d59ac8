//! Sessions mode: devices ramp up, hold their sessions with heartbeats, echo and churn, and
//! leave with GOODBYE.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use wasmbed_protocol::{DEFAULT_MAX_FRAME_LEN, Message};

use super::{
    CLOSE_TIMEOUT, CONNECT_TIMEOUT, Client, Config, Outcome, ServerProcess, ServerReport, Stats,
    usage,
};
use crate::device::{Device, DeviceError};
use crate::procfs::CPU_RESOLUTION;

/// Wait before a device tries again after a failed connection or session.
pub const RETRY_DELAY: Duration = Duration::from_secs(1);

struct Context {
    client: Client,
    stats: Arc<Stats>,
    stop: CancellationToken,
    prefix: String,
    heartbeats: bool,
    echo_interval: Option<Duration>,
    echo_payload: Bytes,
}

pub(super) async fn run(
    config: &Config,
    stats: &Arc<Stats>,
    server: Option<&ServerProcess>,
) -> Result<Outcome, String> {
    let context = Arc::new(Context {
        client: Client::new(config)?,
        stats: stats.clone(),
        stop: CancellationToken::new(),
        prefix: config.device_prefix.clone(),
        heartbeats: config.heartbeats,
        echo_interval: config.echo_interval,
        echo_payload: Bytes::from(vec![0xa5; config.echo_size]),
    });
    let before = usage(server)?;
    let started = Instant::now();
    let deadline = started + config.duration;
    let done = CancellationToken::new();
    let progress = tokio::spawn(super::progress(
        stats.clone(),
        config.progress_every,
        done.clone(),
    ));

    let mut devices = JoinSet::new();
    let mut churn = Vec::with_capacity(config.devices);
    let mut ramp = tokio::time::interval(Duration::from_secs_f64(1.0 / config.ramp_per_sec));
    ramp.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut stopped_by_duration = false;
    for n in 0..config.devices {
        if Instant::now() >= deadline {
            stopped_by_duration = true;
            break;
        }
        ramp.tick().await;
        let notify = Arc::new(Notify::new());
        churn.push(notify.clone());
        devices.spawn(device(n, context.clone(), notify));
    }
    // The ramp ends when every device is connected, or when the last ones had
    // CONNECT_TIMEOUT to do so.
    let wait_until = (Instant::now() + CONNECT_TIMEOUT).min(deadline);
    while stats.open() < churn.len() as u64 && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ramp_phase = started.elapsed();
    let after_ramp = usage(server)?;
    let opened_in_ramp = stats.handshakes();
    tokio::time::sleep(
        config
            .settle
            .min(deadline.saturating_duration_since(Instant::now())),
    )
    .await;
    let open_after_ramp = stats.open();
    let settled = usage(server)?;

    let hold_until = (Instant::now() + config.hold).min(deadline);
    if Instant::now() + config.hold > deadline {
        stopped_by_duration = true;
    }
    let churner = (config.churn_per_sec > 0.0 && !churn.is_empty()).then(|| {
        let churn = churn.clone();
        let every = Duration::from_secs_f64(1.0 / config.churn_per_sec);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let n = rand::rng().random_range(0..churn.len());
                churn[n].notify_one();
            }
        })
    });
    tokio::time::sleep_until(hold_until.into()).await;
    if let Some(churner) = churner {
        churner.abort();
    }

    context.stop.cancel();
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while devices.join_next().await.is_some() {}
    })
    .await;
    devices.abort_all();
    done.cancel();
    let _ = progress.await;

    let server = match (server, before, after_ramp, settled) {
        (Some(process), Some(before), Some(after_ramp), Some(settled)) => {
            let cpu = after_ramp.cpu.saturating_sub(before.cpu);
            let opened = opened_in_ramp.max(1) as f64;
            let grown = settled.rss_bytes as f64 - before.rss_bytes as f64;
            Some(ServerReport {
                pid: process.pid,
                processes: settled.processes,
                cpu_secs: cpu.as_secs_f64(),
                cpu_per_handshake_us: None,
                cpu_per_session_setup_us: Some(cpu.as_secs_f64() * 1e6 / opened),
                cpu_resolution_us: CPU_RESOLUTION.as_secs_f64() * 1e6 / opened,
                rss_before_bytes: before.rss_bytes,
                rss_after_bytes: settled.rss_bytes,
                rss_per_session_bytes: (open_after_ramp > 0)
                    .then(|| grown / open_after_ramp as f64),
            })
        }
        _ => None,
    };
    Ok(Outcome {
        stopped_by_duration,
        phase: ramp_phase,
        server,
        open_after_ramp,
    })
}

/// Why a session loop returned.
enum End {
    Stop,
    Churn,
    Failed(String),
}

async fn device(n: usize, context: Arc<Context>, churn: Arc<Notify>) {
    let id = format!("{}-{n}", context.prefix);
    let stats = &context.stats;
    // A churned device reconnects even if the run stops meanwhile (its session then ends at
    // once), so every counted churn has its reconnect counted too.
    let mut reconnecting = false;
    loop {
        if context.stop.is_cancelled() && !reconnecting {
            return;
        }
        reconnecting = false;
        let end = match connect(&context, &id).await {
            Err(kind) => End::Failed(kind),
            Ok(device) => {
                let end = session(device, &context, &churn).await;
                stats.session_closed();
                end
            }
        };
        match end {
            End::Stop => return,
            End::Churn => {
                stats.churned();
                reconnecting = true;
            }
            End::Failed(kind) => {
                stats.error(&kind);
                tokio::select! {
                    _ = context.stop.cancelled() => return,
                    _ = tokio::time::sleep(RETRY_DELAY) => {}
                }
            }
        }
    }
}

type TlsDevice = Device<super::TlsStream>;

async fn connect(context: &Context, id: &str) -> Result<TlsDevice, String> {
    let (tls, handshake, resumed) = context.client.handshake().await?;
    context.stats.handshake(handshake, resumed);
    let hello_sent = Instant::now();
    let device = tokio::time::timeout(
        CONNECT_TIMEOUT,
        Device::hello(tls, id, DEFAULT_MAX_FRAME_LEN),
    )
    .await
    .map_err(|_| "hello_timeout".to_owned())?
    .map_err(|e| format!("hello_{}", e.kind()))?;
    context.stats.session_opened(hello_sent.elapsed());
    Ok(device)
}

async fn session(mut device: TlsDevice, context: &Context, churn: &Notify) -> End {
    let started = Instant::now();
    let beat = device.heartbeat_interval();
    let mut heartbeat = tokio::time::interval_at((started + beat).into(), beat);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Spread the first echo over one interval so devices do not echo in lockstep.
    let echo_every = context.echo_interval.unwrap_or(Duration::from_secs(3600));
    let offset = echo_every.mul_f64(rand::rng().random_range(0.0..1.0));
    let mut echo = tokio::time::interval_at((started + offset).into(), echo_every);
    echo.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pending: Option<(u32, Instant)> = None;
    loop {
        let outcome: Result<(), DeviceError> = tokio::select! {
            _ = context.stop.cancelled() => {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, device.goodbye()).await;
                return End::Stop;
            }
            _ = churn.notified() => {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, device.goodbye()).await;
                return End::Churn;
            }
            _ = heartbeat.tick(), if context.heartbeats => {
                let uptime_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
                device.send(Message::Heartbeat { uptime_ms }).await.map(drop)
            }
            _ = echo.tick(), if context.echo_interval.is_some() && pending.is_none() => {
                let sent = Instant::now();
                match device.send(Message::Echo(context.echo_payload.clone())).await {
                    Ok(id) => {
                        pending = Some((id, sent));
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            frame = device.recv() => frame.map(|frame| {
                if let (Message::EchoReply(_), Some((id, sent))) = (&frame.message, pending)
                    && frame.id == id {
                        context.stats.echo(sent.elapsed());
                        pending = None;
                    }
            }),
        };
        if let Err(e) = outcome {
            return End::Failed(format!("session_{}", e.kind()));
        }
    }
}
