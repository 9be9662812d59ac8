//! Runs the `wasmbed-device` binary (the firmware on the host port) and watches its UART log.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEVICE_BIN: &str = env!("CARGO_BIN_EXE_wasmbed-device");

/// A `wasmbed-device` process; killed on drop.
pub struct Device {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Device {
    /// Starts the device with `args`; stdout (the UART) and stderr are captured.
    pub fn start(args: &[&str]) -> Device {
        let mut child = Command::new(DEVICE_BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wasmbed-device runs");
        let log = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        Device { child, log }
    }

    /// Waits for a log line containing `needle` and returns it.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> String {
        self.wait_for_nth_log(needle, 1, limit)
    }

    /// Waits for the `n`th log line containing `needle` and returns it.
    pub fn wait_for_nth_log(&self, needle: &str, n: usize, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(line) = self
                .log
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(needle))
                .nth(n - 1)
            {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no device log line #{n} containing {needle:?} within {limit:?}; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Number of log lines containing `needle` so far.
    pub fn count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits for the process to exit; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> i32 {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "device still running after {limit:?}; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
