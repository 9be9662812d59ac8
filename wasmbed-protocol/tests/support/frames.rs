//! Reader for `tests/vectors/frames.txt`, shared by this crate's tests and `zephyr-app/host`'s
//! (which runs the same vectors against the C codec).

// Shared by test binaries in two crates; each uses a subset of it.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// One line of `frames.txt`: `<name>\t<hex>\t<expected>`.
#[derive(Debug)]
pub struct Case {
    pub line: usize,
    pub name: String,
    pub input: Vec<u8>,
    pub expected: String,
}

/// `wasmbed-protocol/tests/vectors/frames.txt`, found from any crate of the workspace.
fn path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("wasmbed-protocol/tests/vectors/frames.txt"))
        .find(|path| path.is_file())
        .expect("test runs inside the wasmbed workspace")
}

/// Every case of the file, names unique.
pub fn cases() -> Vec<Case> {
    let path = path();
    let path = path.display();
    let text = std::fs::read_to_string(path.to_string()).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: Vec<Case> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [name, hex, expected] = fields[..] else {
                panic!("{path}:{}: expected 3 tab-separated fields", i + 1);
            };
            Case {
                line: i + 1,
                name: name.to_string(),
                input: unhex(hex),
                expected: expected.to_string(),
            }
        })
        .collect();
    assert!(cases.len() > 100, "{path}: too few cases");
    let names: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "{path}: duplicate names");
    cases
}

pub fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|e| panic!("{text:?} is not hex: {e}"))
}

pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// The file's string form: 0x20-0x7e as is except `"` and `\`, which are escaped with `\`;
/// every other byte as `\xNN`.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => write!(out, "\\x{b:02x}").unwrap(),
        }
    }
    out.push('"');
    out
}
