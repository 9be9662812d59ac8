//! `wasmbed-device`: the unmodified firmware (`zephyr-app/src/`) running on Linux.
//!
//! The firmware is built three times by `build.rs`, as the development image (no certificate
//! verification), the production image (`overlay-production.conf`: the gateway CA is
//! registered with `tls_credential_add` and the certificate is verified) and the mTLS image
//! (`overlay-mtls.conf` too: the device also presents its certificate), on the host port in
//! `zephyr-app/host/port/` (Zephyr's socket, TLS credential, logging and kernel calls over
//! POSIX sockets and mbedTLS 2.28). [`run`] does what Renode does before the firmware starts:
//! it maps the mailbox region at its device address (from `boards/<board>.overlay`), fills it
//! from a Renode script's `sysbus WriteDoubleWord`/`ZeroRange` lines or a raw image, then calls
//! the image's `main()`. The device's log (its UART) goes to standard output.

use std::ffi::{CString, c_int};
use std::fmt;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use wasmbed_renode::reader::{self, MemoryOp, MemoryWrite};

include!(concat!(env!("OUT_DIR"), "/boards.rs"));

/// The default board: the first one Renode emulates with Ethernet (docs/design.md).
pub const DEFAULT_BOARD: &str = "sam_e70_xplained_same70q21";

/// Largest mailbox region accepted, in bytes: the overlays use 512 and 1024.
pub const MAX_MAILBOX_SIZE: u64 = 64 * 1024;

/// Lowest mailbox base accepted: the process keeps the first 64 KiB unmapped (Linux's usual
/// `vm.mmap_min_addr`), so NULL dereferences in the firmware, the port or mbedTLS still fault.
pub const MIN_MAILBOX_BASE: u64 = 0x1_0000;

/// The device's address space: 32-bit Cortex-M addresses.
pub const DEVICE_ADDRESS_SPACE: u64 = 1 << 32;

/// Largest CA header or raw image read, in bytes.
pub const MAX_INPUT_FILE_LEN: u64 = 1024 * 1024;

/// Which firmware image to run; the three differ as the device builds do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Image {
    /// `prj.conf` alone: `CONFIG_WASMBED_TLS_VERIFY_NONE`, any gateway certificate accepted.
    #[default]
    Development,
    /// `prj.conf` + `overlay-production.conf`: the CA from [`Options::ca_header`] verifies the
    /// gateway.
    Production,
    /// Also `overlay-mtls.conf`: the device presents the certificate and key from
    /// [`Options::device_cert_header`] and [`Options::device_key_header`] (mTLS).
    ProductionMtls,
}

/// What [`run`] sets up before the firmware boots: the mailbox contents and placement, the
/// image, its credentials and the run-time Kconfig overrides (`wasmbed-device`'s command line).
///
/// # Defaults
///
/// * `resc`, `mailbox_image`: `None` (the mailbox stays zeroed)
/// * `board`: [`DEFAULT_BOARD`]; `mailbox_base`, `mailbox_size`: `None` (the board's)
/// * `image`: [`Image::Development`]
/// * `ca_header`, `device_cert_header`, `device_key_header`: `None`
/// * every Kconfig override: `None` (the value from `Kconfig`, `prj.conf` and the overlays)
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Renode script whose `sysbus WriteDoubleWord`/`ZeroRange` lines fill the mailbox in
    /// order, as they would Renode's RAM (other commands are ignored; the bytes of a write
    /// that fall outside the mailbox are dropped, and writes entirely outside are reported).
    /// Takes precedence over `mailbox_image`.
    pub resc: Option<PathBuf>,
    /// Raw mailbox image: its bytes are copied to the mailbox base (at most the mailbox size).
    pub mailbox_image: Option<PathBuf>,
    /// Board whose devicetree overlay places the mailbox (`zephyr-app/boards/<board>.overlay`,
    /// one of [`BOARDS`]).
    pub board: String,
    /// Mailbox base address instead of the board's; at least [`MIN_MAILBOX_BASE`].
    pub mailbox_base: Option<u64>,
    /// Mailbox size in bytes instead of the board's; 1..=[`MAX_MAILBOX_SIZE`].
    pub mailbox_size: Option<u64>,
    /// Firmware image to run.
    pub image: Image,
    /// CA header from `wasmbed-gateway pki ca` (`<out-dir>/ca.h`): what the production build
    /// compiles in as CONFIG_WASMBED_CA_HEADER. Required by the production images.
    pub ca_header: Option<PathBuf>,
    /// Device certificate header from `wasmbed-gateway pki device` (`<out-dir>/<id>.h`): what
    /// the mTLS build compiles in as CONFIG_WASMBED_DEVICE_CERT_HEADER. Required by
    /// [`Image::ProductionMtls`].
    pub device_cert_header: Option<PathBuf>,
    /// Device private key header from `wasmbed-gateway pki device` (`<out-dir>/<id>-key.h`):
    /// CONFIG_WASMBED_DEVICE_KEY_HEADER. Required by [`Image::ProductionMtls`].
    pub device_key_header: Option<PathBuf>,
    /// CONFIG_WASMBED_DEVICE_ID.
    pub device_id: Option<String>,
    /// CONFIG_WASMBED_FIRMWARE_VERSION.
    pub firmware_version: Option<String>,
    /// CONFIG_WASMBED_HEARTBEAT_INTERVAL_SEC, in seconds (Kconfig range 1..=65535).
    pub heartbeat_interval_sec: Option<i32>,
    /// CONFIG_WASMBED_HELLO_TIMEOUT_MS, in milliseconds (Kconfig range 100..=600000).
    pub hello_timeout_ms: Option<i32>,
    /// CONFIG_WASMBED_SEND_TIMEOUT_MS, in milliseconds (Kconfig range 100..=600000).
    pub send_timeout_ms: Option<i32>,
    /// CONFIG_WASMBED_RECONNECT_BACKOFF_MIN_MS, in milliseconds (Kconfig range 100..=600000).
    pub backoff_min_ms: Option<i32>,
    /// CONFIG_WASMBED_RECONNECT_BACKOFF_MAX_MS, in milliseconds (at least the minimum, at most
    /// 3600000).
    pub backoff_max_ms: Option<i32>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            resc: None,
            mailbox_image: None,
            board: DEFAULT_BOARD.to_owned(),
            mailbox_base: None,
            mailbox_size: None,
            image: Image::Development,
            ca_header: None,
            device_cert_header: None,
            device_key_header: None,
            device_id: None,
            firmware_version: None,
            heartbeat_interval_sec: None,
            hello_timeout_ms: None,
            send_timeout_ms: None,
            backoff_min_ms: None,
            backoff_max_ms: None,
        }
    }
}

/// Why [`run`] could not start the firmware.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError {
    /// [`run`] was already called in this process: the firmware's globals, the host port's
    /// credentials and the mailbox mapping exist once per process, as on the device.
    AlreadyStarted,
    /// An option, file or the mailbox mapping is not usable; the message says which and why.
    Invalid(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::AlreadyStarted => f.write_str(
                "the firmware already started in this process: run one device per process",
            ),
            StartError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for StartError {}

fn err(message: impl Into<String>) -> StartError {
    StartError::Invalid(message.into())
}

/// Set by the first [`run`] that reaches the firmware's globals.
static STARTED: AtomicBool = AtomicBool::new(false);

/// The host port's interface (`zephyr-app/host/port/include/wasmbed_host.h`).
mod ffi {
    use std::ffi::{c_char, c_int, c_uchar};

    /// Mirror of `struct wasmbed_host_kconfig`.
    #[repr(C)]
    pub(super) struct HostKconfig {
        pub(super) device_id: *const c_char,
        pub(super) firmware_version: *const c_char,
        pub(super) heartbeat_interval_sec: c_int,
        pub(super) hello_timeout_ms: c_int,
        pub(super) send_timeout_ms: c_int,
        pub(super) backoff_min_ms: c_int,
        pub(super) backoff_max_ms: c_int,
    }

    unsafe extern "C" {
        pub(super) static mut wasmbed_host_kconfig: HostKconfig;
        pub(super) fn wasmbed_host_mailbox_map(addr: usize, size: usize, image: *const u8)
        -> c_int;
        pub(super) fn wasmbed_host_set_ca(der: *const c_uchar, len: usize);
        pub(super) fn wasmbed_host_set_device_credentials(
            cert: *const c_uchar,
            cert_len: usize,
            key: *const c_uchar,
            key_len: usize,
        );
        pub(super) fn k_uptime_get() -> i64;
        pub(super) fn wasmbed_image_development_main() -> c_int;
        pub(super) fn wasmbed_image_production_main() -> c_int;
        pub(super) fn wasmbed_image_production_mtls_main() -> c_int;
    }
}

/// Mailbox base and size: the board's, or the overrides.
fn mailbox_region(options: &Options) -> Result<(u64, u64), StartError> {
    let (_, board_base, board_size) = BOARDS
        .iter()
        .find(|(name, _, _)| *name == options.board)
        .ok_or_else(|| err(format!("unknown board {}", options.board)))?;
    let base = options.mailbox_base.unwrap_or(*board_base);
    let size = options.mailbox_size.unwrap_or(*board_size);
    if size == 0 || size > MAX_MAILBOX_SIZE {
        return Err(err(format!(
            "mailbox size {size} is out of range: give 1..={MAX_MAILBOX_SIZE} bytes"
        )));
    }
    if base < MIN_MAILBOX_BASE {
        return Err(err(format!(
            "mailbox base {base:#x} is below {MIN_MAILBOX_BASE:#x}: the lowest pages stay \
             unmapped so that a NULL dereference still crashes"
        )));
    }
    if base
        .checked_add(size)
        .is_none_or(|end| end > DEVICE_ADDRESS_SPACE)
    {
        return Err(err(format!(
            "mailbox {base:#x} + {size} bytes ends beyond the 32-bit address space of the device"
        )));
    }
    Ok((base, size))
}

fn read_bounded(path: &PathBuf, what: &str) -> Result<Vec<u8>, StartError> {
    use std::io::Read as _;
    let cannot = |e: std::io::Error| err(format!("cannot read {what} {}: {e}", path.display()));
    // Through take(): the metadata size of a pipe or a device such as /dev/zero is 0.
    let mut bytes = Vec::new();
    fs::File::open(path)
        .map_err(cannot)?
        .take(MAX_INPUT_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_INPUT_FILE_LEN {
        return Err(err(format!(
            "{what} {} is larger than the {MAX_INPUT_FILE_LEN}-byte limit",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Applies the bytes of `write` that fall inside the region at `base`, as Renode's RAM would
/// take them; returns how many bytes landed (0: the write is entirely elsewhere).
fn apply_overlap(write: &MemoryWrite, base: u64, region: &mut [u8]) -> usize {
    let (address, len) = (write.op.address(), write.op.len());
    let end = address.saturating_add(len);
    let region_end = base + region.len() as u64;
    let (from, to) = (address.max(base), end.min(region_end));
    if from >= to {
        return 0;
    }
    for at in from..to {
        let byte = match write.op {
            MemoryOp::DoubleWord { value, .. } => value.to_le_bytes()[(at - address) as usize],
            MemoryOp::Zero { .. } => 0,
        };
        region[(at - base) as usize] = byte;
    }
    (to - from) as usize
}

/// The mailbox contents before boot: zero, then the script's writes or the raw image.
pub fn mailbox_contents(options: &Options, base: u64, size: u64) -> Result<Vec<u8>, StartError> {
    let mut region = vec![0u8; usize::try_from(size).map_err(|_| err("mailbox too large"))?];
    if let Some(path) = &options.resc {
        let bytes = read_bounded(path, "Renode script")?;
        let script = String::from_utf8(bytes).map_err(|e| {
            err(format!(
                "Renode script {} is not UTF-8: {e}",
                path.display()
            ))
        })?;
        let writes: Vec<MemoryWrite> = reader::read_writes(&script)
            .map_err(|e| err(format!("Renode script {}: {e}", path.display())))?;
        if writes.is_empty() {
            eprintln!(
                "wasmbed-device: {} has no sysbus WriteDoubleWord or ZeroRange line: the mailbox stays empty",
                path.display()
            );
        }
        let skipped: Vec<&MemoryWrite> = writes
            .iter()
            .filter(|write| apply_overlap(write, base, &mut region) == 0 && !write.op.is_empty())
            .collect();
        if let Some(first) = skipped.first() {
            eprintln!(
                "wasmbed-device: {}: {} write(s) outside the mailbox {base:#x}..{:#x} skipped, \
                 the first on line {} at {:#x}: the firmware reads only the mailbox; is the \
                 script for another board (`wasmbed-gateway endpoint encode --base`)?",
                path.display(),
                skipped.len(),
                base + size,
                first.line,
                first.op.address(),
            );
        }
    } else if let Some(path) = &options.mailbox_image {
        let bytes = read_bounded(path, "mailbox image")?;
        if bytes.len() > region.len() {
            return Err(err(format!(
                "mailbox image {} is {} bytes; the mailbox at {base:#x} holds {size}",
                path.display(),
                bytes.len()
            )));
        }
        region[..bytes.len()].copy_from_slice(&bytes);
    }
    Ok(region)
}

/// The bytes of `<symbol>[]` in a C header written by `wasmbed-gateway pki` (`static const
/// unsigned char <symbol>[] = { 0x.., ... };`), checked against its `<SYMBOL>_LEN`.
///
/// # Errors
///
/// A message saying what the header lacks or gets wrong.
pub fn array_from_header(text: &str, symbol: &str) -> Result<Vec<u8>, String> {
    let len_macro = format!("#define {}_LEN ", symbol.to_ascii_uppercase());
    let declared: usize = text
        .lines()
        .find_map(|line| line.trim().strip_prefix(len_macro.as_str()))
        .ok_or_else(|| format!("it has no `{}`", len_macro.trim()))?
        .trim()
        .parse()
        .map_err(|_| format!("{} is not a number", len_macro.trim()))?;
    let body = text
        .split_once(&format!("{symbol}[] = {{"))
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(body, _)| body)
        .ok_or_else(|| format!("it has no `{symbol}[] = {{ ... }}` array"))?;
    let bytes = body
        .split(',')
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .map(|token| {
            token
                .strip_prefix("0x")
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| format!("{token:?} in {symbol}[] is not a 0x byte"))
        })
        .collect::<Result<Vec<u8>, String>>()?;
    if bytes.len() != declared {
        return Err(format!(
            "{symbol}[] has {} bytes but {} says {declared}",
            bytes.len(),
            len_macro.trim()
        ));
    }
    Ok(bytes)
}

/// Reads `<symbol>[]` from the header at `path` and leaks it (the firmware keeps it by
/// reference for the rest of the process, as `tls_credential_add` does).
fn leak_header_array(
    path: &PathBuf,
    what: &str,
    symbol: &str,
    made_by: &str,
) -> Result<&'static [u8], StartError> {
    let bytes = read_bounded(path, what)?;
    let text = String::from_utf8_lossy(&bytes);
    let der = array_from_header(&text, symbol).map_err(|e| {
        err(format!(
            "{what} {}: {e}: is it the header `{made_by}` writes?",
            path.display()
        ))
    })?;
    Ok(Box::leak(der.into_boxed_slice()))
}

fn leak_c_string(value: &str, what: &str) -> Result<*const std::ffi::c_char, StartError> {
    let c = CString::new(value).map_err(|_| err(format!("{what} contains a NUL byte")))?;
    Ok(Box::leak(c.into_boxed_c_str()).as_ptr())
}

/// Prepares the device as Renode would and runs the firmware's `main()`; returns its result.
///
/// The firmware owns process-wide state (its statics, the host port's Kconfig values and
/// credentials, the mailbox mapping, and `main()` never returns while it keeps a session), so
/// the first call that gets past the option checks is the only one: later calls, from any
/// thread, return [`StartError::AlreadyStarted`] and touch nothing.
///
/// # Errors
///
/// [`StartError::Invalid`] for a bad option, an unreadable or malformed script, image or CA
/// header, or a mailbox address already in use in this process;
/// [`StartError::AlreadyStarted`] when the firmware was already started in this process.
pub fn run(options: &Options) -> Result<c_int, StartError> {
    let (base, size) = mailbox_region(options)?;
    let region = mailbox_contents(options, base, size)?;

    let production = options.image != Image::Development;
    let mtls = options.image == Image::ProductionMtls;
    let ca = match (production, &options.ca_header) {
        (true, None) => {
            return Err(err(
                "the production images need --ca-header FILE: the CA header from `wasmbed-gateway pki ca`",
            ));
        }
        (false, Some(_)) => {
            return Err(err(
                "--ca-header is for --image production or production-mtls: the development image verifies nothing",
            ));
        }
        (true, Some(path)) => Some(leak_header_array(
            path,
            "CA header",
            "ca_certificate",
            "wasmbed-gateway pki ca",
        )?),
        (false, None) => None,
    };
    let device_credentials = match (
        mtls,
        &options.device_cert_header,
        &options.device_key_header,
    ) {
        (true, Some(cert), Some(key)) => Some((
            leak_header_array(
                cert,
                "device certificate header",
                "device_certificate",
                "wasmbed-gateway pki device",
            )?,
            leak_header_array(
                key,
                "device key header",
                "device_private_key",
                "wasmbed-gateway pki device",
            )?,
        )),
        (true, _, _) => {
            return Err(err(
                "--image production-mtls needs --device-cert-header and --device-key-header: \
                 the <id>.h and <id>-key.h that `wasmbed-gateway pki device` writes",
            ));
        }
        (false, None, None) => None,
        (false, _, _) => {
            return Err(err(
                "--device-cert-header and --device-key-header are for --image production-mtls",
            ));
        }
    };

    let backoff_min = options.backoff_min_ms;
    if let (Some(min), Some(max)) = (backoff_min, options.backoff_max_ms)
        && min > max
    {
        return Err(err(format!(
            "--backoff-min-ms {min} is above --backoff-max-ms {max}"
        )));
    }
    let device_id = options
        .device_id
        .as_deref()
        .map(|id| leak_c_string(id, "--device-id"))
        .transpose()?;
    let firmware = options
        .firmware_version
        .as_deref()
        .map(|v| leak_c_string(v, "--firmware-version"))
        .transpose()?;

    if STARTED.swap(true, Ordering::AcqRel) {
        return Err(StartError::AlreadyStarted);
    }
    // SAFETY: STARTED makes this the only thread that ever gets here, before the firmware
    // runs: nothing else reads or writes the host port's globals. The strings and the CA are leaked, so they live for the
    // rest of the process, as tls_credential_add() and the Kconfig pointers require.
    unsafe {
        let kconfig = &mut *std::ptr::addr_of_mut!(ffi::wasmbed_host_kconfig);
        if let Some(id) = device_id {
            kconfig.device_id = id;
        }
        if let Some(version) = firmware {
            kconfig.firmware_version = version;
        }
        if let Some(secs) = options.heartbeat_interval_sec {
            kconfig.heartbeat_interval_sec = secs;
        }
        if let Some(ms) = options.hello_timeout_ms {
            kconfig.hello_timeout_ms = ms;
        }
        if let Some(ms) = options.send_timeout_ms {
            kconfig.send_timeout_ms = ms;
        }
        if let Some(ms) = options.backoff_min_ms {
            kconfig.backoff_min_ms = ms;
        }
        if let Some(ms) = options.backoff_max_ms {
            kconfig.backoff_max_ms = ms;
        }
        if kconfig.backoff_min_ms > kconfig.backoff_max_ms {
            return Err(err(format!(
                "reconnect backoff minimum {} ms is above the maximum {} ms",
                kconfig.backoff_min_ms, kconfig.backoff_max_ms
            )));
        }
        if let Some(der) = ca {
            ffi::wasmbed_host_set_ca(der.as_ptr(), der.len());
        }
        if let Some((cert, key)) = device_credentials {
            ffi::wasmbed_host_set_device_credentials(
                cert.as_ptr(),
                cert.len(),
                key.as_ptr(),
                key.len(),
            );
        }
        // Boot: uptime counts from here.
        let _ = ffi::k_uptime_get();
    }

    let base_addr = usize::try_from(base).map_err(|_| err("mailbox base out of range"))?;
    // SAFETY: the region is `size` initialised bytes; the C maps fresh pages at `base` with
    // MAP_FIXED_NOREPLACE, so it never replaces memory this process uses.
    let mapped = unsafe { ffi::wasmbed_host_mailbox_map(base_addr, region.len(), region.as_ptr()) };
    if mapped != 0 {
        return Err(err(format!(
            "cannot map the mailbox at {base:#x} ({size} bytes): {}",
            std::io::Error::from_raw_os_error(-mapped)
        )));
    }

    // SAFETY: the firmware's main() runs on this thread with everything it reads set up
    // above; it returns only when it gives up (bad mailbox, credentials or configuration).
    let status = unsafe {
        match options.image {
            Image::Development => ffi::wasmbed_image_development_main(),
            Image::Production => ffi::wasmbed_image_production_main(),
            Image::ProductionMtls => ffi::wasmbed_image_production_mtls_main(),
        }
    };
    Ok(status)
}
