//! The header's constants and struct layout equal wasmbed-endpoint's and this crate's mirror.

use std::mem::{offset_of, size_of};

use wasmbed_endpoint::layout;
use wasmbed_zephyr_host::ffi::WasmbedEndpoint;
use wasmbed_zephyr_host::{LayoutItem, layout as c};

#[test]
fn grammar_constants_agree() {
    assert_eq!(c(LayoutItem::MaxLen), layout::MAX_LEN as u64);
    assert_eq!(
        c(LayoutItem::DnsNameMaxLen),
        layout::MAX_DNS_NAME_LEN as u64
    );
    assert_eq!(
        c(LayoutItem::DnsLabelMaxLen),
        layout::MAX_DNS_LABEL_LEN as u64
    );
    assert_eq!(
        c(LayoutItem::MailboxDefaultBase),
        u64::from(layout::MAILBOX_DEFAULT_BASE)
    );
    assert_eq!(
        c(LayoutItem::MailboxHeaderLen),
        layout::MAILBOX_HEADER_LEN as u64
    );
    assert_eq!(c(LayoutItem::MailboxMaxLen), layout::MAILBOX_MAX_LEN as u64);
}

#[test]
fn struct_mirror_agrees() {
    assert_eq!(
        c(LayoutItem::EndpointSize),
        size_of::<WasmbedEndpoint>() as u64
    );
    assert_eq!(
        c(LayoutItem::OffsetHostType),
        offset_of!(WasmbedEndpoint, host_type) as u64
    );
    assert_eq!(
        c(LayoutItem::OffsetAddr),
        offset_of!(WasmbedEndpoint, addr) as u64
    );
    assert_eq!(
        c(LayoutItem::OffsetPort),
        offset_of!(WasmbedEndpoint, port) as u64
    );
    assert_eq!(
        c(LayoutItem::OffsetHostLen),
        offset_of!(WasmbedEndpoint, host_len) as u64
    );
    assert_eq!(
        c(LayoutItem::OffsetHost),
        offset_of!(WasmbedEndpoint, host) as u64
    );
    assert_eq!(
        c(LayoutItem::OffsetTextLen),
        offset_of!(WasmbedEndpoint, text_len) as u64
    );
    assert_eq!(
        c(LayoutItem::OffsetText),
        offset_of!(WasmbedEndpoint, text) as u64
    );
    assert_eq!(c(LayoutItem::HostIpv4), 1);
    assert_eq!(c(LayoutItem::HostIpv6), 2);
    assert_eq!(c(LayoutItem::HostDns), 3);
}

#[test]
fn error_codes_and_messages_agree() {
    for kind in wasmbed_endpoint::ErrorKind::ALL {
        assert_eq!(
            wasmbed_zephyr_host::strerror(kind.code()),
            kind.as_str(),
            "{kind:?}"
        );
        assert_eq!(
            wasmbed_zephyr_host::strerror(-kind.code()),
            kind.as_str(),
            "{kind:?}"
        );
    }
    assert_eq!(wasmbed_zephyr_host::strerror(0), "success");
    for code in [15, -15, i32::MAX, i32::MIN] {
        assert_eq!(wasmbed_zephyr_host::strerror(code), "unknown error");
    }
}

/// Proves the C object is linked and is the firmware's parser, not a stand-in.
#[test]
fn c_parser_is_linked() {
    let endpoint = wasmbed_zephyr_host::parse(b"10.42.0.12:8081").unwrap();
    assert_eq!(endpoint.addr[..4], [10, 42, 0, 12]);
    assert_eq!(endpoint.text, b"10.42.0.12:8081");
}
