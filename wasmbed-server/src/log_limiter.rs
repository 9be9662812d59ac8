//! [`LogLimiter`]: at most a burst of log lines per failure class per window, counting the rest,
//! so that a flood of bad clients cannot flood the log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `burst` lines per class per window; reports how many were suppressed.
#[derive(Debug)]
pub(crate) struct LogLimiter {
    burst: u32,
    window: Duration,
    state: Mutex<HashMap<&'static str, (Instant, u32, u64)>>,
}

impl LogLimiter {
    /// `burst` lines per class per 10 seconds.
    pub(crate) fn new(burst: u32) -> LogLimiter {
        LogLimiter {
            burst,
            window: Duration::from_secs(10),
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(suppressed since the last allowed line)` to log, `None` to stay quiet.
    pub(crate) fn allow(&self, class: &'static str) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (start, count, suppressed) = state.entry(class).or_insert((now, 0, 0));
        if now.duration_since(*start) >= self.window {
            *start = now;
            *count = 0;
        }
        if *count < self.burst {
            *count += 1;
            Some(std::mem::take(suppressed))
        } else {
            *suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LogLimiter;

    #[test]
    fn log_limiter_allows_a_burst_per_class_then_counts() {
        let limiter = LogLimiter::new(2);
        assert_eq!(limiter.allow("timeout"), Some(0));
        assert_eq!(limiter.allow("timeout"), Some(0));
        assert_eq!(limiter.allow("timeout"), None);
        assert_eq!(limiter.allow("timeout"), None);
        // Other classes have their own budget.
        assert_eq!(limiter.allow("not_tls"), Some(0));
        // After the window the next line reports what was suppressed.
        let mut state = limiter.state.lock().unwrap();
        state.get_mut("timeout").unwrap().0 -= limiter.window;
        drop(state);
        assert_eq!(limiter.allow("timeout"), Some(2));
    }
}
