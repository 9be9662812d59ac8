//! Device provisioning: from the gateway's configured address to a device's artefacts.
//!
//! This replaces the seed's `kubectl get pods ... {.items[0].status.podIP}`: the endpoint is
//! resolved with `wasmbed_endpoint::resolve`; when the configured host is loopback or
//! unspecified (unreachable from an emulated device), [`Locator`]s supply a routable host:
//! an explicit address, the pod IP that Kubernetes' Downward API puts in an environment
//! variable (`fieldRef: status.podIP`), or a DNS name such as a headless Service's.
//!
//! The library never reads the environment itself: [`provision`] takes a lookup function, so
//! the binary passes `std::env::var` and tests pass a map.

use std::path::PathBuf;

use wasmbed_endpoint::resolve::{HostScope, resolve};
use wasmbed_endpoint::{DEFAULT_TLS_PORT, DnsName, Endpoint, Host};

use wasmbed_protocol::DeviceId;

use crate::artefact::{Artefacts, DEFAULT_ARTEFACT_DIR};
use crate::error::{ProvisionError, UnroutableScope};
use crate::mailbox::{Mailbox, MailboxRegion};
use crate::render::render;
use crate::script::ScriptBuilder;

/// The environment variable the gateway's pod spec fills with `status.podIP` by default.
pub const DEFAULT_POD_IP_ENV: &str = "POD_IP";

/// A source of a routable device-facing host, used when the configured one is not.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Locator {
    /// An explicit host (an address or name the devices can reach).
    Host(Host),
    /// The pod IP in this environment variable (Downward API `status.podIP`); skipped when
    /// the variable is unset or empty.
    PodIpEnv(String),
    /// A DNS name, such as a headless Service (`wasmbed-gateway.wasmbed.svc.cluster.local`).
    Dns(DnsName),
}

impl std::fmt::Display for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Locator::Host(host) => write!(f, "explicit host {host}"),
            Locator::PodIpEnv(var) => write!(f, "pod IP from ${var}"),
            Locator::Dns(name) => write!(f, "DNS name {}", name.as_str()),
        }
    }
}

/// The device-facing endpoint and how it was found. Built by [`locate`] only; more fields may
/// be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Located {
    /// The endpoint devices dial.
    pub endpoint: Endpoint,
    /// The locator that supplied the host, `None` when the configured host was used.
    pub by: Option<Locator>,
}

/// Resolves `configured` (an address or `http(s)://` URL of the gateway) to the endpoint
/// devices dial on `tls_port`; a host a device cannot dial (loopback, unspecified, IPv6
/// link-local) is replaced by the first locator whose host
/// [`DeviceEndpoint::substitute`](wasmbed_endpoint::resolve::DeviceEndpoint::substitute)
/// takes, the rule the gateway also uses for the endpoints it logs at start.
///
/// # Errors
///
/// [`ProvisionError::Resolve`] for an unusable address, [`ProvisionError::NoRoutableHost`]
/// when a replacement is needed and no locator yields one, [`ProvisionError::BadLocatedHost`]
/// when an environment variable holds no valid host, and [`ProvisionError::TooLong`] when the
/// endpoint text would exceed 255 bytes.
///
/// # Examples
///
/// ```
/// use wasmbed_renode::provision::{locate, Locator};
///
/// let env = |var: &str| (var == "POD_IP").then(|| "10.42.0.12".to_owned());
/// let located = locate("http://127.0.0.1:8080", 8081, &[Locator::PodIpEnv("POD_IP".into())], env)?;
/// assert_eq!(located.endpoint.to_string(), "10.42.0.12:8081");
/// # Ok::<(), wasmbed_renode::ProvisionError>(())
/// ```
pub fn locate(
    configured: &str,
    tls_port: u16,
    locators: &[Locator],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Located, ProvisionError> {
    let device = resolve(configured, tls_port).map_err(ProvisionError::Resolve)?;
    if !device.needs_routable_address() {
        return Ok(Located {
            endpoint: *device.endpoint(),
            by: None,
        });
    }
    for locator in locators {
        let host = match locator {
            Locator::Host(host) => *host,
            Locator::Dns(name) => Host::Dns(*name),
            Locator::PodIpEnv(var) => {
                let Some(value) = env(var).filter(|v| !v.trim().is_empty()) else {
                    continue;
                };
                Host::parse(value.trim()).map_err(|source| ProvisionError::BadLocatedHost {
                    variable: var.clone(),
                    value: value.chars().take(80).collect(),
                    source: Box::new(source),
                })?
            }
        };
        let Some(routed) = device.substitute(host).map_err(ProvisionError::TooLong)? else {
            continue;
        };
        return Ok(Located {
            endpoint: *routed.endpoint(),
            by: Some(locator.clone()),
        });
    }
    Err(ProvisionError::NoRoutableHost {
        configured: configured.chars().take(80).collect(),
        scope: match device.scope() {
            HostScope::Loopback => UnroutableScope::Loopback,
            HostScope::LinkLocal => UnroutableScope::LinkLocal,
            _ => UnroutableScope::Unspecified,
        },
        tried: locators.to_vec(),
    })
}

/// Everything [`provision`] needs for one device: start from [`Provisioning::new`] and change
/// what differs from its defaults with the `with_*` methods (one per field); more fields may be
/// added, with defaults.
///
/// ```
/// use std::path::Path;
/// use wasmbed_renode::{Board, DeviceId, Locator, Provisioning, ScriptBuilder};
///
/// let script = ScriptBuilder::new(Board::SAM_E70_XPLAINED).with_elf("/opt/wasmbed/zephyr.elf")?;
/// let p = Provisioning::new(DeviceId::new("DEVICE_ID")?, "http://127.0.0.1:8080", script)
///     .with_locators(vec![Locator::PodIpEnv("POD_IP".into())])
///     .with_dir("/var/lib/wasmbed/renode");
/// assert_eq!(p.tls_port, 8081);
/// assert_eq!(p.region, Board::SAM_E70_XPLAINED.mailbox);
/// assert_eq!(p.dir, Path::new("/var/lib/wasmbed/renode"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Provisioning {
    /// The device.
    pub device_id: DeviceId,
    /// The gateway's configured address or URL.
    pub gateway_address: String,
    /// The gateway's TLS port for devices.
    pub tls_port: u16,
    /// Where to find a routable host when the configured one is loopback, tried in order.
    pub locators: Vec<Locator>,
    /// The script so far: board, ELF, UART, network... (the mailbox is added here; the
    /// machine is named after the device).
    pub script: ScriptBuilder,
    /// The firmware's mailbox region.
    pub region: MailboxRegion,
    /// An address asked for, checked against the region; `None` uses its start.
    pub mailbox_address: Option<u32>,
    /// The artefact directory.
    pub dir: PathBuf,
}

impl Provisioning {
    /// Provisioning of `device_id` for the gateway at `gateway_address` (an address or
    /// `http(s)://` URL) with `script` (board, ELF, UART, network...). Defaults: TLS port
    /// [`DEFAULT_TLS_PORT`] (8081), no locators, the
    /// board preset's mailbox region at its start, and [`DEFAULT_ARTEFACT_DIR`].
    pub fn new(
        device_id: DeviceId,
        gateway_address: impl Into<String>,
        script: ScriptBuilder,
    ) -> Provisioning {
        Provisioning {
            device_id,
            gateway_address: gateway_address.into(),
            tls_port: DEFAULT_TLS_PORT,
            locators: Vec::new(),
            region: script.board().mailbox,
            script,
            mailbox_address: None,
            dir: PathBuf::from(DEFAULT_ARTEFACT_DIR),
        }
    }

    /// Sets [`tls_port`](Provisioning::tls_port), the gateway's TLS port for devices.
    pub fn with_tls_port(mut self, tls_port: u16) -> Provisioning {
        self.tls_port = tls_port;
        self
    }

    /// Sets [`locators`](Provisioning::locators), tried in order when the configured host is
    /// not routable.
    pub fn with_locators(mut self, locators: Vec<Locator>) -> Provisioning {
        self.locators = locators;
        self
    }

    /// Sets [`region`](Provisioning::region), the firmware's mailbox region (from its ELF:
    /// [`MailboxRegion::read_elf`]).
    pub fn with_region(mut self, region: MailboxRegion) -> Provisioning {
        self.region = region;
        self
    }

    /// Sets [`mailbox_address`](Provisioning::mailbox_address), an address checked against
    /// the region; `None` uses its start.
    pub fn with_mailbox_address(mut self, address: Option<u32>) -> Provisioning {
        self.mailbox_address = address;
        self
    }

    /// Sets [`dir`](Provisioning::dir), the artefact directory (created if needed).
    pub fn with_dir(mut self, dir: impl Into<PathBuf>) -> Provisioning {
        self.dir = dir.into();
        self
    }
}

/// What [`provision`] did. Built by [`provision`] only; more fields may be added.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Provisioned {
    /// The endpoint and how it was found.
    pub located: Located,
    /// The mailbox written by the script.
    pub mailbox: Mailbox,
    /// The script's text.
    pub script: String,
    /// Where the artefacts are.
    pub artefacts: Artefacts,
}

/// Resolves the device's endpoint, builds its script and writes its artefacts, logging the
/// seed's two lines (`tracing`, level INFO):
///
/// ```text
/// Resolved gateway endpoint for device <ID>: <endpoint>
/// Writing gateway endpoint to memory for device <ID>: <endpoint>
/// ```
///
/// # Errors
///
/// As [`locate`], then [`ProvisionError::Mailbox`] when the endpoint does not fit the region
/// or the address is not its start, [`ProvisionError::Script`] and
/// [`ProvisionError::Artefact`].
pub fn provision(
    p: &Provisioning,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Provisioned, ProvisionError> {
    let id = &p.device_id;
    let located = locate(&p.gateway_address, p.tls_port, &p.locators, env)?;
    let endpoint = located.endpoint;
    match &located.by {
        Some(by) => tracing::info!(
            device = %id, %endpoint, located_by = %by,
            "Resolved gateway endpoint for device {id}: {endpoint}"
        ),
        None => tracing::info!(
            device = %id, %endpoint,
            "Resolved gateway endpoint for device {id}: {endpoint}"
        ),
    }
    let mailbox = match p.mailbox_address {
        Some(address) => Mailbox::place_at(p.region, address, &endpoint)?,
        None => Mailbox::place(p.region, &endpoint)?,
    };
    let script = p
        .script
        .clone()
        .machine(id.as_str())?
        .with_mailbox(mailbox)
        .build()?;
    let text = render(&script);
    tracing::info!(
        device = %id, %endpoint, address = format_args!("{:#x}", p.region.base()),
        "Writing gateway endpoint to memory for device {id}: {endpoint}"
    );
    let artefacts = Artefacts::write(&p.dir, id, &text, &mailbox)?;
    Ok(Provisioned {
        located,
        mailbox,
        script: text,
        artefacts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    /// The gateway's rule (`DeviceEndpoint::substitute`): a link-local locator is no use,
    /// and an IPv6 one is none for a gateway on 0.0.0.0.
    #[test]
    fn locators_follow_the_shared_dial_rule() {
        let env = |var: &str| (var == "POD_IP").then(|| "10.42.0.12".to_owned());
        let locators = [
            Locator::Host("fe80::1".parse().unwrap()),
            Locator::Host("fd00::2".parse().unwrap()),
            Locator::PodIpEnv("POD_IP".into()),
        ];
        let located = locate("http://0.0.0.0:8080", 8081, &locators, env).unwrap();
        assert_eq!(located.endpoint.to_string(), "10.42.0.12:8081");
        assert_eq!(located.by, Some(locators[2].clone()));
        let located = locate("http://[::]:8080", 8081, &locators, env).unwrap();
        assert_eq!(located.endpoint.to_string(), "[fd00::2]:8081");
        let err = locate("http://[fe80::1]:8080", 8081, &locators[..1], env).unwrap_err();
        assert!(err.to_string().contains("is link-local"), "{err}");
    }

    #[test]
    fn routable_addresses_are_kept() {
        let located = locate(
            "https://10.42.0.12:8080/api",
            8081,
            &[Locator::PodIpEnv("POD_IP".into())],
            |_| Some("10.0.0.1".into()),
        )
        .unwrap();
        assert_eq!(located.endpoint.to_string(), "10.42.0.12:8081");
        assert_eq!(located.by, None);
    }

    #[test]
    fn loopback_uses_the_first_locator_that_yields_a_host() {
        let dns: DnsName = "wasmbed-gateway.wasmbed.svc".parse().unwrap();
        let locators = [
            Locator::PodIpEnv("POD_IP".into()),
            Locator::Dns(dns),
            Locator::Host("10.9.9.9".parse().unwrap()),
        ];
        let by_dns = locate("127.0.0.1:8080", 8081, &locators, no_env).unwrap();
        assert_eq!(
            by_dns.endpoint.to_string(),
            "wasmbed-gateway.wasmbed.svc:8081"
        );
        assert_eq!(by_dns.by, Some(Locator::Dns(dns)));

        let by_pod = locate("localhost", 8081, &locators, |v| {
            (v == "POD_IP").then(|| " fd00::12 ".into())
        })
        .unwrap();
        assert_eq!(by_pod.endpoint.to_string(), "[fd00::12]:8081");

        let unspecified = locate("0.0.0.0:8081", 8081, &locators[2..], no_env).unwrap();
        assert_eq!(unspecified.endpoint.to_string(), "10.9.9.9:8081");
    }

    #[test]
    fn no_locator_is_a_clear_error() {
        let err = locate(
            "http://localhost:8080",
            8081,
            &[Locator::PodIpEnv("POD_IP".into())],
            |_| Some(String::new()),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("\"http://localhost:8080\" is loopback"),
            "{text}"
        );
        assert!(text.contains("tried: pod IP from $POD_IP"), "{text}");

        let err = locate("127.0.0.1", 8081, &[Locator::PodIpEnv("IP".into())], |_| {
            Some("not an ip!".into())
        })
        .unwrap_err();
        let ProvisionError::BadLocatedHost {
            variable, value, ..
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!((variable.as_str(), value.as_str()), ("IP", "not an ip!"));
        assert!(
            err.to_string()
                .starts_with("pod IP from $IP gave \"not an ip!\", which is not a valid host"),
            "{err}"
        );
        // The parser's error is the source, so a `{:#}` chain prints it once.
        let source = std::error::Error::source(&err).expect("the parse error is the source");
        assert!(!err.to_string().contains(&source.to_string()), "{err}");

        // A locator that itself yields loopback does not count.
        let err = locate(
            "127.0.0.1",
            8081,
            &[Locator::Host("::1".parse().unwrap())],
            no_env,
        )
        .unwrap_err();
        assert!(
            matches!(
                &err,
                ProvisionError::NoRoutableHost { scope: UnroutableScope::Loopback, tried, .. }
                    if *tried == [Locator::Host("::1".parse().unwrap())]
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("(tried: explicit host ::1)"),
            "{err}"
        );
    }
}
