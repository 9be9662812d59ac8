//! `wasmbed-gateway renode script|provision`: the binary's front end to `wasmbed-renode`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use wasmbed_endpoint::{DEFAULT_TLS_PORT, DnsName, Endpoint, Host};
use wasmbed_renode::{
    Board, DEFAULT_ARTEFACT_DIR, DeviceId, Locator, Mailbox, MailboxRegion, Network, Provisioning,
    ScriptBuilder, Uart, provision, render,
};

use crate::cli::parse_u32;

#[derive(Debug, Subcommand)]
// Parsed once per run; boxing the inline endpoint would only add noise.
#[allow(clippy::large_enum_variant)]
pub(crate) enum RenodeCommand {
    /// Print (or write) the Renode script that boots the firmware with ENDPOINT in its mailbox.
    Script {
        /// The endpoint devices dial, e.g. 10.42.0.12:8081.
        #[arg(long, env = "WASMBED_GATEWAY_RENODE_ENDPOINT")]
        endpoint: Endpoint,
        /// The machine's name in Renode, usually the device id.
        #[arg(
            long,
            env = "WASMBED_GATEWAY_RENODE_DEVICE_ID",
            default_value = "wasmbed-device"
        )]
        device_id: String,
        /// Write the script to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        script: ScriptArgs,
    },
    /// Resolve the device-facing endpoint and write renode_prewrite_<ID>.resc and
    /// gateway_endpoint_memory_<ID>.txt for one device.
    Provision {
        /// The device id (1 to 64 of A-Z a-z 0-9 . _ -).
        #[arg(long, env = "WASMBED_GATEWAY_RENODE_DEVICE_ID")]
        device_id: String,
        /// The gateway's address or URL as configured (http://gw:8080, 10.42.0.12, [::1]:8080).
        #[arg(
            long,
            env = "WASMBED_GATEWAY_ADDRESS",
            default_value = "http://127.0.0.1:8080"
        )]
        gateway_address: String,
        /// The gateway's TLS port for devices.
        #[arg(long, env = "WASMBED_GATEWAY_DEVICE_TLS_PORT", default_value_t = DEFAULT_TLS_PORT)]
        tls_port: u16,
        /// When the gateway address is loopback: use this host (first choice).
        #[arg(long, env = "WASMBED_GATEWAY_DEVICE_HOST")]
        device_host: Option<Host>,
        /// When the gateway address is loopback: the environment variable holding the pod IP
        /// (Downward API status.podIP), tried second.
        #[arg(long, env = "WASMBED_GATEWAY_POD_IP_ENV", default_value = "POD_IP")]
        pod_ip_env: String,
        /// When the gateway address is loopback: a DNS name, e.g. a headless Service, tried last.
        #[arg(long, env = "WASMBED_GATEWAY_DEVICE_DNS")]
        device_dns: Option<DnsName>,
        /// Directory for the artefacts.
        #[arg(long, env = "WASMBED_GATEWAY_RENODE_DIR", default_value = DEFAULT_ARTEFACT_DIR)]
        out_dir: PathBuf,
        #[command(flatten)]
        script: ScriptArgs,
    },
}

/// What the script contains, shared by both subcommands.
#[derive(Debug, Args)]
pub(crate) struct ScriptArgs {
    /// The firmware ELF (build/zephyr/zephyr.elf), loaded by the script; its mailbox region
    /// is read from its __GWMAILBOX_* symbols unless --no-read-elf.
    #[arg(long, env = "WASMBED_GATEWAY_RENODE_ELF")]
    elf: PathBuf,
    /// Do not read the ELF (it is only on the Renode machine): take the mailbox from the
    /// board preset or --mailbox-base/--mailbox-size.
    #[arg(long)]
    no_read_elf: bool,
    /// Zephyr board target: sam_e70_xplained/same70q21, frdm_k64f or nucleo_f429zi.
    #[arg(long, env = "WASMBED_GATEWAY_RENODE_BOARD", default_value = "sam_e70_xplained/same70q21", value_parser = parse_board)]
    board: Board,
    /// Mailbox address; must be the start of the firmware's region.
    #[arg(long, env = "WASMBED_GATEWAY_RENODE_MAILBOX_BASE", value_parser = parse_u32)]
    mailbox_base: Option<u32>,
    /// Mailbox region size in bytes (with --no-read-elf only).
    #[arg(long, env = "WASMBED_GATEWAY_RENODE_MAILBOX_SIZE", value_parser = parse_u32, requires = "no_read_elf")]
    mailbox_size: Option<u32>,
    /// Serve the console UART on this TCP port (raw, no telnet negotiation); default: log it.
    #[arg(long, env = "WASMBED_GATEWAY_RENODE_UART_PORT")]
    uart_port: Option<u16>,
    /// Connect the board's NIC to this host TAP interface through a Renode switch.
    #[arg(long, env = "WASMBED_GATEWAY_RENODE_TAP")]
    tap: Option<String>,
    /// Renode's log file.
    #[arg(long, env = "WASMBED_GATEWAY_RENODE_LOG_FILE")]
    log_file: Option<PathBuf>,
    /// Emulated CPU speed in MIPS.
    #[arg(long, env = "WASMBED_GATEWAY_RENODE_MIPS")]
    performance_mips: Option<u32>,
}

fn parse_board(name: &str) -> Result<Board, String> {
    Board::find(name).ok_or_else(|| {
        let known: Vec<&str> = Board::ALL.iter().map(|b| b.zephyr).collect();
        format!("no preset for board {name:?}; known: {}", known.join(", "))
    })
}

impl ScriptArgs {
    /// The builder (everything but the mailbox) and the mailbox region.
    fn builder(&self) -> Result<(ScriptBuilder, MailboxRegion)> {
        let elf = std::path::absolute(&self.elf)
            .with_context(|| format!("cannot make {} absolute", self.elf.display()))?;
        let region = if self.no_read_elf {
            match (self.mailbox_base, self.mailbox_size) {
                (None, None) => self.board.mailbox,
                (Some(base), size) => {
                    let size = match size {
                        Some(size) => size,
                        None if base == self.board.mailbox.base() => self.board.mailbox.size(),
                        None => bail!(
                            "--mailbox-base {base:#x} differs from the {} preset's {:#x}: give \
                             --mailbox-size too",
                            self.board.zephyr,
                            self.board.mailbox.base()
                        ),
                    };
                    MailboxRegion::new(base, size)?
                }
                (None, Some(size)) => MailboxRegion::new(self.board.mailbox.base(), size)?,
            }
        } else {
            // The error names the ELF already; the context only adds the way out.
            MailboxRegion::read_elf(&elf).context(
                "the mailbox region comes from the firmware ELF (if the ELF is only on the \
                 Renode machine, pass --no-read-elf)",
            )?
        };
        let mut builder = ScriptBuilder::new(self.board).with_elf(&elf)?;
        if let Some(port) = self.uart_port {
            builder = builder.uart(Uart::socket(port))?;
        }
        if let Some(tap) = &self.tap {
            builder = builder.network(Some(Network::tap(tap)?));
        }
        if let Some(log) = &self.log_file {
            builder = builder.log_file(std::path::absolute(log)?)?;
        }
        if let Some(mips) = self.performance_mips {
            builder = builder.performance_mips(mips);
        }
        Ok((builder, region))
    }
}

pub(crate) fn run(command: RenodeCommand) -> Result<()> {
    match command {
        RenodeCommand::Script {
            endpoint,
            device_id,
            out,
            script,
        } => {
            let (builder, region) = script.builder()?;
            let mailbox = match script.mailbox_base {
                Some(base) => Mailbox::place_at(region, base, &endpoint)?,
                None => Mailbox::place(region, &endpoint)?,
            };
            let text = render(&builder.machine(&device_id)?.with_mailbox(mailbox).build()?);
            match out {
                Some(path) => write_file(&path, &text)?,
                None => print!("{text}"),
            }
        }
        RenodeCommand::Provision {
            device_id,
            gateway_address,
            tls_port,
            device_host,
            pod_ip_env,
            device_dns,
            out_dir,
            script,
        } => {
            let (builder, region) = script.builder()?;
            let mut locators = Vec::new();
            locators.extend(device_host.map(Locator::Host));
            if !pod_ip_env.is_empty() {
                locators.push(Locator::PodIpEnv(pod_ip_env));
            }
            locators.extend(device_dns.map(Locator::Dns));
            let provisioned = provision(
                &Provisioning::new(DeviceId::new(&device_id)?, gateway_address, builder)
                    .with_tls_port(tls_port)
                    .with_locators(locators)
                    .with_region(region)
                    .with_mailbox_address(script.mailbox_base)
                    .with_dir(out_dir),
                |var| std::env::var(var).ok(),
            )?;
            println!("{}", provisioned.artefacts.script.display());
            println!("{}", provisioned.artefacts.memory.display());
        }
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
