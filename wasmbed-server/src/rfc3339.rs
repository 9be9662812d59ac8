//! Times in the API and the state file: RFC 3339 UTC with whole seconds.

use std::time::SystemTime;

/// `time` as RFC 3339 UTC with seconds, e.g. `2026-12-07T21:02:05Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    time::OffsetDateTime::from(time)
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::from(time))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
