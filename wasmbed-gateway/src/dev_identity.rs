//! The dev-mode identity: a self-signed certificate for this machine's names, and the endpoints devices can dial.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, Result};
use tracing::info;
use wasmbed_endpoint::resolve::DeviceEndpoint;
use wasmbed_endpoint::{Endpoint, Host};
use wasmbed_tls::{CertificateOptions, Identity, dev_gateway};

use crate::cli::ServeArgs;

/// The dev identity in the state directory, made when missing or when its names no longer
/// cover this machine's.
pub(crate) fn dev_identity(args: &ServeArgs) -> Result<Identity> {
    let dir = args.state_dir.join("dev");
    let (cert, key) = (dir.join("gateway.pem"), dir.join("gateway-key.pem"));
    let mut extra = args.sans.clone();
    extra.extend(args.device_endpoints.iter().map(|e| e.host));
    let names = dev_names(&extra);
    let wanted: BTreeSet<String> = names.iter().map(ToString::to_string).collect();
    if let Ok(identity) = Identity::load(&cert, &key) {
        if wanted.is_subset(&san_names(&identity)) {
            info!(dir = %dir.display(), "using the dev certificate in the state directory");
            return Ok(identity);
        }
        info!("the dev certificate does not cover this machine's names; making a new one");
    }
    std::fs::create_dir_all(&dir).with_context(|| {
        format!(
            "cannot create the state directory {} (--state-dir)",
            dir.display()
        )
    })?;
    let identity = dev_gateway(&names, &CertificateOptions::default())?;
    identity.save(&cert, &key)?;
    info!(dir = %dir.display(), names = ?wanted, "made a dev certificate");
    Ok(identity)
}

fn dev_names(extra: &[Host]) -> Vec<Host> {
    let mut names: Vec<Host> = vec![
        Host::Dns(wasmbed_endpoint::DnsName::parse("localhost").expect("valid name")),
        Host::from(IpAddr::from([127, 0, 0, 1])),
        Host::from(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
    ];
    if let Some(name) = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .and_then(|h| Host::parse(h.trim()).ok())
    {
        names.push(name);
    }
    names.extend(local_addresses().into_iter().map(Host::from));
    names.extend_from_slice(extra);
    names.dedup();
    names
}

fn san_names(identity: &Identity) -> BTreeSet<String> {
    use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
    let mut names = BTreeSet::new();
    if let Some(Ok((_, cert))) = identity
        .chain()
        .first()
        .map(|c| X509Certificate::from_der(c))
        && let Ok(Some(san)) = cert.subject_alternative_name()
    {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => {
                    names.insert((*dns).to_owned());
                }
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                        _ => None,
                    };
                    names.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    names
}

fn local_addresses() -> Vec<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|interfaces| interfaces.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default()
}

/// The endpoints devices can dial, by [`DeviceEndpoint::dial`] (the rule `renode provision`
/// follows too): a specific bound address as it is (one bound to loopback is reachable there
/// only); when bound to all interfaces, each of this machine's addresses the rule takes, or
/// `127.0.0.1` when there is none (devices on this machine, such as the firmware's host build).
pub(crate) fn device_endpoints(bound: SocketAddr) -> Vec<Endpoint> {
    if !bound.ip().is_unspecified() {
        return vec![Endpoint::from(bound)];
    }
    let mut endpoints: Vec<Endpoint> = DeviceEndpoint::from(bound)
        .dial(local_addresses().into_iter().map(Host::from))
        .map(|device| *device.endpoint())
        .collect();
    if endpoints.is_empty() {
        endpoints.push(Endpoint::from((IpAddr::from([127, 0, 0, 1]), bound.port())));
    }
    endpoints
}
