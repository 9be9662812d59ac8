//! Device-facing endpoint resolution (seed section 1, without kubectl).

use wasmbed_endpoint::resolve::{HostScope, resolve, resolve_default};
use wasmbed_endpoint::{ErrorKind, ResolveError};

#[test]
fn resolves_configured_addresses() {
    let cases: &[(&str, &str, HostScope)] = &[
        ("http://gw:8080", "gw:8081", HostScope::Other),
        ("https://10.42.0.12", "10.42.0.12:8081", HostScope::Other),
        ("10.42.0.12:8080", "10.42.0.12:8081", HostScope::Other),
        ("[::1]:8080", "[::1]:8081", HostScope::Loopback),
        ("gw", "gw:8081", HostScope::Other),
        ("gw:8080/?next=http://x", "gw:8081", HostScope::Other),
        ("gw/health", "gw:8081", HostScope::Other),
        (
            "HTTPS://Gw.Example.:8443/api/v1?x=1#top",
            "Gw.Example.:8081",
            HostScope::Other,
        ),
        ("http://[fd00::12]/", "[fd00::12]:8081", HostScope::Other),
        (
            "http://[fd00::12]:8080",
            "[fd00::12]:8081",
            HostScope::Other,
        ),
        ("[fd00::12]", "[fd00::12]:8081", HostScope::Other),
        (
            "http://127.0.0.1:8080",
            "127.0.0.1:8081",
            HostScope::Loopback,
        ),
        ("127.1.2.3", "127.1.2.3:8081", HostScope::Loopback),
        ("localhost:8080", "localhost:8081", HostScope::Loopback),
        ("LOCALHOST.", "LOCALHOST.:8081", HostScope::Loopback),
        ("gw.localhost", "gw.localhost:8081", HostScope::Loopback),
        ("notlocalhost", "notlocalhost:8081", HostScope::Other),
        (
            "[::ffff:127.0.0.1]:1",
            "[::ffff:127.0.0.1]:8081",
            HostScope::Loopback,
        ),
        ("0.0.0.0:8080", "0.0.0.0:8081", HostScope::Unspecified),
        ("http://[::]:8080", "[::]:8081", HostScope::Unspecified),
    ];
    for &(configured, expected, scope) in cases {
        let device = resolve_default(configured).unwrap_or_else(|e| panic!("{configured}: {e}"));
        assert_eq!(device.endpoint().to_string(), expected, "{configured}");
        assert_eq!(device.scope(), scope, "{configured}");
        assert_eq!(device.is_loopback(), scope == HostScope::Loopback);
        assert_eq!(device.needs_routable_address(), scope != HostScope::Other);
    }
}

#[test]
fn custom_port_and_substitution() {
    let device = resolve("http://localhost:8080", 9443).unwrap();
    assert_eq!(device.endpoint().to_string(), "localhost:9443");
    let routed = device.with_host("10.42.0.12".parse().unwrap()).unwrap();
    assert_eq!(routed.endpoint().to_string(), "10.42.0.12:9443");
    assert!(!routed.needs_routable_address());
}

#[test]
fn rejects_what_it_cannot_read() {
    let parse = |configured: &str| match resolve_default(configured) {
        Err(ResolveError::Address(e)) => (e.kind(), e.offset()),
        other => panic!("{configured}: expected an address error, got {other:?}"),
    };
    assert_eq!(parse("http://"), (ErrorKind::MissingHost, 7));
    assert_eq!(parse("http://gw:"), (ErrorKind::InvalidPort, 10));
    assert_eq!(parse("http://gw:0/"), (ErrorKind::InvalidPort, 10));
    assert_eq!(parse("https://10.42.0.256"), (ErrorKind::InvalidIpv4, 16));
    assert_eq!(parse("fd00::1"), (ErrorKind::UnbracketedIpv6, 0));
    assert_eq!(
        parse("http://fd00::1:8080"),
        (ErrorKind::UnbracketedIpv6, 7)
    );
    assert_eq!(parse("[fd00::1"), (ErrorKind::InvalidIpv6, 0));
    assert_eq!(parse("[fd00::g]"), (ErrorKind::InvalidIpv6, 1));
    assert_eq!(parse("[::1]x"), (ErrorKind::TrailingBytes, 5));
    assert_eq!(parse("gw:80x/path"), (ErrorKind::TrailingBytes, 5));
    assert_eq!(parse(" gw"), (ErrorKind::InvalidDnsName, 0));
    assert_eq!(parse("gw\n"), (ErrorKind::InvalidDnsName, 2));
    assert_eq!(
        parse("http://gw:8080:9090"),
        (ErrorKind::UnbracketedIpv6, 7)
    );
    assert_eq!(parse("0x7f000001:8080"), (ErrorKind::InvalidIpv4, 0));

    // The length limit applies to the device endpoint, not to the configured text.
    let name = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(56)
    );
    let device = resolve_default(&format!("http://{name}:65535/")).unwrap();
    assert_eq!(device.endpoint().to_string().len(), 253);
    let long = format!("{name}xyz");
    assert_eq!(
        resolve_default(&long),
        Err(ResolveError::TooLong { len: 256 })
    );
    assert_eq!(
        device.with_host(long.parse().unwrap()),
        Err(ResolveError::TooLong { len: 256 })
    );

    assert_eq!(resolve_default(""), Err(ResolveError::Empty));
    assert_eq!(resolve("gw", 0), Err(ResolveError::PortZero));
    assert!(matches!(
        resolve_default("ftp://gw"),
        Err(ResolveError::UnsupportedScheme { .. })
    ));
    assert!(matches!(
        resolve_default("tcp://gw:8081"),
        Err(ResolveError::UnsupportedScheme { .. })
    ));
    assert!(matches!(
        resolve_default("http://user:pw@gw"),
        Err(ResolveError::UserInfo { .. })
    ));
}

#[test]
fn error_messages_say_what_and_where() {
    let e = resolve_default("https://10.42.0.256:8080").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid gateway address \"https://10.42.0.256:8080\": invalid IPv4 address at byte 16; \
         a host whose last label is a number must be a dotted quad with octets 0-255 and no leading zeros"
    );
    let e = resolve_default("ftp://gw").unwrap_err();
    assert_eq!(
        e.to_string(),
        "gateway address has scheme \"ftp\"; only http and https are understood"
    );
}

/// The one rule for which address a device dials: the configured or bound host when a device
/// can dial it, else the candidates `substitute` takes, in order.
#[test]
fn dial_takes_the_host_or_the_usable_candidates() {
    use wasmbed_endpoint::Host;
    use wasmbed_endpoint::resolve::DeviceEndpoint;
    let interfaces = [
        "127.0.0.1",
        "10.42.0.12",
        "::1",
        "fe80::1",
        "fd00::2",
        "gw.example",
        "0.0.0.0",
    ];
    let cases: &[(&str, &[&str])] = &[
        // A dialable host is the answer, whatever the candidates.
        ("10.42.0.12:8081", &["10.42.0.12:8081"]),
        ("[fd00::9]:8081", &["[fd00::9]:8081"]),
        // Bound to all IPv4 interfaces: IPv4 candidates and names, no IPv6.
        ("0.0.0.0:8081", &["10.42.0.12:8081", "gw.example:8081"]),
        // Bound to all interfaces of both families: no link-local, loopback or unspecified.
        (
            "[::]:8081",
            &["10.42.0.12:8081", "[fd00::2]:8081", "gw.example:8081"],
        ),
        // Loopback as configured (say, a port-forward): any usable candidate.
        (
            "127.0.0.1:8081",
            &["10.42.0.12:8081", "[fd00::2]:8081", "gw.example:8081"],
        ),
    ];
    for (bound, expected) in cases {
        let device = DeviceEndpoint::from(bound.parse::<std::net::SocketAddr>().unwrap());
        let candidates = interfaces.map(|h| Host::parse(h).unwrap());
        let dial: Vec<String> = device
            .dial(candidates)
            .map(|d| d.endpoint().to_string())
            .collect();
        assert_eq!(dial, *expected, "{bound}");
    }
    let link_local = resolve("http://[fe80::1]:8080", 8081).unwrap();
    assert_eq!(link_local.scope(), HostScope::LinkLocal);
    assert!(link_local.needs_routable_address());
    assert_eq!(
        DeviceEndpoint::from("[fe80::1]:8081".parse::<std::net::SocketAddr>().unwrap())
            .dial([])
            .count(),
        0
    );
}
