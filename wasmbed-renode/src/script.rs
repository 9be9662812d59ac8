//! The typed script model: [`ScriptBuilder`] → [`Script`], rendered by
//! [`render`](crate::render()).
//!
//! Every value that ends up in the script is checked when it is set, so a [`Script`] always
//! renders to commands Renode reads as intended: names and paths cannot end a token, start a
//! comment or inject a command.

use std::path::Path;

use crate::board::Board;
use crate::error::ScriptError;
use crate::mailbox::Mailbox;

/// Longest machine name in bytes.
pub const MAX_MACHINE_NAME_LEN: usize = 64;

/// Longest path written into a script, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 4096;

/// Longest Linux network interface name (`IFNAMSIZ` - 1), for TAP names.
pub const MAX_TAP_NAME_LEN: usize = 15;

/// The default CPU speed setting: none (Renode's platform default).
pub const DEFAULT_PERFORMANCE_MIPS: Option<u32> = None;

/// How the console UART is exposed. More ways may be added; build a socket with
/// [`Uart::socket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Uart {
    /// `showAnalyzer`: headless, the UART's lines go to Renode's log (and log file).
    Analyzer,
    /// `emulation CreateServerSocketTerminal <port> "term" <telnet>`: a TCP server on the
    /// host. With `telnet == false` no telnet negotiation bytes are sent first (for programs
    /// that read raw bytes).
    #[non_exhaustive]
    Socket {
        /// The TCP port, not 0.
        port: u16,
        /// Whether Renode first sends telnet IAC negotiation.
        telnet: bool,
    },
}

impl Uart {
    /// A raw TCP server socket on `port` (no telnet negotiation); [`with_telnet`](Uart::with_telnet)
    /// turns negotiation on. Port 0 is refused by [`ScriptBuilder::uart`].
    pub const fn socket(port: u16) -> Uart {
        Uart::Socket {
            port,
            telnet: false,
        }
    }

    /// For [`Uart::Socket`], whether Renode first sends telnet IAC negotiation (for a telnet
    /// client); [`Uart::Analyzer`] is returned unchanged.
    pub const fn with_telnet(self, telnet: bool) -> Uart {
        match self {
            Uart::Socket { port, .. } => Uart::Socket { port, telnet },
            other => other,
        }
    }
}

/// Switch and TAP networking: `emulation CreateSwitch`, `emulation CreateTap` and the two
/// `connector Connect` lines (Renode documentation, "Networking": a TAP joins the emulation
/// through a switch).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Network {
    tap: String,
    keep_tap: bool,
}

impl Network {
    /// A switch joining the board's NIC and the host TAP interface `tap`.
    ///
    /// The TAP must exist or be creatable by Renode (`/dev/net/tun` and `CAP_NET_ADMIN`, or
    /// pre-created for the user); otherwise Renode runs it in "dummy mode", which the
    /// [`launcher`](crate::launcher) reports.
    ///
    /// # Errors
    ///
    /// [`ScriptError::BadValue`] unless `tap` is 1 to [`MAX_TAP_NAME_LEN`] characters of
    /// `[A-Za-z0-9_.-]`.
    pub fn tap(tap: &str) -> Result<Network, ScriptError> {
        check_name("TAP name", tap, MAX_TAP_NAME_LEN, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
        })?;
        Ok(Network {
            tap: tap.to_owned(),
            keep_tap: false,
        })
    }

    /// Keep the TAP interface after Renode exits (`CreateTap ... true`).
    pub fn keep_tap(mut self, keep: bool) -> Network {
        self.keep_tap = keep;
        self
    }

    /// The TAP interface's name.
    pub fn tap_name(&self) -> &str {
        &self.tap
    }

    /// Whether the TAP outlives Renode.
    pub fn keeps_tap(&self) -> bool {
        self.keep_tap
    }
}

/// A complete, checked Renode script for one device; see [`render`](crate::render()).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub(crate) machine: String,
    pub(crate) description: String,
    pub(crate) platform: String,
    pub(crate) cpu: String,
    pub(crate) performance_mips: Option<u32>,
    pub(crate) log_file: Option<String>,
    pub(crate) uart_name: String,
    pub(crate) uart: Uart,
    pub(crate) nic: String,
    pub(crate) network: Option<Network>,
    pub(crate) elf: String,
    pub(crate) mailbox: Mailbox,
}

impl Script {
    /// The machine's name (`mach create`).
    pub fn machine(&self) -> &str {
        &self.machine
    }

    /// The mailbox the `reset` macro writes.
    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }
}

/// Builds a [`Script`]; the firmware ELF and the mailbox are required (`with_*`).
///
/// # Defaults
///
/// * board: [`Board::SAM_E70_XPLAINED`] (platform, CPU, UART and NIC names);
/// * machine name: `wasmbed-device`;
/// * CPU performance: the platform's own;
/// * log file: none (Renode's log goes to its console);
/// * UART: [`Uart::Analyzer`];
/// * network: none.
///
/// # Examples
///
/// ```
/// use wasmbed_renode::{Board, Mailbox, ScriptBuilder, Uart};
///
/// let board = Board::FRDM_K64F;
/// let script = ScriptBuilder::new(board)
///     .machine("sensor-1")?
///     .uart(Uart::socket(3456))?
///     .with_elf("/opt/fw/zephyr.elf")?
///     .with_mailbox(Mailbox::place(board.mailbox, &"10.42.0.12:8081".parse()?)?)
///     .build()?;
/// assert!(wasmbed_renode::render(&script).contains("connector Connect sysbus.uart0 term"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScriptBuilder {
    board: Board,
    machine: String,
    platform: Option<String>,
    performance_mips: Option<u32>,
    log_file: Option<String>,
    uart: Uart,
    network: Option<Network>,
    elf: Option<String>,
    mailbox: Option<Mailbox>,
}

impl ScriptBuilder {
    /// The board the script is for.
    pub fn board(&self) -> Board {
        self.board
    }

    /// A builder for `board`, with the defaults above.
    pub fn new(board: Board) -> ScriptBuilder {
        ScriptBuilder {
            board,
            machine: "wasmbed-device".to_owned(),
            platform: None,
            performance_mips: DEFAULT_PERFORMANCE_MIPS,
            log_file: None,
            uart: Uart::Analyzer,
            network: None,
            elf: None,
            mailbox: None,
        }
    }

    /// The machine's name (`mach create "<name>"`), usually the device id.
    ///
    /// # Errors
    ///
    /// [`ScriptError::BadValue`] unless 1 to [`MAX_MACHINE_NAME_LEN`] characters of printable
    /// ASCII other than `"`, `'`, `\` and `` ` ``.
    pub fn machine(mut self, name: &str) -> Result<ScriptBuilder, ScriptError> {
        check_name("machine name", name, MAX_MACHINE_NAME_LEN, |c| {
            c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '\\' | '`') || c == ' '
        })?;
        self.machine = name.to_owned();
        Ok(self)
    }

    /// A platform description file instead of the board's built-in one
    /// (`LoadPlatformDescription @<path>`; relative paths are looked up in Renode's install
    /// directory, then its working directory).
    ///
    /// # Errors
    ///
    /// As [`with_elf`](ScriptBuilder::with_elf).
    pub fn platform(mut self, path: impl AsRef<Path>) -> Result<ScriptBuilder, ScriptError> {
        self.platform = Some(renode_path("platform path", path.as_ref())?);
        Ok(self)
    }

    /// `cpu PerformanceInMips <mips>`: the emulated CPU's speed in millions of instructions
    /// per (virtual) second.
    pub fn performance_mips(mut self, mips: u32) -> ScriptBuilder {
        self.performance_mips = Some(mips);
        self
    }

    /// `logFile @<path> true`: Renode also writes its log there, flushing every line.
    ///
    /// # Errors
    ///
    /// As [`with_elf`](ScriptBuilder::with_elf).
    pub fn log_file(mut self, path: impl AsRef<Path>) -> Result<ScriptBuilder, ScriptError> {
        self.log_file = Some(renode_path("log file path", path.as_ref())?);
        Ok(self)
    }

    /// How the console UART is exposed.
    ///
    /// # Errors
    ///
    /// [`ScriptError::PortZero`] for a socket on port 0.
    pub fn uart(mut self, uart: Uart) -> Result<ScriptBuilder, ScriptError> {
        if let Uart::Socket { port: 0, .. } = uart {
            return Err(ScriptError::PortZero);
        }
        self.uart = uart;
        Ok(self)
    }

    /// Switch and TAP networking for the board's NIC, or none.
    pub fn network(mut self, network: Option<Network>) -> ScriptBuilder {
        self.network = network;
        self
    }

    /// The firmware ELF that `sysbus LoadELF` loads (required). Give an absolute path: Renode
    /// resolves relative ones against its install directory first.
    ///
    /// # Errors
    ///
    /// [`ScriptError::BadValue`] for a path that is empty, longer than [`MAX_PATH_LEN`], not
    /// UTF-8, or holding `;`, `\`, or a control character; spaces are escaped.
    pub fn with_elf(mut self, path: impl AsRef<Path>) -> Result<ScriptBuilder, ScriptError> {
        self.elf = Some(renode_path("ELF path", path.as_ref())?);
        Ok(self)
    }

    /// The endpoint placed in the firmware's mailbox region (required).
    pub fn with_mailbox(mut self, mailbox: Mailbox) -> ScriptBuilder {
        self.mailbox = Some(mailbox);
        self
    }

    /// The script.
    ///
    /// # Errors
    ///
    /// [`ScriptError::MissingElf`] and [`ScriptError::MissingMailbox`].
    pub fn build(self) -> Result<Script, ScriptError> {
        let elf = self.elf.ok_or(ScriptError::MissingElf)?;
        let mailbox = self.mailbox.ok_or(ScriptError::MissingMailbox)?;
        let description = format!(
            "{} dialling its gateway at {}; the endpoint is rewritten on every reset \
             (generated by wasmbed-renode)",
            self.board.zephyr,
            mailbox.endpoint()
        );
        Ok(Script {
            machine: self.machine,
            description,
            platform: self
                .platform
                .unwrap_or_else(|| self.board.platform.to_owned()),
            cpu: self.board.cpu.to_owned(),
            performance_mips: self.performance_mips,
            log_file: self.log_file,
            uart_name: self.board.uart.to_owned(),
            uart: self.uart,
            nic: self.board.nic.to_owned(),
            network: self.network,
            elf,
            mailbox,
        })
    }
}

fn shown(value: &str) -> String {
    value.chars().take(80).collect()
}

fn check_name(
    what: &'static str,
    value: &str,
    max_len: usize,
    allowed: impl Fn(char) -> bool,
) -> Result<(), ScriptError> {
    let bad = |reason| ScriptError::BadValue {
        what,
        value: shown(value),
        reason,
    };
    if value.is_empty() {
        return Err(bad("it is empty"));
    }
    if value.len() > max_len {
        return Err(bad("it is too long"));
    }
    if !value.chars().all(allowed) {
        return Err(bad("it holds a character Renode would read as syntax"));
    }
    Ok(())
}

/// A path as a Renode path token's text (without the `@`): spaces escaped as `\ `.
fn renode_path(what: &'static str, path: &Path) -> Result<String, ScriptError> {
    let text = path.to_str().ok_or_else(|| ScriptError::BadValue {
        what,
        value: shown(&path.to_string_lossy()),
        reason: "it is not UTF-8",
    })?;
    let bad = |reason| ScriptError::BadValue {
        what,
        value: shown(text),
        reason,
    };
    if text.is_empty() {
        return Err(bad("it is empty"));
    }
    if text.len() > MAX_PATH_LEN {
        return Err(bad("it is longer than 4096 bytes"));
    }
    if text
        .chars()
        .any(|c| c.is_control() || c == ';' || c == '\\')
    {
        return Err(bad(
            "it holds ';', '\\' or a control character, which end or escape a Renode path",
        ));
    }
    if text.chars().any(|c| c.is_whitespace() && c != ' ') {
        return Err(bad("it holds white space other than ' '"));
    }
    Ok(text.replace(' ', "\\ "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_refused() {
        let b = || ScriptBuilder::new(Board::default());
        for name in ["", "a\"; quit", "a\nstart", "x\\", &"m".repeat(65)] {
            assert!(b().machine(name).is_err(), "{name:?}");
        }
        for path in [
            "/a;quit",
            "/a\nstart",
            "/a\\ b",
            "",
            "/a\tb",
            &"/x".repeat(3000),
        ] {
            assert!(b().with_elf(path).is_err(), "{path:?}");
            assert!(b().log_file(path).is_err(), "{path:?}");
            assert!(b().platform(path).is_err(), "{path:?}");
        }
        for tap in ["", "tap 0", "tap0;x", "a-very-long-tap-name"] {
            assert!(Network::tap(tap).is_err(), "{tap:?}");
        }
        assert_eq!(
            b().uart(Uart::socket(0)).unwrap_err(),
            ScriptError::PortZero
        );
        assert_eq!(b().build().unwrap_err(), ScriptError::MissingElf);
        assert_eq!(
            b().with_elf("/fw.elf").unwrap().build().unwrap_err(),
            ScriptError::MissingMailbox
        );
    }

    #[test]
    fn uart_socket_is_raw_unless_telnet_is_asked_for() {
        assert_eq!(
            Uart::socket(3456),
            Uart::Socket {
                port: 3456,
                telnet: false
            }
        );
        assert_eq!(
            Uart::socket(3456).with_telnet(true),
            Uart::Socket {
                port: 3456,
                telnet: true
            }
        );
        assert_eq!(Uart::Analyzer.with_telnet(true), Uart::Analyzer);
    }

    #[test]
    fn spaces_in_paths_are_escaped() {
        assert_eq!(
            renode_path("ELF path", Path::new("/my fw/zephyr.elf")).unwrap(),
            "/my\\ fw/zephyr.elf"
        );
    }
}
