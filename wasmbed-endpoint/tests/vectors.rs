//! The shared vectors in `tests/vectors/`, run against the Rust implementation.

#[path = "support/vectors.rs"]
mod vectors;

use vectors::Expected;
use wasmbed_endpoint::{Endpoint, Host, MemoryImage};

fn host_type(host: &Host) -> &'static str {
    match host {
        Host::Ipv4(_) => "ipv4",
        Host::Ipv6(_) => "ipv6",
        Host::Dns(_) => "dns",
    }
}

#[test]
fn endpoint_vectors() {
    let mut kinds = std::collections::BTreeSet::new();
    for case in vectors::endpoints() {
        let got = match Endpoint::parse_bytes(&case.input) {
            Ok(e) => Expected::Endpoint {
                host_type: host_type(&e.host).to_string(),
                host: e.host.to_string(),
                port: e.port,
            },
            Err(e) => {
                kinds.insert(e.kind());
                Expected::Error {
                    kind: format!("{:?}", e.kind()),
                    offset: e.offset(),
                }
            }
        };
        assert_eq!(
            got,
            case.expected,
            "endpoints.txt line {}: {:?}",
            case.line,
            case.input.escape_ascii().to_string()
        );
    }
    // Every parse error kind is exercised by at least one vector.
    assert_eq!(kinds.len(), 10, "parse kinds covered: {kinds:?}");
}

#[test]
fn mailbox_vectors() {
    for case in vectors::mailboxes() {
        let got = match MemoryImage::decode(&case.input) {
            Ok(e) => Expected::Display(e.to_string()),
            Err(e) => Expected::Error {
                kind: format!("{:?}", e.kind()),
                offset: e.offset(),
            },
        };
        assert_eq!(got, case.expected, "mailbox.txt line {}", case.line);
    }
}
