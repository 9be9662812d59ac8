//! Per-device artefacts: `renode_prewrite_<ID>.resc` and `gateway_endpoint_memory_<ID>.txt`,
//! the files the seed's troubleshooting guide inspects, written atomically.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{ArtefactError, DeviceIdError};
use crate::mailbox::Mailbox;

/// Longest device id in bytes; the gateway's wire protocol has the same limit
/// (`wasmbed_protocol::MAX_DEVICE_ID_LEN`).
pub const MAX_DEVICE_ID_LEN: usize = 64;

/// The default artefact directory, relative to the working directory: beside the gateway's
/// dev PKI in `wasmbed-state/`, not in a world-writable `/tmp`.
pub const DEFAULT_ARTEFACT_DIR: &str = "wasmbed-state/renode";

/// A device id that is safe as part of a file name.
///
/// 1 to [`MAX_DEVICE_ID_LEN`] bytes of `[A-Za-z0-9._-]` (the gateway's device id alphabet),
/// not containing `..` and not starting with `.` or `-`. So no path separator, no parent
/// directory, no hidden file and nothing a shell takes for an option.
///
/// # Examples
///
/// ```
/// use wasmbed_renode::DeviceId;
///
/// assert_eq!(DeviceId::new("sensor-1")?.as_str(), "sensor-1");
/// assert!(DeviceId::new("../etc/passwd").is_err());
/// assert!(DeviceId::new("a/b").is_err());
/// # Ok::<(), wasmbed_renode::DeviceIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// Checks `id`.
    ///
    /// # Errors
    ///
    /// [`DeviceIdError`] saying which rule `id` breaks and where.
    pub fn new(id: &str) -> Result<DeviceId, DeviceIdError> {
        if id.is_empty() {
            return Err(DeviceIdError::Empty);
        }
        if id.len() > MAX_DEVICE_ID_LEN {
            return Err(DeviceIdError::TooLong { len: id.len() });
        }
        if let Some((offset, found)) = id
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(DeviceIdError::BadCharacter {
                id: id.chars().take(80).collect(),
                found,
                offset,
            });
        }
        if id.contains("..") || id.starts_with(['.', '-']) {
            return Err(DeviceIdError::Misleading { id: id.to_owned() });
        }
        Ok(DeviceId(id.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for DeviceId {
    type Err = DeviceIdError;

    fn from_str(id: &str) -> Result<DeviceId, DeviceIdError> {
        DeviceId::new(id)
    }
}

/// Where the artefacts of one device were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artefacts {
    /// `<dir>/renode_prewrite_<ID>.resc`.
    pub script: PathBuf,
    /// `<dir>/gateway_endpoint_memory_<ID>.txt`.
    pub memory: PathBuf,
}

impl Artefacts {
    /// The two paths for `id` in `dir`.
    pub fn paths(dir: &Path, id: &DeviceId) -> Artefacts {
        Artefacts {
            script: dir.join(format!("renode_prewrite_{id}.resc")),
            memory: dir.join(format!("gateway_endpoint_memory_{id}.txt")),
        }
    }

    /// Writes `script` and the mailbox's memory dump ([`memory_dump`]) for `id` into `dir`,
    /// creating `dir` if needed. Each file is written to a temporary name in `dir`, synced and
    /// renamed, so a reader sees the old file or the new one, never a part.
    ///
    /// # Errors
    ///
    /// [`ArtefactError::Io`] naming the path that failed.
    pub fn write(
        dir: &Path,
        id: &DeviceId,
        script: &str,
        mailbox: &Mailbox,
    ) -> Result<Artefacts, ArtefactError> {
        fs::create_dir_all(dir).map_err(|source| ArtefactError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let paths = Artefacts::paths(dir, id);
        write_atomic(&paths.script, script.as_bytes())?;
        write_atomic(&paths.memory, memory_dump(id, mailbox).as_bytes())?;
        Ok(paths)
    }
}

/// The text of `gateway_endpoint_memory_<ID>.txt`: comment lines naming the device, endpoint
/// and region, then the mailbox's `sysbus` lines. It is itself a valid Renode script that
/// [`read_writes`](crate::reader::read_writes) reads.
pub fn memory_dump(id: &DeviceId, mailbox: &Mailbox) -> String {
    let region = mailbox.region();
    let mut text = format!(
        "# gateway endpoint memory for device {id}\n\
         # endpoint {} ({} bytes of text, {} bytes of image) at {:#010x}\n\
         # mailbox region {:#010x}..{:#010x} ({} bytes), layout: docs/endpoint.md\n",
        mailbox.endpoint(),
        mailbox.image().text().len(),
        mailbox.image().as_bytes().len(),
        region.base(),
        region.base(),
        region.end(),
        region.size(),
    );
    for op in mailbox.ops() {
        text.push_str(&op.to_string());
        text.push('\n');
    }
    text
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ArtefactError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ArtefactError::Io { path, source }
    };
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(io(&temp))?;
        file.write_all(bytes).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        fs::rename(&temp, path).map_err(io(path))
    })();
    if result.is_err() {
        // Best effort: the temporary file is ours and useless after a failure.
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_device_ids_are_refused() {
        let cases = [
            ("", "empty"),
            ("a/b", "'/'"),
            ("..", "\"..\""),
            ("a..b", "\"..\""),
            (".hidden", "starts with '.'"),
            ("-rf", "starts with '.' or '-'"),
            ("a\\b", "'\\\\'"),
            ("a b", "' '"),
            ("a\0b", "'\\0'"),
            ("sensör", "'ö'"),
            ("a\nb", "'\\n'"),
        ];
        for (id, reason) in cases {
            let err = DeviceId::new(id).unwrap_err();
            assert!(err.to_string().contains(reason), "{id:?}: {err}");
        }
        let long = "x".repeat(MAX_DEVICE_ID_LEN + 1);
        assert_eq!(
            DeviceId::new(&long),
            Err(DeviceIdError::TooLong { len: 65 })
        );
        assert!(DeviceId::new(&long[1..]).is_ok());
        for ok in ["sensor-1", "A.b_c-9", "x"] {
            assert_eq!(DeviceId::new(ok).unwrap().as_str(), ok);
        }
    }
}
