//! The measured server process: one given by pid, or a `wasmbed-gateway` this tool starts.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::procfs::{self, ProcError, Usage};

/// Log lines of a started gateway kept for error messages.
pub const KEPT_LOG_LINES: usize = 200;

/// How long a started gateway may take to log its TLS address.
pub const GATEWAY_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A server process whose CPU and memory are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerProcess {
    /// Its process id.
    pub pid: u32,
    /// Also count its direct children (nginx's workers).
    pub children: bool,
}

impl ServerProcess {
    /// CPU time and RSS now.
    ///
    /// # Errors
    ///
    /// [`ProcError`] when the process is gone.
    pub fn usage(&self) -> Result<Usage, ProcError> {
        procfs::usage(self.pid, self.children)
    }
}

/// A `wasmbed-gateway` started by the load tool on `127.0.0.1:0`, killed on drop.
#[derive(Debug)]
pub struct GatewayProcess {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<VecDeque<String>>>,
    _state: tempfile::TempDir,
}

impl GatewayProcess {
    /// Starts `binary` with loopback ports, a temporary state directory (dev mode unless
    /// `args` has `--cert`/`--key`) and `args`, and waits for its TLS address.
    ///
    /// # Errors
    ///
    /// A message when it cannot start, exits, or does not log its address in time; the
    /// message ends with its last log lines.
    pub fn start(binary: &Path, args: &[String]) -> Result<GatewayProcess, String> {
        let state =
            tempfile::tempdir().map_err(|e| format!("cannot make a state directory: {e}"))?;
        let mut child = Command::new(binary)
            .args([
                "--tls-addr",
                "127.0.0.1:0",
                "--api-addr",
                "127.0.0.1:0",
                "--state-dir",
            ])
            .arg(state.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let pipes: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout is piped")),
            Box::new(child.stderr.take().expect("stderr is piped")),
        ];
        for pipe in pipes {
            let log = log.clone();
            // Drained for the gateway's whole life: a full pipe would stall its logging.
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                    if log.len() == KEPT_LOG_LINES {
                        log.pop_front();
                    }
                    log.push_back(line);
                }
            });
        }
        let mut gateway = GatewayProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            _state: state,
        };
        gateway.addr = gateway.wait_for_address()?;
        Ok(gateway)
    }

    fn wait_for_address(&mut self) -> Result<SocketAddr, String> {
        const NEEDLE: &str = "Starting TLS server on ";
        let deadline = Instant::now() + GATEWAY_START_TIMEOUT;
        loop {
            let found = self
                .log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .find_map(|line| {
                    let at = line.find(NEEDLE)? + NEEDLE.len();
                    line[at..].split_whitespace().next()?.parse().ok()
                });
            if let Some(addr) = found {
                return Ok(addr);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the gateway exited ({status}) before listening:\n{}",
                    self.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the gateway did not log {NEEDLE:?} within {GATEWAY_START_TIMEOUT:?}:\n{}",
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its TLS device address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process, for measuring.
    pub fn process(&self) -> ServerProcess {
        ServerProcess {
            pid: self.child.id(),
            children: false,
        }
    }

    /// The last [`KEPT_LOG_LINES`] log lines.
    pub fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
