//! Starting Renode headless on a script, capturing its log, and stopping it.
//!
//! [`Launcher`] runs `renode --disable-xwt --plain --console <script>` (or `--port N` instead
//! of `--console`), with standard output and error appended to a log file. [`Renode`] is the
//! running process: [`Renode::wait_for`] follows the log until a line appears, failing early
//! on a script error, a TAP in "dummy mode" or an exit; [`Renode::stop`] sends the monitor's
//! `quit` and kills the process only if it does not exit within the grace period.
//!
//! The log patterns come from Renode's sources (`LinuxTapInterface.cs`: "No TUN device found,
//! running in dummy mode.", "Could not create TUN/TAP interface, running in dummy mode.") and
//! from the monitor's messages for a failed command ("There was an error executing command",
//! "No such command or device", "Could not tokenize", "Bad parameters for command").

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::LaunchError;

/// How often [`Renode::wait_for`] and [`Renode::stop`] look at the log and the process.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Lines of log kept for error messages.
pub const TAIL_LINES: usize = 20;

/// Longest log line examined, in bytes; the rest of a longer line is ignored.
pub const MAX_LOG_LINE_LEN: usize = 4096;

/// Most classified log lines kept ([`Renode::events`]); later ones are not recorded.
pub const MAX_EVENTS: usize = 64;

/// Where Renode's monitor listens. More places may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Monitor {
    /// On standard input and output (`--console`); [`Renode::stop`] writes `quit` there.
    #[default]
    Console,
    /// On a telnet socket on `127.0.0.1:<port>` (`--port`); [`Renode::stop`] sends `quit`
    /// there.
    Port(u16),
}

/// What a log line says, as far as the launcher cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogEvent {
    /// The monitor could not run a command of the script.
    ScriptError,
    /// A TAP could not be opened and runs in dummy mode: no networking.
    TapDummyMode,
    /// A TAP interface was opened (`Opened interface tap0.`).
    TapOpened,
}

/// Classifies one log line.
///
/// # Examples
///
/// ```
/// use wasmbed_renode::launcher::{classify, LogEvent};
///
/// let line = "12:00:00.1234 [WARNING] host.tap: No TUN device found, running in dummy mode.";
/// assert_eq!(classify(line), Some(LogEvent::TapDummyMode));
/// assert_eq!(classify("There was an error executing command 'sysbus LoadELF $bin'"), Some(LogEvent::ScriptError));
/// assert_eq!(classify("[INFO] sam_e70: Machine started."), None);
/// ```
pub fn classify(line: &str) -> Option<LogEvent> {
    const SCRIPT_ERRORS: [&str; 4] = [
        "There was an error executing command",
        "No such command or device",
        "Could not tokenize",
        "Bad parameters for command",
    ];
    if line.contains("running in dummy mode") {
        Some(LogEvent::TapDummyMode)
    } else if SCRIPT_ERRORS.iter().any(|p| line.contains(p)) {
        Some(LogEvent::ScriptError)
    } else if line.contains("Opened interface") {
        Some(LogEvent::TapOpened)
    } else {
        None
    }
}

/// How to start Renode.
///
/// # Defaults
///
/// * program: `renode` (looked up on `PATH`);
/// * monitor: [`Monitor::Console`];
/// * extra commands: none.
///
/// # Examples
///
/// ```
/// use wasmbed_renode::launcher::Launcher;
///
/// let launcher = Launcher::new("/srv/renode_prewrite_sensor-1.resc", "/srv/renode.log");
/// assert_eq!(
///     launcher.args(),
///     ["--disable-xwt", "--plain", "--console", "/srv/renode_prewrite_sensor-1.resc"],
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Launcher {
    program: PathBuf,
    script: PathBuf,
    log: PathBuf,
    monitor: Monitor,
    commands: Vec<String>,
}

impl Launcher {
    /// Runs `script`, appending Renode's output to `log`.
    pub fn new(script: impl Into<PathBuf>, log: impl Into<PathBuf>) -> Launcher {
        Launcher {
            program: PathBuf::from("renode"),
            script: script.into(),
            log: log.into(),
            monitor: Monitor::Console,
            commands: Vec::new(),
        }
    }

    /// The Renode program: a path, or a name looked up on `PATH`.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Launcher {
        self.program = program.into();
        self
    }

    /// Where the monitor listens.
    pub fn monitor(mut self, monitor: Monitor) -> Launcher {
        self.monitor = monitor;
        self
    }

    /// A monitor command to run after the script (`-e <command>`), in order.
    pub fn command(mut self, command: impl Into<String>) -> Launcher {
        self.commands.push(command.into());
        self
    }

    /// The arguments passed to the program.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["--disable-xwt".into(), "--plain".into()];
        match self.monitor {
            Monitor::Console => args.push("--console".into()),
            Monitor::Port(port) => {
                args.push("--port".into());
                args.push(port.to_string().into());
            }
        }
        args.push(self.script.clone().into());
        for command in &self.commands {
            args.push("-e".into());
            args.push(command.into());
        }
        args
    }

    /// Starts Renode.
    ///
    /// # Errors
    ///
    /// [`LaunchError::NotFound`] when the program does not exist, [`LaunchError::Spawn`] when
    /// it cannot be started otherwise, [`LaunchError::Log`] when the log file cannot be
    /// opened.
    pub fn spawn(&self) -> Result<Renode, LaunchError> {
        let log_error = |source| LaunchError::Log {
            path: self.log.clone(),
            source,
        };
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(log_error)?;
        let start = log.metadata().map_err(log_error)?.len();
        let stderr = log.try_clone().map_err(log_error)?;
        let mut child = Command::new(&self.program)
            .args(self.args())
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => LaunchError::NotFound {
                    program: self.program.clone(),
                },
                _ => LaunchError::Spawn {
                    program: self.program.clone(),
                    source,
                },
            })?;
        tracing::info!(pid = child.id(), script = %self.script.display(), log = %self.log.display(), "started Renode");
        Ok(Renode {
            stdin: child.stdin.take(),
            child,
            monitor: self.monitor,
            log: self.log.clone(),
            offset: start,
            partial: Vec::new(),
            tail: VecDeque::with_capacity(TAIL_LINES),
            seen: Vec::new(),
        })
    }
}

/// A running Renode process. Dropping it kills the process if it still runs.
#[derive(Debug)]
pub struct Renode {
    child: Child,
    stdin: Option<ChildStdin>,
    monitor: Monitor,
    log: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    tail: VecDeque<String>,
    seen: Vec<(LogEvent, String)>,
}

impl Renode {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The events classified so far, with their lines, in order.
    pub fn events(&self) -> &[(LogEvent, String)] {
        &self.seen
    }

    /// Follows the log until a line containing `needle` appears.
    ///
    /// # Errors
    ///
    /// [`LaunchError::ScriptError`] or [`LaunchError::TapDummyMode`] as soon as such a line
    /// appears (also after `needle`, in the same read), [`LaunchError::Exited`] when Renode
    /// exits first, [`LaunchError::Timeout`] after `timeout`, [`LaunchError::Log`] when the
    /// log cannot be read.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<(), LaunchError> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.read_log()?.iter().any(|line| line.contains(needle));
            self.check()?;
            if found {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait().map_err(|source| LaunchError::Log {
                path: self.log.clone(),
                source,
            })? {
                self.read_log()?;
                self.check()?;
                return Err(LaunchError::Exited {
                    status,
                    waiting_for: needle.to_owned(),
                    tail: self.tail(),
                });
            }
            if Instant::now() >= deadline {
                return Err(LaunchError::Timeout {
                    waiting_for: needle.to_owned(),
                    seconds: timeout.as_secs(),
                    tail: self.tail(),
                });
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Reads what the log gained and fails on a script error or dummy-mode TAP seen so far.
    ///
    /// # Errors
    ///
    /// As [`wait_for`](Renode::wait_for), without the timeout and exit cases.
    pub fn poll(&mut self) -> Result<(), LaunchError> {
        self.read_log()?;
        self.check()
    }

    /// Asks Renode to quit, waits up to `grace`, then kills it.
    ///
    /// # Errors
    ///
    /// [`LaunchError::Log`] when waiting for or killing the process fails.
    pub fn stop(mut self, grace: Duration) -> Result<ExitStatus, LaunchError> {
        let log = self.log.clone();
        let io = |source| LaunchError::Log {
            path: log.clone(),
            source,
        };
        // Best effort: if the monitor is gone the process is exiting or is killed below.
        let _ = match self.monitor {
            Monitor::Console => self
                .stdin
                .as_mut()
                .map_or(Ok(()), |stdin| stdin.write_all(b"quit\n")),
            Monitor::Port(port) => TcpStream::connect(("127.0.0.1", port))
                .and_then(|mut monitor| monitor.write_all(b"quit\n")),
        };
        drop(self.stdin.take());
        let deadline = Instant::now() + grace;
        loop {
            if let Some(status) = self.child.try_wait().map_err(io)? {
                tracing::info!(pid = self.child.id(), %status, "Renode exited");
                return Ok(status);
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    pid = self.child.id(),
                    grace_ms = grace.as_millis() as u64,
                    "Renode did not quit in time; killing it"
                );
                self.child.kill().map_err(io)?;
                return self.child.wait().map_err(io);
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    fn check(&self) -> Result<(), LaunchError> {
        for (event, line) in &self.seen {
            match event {
                LogEvent::ScriptError => {
                    return Err(LaunchError::ScriptError { line: line.clone() });
                }
                LogEvent::TapDummyMode => {
                    return Err(LaunchError::TapDummyMode { line: line.clone() });
                }
                LogEvent::TapOpened => {}
            }
        }
        Ok(())
    }

    fn tail(&self) -> String {
        self.tail
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Reads the complete lines appended since the last call.
    fn read_log(&mut self) -> Result<Vec<String>, LaunchError> {
        let io = |source| LaunchError::Log {
            path: self.log.clone(),
            source,
        };
        let mut file = File::open(&self.log).map_err(io)?;
        file.seek(SeekFrom::Start(self.offset)).map_err(io)?;
        let mut chunk = Vec::new();
        let read = file
            .take(1 << 20)
            .read_to_end(&mut chunk)
            .map_err(|source| LaunchError::Log {
                path: self.log.clone(),
                source,
            })?;
        self.offset += read as u64;
        let mut lines = Vec::new();
        for &byte in &chunk {
            if byte == b'\n' {
                lines.push(String::from_utf8_lossy(&self.partial).trim_end().to_owned());
                self.partial.clear();
            } else if self.partial.len() < MAX_LOG_LINE_LEN {
                self.partial.push(byte);
            }
        }
        for line in &lines {
            if self.tail.len() == TAIL_LINES {
                self.tail.pop_front();
            }
            self.tail.push_back(line.clone());
            if let Some(event) = classify(line).filter(|_| self.seen.len() < MAX_EVENTS) {
                tracing::debug!(?event, %line, "Renode log");
                self.seen.push((event, line.clone()));
            }
        }
        Ok(lines)
    }
}

impl Drop for Renode {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // Best effort: nothing more can be done about a process that cannot be killed.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
