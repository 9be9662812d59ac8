//! Durable binding of device ids to client certificates, for optional mTLS.
//!
//! With a device CA (`--client-ca`) but without `--require-client-cert`, a device may connect
//! without a certificate, except under an id that has connected with one: that id is *bound*,
//! and a HELLO claiming it without a certificate is refused with ERROR(device_id_mismatch)
//! (`docs/design.md`, section 5). [`DeviceBindings`] is the set of bound ids. Nothing is ever
//! removed from it, and [`DeviceBindings::open`] keeps it in a file of the state directory
//! ([`BINDINGS_FILE`]), so the rule survives restarts.
//!
//! # Bounds and cost
//!
//! An id is bound only by a handshake with a certificate the device CA issued whose CN equals
//! the id, so the set holds at most as many ids as that CA issued certificates (a few hundred
//! bytes of memory and about 200 bytes of file each). The file is rewritten (temporary file, fsync, rename, fsync of the
//! directory) when an id is bound for the first time, never for a known id; the write runs on
//! a blocking thread and the device gets HELLO_ACK only after it, so a binding is never lost
//! to a crash after HELLO_ACK. A first connection therefore costs one rewrite of the file
//! (O(bound ids)) and two fsyncs; bindings that arrive while a write is running are written
//! together by the next one. (`cargo bench -p wasmbed-benches --bench registry --
//! device_binding` measures both cases.)
//!
//! One gateway process owns a state directory: two gateways writing the same file would each
//! overwrite the other's new bindings.
//!
//! # File format
//!
//! JSON, one binding per line, sorted by device id:
//!
//! ```text
//! {"format":"wasmbed-device-bindings","version":1,
//!   "bindings": [
//!     {"device_id":"sensor-1","issuer":"CN=wasmbed CA","serial":"3a:9f:...","first_bound":"2026-12-07T18:00:00Z"},
//!     {"device_id":"sensor-2","issuer":"CN=wasmbed CA","serial":"5c:01:...","first_bound":"2026-12-07T18:00:02Z"}
//!   ]
//! }
//! ```
//!
//! `issuer` and `serial` name the certificate that made the binding (for audit and
//! revocation); `first_bound` is RFC 3339 UTC. A file that does not parse, has another
//! `format`, a `version` other than [`FORMAT_VERSION`], an invalid or repeated device id, is a
//! startup error: the gateway never starts with an empty set in place of a damaged one.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::rfc3339::rfc3339;
use wasmbed_protocol::{DeviceId, DeviceIdError};

/// The binding file's name in the state directory.
pub const BINDINGS_FILE: &str = "device-bindings.json";

/// The `format` value of the binding file.
pub const FORMAT_NAME: &str = "wasmbed-device-bindings";

/// The `version` of the binding file this gateway reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A device id bound to the client certificate it first connected with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Binding {
    /// The device id (the certificate's CN).
    pub device_id: String,
    /// The certificate's issuer, as an RFC 4514 distinguished name.
    pub issuer: String,
    /// The certificate's serial number, colon-separated hex bytes.
    pub serial: String,
    /// When the id was first bound.
    pub first_bound: SystemTime,
}

impl Binding {
    /// A binding of `device_id` to the certificate of `issuer` and `serial`, made now.
    pub fn new(device_id: String, issuer: String, serial: String) -> Binding {
        Binding {
            device_id,
            issuer,
            serial,
            first_bound: SystemTime::now(),
        }
    }
}

/// Why the binding file cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BindingError {
    /// The state directory cannot be created.
    #[error("cannot create the state directory {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The binding file exists but cannot be read.
    #[error(
        "cannot read the device binding file {}; make it readable by the gateway's user",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The binding file's content is not a valid binding set.
    #[error(
        "the device binding file {} is damaged ({reason}); restore it from a backup or repair it \
         by hand (deleting it lets devices without a certificate claim every bound id)",
        path.display()
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: Damage,
    },
    /// The binding file is written in a version this gateway does not know.
    #[error(
        "the device binding file {} has version {found}, this gateway reads version \
         {FORMAT_VERSION}; run the gateway version that wrote it",
        path.display()
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
    },
    /// The binding file cannot be written (the device that was to be bound is refused).
    #[error(
        "cannot write the device binding file {}; check the state directory's permissions and \
         free space",
        path.display()
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// What makes a binding file damaged ([`BindingError::Invalid`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Damage {
    /// The path is a symbolic link to a missing file (an unmounted volume, typically).
    #[error("it is a symbolic link to a missing file; is the state volume mounted?")]
    DanglingSymlink,
    /// The file is not JSON of the binding file's shape.
    #[error("{message} at line {line} column {column}")]
    Syntax {
        /// The JSON parser's description.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// `"format"` is missing or not the binding file's name.
    #[error("\"format\" is not {FORMAT_NAME:?}")]
    Format,
    /// `"version"` is missing.
    #[error("no \"version\"")]
    NoVersion,
    /// A binding's device id breaks the device id rule.
    #[error("binding {entry}: {error}")]
    DeviceId {
        /// 1-based position of the binding in the file.
        entry: usize,
        /// The rule it breaks.
        error: DeviceIdError,
    },
    /// A device id is bound twice.
    #[error("binding {entry}: device id {device_id:?} appears twice")]
    Duplicate {
        /// 1-based position of the second binding.
        entry: usize,
        /// The id.
        device_id: String,
    },
    /// A binding's `first_bound` is not an RFC 3339 time.
    #[error("binding {entry}: first_bound {value:?} is not an RFC 3339 time")]
    FirstBound {
        /// 1-based position of the binding.
        entry: usize,
        /// The text found.
        value: String,
    },
}

impl From<serde_json::Error> for Damage {
    fn from(e: serde_json::Error) -> Damage {
        // serde_json's Display appends " at line L column C"; keep only the description.
        let text = e.to_string();
        let message = match text.rfind(" at line ") {
            Some(at) => text[..at].to_owned(),
            None => text,
        };
        Damage::Syntax {
            message,
            line: e.line(),
            column: e.column(),
        }
    }
}

#[derive(Serialize)]
struct FileHeader {
    format: String,
    version: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    #[serde(rename = "format")]
    _format: String,
    #[serde(rename = "version")]
    _version: u32,
    bindings: Vec<Record>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    device_id: String,
    issuer: String,
    serial: String,
    first_bound: String,
}

#[derive(Debug, Default)]
struct Inner {
    /// Each binding with the generation that added it; loaded ones are generation 0.
    ids: HashMap<String, (Binding, u64)>,
    next_generation: u64,
}

/// The set of device ids bound to a client certificate; see the [module docs](self).
///
/// Cheap to query ([`is_bound`](DeviceBindings::is_bound) is one hash lookup under a short
/// lock); [`bind`](DeviceBindings::bind) writes the file only for a new id.
#[derive(Debug)]
pub struct DeviceBindings {
    inner: Mutex<Inner>,
    /// Bindings of generations up to this one are in the file.
    persisted: Arc<AtomicU64>,
    /// Serialises file writes; held by the blocking write itself, so a caller that stops
    /// waiting cannot let a second write start on the same temporary file.
    writer: Arc<tokio::sync::Mutex<()>>,
    path: Option<PathBuf>,
}

impl DeviceBindings {
    /// An empty set kept in memory only: bindings last until the process ends.
    pub fn in_memory() -> DeviceBindings {
        DeviceBindings {
            inner: Mutex::new(Inner::default()),
            persisted: Arc::new(AtomicU64::new(0)),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            path: None,
        }
    }

    /// The set kept in `state_dir`/[`BINDINGS_FILE`]: creates the directory, loads the file,
    /// or writes an empty one when there is none (so an unwritable directory shows now, not at
    /// the first device).
    ///
    /// # Errors
    ///
    /// [`BindingError::CreateDir`], [`BindingError::Read`], [`BindingError::Invalid`],
    /// [`BindingError::Version`] or [`BindingError::Write`]; a damaged file is never replaced.
    pub fn open(state_dir: &Path) -> Result<DeviceBindings, BindingError> {
        fs::create_dir_all(state_dir).map_err(|source| BindingError::CreateDir {
            path: state_dir.to_owned(),
            source,
        })?;
        let path = state_dir.join(BINDINGS_FILE);
        let bindings = match fs::read(&path) {
            Ok(bytes) => parse(&path, &bytes)?,
            // A link whose target is missing (a state volume that is not mounted) is not a
            // new state directory: starting empty would unbind every device.
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    && fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) =>
            {
                return Err(BindingError::Invalid {
                    path,
                    reason: Damage::DanglingSymlink,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                write_file(&path, &[])?;
                Vec::new()
            }
            Err(source) => return Err(BindingError::Read { path, source }),
        };
        let ids = bindings
            .into_iter()
            .map(|b| (b.device_id.clone(), (b, 0)))
            .collect();
        Ok(DeviceBindings {
            inner: Mutex::new(Inner {
                ids,
                next_generation: 0,
            }),
            persisted: Arc::new(AtomicU64::new(0)),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            path: Some(path),
        })
    }

    /// The binding file, or `None` for an in-memory set.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every update is one insert; a panic elsewhere cannot leave it half done.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `device_id` is bound (including a binding still being written).
    pub fn is_bound(&self, device_id: &str) -> bool {
        self.lock().ids.contains_key(device_id)
    }

    /// The binding of `device_id`.
    pub fn get(&self, device_id: &str) -> Option<Binding> {
        self.lock().ids.get(device_id).map(|(b, _)| b.clone())
    }

    /// Number of bound ids.
    pub fn len(&self) -> usize {
        self.lock().ids.len()
    }

    /// Whether no id is bound.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Binds `binding.device_id` unless it is bound already, and returns once the binding is
    /// in the file. Returns whether the id was new. A known id returns at once, without I/O
    /// (its first binding, issuer and serial are kept).
    ///
    /// # Errors
    ///
    /// [`BindingError::Write`]: the id stays bound in memory (so devices without a
    /// certificate are still refused it), and the next `bind` of it writes the file again.
    pub async fn bind(&self, binding: Binding) -> Result<bool, BindingError> {
        let (generation, new) = {
            let mut inner = self.lock();
            match inner.ids.get(&binding.device_id) {
                Some((_, generation)) if *generation <= self.persisted.load(Ordering::Acquire) => {
                    return Ok(false);
                }
                Some((_, generation)) => (*generation, false),
                None => {
                    inner.next_generation += 1;
                    let generation = inner.next_generation;
                    inner
                        .ids
                        .insert(binding.device_id.clone(), (binding, generation));
                    (generation, true)
                }
            }
        };
        let Some(path) = self.path.clone() else {
            self.persisted.fetch_max(generation, Ordering::AcqRel);
            return Ok(new);
        };
        let guard = self.writer.clone().lock_owned().await;
        if self.persisted.load(Ordering::Acquire) >= generation {
            return Ok(new);
        }
        let (mut snapshot, upto) = {
            let inner = self.lock();
            let snapshot: Vec<Binding> = inner.ids.values().map(|(b, _)| b.clone()).collect();
            (snapshot, inner.next_generation)
        };
        snapshot.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        let persisted = self.persisted.clone();
        let task_path = path.clone();
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            write_file(&task_path, &snapshot)?;
            persisted.fetch_max(upto, Ordering::AcqRel);
            Ok(())
        })
        .await
        .map_err(|e| BindingError::Write {
            path,
            source: io::Error::other(e),
        })??;
        Ok(new)
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Binding>, BindingError> {
    let invalid = |reason: Damage| BindingError::Invalid {
        path: path.to_owned(),
        reason,
    };
    #[derive(Deserialize)]
    struct Probe {
        format: Option<String>,
        version: Option<u32>,
    }
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| invalid(e.into()))?;
    if probe.format.as_deref() != Some(FORMAT_NAME) {
        return Err(invalid(Damage::Format));
    }
    match probe.version {
        Some(FORMAT_VERSION) => {}
        Some(found) => {
            return Err(BindingError::Version {
                path: path.to_owned(),
                found,
            });
        }
        None => return Err(invalid(Damage::NoVersion)),
    }
    let file: FileV1 = serde_json::from_slice(bytes).map_err(|e| invalid(e.into()))?;
    let mut seen = std::collections::HashSet::new();
    file.bindings
        .into_iter()
        .enumerate()
        .map(|(n, record)| {
            let entry = n + 1;
            if let Err(error) = DeviceId::new(&record.device_id) {
                return Err(invalid(Damage::DeviceId { entry, error }));
            }
            if !seen.insert(record.device_id.clone()) {
                return Err(invalid(Damage::Duplicate {
                    entry,
                    device_id: record.device_id.clone(),
                }));
            }
            let first_bound = time::OffsetDateTime::parse(
                &record.first_bound,
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|_| {
                invalid(Damage::FirstBound {
                    entry,
                    value: record.first_bound.clone(),
                })
            })?;
            Ok(Binding {
                device_id: record.device_id,
                issuer: record.issuer,
                serial: record.serial,
                first_bound: first_bound.into(),
            })
        })
        .collect()
}

fn render(bindings: &[Binding]) -> String {
    let header = serde_json::to_string(&FileHeader {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
    })
    .expect("a struct of strings and numbers serializes");
    let mut out = format!("{},\n  \"bindings\": [", header.trim_end_matches('}'));
    for (n, b) in bindings.iter().enumerate() {
        let record = Record {
            device_id: b.device_id.clone(),
            issuer: b.issuer.clone(),
            serial: b.serial.clone(),
            first_bound: rfc3339(b.first_bound),
        };
        let line = serde_json::to_string(&record).expect("a struct of strings serializes");
        out.push_str(if n == 0 { "\n    " } else { ",\n    " });
        out.push_str(&line);
    }
    out.push_str(if bindings.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    out
}

/// Replaces `path` atomically: a temporary file in the same directory, fsync, rename over
/// `path`, fsync of the directory (so the rename itself survives a power loss).
fn write_file(path: &Path, bindings: &[Binding]) -> Result<(), BindingError> {
    let error = |source| BindingError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(error)?;
    file.write_all(render(bindings).as_bytes()).map_err(error)?;
    file.sync_all().map_err(error)?;
    drop(file);
    fs::rename(&tmp, path).map_err(error)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(id: &str) -> Binding {
        Binding::new(id.into(), "CN=wasmbed CA".into(), "01:02".into())
    }

    #[tokio::test]
    async fn bindings_survive_reopening_and_known_ids_do_not_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let set = DeviceBindings::open(dir.path()).unwrap();
        assert!(set.is_empty());
        assert!(set.bind(binding("sensor-1")).await.unwrap());
        assert!(set.bind(binding("sensor-2")).await.unwrap());
        let path = dir.path().join(BINDINGS_FILE);
        let written = fs::metadata(&path).unwrap().modified().unwrap();
        assert!(!set.bind(binding("sensor-1")).await.unwrap());
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), written);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().filter(|l| l.contains("device_id")).count(), 2);

        let again = DeviceBindings::open(dir.path()).unwrap();
        assert_eq!(again.len(), 2);
        assert!(again.is_bound("sensor-1") && again.is_bound("sensor-2"));
        let kept = again.get("sensor-1").unwrap();
        assert_eq!(
            (kept.issuer.as_str(), kept.serial.as_str()),
            ("CN=wasmbed CA", "01:02")
        );
    }

    #[tokio::test]
    async fn concurrent_first_bindings_all_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let set = Arc::new(DeviceBindings::open(dir.path()).unwrap());
        let tasks: Vec<_> = (0..32)
            .map(|n| {
                let set = set.clone();
                tokio::spawn(async move { set.bind(binding(&format!("d-{n}"))).await })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().unwrap());
        }
        assert_eq!(DeviceBindings::open(dir.path()).unwrap().len(), 32);
    }

    #[tokio::test]
    async fn a_failed_write_keeps_the_id_bound_and_the_next_bind_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let set = DeviceBindings::open(dir.path()).unwrap();
        let blocker = dir.path().join(format!("{BINDINGS_FILE}.tmp"));
        fs::create_dir(&blocker).unwrap();
        let e = set.bind(binding("sensor-1")).await.unwrap_err();
        assert!(matches!(e, BindingError::Write { .. }), "{e}");
        assert!(
            set.is_bound("sensor-1"),
            "still refused to devices without a certificate"
        );
        assert!(DeviceBindings::open(dir.path()).unwrap().is_empty());
        fs::remove_dir(&blocker).unwrap();
        set.bind(binding("sensor-1")).await.unwrap();
        assert!(
            DeviceBindings::open(dir.path())
                .unwrap()
                .is_bound("sensor-1")
        );
    }

    #[test]
    fn damaged_files_are_errors_that_name_the_file() {
        let cases: [(&str, &str); 7] = [
            ("not json", "damaged"),
            (
                "{\"format\":\"other\",\"version\":1,\"bindings\":[]}",
                "\"format\"",
            ),
            (
                "{\"format\":\"wasmbed-device-bindings\",\"version\":2,\"bindings\":[]}",
                "version 2",
            ),
            (
                "{\"format\":\"wasmbed-device-bindings\",\"version\":1,\"bindings\":[{\"device_id\":\"a b\",\"issuer\":\"\",\"serial\":\"\",\"first_bound\":\"2026-01-01T00:00:00Z\"}]}",
                "binding 1: device id \"a b\" has ' ' at byte 1",
            ),
            (
                "{\"format\":\"wasmbed-device-bindings\",\"version\":1,\"bindings\":[{\"device_id\":\"-x\",\"issuer\":\"\",\"serial\":\"\",\"first_bound\":\"2026-01-01T00:00:00Z\"}]}",
                "binding 1: device id \"-x\" starts with '-'",
            ),
            (
                "{\"format\":\"wasmbed-device-bindings\",\"version\":1,\"bindings\":[{\"device_id\":\"a\",\"issuer\":\"\",\"serial\":\"\",\"first_bound\":\"2026-01-01T00:00:00Z\"},{\"device_id\":\"a\",\"issuer\":\"\",\"serial\":\"\",\"first_bound\":\"2026-01-01T00:00:00Z\"}]}",
                "appears twice",
            ),
            (
                "{\"format\":\"wasmbed-device-bindings\",\"version\":1,\"bindings\":[{\"device_id\":\"a\",\"issuer\":\"\",\"serial\":\"\",\"first_bound\":\"yesterday\"}]}",
                "first_bound",
            ),
        ];
        for (content, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(BINDINGS_FILE);
            fs::write(&path, content).unwrap();
            let e = DeviceBindings::open(dir.path()).unwrap_err().to_string();
            assert!(e.contains(expected), "{content}: {e}");
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert_eq!(
                fs::read_to_string(&path).unwrap(),
                content,
                "never replaced"
            );
        }
    }

    #[test]
    fn a_link_to_a_missing_file_is_an_error_not_an_empty_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(BINDINGS_FILE);
        std::os::unix::fs::symlink(dir.path().join("unmounted/bindings.json"), &path).unwrap();
        let e = DeviceBindings::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("symbolic link to a missing file"), "{e}");
        assert!(
            fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link was replaced"
        );
    }

    #[test]
    fn an_empty_set_is_written_at_open_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        DeviceBindings::open(dir.path()).unwrap();
        let text = fs::read_to_string(dir.path().join(BINDINGS_FILE)).unwrap();
        assert!(text.contains("\"version\":1"), "{text}");
        assert!(DeviceBindings::open(dir.path()).unwrap().is_empty());
    }
}
