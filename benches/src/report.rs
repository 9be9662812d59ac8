//! Where benchmark results live, and writing them.

use std::io;
use std::path::{Path, PathBuf};

/// The file, in `<criterion dir>/echo/`, where the echo benchmark writes per-round-trip
/// percentiles: a JSON object from `echo/<size>/<target>` to a
/// [`Summary`](crate::latency::Summary).
pub const ECHO_LATENCY_FILE: &str = "latency.json";

/// Criterion's output directory, found as criterion finds it: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `criterion/` in this workspace's `target/`.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// Writes `value` as pretty JSON to `path`, creating its directory.
///
/// # Errors
///
/// The I/O or serialization error.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    std::fs::write(path, json)
}
