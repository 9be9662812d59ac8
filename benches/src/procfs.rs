//! CPU time and resident memory of a server process (and its child processes, for servers
//! such as nginx whose workers are children of a master) from `/proc`, parsed without libc.
//!
//! CPU time is `utime + stime` from `/proc/<pid>/stat` (proc(5)): it counts every thread of
//! the process, including threads that have exited, in clock ticks of 1/100 s
//! ([`CLOCK_TICKS_PER_SEC`]), so a measurement is only as fine as 10 ms over the whole run.
//! Resident memory is `VmRSS` from `/proc/<pid>/status`.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Linux's `USER_HZ`: the unit of `utime` and `stime` in `/proc/<pid>/stat`. It is 100 on
/// every architecture Linux supports (it is part of the user ABI, unlike the kernel's `HZ`).
pub const CLOCK_TICKS_PER_SEC: u64 = 100;

/// The resolution of [`Usage::cpu`].
pub const CPU_RESOLUTION: Duration = Duration::from_millis(1000 / CLOCK_TICKS_PER_SEC);

/// What a process (with its children) has used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// User plus system CPU time, every thread, since the process started.
    pub cpu: Duration,
    /// Resident memory now, in bytes.
    pub rss_bytes: u64,
    /// How many processes were counted.
    pub processes: usize,
}

/// Reading `/proc` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcError {
    /// The file could not be read (the process is gone, or this is not Linux).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file did not have the expected format.
    #[error("unexpected format in {path}: {what}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was missing.
        what: &'static str,
    },
}

fn read(path: PathBuf) -> Result<String, ProcError> {
    std::fs::read_to_string(&path).map_err(|source| ProcError::Read { path, source })
}

/// The CPU time and RSS of `pid`, plus those of its direct children when `children` is set.
///
/// # Errors
///
/// [`ProcError`] when `pid`'s files cannot be read or parsed; children that exit meanwhile
/// are skipped.
pub fn usage(pid: u32, children: bool) -> Result<Usage, ProcError> {
    let mut total = Usage {
        cpu: cpu_time(pid)?,
        rss_bytes: rss_bytes(pid)?,
        processes: 1,
    };
    if children {
        for child in child_pids(pid)? {
            if let (Ok(cpu), Ok(rss)) = (cpu_time(child), rss_bytes(child)) {
                total.cpu += cpu;
                total.rss_bytes += rss;
                total.processes += 1;
            }
        }
    }
    Ok(total)
}

/// `utime + stime` of `pid`.
///
/// # Errors
///
/// [`ProcError`] for an unreadable or malformed `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Result<Duration, ProcError> {
    let path = PathBuf::from(format!("/proc/{pid}/stat"));
    let text = read(path.clone())?;
    parse_stat_cpu(&text).ok_or(ProcError::Format {
        path,
        what: "utime and stime (fields 14 and 15)",
    })
}

/// `VmRSS` of `pid` in bytes.
///
/// # Errors
///
/// [`ProcError`] for an unreadable `/proc/<pid>/status` or one without `VmRSS`.
pub fn rss_bytes(pid: u32) -> Result<u64, ProcError> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let text = read(path.clone())?;
    parse_status_rss(&text).ok_or(ProcError::Format {
        path,
        what: "a VmRSS line in kB",
    })
}

/// The direct children of `pid`, from `/proc/<pid>/task/*/children`.
///
/// # Errors
///
/// [`ProcError::Read`] when `/proc/<pid>/task` cannot be listed.
pub fn child_pids(pid: u32) -> Result<Vec<u32>, ProcError> {
    let dir = PathBuf::from(format!("/proc/{pid}/task"));
    let entries = std::fs::read_dir(&dir).map_err(|source| ProcError::Read {
        path: dir.clone(),
        source,
    })?;
    let mut pids = Vec::new();
    for entry in entries.flatten() {
        if let Ok(text) = std::fs::read_to_string(entry.path().join("children")) {
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    pids.sort_unstable();
    pids.dedup();
    Ok(pids)
}

/// Fields 14 and 15 of a `stat` line. The command (field 2) is in parentheses and may hold
/// spaces and parentheses itself, so fields are counted from the last `)`.
fn parse_stat_cpu(text: &str) -> Option<Duration> {
    let after = &text[text.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    // After the command come state (field 3) ... utime (14), stime (15).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime.checked_add(stime)?;
    Some(Duration::from_millis(ticks * (1000 / CLOCK_TICKS_PER_SEC)))
}

fn parse_status_rss(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let kib: u64 = parts.next()?.parse().ok()?;
    (parts.next()? == "kB").then_some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (tokio (x) y) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 75 0 0 20 0 3 0 100 1000 200";
        assert_eq!(parse_stat_cpu(line), Some(Duration::from_millis(3250)));
        assert_eq!(parse_stat_cpu("4242 (x) S 1 2"), None);
        assert_eq!(parse_stat_cpu("no parenthesis"), None);
    }

    #[test]
    fn vmrss_is_read_in_kib() {
        let status = "Name:\tx\nVmPeak:\t  100 kB\nVmRSS:\t    2048 kB\nThreads:\t3\n";
        assert_eq!(parse_status_rss(status), Some(2048 * 1024));
        assert_eq!(parse_status_rss("Name:\tkthread\n"), None);
        assert_eq!(parse_status_rss("VmRSS:\t12 MB\n"), None);
    }

    #[test]
    fn this_process_is_measured() {
        let me = std::process::id();
        let usage = usage(me, true).unwrap();
        assert!(usage.rss_bytes > 0);
        assert!(usage.processes >= 1);
        let child = Guard(
            std::process::Command::new("sleep")
                .arg("5")
                .spawn()
                .unwrap(),
        );
        assert!(child_pids(me).unwrap().contains(&child.0.id()));
    }

    struct Guard(std::process::Child);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn a_missing_process_is_a_read_error() {
        let e = usage(u32::MAX, false).unwrap_err();
        assert!(matches!(e, ProcError::Read { .. }), "{e}");
    }
}
