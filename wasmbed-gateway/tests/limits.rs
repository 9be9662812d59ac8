//! The binary raises its open-file limit (every TLS connection is a file descriptor) and says
//! when `--max-connections` cannot fit in it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wasmbed-gateway");

/// Soft and hard "Max open files" of a process.
fn open_file_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| match w {
            "unlimited" => Some(u64::MAX),
            _ => w.parse().ok(),
        })
        .collect();
    (numbers[0], numbers[1])
}

/// Runs the gateway under a soft limit of 256 with `max_connections`; returns its log up to
/// the TLS address line and its limits then.
fn start_with_low_soft_limit(max_connections: u64) -> (String, (u64, u64), u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -Sn 256 && exec "$0" "$@""#)
        .arg(BIN)
        .args(["--tls-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0"])
        .arg("--state-dir")
        .arg(dir.path())
        .arg(format!("--max-connections={max_connections}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut log = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while !log.contains("Starting TLS server") {
        assert!(Instant::now() < deadline, "no TLS address logged:\n{log}");
        let line = lines.next().expect("the gateway logs").unwrap();
        log.push_str(&line);
        log.push('\n');
    }
    let limits = open_file_limits(child.id());
    let hard = open_file_limits(std::process::id()).1;
    child.kill().unwrap();
    child.wait().unwrap();
    (log, limits, hard)
}

#[test]
fn the_soft_open_file_limit_is_raised_to_the_hard_one() {
    let (log, (soft, hard), our_hard) = start_with_low_soft_limit(100);
    assert_eq!(hard, our_hard);
    assert_eq!(soft, hard, "{log}");
    if hard > 256 {
        assert!(log.contains("raised the open-file limit"), "{log}");
    }
    assert!(log.contains("file-descriptor budget fits"), "{log}");
}

#[test]
fn max_connections_beyond_the_limit_is_warned_about() {
    let hard = open_file_limits(std::process::id()).1;
    if hard == u64::MAX {
        // RLIM_INFINITY: no connection count can exceed it.
        return;
    }
    let (log, _, _) = start_with_low_soft_limit(hard);
    assert!(
        log.contains("--max-connections + --max-api-connections + 256 reserved need about")
            && log.contains("ulimit -Hn"),
        "{log}"
    );
}
