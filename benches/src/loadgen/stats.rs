//! Counters and histograms shared by every device task, and the progress line.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Config, EchoReport, HandshakeReport, Machine, Outcome, Report, SessionReport};
use crate::latency::Latencies;

/// What every device task adds to while the run goes on.
#[derive(Debug, Default)]
pub struct Stats {
    handshake: Mutex<Latencies>,
    hello: Mutex<Latencies>,
    echo: Mutex<Latencies>,
    errors: Mutex<BTreeMap<String, u64>>,
    handshakes_full: AtomicU64,
    handshakes_resumed: AtomicU64,
    open: AtomicU64,
    peak_open: AtomicU64,
    opened: AtomicU64,
    churned: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking device task cannot leave a histogram half-updated in a harmful way.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Stats {
    /// A completed handshake and how long connect + handshake took.
    pub fn handshake(&self, latency: Duration, resumed: bool) {
        lock(&self.handshake).record(latency);
        let counter = if resumed {
            &self.handshakes_resumed
        } else {
            &self.handshakes_full
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// HELLO answered after `latency`; a session is open.
    pub fn session_opened(&self, latency: Duration) {
        lock(&self.hello).record(latency);
        self.opened.fetch_add(1, Ordering::Relaxed);
        let open = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_open.fetch_max(open, Ordering::Relaxed);
    }

    /// A session is closed.
    pub fn session_closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// A device left and reconnected for churn.
    pub fn churned(&self) {
        self.churned.fetch_add(1, Ordering::Relaxed);
    }

    /// An echo round trip.
    pub fn echo(&self, latency: Duration) {
        lock(&self.echo).record(latency);
    }

    /// An error of `kind`.
    pub fn error(&self, kind: &str) {
        *lock(&self.errors).entry(kind.to_owned()).or_default() += 1;
    }

    /// Sessions open now.
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    /// Handshakes completed so far.
    pub fn handshakes(&self) -> u64 {
        self.handshakes_full.load(Ordering::Relaxed)
            + self.handshakes_resumed.load(Ordering::Relaxed)
    }

    /// Errors so far.
    pub fn errors(&self) -> u64 {
        lock(&self.errors).values().sum()
    }

    /// The progress line: elapsed time, sessions, handshakes and rate, echo p50, errors.
    pub fn progress(&self, elapsed: Duration, rate: f64) -> String {
        let echo = lock(&self.echo)
            .summary()
            .map_or("-".into(), |s| format!("{:.0} µs", s.p50_us));
        let handshake = lock(&self.handshake)
            .summary()
            .map_or("-".into(), |s| format!("{:.0} µs", s.p50_us));
        format!(
            "[{:>6.1} s] open {} · handshakes {} ({rate:.0}/s, p50 {handshake}) · echo p50 {echo} · errors {}",
            elapsed.as_secs_f64(),
            self.open(),
            self.handshakes(),
            self.errors(),
        )
    }

    pub(super) fn report(
        &self,
        config: Config,
        started_unix_secs: u64,
        elapsed: Duration,
        outcome: Outcome,
        machine: Machine,
    ) -> Report {
        let handshake = lock(&self.handshake);
        let ok = handshake.len();
        let phase = outcome.phase.as_secs_f64();
        let echo = lock(&self.echo);
        Report {
            tool: "wasmbed-loadgen",
            version: env!("CARGO_PKG_VERSION"),
            started_unix_secs,
            config,
            elapsed_secs: elapsed.as_secs_f64(),
            stopped_by_duration: outcome.stopped_by_duration,
            handshakes: HandshakeReport {
                ok,
                full: self.handshakes_full.load(Ordering::Relaxed),
                resumed: self.handshakes_resumed.load(Ordering::Relaxed),
                per_sec: if phase > 0.0 { ok as f64 / phase } else { 0.0 },
                latency: handshake.summary(),
            },
            hello_latency: lock(&self.hello).summary(),
            echo: EchoReport {
                ok: echo.len(),
                latency: echo.summary(),
            },
            sessions: SessionReport {
                open_after_ramp: outcome.open_after_ramp,
                peak_open: self.peak_open.load(Ordering::Relaxed),
                opened: self.opened.load(Ordering::Relaxed),
                churned: self.churned.load(Ordering::Relaxed),
            },
            errors: lock(&self.errors).clone(),
            server: outcome.server,
            machine,
        }
    }
}
