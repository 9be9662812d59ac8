//! Latency percentiles with HdrHistogram (3 significant digits, 1 ns to 60 s).

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The longest latency recorded exactly; longer ones are recorded as this.
pub const MAX_RECORDED: Duration = Duration::from_secs(60);

/// A latency histogram.
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Latencies {
        Latencies::new()
    }
}

impl Latencies {
    /// An empty histogram.
    pub fn new() -> Latencies {
        let max = u64::try_from(MAX_RECORDED.as_nanos()).expect("60 s fits u64 nanoseconds");
        Latencies {
            histogram: Histogram::new_with_bounds(1, max, 3).expect("valid fixed bounds"),
        }
    }

    /// Records one latency (clamped to 1 ns..=[`MAX_RECORDED`]).
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.histogram.saturating_record(nanos.max(1));
    }

    /// Adds every latency of `other`.
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.histogram.add(&other.histogram);
    }

    /// How many latencies were recorded.
    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// Percentiles in microseconds; `None` when empty.
    pub fn summary(&self) -> Option<Summary> {
        if self.is_empty() {
            return None;
        }
        let us = |nanos: u64| nanos as f64 / 1000.0;
        let q = |quantile: f64| us(self.histogram.value_at_quantile(quantile));
        Some(Summary {
            count: self.histogram.len(),
            min_us: us(self.histogram.min()),
            p50_us: q(0.50),
            p90_us: q(0.90),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: us(self.histogram.max()),
            mean_us: self.histogram.mean() / 1000.0,
        })
    }
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Latencies recorded.
    pub count: u64,
    /// Smallest.
    pub min_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Largest.
    pub max_us: f64,
    /// Mean.
    pub mean_us: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_values() {
        let mut latencies = Latencies::new();
        assert!(latencies.summary().is_none());
        for us in 1..=1000 {
            latencies.record(Duration::from_micros(us));
        }
        let s = latencies.summary().unwrap();
        assert_eq!(s.count, 1000);
        // Three significant digits.
        assert!((s.p50_us - 500.0).abs() <= 0.5, "{s:?}");
        assert!((s.p99_us - 990.0).abs() <= 1.0, "{s:?}");
        assert!((s.max_us - 1000.0).abs() <= 1.0, "{s:?}");
        let mut other = Latencies::new();
        other.record(Duration::from_secs(3600));
        latencies.merge(&other);
        assert_eq!(latencies.len(), 1001);
        assert!(latencies.summary().unwrap().max_us >= 59.9e6);
    }
}
