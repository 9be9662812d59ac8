//! Error types, one per operation family. The reader's errors live in
//! [`reader`](crate::reader).

use std::path::PathBuf;

use wasmbed_endpoint::{EncodeError, ParseError, ResolveError};

use crate::mailbox::MailboxRegion;
use crate::provision::Locator;

/// Why an endpoint cannot be placed in a mailbox region, or a region is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MailboxError {
    /// The region's base is not a multiple of 4.
    #[error(
        "mailbox base {base:#x} is not 4-byte aligned: the firmware reads the length as a 32-bit word"
    )]
    Misaligned {
        /// The base given.
        base: u32,
    },
    /// The region is smaller than [`MIN_REGION_SIZE`](crate::mailbox::MIN_REGION_SIZE).
    #[error(
        "mailbox region at {base:#x} of {size} bytes is too small: it needs at least 8 bytes (length word and text)"
    )]
    RegionTooSmall {
        /// The base given.
        base: u32,
        /// The size given.
        size: u32,
    },
    /// The region passes the end of the 32-bit bus.
    #[error("mailbox region {base:#x} + {size:#x} bytes runs past the end of the 32-bit bus")]
    RegionOverflow {
        /// The base given.
        base: u32,
        /// The size given.
        size: u32,
    },
    /// The endpoint has no mailbox image.
    #[error("endpoint cannot be written to the mailbox")]
    Encode(#[source] EncodeError),
    /// The image is larger than the region.
    #[error(
        "endpoint {endpoint} needs {needed} mailbox bytes but the region {:#x}..{:#x} holds {}: use a \
         shorter endpoint or reserve a larger region in the firmware's overlay",
        region.base(), region.end(), region.size()
    )]
    DoesNotFit {
        /// The endpoint text.
        endpoint: String,
        /// Bytes the image needs.
        needed: usize,
        /// The region.
        region: MailboxRegion,
    },
    /// An address asked for lies outside the firmware's region.
    #[error(
        "mailbox address {address:#x} is outside the firmware's mailbox region {:#x}..{:#x}: \
         the firmware would never read it; drop the address or use {:#x}",
        region.base(), region.end(), region.base()
    )]
    OutsideRegion {
        /// The address asked for.
        address: u32,
        /// The firmware's region.
        region: MailboxRegion,
    },
    /// An address asked for lies inside the region but not at its start.
    #[error(
        "mailbox address {address:#x} is inside the firmware's region {:#x}..{:#x} but the \
         firmware reads from its start; use {:#x}",
        region.base(), region.end(), region.base()
    )]
    NotRegionStart {
        /// The address asked for.
        address: u32,
        /// The firmware's region.
        region: MailboxRegion,
    },
}

/// Why the mailbox region could not be read from a firmware ELF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ElfError {
    /// The file could not be read.
    #[error("cannot read firmware ELF {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_ELF_LEN`](crate::elf::MAX_ELF_LEN).
    #[error("firmware ELF {} is larger than 64 MiB; is it the firmware (build/zephyr/zephyr.elf)?", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The bytes are not an ELF file `object` can read.
    #[error("not a firmware ELF")]
    NotElf {
        /// What the parser found instead.
        #[source]
        source: NotElfCause,
    },
    /// The ELF is big-endian; the mailbox layout is little-endian.
    #[error(
        "firmware ELF is big-endian, but the mailbox words are little-endian (docs/endpoint.md); \
         wasmbed targets little-endian Cortex-M"
    )]
    BigEndian,
    /// A region symbol is missing.
    #[error(
        "firmware ELF has no symbol {symbol}: build it with the mailbox overlay \
         (zephyr-app/boards/<board>.overlay, zephyr,memory-region = \"GWMAILBOX\")"
    )]
    MissingSymbol {
        /// The symbol looked for.
        symbol: String,
    },
    /// `__<name>_size` and `__<name>_end - __<name>_start` differ.
    #[error(
        "firmware ELF's __{name}_size ({size:#x}) differs from __{name}_end - __{name}_start ({span:#x})"
    )]
    InconsistentSymbols {
        /// The region name.
        name: String,
        /// `__<name>_size`.
        size: u64,
        /// `__<name>_end - __<name>_start`.
        span: u64,
    },
    /// The section holds nothing, so its symbols do not give the region's size.
    #[error(
        "firmware ELF's {name} section at {start:#x} is empty, so its symbols do not give the \
         region's size: place the mailbox buffer in it (Z_GENERIC_SECTION({name}), sized \
         DT_REG_SIZE of the gw_mailbox node), or give the region explicitly instead of reading the ELF"
    )]
    EmptySection {
        /// The region name.
        name: String,
        /// `__<name>_start`.
        start: u64,
    },
    /// The region does not lie within the 32-bit bus.
    #[error("firmware ELF's mailbox region {start:#x} + {size:#x} bytes is beyond the 32-bit bus")]
    Beyond32Bits {
        /// `__<name>_start`.
        start: u64,
        /// The size.
        size: u64,
    },
    /// The symbols describe an invalid region.
    #[error("firmware ELF's mailbox region is unusable")]
    Region(#[source] MailboxError),
    /// Another allocated section overlaps the region.
    #[error(
        "firmware ELF's section {section} ({start:#x}..{end:#x}) overlaps the mailbox region \
         {:#x}..{:#x}: the firmware would clear or reuse the endpoint at boot; shrink sram0 in \
         the overlay so the region is disjoint from it",
        region.base(), region.end()
    )]
    Overlap {
        /// The overlapping section's name.
        section: String,
        /// Its first address.
        start: u64,
        /// One past its last address.
        end: u64,
        /// The mailbox region.
        region: MailboxRegion,
    },
}

/// Why bytes are not an ELF file: another object format, or an ELF header the parser
/// refused. Its own type so the ELF parser (`object`) stays out of this crate's API.
#[derive(Debug)]
pub struct NotElfCause(pub(crate) NotElfKind);

#[derive(Debug)]
pub(crate) enum NotElfKind {
    /// Another format `object` recognises (COFF, Mach-O, Wasm, ...).
    Format(object::FileKind),
    /// The parser's error.
    Parse(object::Error),
}

impl std::fmt::Display for NotElfCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            NotElfKind::Format(kind) => write!(f, "the file is {kind:?}, not ELF"),
            NotElfKind::Parse(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for NotElfCause {}

/// How the configured gateway host is unreachable from an emulated device
/// ([`ProvisionError::NoRoutableHost`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnroutableScope {
    /// `127.0.0.0/8`, `::1` or `localhost`: the device's own loopback.
    Loopback,
    /// IPv6 link-local (`fe80::/10`): no scope id reaches the gateway from the device.
    LinkLocal,
    /// `0.0.0.0` or `::`: a listen address, not one to dial.
    Unspecified,
}

impl std::fmt::Display for UnroutableScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UnroutableScope::Loopback => "loopback",
            UnroutableScope::LinkLocal => "link-local",
            UnroutableScope::Unspecified => "unspecified",
        })
    }
}

/// `a, b, c`, or `nothing` for no locators.
fn tried_list(tried: &[Locator]) -> String {
    if tried.is_empty() {
        return "nothing".to_owned();
    }
    tried
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a [`ScriptBuilder`](crate::ScriptBuilder) refused a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// No firmware ELF was given.
    #[error("no firmware ELF: call with_elf() (the script's sysbus LoadELF needs it)")]
    MissingElf,
    /// No mailbox was given.
    #[error("no mailbox: call with_mailbox() with the endpoint placed in its region")]
    MissingMailbox,
    /// A value would not survive as one Renode token (it holds a character that ends or
    /// escapes one, or is empty or too long).
    #[error("{what} {value:?} cannot be written into a Renode script: {reason}")]
    BadValue {
        /// Which value (`machine name`, `ELF path`, ...).
        what: &'static str,
        /// The value, cut to 80 characters.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A TCP port of 0.
    #[error("UART socket port 0: give a fixed port so a client can connect")]
    PortZero,
}

/// Why per-device artefacts could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtefactError {
    /// Creating the directory or writing, syncing or renaming a file failed.
    #[error("cannot write {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// Why a device could not be provisioned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The gateway's configured address is not usable.
    #[error(transparent)]
    Resolve(ResolveError),
    /// The address is loopback or unspecified and no locator found a routable host.
    #[error(
        "gateway address {configured:?} is {scope} and no locator gave a routable host \
         (tried: {}): give an explicit device-facing address, run where the pod IP is in \
         the environment (Downward API status.podIP), or give a DNS name such as a headless Service",
        tried_list(tried)
    )]
    NoRoutableHost {
        /// The configured address, cut to 80 characters.
        configured: String,
        /// Why the configured host cannot be dialled by a device.
        scope: UnroutableScope,
        /// The locators tried, in order (none yielded a host a device can dial).
        tried: Vec<Locator>,
    },
    /// The environment variable of a [`Locator::PodIpEnv`] holds no valid host.
    #[error("pod IP from ${variable} gave {value:?}, which is not a valid host")]
    BadLocatedHost {
        /// The environment variable's name.
        variable: String,
        /// The value it gave, cut to 80 characters.
        value: String,
        /// Why the value is not a host (boxed: it carries a snippet of the value, and this
        /// error is otherwise small).
        #[source]
        source: Box<ParseError>,
    },
    /// The located host makes the endpoint too long.
    #[error(transparent)]
    TooLong(ResolveError),
    /// The endpoint does not fit the mailbox.
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    /// The script could not be built.
    #[error(transparent)]
    Script(#[from] ScriptError),
    /// The artefacts could not be written.
    #[error(transparent)]
    Artefact(#[from] ArtefactError),
}

/// Why Renode could not be started, or what went wrong while it ran.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The `renode` binary was not found.
    #[error(
        "Renode binary {program:?} not found: install Renode (https://renode.io, or the \
         antmicro/renode container image) and put `renode` on PATH, or give its path"
    )]
    NotFound {
        /// The program that was run.
        program: PathBuf,
    },
    /// Starting the process failed otherwise.
    #[error("cannot start Renode {program:?}")]
    Spawn {
        /// The program that was run.
        program: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Reading the log or talking to the process failed.
    #[error("cannot read the Renode log {} or wait for the process", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Renode reported an error running the script.
    #[error("Renode could not run the script: {line}")]
    ScriptError {
        /// The log line that reported it.
        line: String,
    },
    /// A TAP interface could not be opened and Renode ran it in "dummy mode" (no networking).
    #[error(
        "Renode's TAP fell back to dummy mode, so the device has no network: {line}; give the \
         container /dev/net/tun and CAP_NET_ADMIN, or pre-create the TAP for this user \
         (ip tuntap add dev tap0 mode tap user $(id -u))"
    )]
    TapDummyMode {
        /// The log line that reported it.
        line: String,
    },
    /// Renode exited before what was waited for appeared.
    #[error(
        "Renode exited ({status}) before {waiting_for:?} appeared in its log; last lines:\n{tail}"
    )]
    Exited {
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What was awaited.
        waiting_for: String,
        /// The last lines of its log.
        tail: String,
    },
    /// What was waited for did not appear in time.
    #[error(
        "{waiting_for:?} did not appear in Renode's log within {seconds} s; last lines:\n{tail}"
    )]
    Timeout {
        /// What was awaited.
        waiting_for: String,
        /// The time waited, in seconds.
        seconds: u64,
        /// The last lines of its log.
        tail: String,
    },
}
