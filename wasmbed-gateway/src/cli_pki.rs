//! `wasmbed-gateway pki`: a CA, the gateway's certificate, device certificates, CRLs and C headers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use wasmbed_endpoint::Host;
use wasmbed_tls::{
    CertificateAuthority, CertificateOptions, DeviceId, KeyAlgorithm, c_header, certificate_serial,
    check_crl, load_certificates, load_crls, save_crl,
};

#[derive(Debug, Subcommand)]
pub(crate) enum Pki {
    /// Make a CA: <out-dir>/<name>.pem, <name>-key.pem (0600) and <name>.h (C header).
    Ca {
        /// Directory to write into.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
        /// File name stem.
        #[arg(long, default_value = "ca")]
        name: String,
        /// Subject common name.
        #[arg(long, default_value = "wasmbed CA")]
        common_name: String,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Issue the gateway's certificate for the names and addresses devices dial.
    Gateway {
        /// The CA certificate.
        #[arg(long)]
        ca_cert: PathBuf,
        /// The CA key.
        #[arg(long)]
        ca_key: PathBuf,
        /// DNS name or IP address devices dial (repeatable).
        #[arg(long = "san", required = true, value_delimiter = ',')]
        sans: Vec<Host>,
        /// Directory to write gateway.pem and gateway-key.pem into.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Issue a device certificate for mTLS (CN = device id), as PEM and as C headers.
    Device {
        /// The device CA certificate.
        #[arg(long)]
        ca_cert: PathBuf,
        /// The device CA key.
        #[arg(long)]
        ca_key: PathBuf,
        /// The device id.
        #[arg(long)]
        id: String,
        /// Directory to write <id>.pem, <id>-key.pem and the firmware's C headers <id>.h and
        /// <id>-key.h into.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Revoke device certificates: add them to the device CA's CRL (created if missing; the
    /// entries already in it stay, the CRL number goes up), signed by the CA and written
    /// atomically. Then SIGHUP the gateway (or let it see the change) with --crl FILE.
    Revoke {
        /// The device CA certificate.
        #[arg(long)]
        ca_cert: PathBuf,
        /// The device CA key.
        #[arg(long)]
        ca_key: PathBuf,
        /// The CRL file to update (PEM).
        #[arg(long)]
        crl: PathBuf,
        /// Device id whose certificate <dir>/<id>.pem to revoke (repeatable).
        #[arg(long = "id", value_delimiter = ',')]
        ids: Vec<String>,
        /// Directory holding <id>.pem for --id.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Serial number to revoke, in hex (repeatable). With no --id and no --serial the CRL
        /// is only signed again with a fresh nextUpdate.
        #[arg(long = "serial", value_delimiter = ',', value_parser = parse_serial)]
        serials: Vec<Vec<u8>>,
        /// Days until the CRL's nextUpdate: publish a new one before then.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
        next_update_days: u32,
    },
    /// Print a certificate as a C header for Zephyr's tls_credential_add.
    CHeader {
        /// The certificate (PEM).
        #[arg(long)]
        cert: PathBuf,
        /// C array name.
        #[arg(long, default_value = "ca_certificate")]
        symbol: String,
    },
}

#[derive(Debug, Clone, Args)]
pub(crate) struct KeyArgs {
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = Algorithm::P256)]
    pub(crate) algorithm: Algorithm,
    /// Validity in days from now; default: 1970-01-01 to 9999-12-31, for devices without a clock.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) days: Option<u32>,
    /// Overwrite existing files (replacing a CA's key breaks every device that trusts it).
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Algorithm {
    P256,
    P384,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl KeyArgs {
    fn options(&self) -> CertificateOptions {
        CertificateOptions::default()
            .with_algorithm(match self.algorithm {
                Algorithm::P256 => KeyAlgorithm::EcdsaP256,
                Algorithm::P384 => KeyAlgorithm::EcdsaP384,
                Algorithm::Rsa2048 => KeyAlgorithm::Rsa2048,
                Algorithm::Rsa3072 => KeyAlgorithm::Rsa3072,
                Algorithm::Rsa4096 => KeyAlgorithm::Rsa4096,
            })
            .with_validity(
                self.days
                    .map(wasmbed_tls::Validity::days_from_now)
                    .unwrap_or_default(),
            )
    }
}

/// A certificate serial number in hex, as `openssl x509 -serial` prints it (`3FA201`) or
/// with colons, as `openssl x509 -text` does (`3f:a2:01`); 1-40 digits (RFC 5280 section
/// 4.1.2.2 allows 20 octets).
fn parse_serial(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| *c != ':').collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    let invalid =
        || format!("{text:?} is not a serial number: 1-40 hex digits, e.g. 3fa201 or 3f:a2:01");
    if digits.is_empty() || digits.len() > 40 {
        return Err(invalid());
    }
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits.to_owned()
    };
    hex::decode(padded).map_err(|_| invalid())
}

/// Refuses to replace existing files unless `force`.
fn check_new(paths: &[&Path], force: bool) -> Result<()> {
    if let Some(existing) = paths.iter().find(|p| p.exists()).filter(|_| !force) {
        bail!(
            "{} exists; refusing to overwrite it (pass --force to replace it)",
            existing.display()
        );
    }
    Ok(())
}

/// A file name stem: 1-64 of [A-Za-z0-9._-], not starting with '.', so it stays in --out-dir.
fn check_stem(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        bail!("--name {name:?} must be 1-64 of A-Z a-z 0-9 . _ - and not start with '.'");
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// The array in `<id>.h` that `pki device` writes: the device certificate, as the firmware's
/// `CONFIG_WASMBED_DEVICE_CERT_HEADER` declares it (`zephyr-app/src/network_handler.c`).
const DEVICE_CERTIFICATE_SYMBOL: &str = "device_certificate";

/// The array in `<id>-key.h`: the device's private key (PKCS #8 DER), for
/// `CONFIG_WASMBED_DEVICE_KEY_HEADER`.
const DEVICE_PRIVATE_KEY_SYMBOL: &str = "device_private_key";

pub(crate) fn run_pki(pki: Pki) -> Result<()> {
    match pki {
        Pki::Ca {
            out_dir,
            name,
            common_name,
            key,
        } => {
            check_stem(&name)?;
            let cert = out_dir.join(format!("{name}.pem"));
            let key_path = out_dir.join(format!("{name}-key.pem"));
            let header = out_dir.join(format!("{name}.h"));
            check_new(&[&cert, &key_path, &header], key.force)?;
            create_dir(&out_dir)?;
            let ca = CertificateAuthority::generate(&common_name, &key.options())?;
            ca.save(&cert, &key_path)?;
            let symbol = format!(
                "{}_certificate",
                name.to_ascii_lowercase().replace(['.', '-'], "_")
            );
            let symbol = if symbol.starts_with(|c: char| c.is_ascii_lowercase()) {
                symbol
            } else {
                format!("ca_{symbol}")
            };
            std::fs::write(&header, c_header(ca.certificate(), &symbol)?)
                .with_context(|| format!("cannot write {}", header.display()))?;
            println!(
                "wrote {}, {} (0600) and {}",
                cert.display(),
                key_path.display(),
                header.display()
            );
        }
        Pki::Gateway {
            ca_cert,
            ca_key,
            sans,
            out_dir,
            key,
        } => {
            let ca = CertificateAuthority::load(&ca_cert, &ca_key)
                .context("cannot load the CA (--ca-cert, --ca-key)")?;
            let (cert, key_path) = (out_dir.join("gateway.pem"), out_dir.join("gateway-key.pem"));
            check_new(&[&cert, &key_path], key.force)?;
            create_dir(&out_dir)?;
            let identity = ca.issue_gateway(&sans, &key.options())?;
            identity.save(&cert, &key_path)?;
            println!(
                "wrote {} and {} (0600); Certificate message {} bytes",
                cert.display(),
                key_path.display(),
                wasmbed_tls::certificate_message_len(identity.chain())
            );
        }
        Pki::Device {
            ca_cert,
            ca_key,
            id,
            out_dir,
            key,
        } => {
            let ca = CertificateAuthority::load(&ca_cert, &ca_key)
                .context("cannot load the CA (--ca-cert, --ca-key)")?;
            let id = DeviceId::new(&id)?;
            let (cert, key_path) = (
                out_dir.join(format!("{id}.pem")),
                out_dir.join(format!("{id}-key.pem")),
            );
            let (cert_header, key_header) = (
                out_dir.join(format!("{id}.h")),
                out_dir.join(format!("{id}-key.h")),
            );
            check_new(&[&cert, &key_path, &cert_header, &key_header], key.force)?;
            // The certificate being replaced stays valid (by default until 9999) until it is
            // revoked; say how, since nothing else will.
            let replaced = load_certificates(&cert)
                .ok()
                .and_then(|chain| chain.first().cloned())
                .and_then(|old| certificate_serial(&old).ok());
            create_dir(&out_dir)?;
            let identity = ca.issue_device(&id, &key.options())?;
            identity.save(&cert, &key_path)?;
            identity.save_c_headers(
                &cert_header,
                DEVICE_CERTIFICATE_SYMBOL,
                &key_header,
                DEVICE_PRIVATE_KEY_SYMBOL,
            )?;
            println!(
                "wrote {} and {} (0600), and for the firmware {} and {} (0600, secret)",
                cert.display(),
                key_path.display(),
                cert_header.display(),
                key_header.display()
            );
            if let Some(serial) = replaced {
                let serial = hex::encode(serial);
                eprintln!(
                    "warning: the certificate replaced in {} (serial {serial}) is still valid; revoke it unless it was never deployed: wasmbed-gateway pki revoke --ca-cert {} --ca-key {} --crl <your CRL> --serial {serial}",
                    cert.display(),
                    ca_cert.display(),
                    ca_key.display()
                );
            }
        }
        Pki::Revoke {
            ca_cert,
            ca_key,
            crl,
            ids,
            dir,
            serials,
            next_update_days,
        } => {
            let ca = CertificateAuthority::load(&ca_cert, &ca_key)
                .context("cannot load the CA (--ca-cert, --ca-key)")?;
            let previous = if crl.exists() {
                let mut crls = load_crls(&crl).context("cannot read the existing CRL (--crl)")?;
                if crls.len() != 1 {
                    bail!(
                        "{} holds {} CRLs; pki revoke keeps one CRL per file",
                        crl.display(),
                        crls.len()
                    );
                }
                crls.pop()
            } else {
                None
            };
            let mut revoke = serials;
            for id in &ids {
                let id = DeviceId::new(id)?;
                let path = dir.join(format!("{id}.pem"));
                let cert = load_certificates(&path)?;
                revoke.push(certificate_serial(&cert[0])?);
            }
            let next_update = Duration::from_secs(u64::from(next_update_days) * 24 * 60 * 60);
            let signed = ca.revoke(previous.as_ref(), &revoke, next_update)?;
            let status = check_crl(&crl, &signed, std::slice::from_ref(ca.certificate()))?;
            save_crl(&crl, &signed)?;
            println!(
                "wrote {}: CRL number {}, {} revoked certificate(s), next update in {next_update_days} days; reload the gateway (SIGHUP) if it does not watch the file",
                crl.display(),
                status.number.unwrap_or(0),
                status.revoked.len()
            );
        }
        Pki::CHeader { cert, symbol } => {
            let certs = load_certificates(&cert)?;
            print!("{}", c_header(&certs[0], &symbol)?);
        }
    }
    Ok(())
}
