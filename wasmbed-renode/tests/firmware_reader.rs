//! Generated scripts, read back by the reader and then by the firmware's own C mailbox reader
//! (`wasmbed_mailbox_read` through `wasmbed-zephyr-host`), give back the endpoint they were
//! made for.

#[path = "../../wasmbed-endpoint/tests/support/strategies.rs"]
mod strategies;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use wasmbed_endpoint::{DnsName, Endpoint, Host, MAX_DNS_NAME_LEN, MAX_LEN};
use wasmbed_renode::reader::read_writes;
use wasmbed_renode::{Board, Mailbox, MailboxError, MailboxRegion, ScriptBuilder, render};
use wasmbed_zephyr_host::HostType;

/// Cases per property; `WASMBED_DIFF_CASES` overrides, as for the other differential tests.
fn cases() -> u32 {
    std::env::var("WASMBED_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// Renders the script for `endpoint` in `region`, reads its memory writes into a buffer
/// standing for the region (filled with garbage first, as RAM at power-on), and runs the
/// firmware's reader over it.
fn through_firmware(board: Board, region: MailboxRegion, endpoint: &Endpoint) {
    let mailbox = Mailbox::place(region, endpoint).expect("the endpoint fits");
    let script = ScriptBuilder::new(board)
        .machine("sweep")
        .unwrap()
        .with_elf("/opt/wasmbed/zephyr.elf")
        .unwrap()
        .with_mailbox(mailbox)
        .build()
        .unwrap();
    let text = render(&script);
    let writes = read_writes(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(writes.len() >= 3, "zero range and at least two words");

    let mut ram = vec![0xa5u8; region.size() as usize];
    for write in &writes {
        write
            .apply(u64::from(region.base()), &mut ram)
            .unwrap_or_else(|e| panic!("a generated write left the region: {e}"));
    }
    let c = wasmbed_zephyr_host::mailbox_read(&ram)
        .unwrap_or_else(|e| panic!("firmware refused {endpoint}: {e:?}\n{text}"));
    assert_eq!(c.text, endpoint.to_string().as_bytes());
    assert_eq!(c.port, endpoint.port);
    match endpoint.host {
        Host::Ipv4(ip) => {
            assert_eq!(c.host_type, HostType::Ipv4);
            assert_eq!(c.addr[..4], ip.octets());
        }
        Host::Ipv6(ip) => {
            assert_eq!(c.host_type, HostType::Ipv6);
            assert_eq!(c.addr, ip.octets());
        }
        Host::Dns(name) => {
            assert_eq!(c.host_type, HostType::Dns);
            assert_eq!(c.host, name.as_str().as_bytes());
        }
    }
}

/// A DNS name of exactly `len` bytes (labels of 1 to 63 bytes, the last one starting with a
/// letter so it is never numeric).
fn dns_name_of_len(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-z0-9]", len).prop_map(move |chars| {
        let mut name: Vec<u8> = chars.iter().map(|c| c.as_bytes()[0]).collect();
        // A dot after every 63 bytes keeps labels at most 63 bytes; a dot that would end the
        // name moves one byte left, leaving a one-byte last label.
        for i in (63..len).step_by(64) {
            let at = if i == len - 1 { i - 1 } else { i };
            name[at] = b'.';
        }
        let last_label = name.iter().rposition(|&b| b == b'.').map_or(0, |d| d + 1);
        name[last_label] = b'w';
        String::from_utf8(name).expect("ASCII")
    })
}

/// An endpoint whose DNS name is as long as the grammar and the 255-byte text limit allow
/// for its port.
fn longest_dns_endpoint() -> impl Strategy<Value = Endpoint> {
    (1u16..=65535).prop_flat_map(|port| {
        let digits = port.to_string().len();
        let len = (MAX_LEN - 1 - digits).min(MAX_DNS_NAME_LEN);
        (dns_name_of_len(len), Just(port))
            .prop_map(|(name, port)| format!("{name}:{port}").parse().expect("valid"))
    })
}

fn any_endpoint() -> impl Strategy<Value = Endpoint> {
    prop_oneof![
        (any::<std::net::Ipv4Addr>(), 1u16..).prop_map(|(ip, port)| Endpoint::new(ip.into(), port)),
        (any::<std::net::Ipv6Addr>(), 1u16..).prop_map(|(ip, port)| Endpoint::new(ip.into(), port)),
        strategies::valid_endpoint().prop_map(|t| t.parse().expect("valid")),
        (1usize..=MAX_DNS_NAME_LEN - 6)
            .prop_flat_map(dns_name_of_len)
            .prop_map(|name| format!("{name}:65535").parse().expect("valid")),
        longest_dns_endpoint(),
    ]
}

/// A region anywhere on the bus that holds the largest image.
fn any_region() -> impl Strategy<Value = MailboxRegion> {
    (0u32..0x3fff_0000, 260u32..=4096).prop_map(|(word, size)| {
        MailboxRegion::new(word * 4, size).expect("aligned, large enough, inside 32 bits")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_board_preset(endpoint in any_endpoint()) {
        for board in Board::ALL {
            through_firmware(board, board.mailbox, &endpoint);
        }
    }

    #[test]
    fn any_region_that_holds_the_image(endpoint in any_endpoint(), region in any_region()) {
        through_firmware(Board::default(), region, &endpoint);
    }

    #[test]
    fn an_image_larger_than_the_region_is_refused(
        endpoint in any_endpoint(),
        size in 8u32..64,
    ) {
        let region = MailboxRegion::new(0x2000_1000, size).unwrap();
        let needed = 4 + endpoint.to_string().len().next_multiple_of(4);
        match Mailbox::place(region, &endpoint) {
            Ok(_) => prop_assert!(needed <= size as usize),
            Err(MailboxError::DoesNotFit { needed: n, .. }) => {
                prop_assert_eq!(n, needed);
                prop_assert!(needed > size as usize);
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

#[test]
fn the_longest_names_are_covered() {
    // The sweep must reach the grammar's limit, not only short names.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let endpoint = longest_dns_endpoint()
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let text = endpoint.to_string();
    assert_eq!(text.len(), MAX_LEN, "{text}");
    through_firmware(Board::default(), Board::default().mailbox, &endpoint);
}

#[test]
fn an_endpoint_over_255_bytes_is_refused() {
    let name: DnsName = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    )
    .parse()
    .unwrap();
    let endpoint = Endpoint::new(Host::Dns(name), 65535);
    assert_eq!(endpoint.to_string().len(), 259);
    let err = Mailbox::place(MailboxRegion::default(), &endpoint).unwrap_err();
    assert!(matches!(err, MailboxError::Encode(_)), "{err}");
    // The encoder's reason is the source, printed once by an error chain.
    let reason = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        reason.as_deref().is_some_and(|r| r.contains("255")),
        "{reason:?}"
    );
}

#[test]
fn a_region_smaller_than_the_endpoint_is_refused_with_the_sizes() {
    let endpoint: Endpoint = "gateway.wasmbed.svc.cluster.local:8081".parse().unwrap();
    let region = MailboxRegion::new(0x2002_fc00, 32).unwrap();
    let err = Mailbox::place(region, &endpoint).unwrap_err();
    assert_eq!(
        err.to_string(),
        "endpoint gateway.wasmbed.svc.cluster.local:8081 needs 44 mailbox bytes but the region \
         0x2002fc00..0x2002fc20 holds 32: use a shorter endpoint or reserve a larger region in \
         the firmware's overlay"
    );
}
