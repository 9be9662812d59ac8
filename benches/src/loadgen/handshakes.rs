//! Handshake mode: `concurrency` connections at a time, each connect + handshake + close.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{CLOSE_TIMEOUT, Client, Config, Outcome, ServerProcess, ServerReport, Stats, usage};
use crate::procfs::CPU_RESOLUTION;

pub(super) async fn run(
    config: &Config,
    stats: &Arc<Stats>,
    server: Option<&ServerProcess>,
) -> Result<Outcome, String> {
    let client = Client::new(config)?;
    let before = usage(server)?;
    let claimed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + config.duration;
    let done = CancellationToken::new();
    let progress = tokio::spawn(super::progress(
        stats.clone(),
        config.progress_every,
        done.clone(),
    ));
    let mut workers = JoinSet::new();
    for _ in 0..config.concurrency {
        workers.spawn(worker(
            client.clone(),
            stats.clone(),
            claimed.clone(),
            config.handshakes,
            deadline,
        ));
    }
    while workers.join_next().await.is_some() {}
    let phase = started.elapsed();
    done.cancel();
    let _ = progress.await;
    let after = usage(server)?;
    let ok = stats.handshakes();
    let server = match (server, before, after) {
        (Some(process), Some(before), Some(after)) => {
            let cpu = after.cpu.saturating_sub(before.cpu);
            let per = |d: Duration| (ok > 0).then(|| d.as_secs_f64() * 1e6 / ok as f64);
            Some(ServerReport {
                pid: process.pid,
                processes: after.processes,
                cpu_secs: cpu.as_secs_f64(),
                cpu_per_handshake_us: per(cpu),
                cpu_per_session_setup_us: None,
                cpu_resolution_us: per(CPU_RESOLUTION).unwrap_or(f64::NAN),
                rss_before_bytes: before.rss_bytes,
                rss_after_bytes: after.rss_bytes,
                rss_per_session_bytes: None,
            })
        }
        _ => None,
    };
    Ok(Outcome {
        stopped_by_duration: claimed.load(Ordering::Relaxed) < config.handshakes,
        phase,
        server,
        open_after_ramp: 0,
    })
}

async fn worker(
    client: Client,
    stats: Arc<Stats>,
    claimed: Arc<AtomicU64>,
    total: u64,
    deadline: Instant,
) {
    while Instant::now() < deadline && claimed.fetch_add(1, Ordering::Relaxed) < total {
        match client.handshake().await {
            Err(kind) => stats.error(&kind),
            Ok((mut tls, latency, resumed)) => {
                stats.handshake(latency, resumed);
                // close_notify, then read to the end: TLS 1.3 tickets for resumption arrive
                // after the handshake, and the server closes its side.
                let close = async {
                    tls.shutdown().await?;
                    let mut buf = [0u8; 512];
                    while tls.read(&mut buf).await? > 0 {}
                    Ok::<(), std::io::Error>(())
                };
                // Servers may close without close_notify once the client has sent its own,
                // so a read error here is no failure.
                if tokio::time::timeout(CLOSE_TIMEOUT, close).await.is_err() {
                    stats.error("close_timeout");
                }
            }
        }
    }
}
