//! The device id: the one rule every part of wasmbed checks a device's name against.

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

/// Maximum length of a device id in bytes.
pub const MAX_DEVICE_ID_LEN: usize = 64;

/// A device's name: what it sends in HELLO, the CN of its client certificate, the `<id>` in
/// the file names of its certificate and its Renode artefacts, and a command-line argument.
///
/// The rule (`docs/protocol.md`, "HELLO (0x01)"), checked by [`DeviceId::new`]:
///
/// * 1 to [`MAX_DEVICE_ID_LEN`] (64) bytes,
/// * each one of `[A-Za-z0-9._-]`,
/// * not containing `..`, so it never reads as a parent directory,
/// * not starting with `.` (a hidden file) or `-` (read as an option by command-line tools).
///
/// The firmware's C codec and its configuration check apply the same rule; the shared test
/// vectors in `wasmbed-protocol/tests/vectors/frames.txt` hold both sides to it.
///
/// # Examples
///
/// ```
/// use wasmbed_protocol::{DeviceId, DeviceIdError};
///
/// let id: DeviceId = "sensor.kitchen-1".parse()?;
/// assert_eq!(id.as_str(), "sensor.kitchen-1");
///
/// assert_eq!(DeviceId::new("-x"), Err(DeviceIdError::BadStart { id: "-x".into(), found: '-' }));
/// assert!(DeviceId::new("a..b").is_err());
/// assert!(DeviceId::new("a/b").is_err());
/// # Ok::<(), DeviceIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// Checks `id` against the rule and keeps a copy.
    ///
    /// # Errors
    ///
    /// [`DeviceIdError`] naming the first rule `id` breaks, checked in the order of its
    /// variants, and where.
    pub fn new(id: &str) -> Result<DeviceId, DeviceIdError> {
        check(id.as_bytes()).map_err(|rule| rule.error(id))?;
        Ok(DeviceId(id.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// [`DeviceId::new`].
impl FromStr for DeviceId {
    type Err = DeviceIdError;

    fn from_str(id: &str) -> Result<DeviceId, DeviceIdError> {
        DeviceId::new(id)
    }
}

/// Writes the id; width and alignment apply.
impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for DeviceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Which rule of [`DeviceId`] an id breaks, and where.
///
/// The variants are in the order the rules are checked; an id breaking several is reported
/// with the first. An id in an error is at most 64 bytes: a longer one is
/// [`TooLong`](DeviceIdError::TooLong), which does not keep it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceIdError {
    /// The id is empty.
    #[error("device id is empty: give 1 to 64 characters from A-Z a-z 0-9 . _ -")]
    Empty,
    /// The id is longer than [`MAX_DEVICE_ID_LEN`] bytes.
    #[error("device id is {len} bytes, longer than the maximum of 64")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The id holds a character outside `[A-Za-z0-9._-]` (a path separator, a space, a
    /// non-ASCII letter).
    #[error("device id {id:?} has {found:?} at byte {offset}: only A-Z a-z 0-9 . _ - are allowed")]
    BadCharacter {
        /// The id.
        id: String,
        /// The first character outside the set (U+FFFD for bytes that are not UTF-8).
        found: char,
        /// Its byte offset.
        offset: usize,
    },
    /// The id contains `..`, which reads as a parent directory in a path.
    #[error(
        "device id {id:?} contains \"..\" at byte {offset}: an id must not contain \"..\" (it would read as a parent directory in a file name)"
    )]
    DoubleDot {
        /// The id.
        id: String,
        /// The byte offset of the first `..`.
        offset: usize,
    },
    /// The id starts with `.` (a hidden file) or `-` (an option to command-line tools).
    #[error(
        "device id {id:?} starts with {found:?}: an id must not start with '.' or '-' (it would name a hidden file or read as a command-line option)"
    )]
    BadStart {
        /// The id.
        id: String,
        /// `.` or `-`.
        found: char,
    },
}

/// A broken rule, without the id: what the codec needs, allocation-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Empty,
    TooLong(usize),
    BadByte(usize),
    DoubleDot(usize),
    BadStart,
}

impl Rule {
    /// The reason a [`ProtocolError::Malformed`](crate::ProtocolError::Malformed) HELLO
    /// carries; [`DEVICE_ID_REASONS`] lists them all.
    pub(crate) const fn reason(self) -> &'static str {
        match self {
            Rule::Empty => EMPTY,
            Rule::TooLong(_) => TOO_LONG,
            Rule::BadByte(_) => BAD_BYTE,
            Rule::DoubleDot(_) => DOUBLE_DOT,
            Rule::BadStart => BAD_START,
        }
    }

    fn error(self, id: &str) -> DeviceIdError {
        let shown = || id.to_owned();
        match self {
            Rule::Empty => DeviceIdError::Empty,
            Rule::TooLong(len) => DeviceIdError::TooLong { len },
            Rule::BadByte(offset) => DeviceIdError::BadCharacter {
                id: shown(),
                found: id[offset..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
                offset,
            },
            Rule::DoubleDot(offset) => DeviceIdError::DoubleDot {
                id: shown(),
                offset,
            },
            Rule::BadStart => DeviceIdError::BadStart {
                id: shown(),
                // BadStart is only found on a non-empty ASCII id.
                found: char::from(id.as_bytes()[0]),
            },
        }
    }
}

const EMPTY: &str = "device id is empty";
const TOO_LONG: &str = "device id is longer than 64 bytes";
const BAD_BYTE: &str = "device id has a byte outside [A-Za-z0-9._-]";
const DOUBLE_DOT: &str = "device id contains \"..\"";
const BAD_START: &str = "device id starts with '.' or '-'";

/// Every reason [`Rule::reason`] gives.
pub(crate) const DEVICE_ID_REASONS: [&str; 5] = [EMPTY, TOO_LONG, BAD_BYTE, DOUBLE_DOT, BAD_START];

/// Checks the rule on raw bytes (a HELLO's id need not be UTF-8).
pub(crate) fn check(id: &[u8]) -> Result<(), Rule> {
    if id.is_empty() {
        return Err(Rule::Empty);
    }
    if id.len() > MAX_DEVICE_ID_LEN {
        return Err(Rule::TooLong(id.len()));
    }
    if let Some(offset) = id
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')))
    {
        return Err(Rule::BadByte(offset));
    }
    if let Some(offset) = id.windows(2).position(|pair| pair == b"..") {
        return Err(Rule::DoubleDot(offset));
    }
    if matches!(id[0], b'.' | b'-') {
        return Err(Rule::BadStart);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn each_rule_is_reported_with_where_it_broke() {
        let long = "x".repeat(65);
        let cases: [(&str, Result<(), DeviceIdError>); 12] = [
            ("a", Ok(())),
            ("a.b", Ok(())),
            ("_x", Ok(())),
            ("x-", Ok(())),
            ("x.", Ok(())),
            ("", Err(DeviceIdError::Empty)),
            (&long, Err(DeviceIdError::TooLong { len: 65 })),
            (
                "ab/c",
                Err(DeviceIdError::BadCharacter {
                    id: "ab/c".into(),
                    found: '/',
                    offset: 2,
                }),
            ),
            (
                "déf",
                Err(DeviceIdError::BadCharacter {
                    id: "déf".into(),
                    found: 'é',
                    offset: 1,
                }),
            ),
            (
                "a..b",
                Err(DeviceIdError::DoubleDot {
                    id: "a..b".into(),
                    offset: 1,
                }),
            ),
            (
                "-x",
                Err(DeviceIdError::BadStart {
                    id: "-x".into(),
                    found: '-',
                }),
            ),
            (
                ".x",
                Err(DeviceIdError::BadStart {
                    id: ".x".into(),
                    found: '.',
                }),
            ),
        ];
        for (id, expected) in cases {
            assert_eq!(DeviceId::new(id).map(|_| ()), expected, "{id:?}");
            assert_eq!(check(id.as_bytes()).is_ok(), expected.is_ok(), "{id:?}");
        }
    }

    #[test]
    fn hostile_ids_are_refused_with_the_offending_character() {
        let cases = [
            ("a/b", "'/'"),
            ("..", "contains \"..\" at byte 0"),
            ("../etc/x", "'/' at byte 2"),
            (".hidden", "starts with '.'"),
            ("-rf", "starts with '-'"),
            ("a\\b", "'\\\\'"),
            ("a b", "' '"),
            ("a\0b", "'\\0'"),
            ("sensör", "'ö' at byte 4"),
            ("a\nb", "'\\n'"),
        ];
        for (id, reason) in cases {
            let err = DeviceId::new(id).unwrap_err().to_string();
            assert!(err.contains(reason), "{id:?}: {err}");
        }
    }

    #[test]
    fn messages_name_the_id_and_the_rule() {
        let e = DeviceId::new("-x").unwrap_err().to_string();
        assert_eq!(
            e,
            "device id \"-x\" starts with '-': an id must not start with '.' or '-' (it would name a hidden file or read as a command-line option)"
        );
        let e = DeviceId::new(&"/".repeat(200)).unwrap_err();
        assert!(matches!(e, DeviceIdError::TooLong { len: 200 }));
    }

    #[test]
    fn display_pads_like_a_string() {
        let id = DeviceId::new("d1").unwrap();
        assert_eq!(alloc::format!("[{id:>4}]"), "[  d1]");
        assert_eq!(id.to_string(), "d1");
    }
}
