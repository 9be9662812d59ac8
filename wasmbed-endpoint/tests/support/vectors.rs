//! Reader for `tests/vectors/*.txt`, shared by this crate's tests and `zephyr-app/host`'s.

// Shared by several test binaries in two crates; each uses a subset of it.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

/// One expected outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Parsed: host kind (`ipv4`, `ipv6`, `dns`), host as displayed, port.
    Endpoint {
        host_type: String,
        host: String,
        port: u16,
    },
    /// Decoded: the endpoint as displayed.
    Display(String),
    /// Rejected: `ErrorKind` name and offset.
    Error { kind: String, offset: usize },
}

/// A case: its line number, input bytes and expected outcome.
#[derive(Debug, Clone)]
pub struct Case {
    pub line: usize,
    pub input: Vec<u8>,
    pub expected: Expected,
}

/// `wasmbed-endpoint/tests/vectors/<name>`.
pub fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("wasmbed-endpoint/tests/vectors").is_dir())
        .expect("test runs inside the wasmbed workspace")
        .join("wasmbed-endpoint/tests/vectors")
        .join(name)
}

/// The endpoint text cases.
pub fn endpoints() -> Vec<Case> {
    read("endpoints.txt", unescape)
}

/// The mailbox image cases.
pub fn mailboxes() -> Vec<Case> {
    read("mailbox.txt", unhex)
}

fn read(name: &str, decode: fn(&str) -> Vec<u8>) -> Vec<Case> {
    let path = path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<Case> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            let (input, expected) = line
                .split_once('\t')
                .unwrap_or_else(|| panic!("{}:{}: no tab", path.display(), i + 1));
            Case {
                line: i + 1,
                input: decode(input),
                expected: expectation(expected).unwrap_or_else(|| {
                    panic!("{}:{}: bad expectation {expected:?}", path.display(), i + 1)
                }),
            }
        })
        .collect();
    assert!(cases.len() > 10, "{}: too few cases", path.display());
    cases
}

fn expectation(text: &str) -> Option<Expected> {
    let fields: Vec<&str> = text.split(' ').collect();
    match fields.as_slice() {
        ["ok", host_type, host, port] => Some(Expected::Endpoint {
            host_type: host_type.to_string(),
            host: host.to_string(),
            port: port.parse().ok()?,
        }),
        ["ok", display] => Some(Expected::Display(display.to_string())),
        ["err", kind, offset] => Some(Expected::Error {
            kind: kind.to_string(),
            offset: offset.parse().ok()?,
        }),
        _ => None,
    }
}

/// Undoes `escape_ascii`: `\xNN`, `\n`, `\r`, `\t`, `\\`, `\'`, `\"`.
pub fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let (byte, width) = match bytes.get(i + 1) {
            Some(b'x') => (
                u8::from_str_radix(&text[i + 2..i + 4], 16).expect("\\xNN escape"),
                4,
            ),
            Some(b'n') => (b'\n', 2),
            Some(b'r') => (b'\r', 2),
            Some(b't') => (b'\t', 2),
            Some(&c @ (b'\\' | b'\'' | b'"')) => (c, 2),
            other => panic!("unknown escape {other:?} in {text:?}"),
        };
        out.push(byte);
        i += width;
    }
    out
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|e| panic!("{text:?} is not hex: {e}"))
}
