//! `Host` and `DnsName` on their own, and conversions to and from socket addresses.
#![cfg(feature = "std")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use wasmbed_endpoint::{DnsName, Endpoint, ErrorKind, Host};

#[test]
fn host_parse_accepts_each_form() {
    let cases: &[(&str, Host)] = &[
        ("10.42.0.12", Host::Ipv4(Ipv4Addr::new(10, 42, 0, 12))),
        ("[fd00::1]", Host::Ipv6("fd00::1".parse().unwrap())),
        ("fd00::1", Host::Ipv6("fd00::1".parse().unwrap())),
        ("::", Host::Ipv6(Ipv6Addr::UNSPECIFIED)),
        (
            "gw.example.",
            Host::Dns(DnsName::parse("gw.example.").unwrap()),
        ),
    ];
    for (text, host) in cases {
        assert_eq!(Host::parse(text).unwrap(), *host, "{text}");
        // Host's Display (no brackets) parses back.
        assert_eq!(Host::parse(&host.to_string()).unwrap(), *host, "{text}");
    }
}

#[test]
fn host_parse_errors() {
    let cases: &[(&str, ErrorKind, usize)] = &[
        ("", ErrorKind::MissingHost, 0),
        ("[fd00::1", ErrorKind::InvalidIpv6, 0),
        ("[fd00::1]x", ErrorKind::TrailingBytes, 9),
        ("[gw]", ErrorKind::InvalidIpv6, 1),
        ("fd00::g", ErrorKind::InvalidIpv6, 0),
        ("10.42.0.256", ErrorKind::InvalidIpv4, 8),
        ("gw_1", ErrorKind::InvalidDnsName, 2),
    ];
    for &(text, kind, offset) in cases {
        let e = Host::parse(text).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (kind, offset), "{text}");
    }
    assert_eq!(
        Host::parse(&"a".repeat(256)).unwrap_err().kind(),
        ErrorKind::TooLong
    );
}

#[test]
fn dns_name_is_not_an_address() {
    assert_eq!(
        DnsName::parse("10.0.0.1").unwrap_err().kind(),
        ErrorKind::InvalidDnsName
    );
    assert_eq!(
        DnsName::parse("[::1]").unwrap_err().kind(),
        ErrorKind::InvalidDnsName
    );
    let name = DnsName::parse("Gw.Example.").unwrap();
    assert_eq!(name.as_str(), "Gw.Example.");
    assert!(name.is_fully_qualified());
    assert_ne!(
        name,
        DnsName::parse("gw.example.").unwrap(),
        "kept as written"
    );
}

#[test]
fn loopback_and_unspecified() {
    for text in [
        "127.0.0.1",
        "127.255.255.254",
        "::1",
        "::ffff:127.0.0.1",
        "localhost",
        "LocalHost.",
        "a.b.localhost",
    ] {
        assert!(Host::parse(text).unwrap().is_loopback(), "{text}");
    }
    for text in [
        "128.0.0.1",
        "::2",
        "localhost.example",
        "xlocalhost",
        "localhostx",
    ] {
        assert!(!Host::parse(text).unwrap().is_loopback(), "{text}");
    }
    for text in ["0.0.0.0", "::", "::ffff:0.0.0.0"] {
        assert!(Host::parse(text).unwrap().is_unspecified(), "{text}");
    }
}

#[test]
fn socket_addresses() {
    let addr: SocketAddr = "[fd00::12]:8081".parse().unwrap();
    let endpoint = Endpoint::from(addr);
    assert_eq!(endpoint.to_string(), "[fd00::12]:8081");
    assert_eq!(endpoint.socket_addr(), Some(addr));
    assert_eq!(
        endpoint.to_socket_addrs().unwrap().collect::<Vec<_>>(),
        [addr]
    );
    let named: Endpoint = "gw:8081".parse().unwrap();
    assert_eq!(named.socket_addr(), None);
    assert_eq!(named.host.ip(), None);
    // `localhost` resolves through the system resolver without the network.
    let local: Endpoint = "localhost:8081".parse().unwrap();
    let resolved: Vec<SocketAddr> = local.to_socket_addrs().unwrap().collect();
    assert!(!resolved.is_empty());
    assert!(
        resolved
            .iter()
            .all(|a| a.port() == 8081 && a.ip().is_loopback())
    );
    assert_eq!(
        Host::from(IpAddr::V4(Ipv4Addr::LOCALHOST)).to_string(),
        "127.0.0.1"
    );
}

#[test]
fn conversions_and_formatting() {
    let endpoint = Endpoint::from((Ipv4Addr::new(10, 42, 0, 12), 8081));
    assert_eq!(endpoint.to_string(), "10.42.0.12:8081");
    assert_eq!(
        Endpoint::from((IpAddr::V6(Ipv6Addr::LOCALHOST), 1)).to_string(),
        "[::1]:1"
    );
    let name = DnsName::try_from("gw").unwrap();
    assert_eq!(Endpoint::from((name, 8081)).to_string(), "gw:8081");
    assert_eq!(name.as_ref(), "gw");
    assert_eq!(Host::try_from("gw").unwrap(), Host::Dns(name));
    // Width and alignment work for every host kind, as for str.
    assert_eq!(format!("{:>6}|", Host::Dns(name)), "    gw|");
    assert_eq!(format!("{:<12}|", endpoint), "10.42.0.12:8081|");
    assert_eq!(
        format!("{:>10}|", "gw:1".parse::<Endpoint>().unwrap()),
        "      gw:1|"
    );
}
