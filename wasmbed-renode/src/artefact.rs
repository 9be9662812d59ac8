//! Per-device artefacts: `renode_prewrite_<ID>.resc` and `gateway_endpoint_memory_<ID>.txt`,
//! the files the seed's troubleshooting guide inspects, written atomically.
//!
//! `<ID>` is a [`DeviceId`], whose rule (no `/`, no `..`, no leading `.` or `-`) keeps both
//! names inside the artefact directory and visible.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmbed_protocol::DeviceId;

use crate::error::ArtefactError;
use crate::mailbox::Mailbox;

/// The default artefact directory, relative to the working directory: beside the gateway's
/// dev PKI in `wasmbed-state/`, not in a world-writable `/tmp`.
pub const DEFAULT_ARTEFACT_DIR: &str = "wasmbed-state/renode";

/// Where the artefacts of one device were written ([`Artefacts::paths`] names them); more
/// artefacts may be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
