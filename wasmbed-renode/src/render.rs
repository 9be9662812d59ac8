//! The pure renderer: [`render`].

use std::fmt::Write;

use crate::script::{Script, Uart};

/// Renders `script` as a Renode `.resc`, in the order Renode needs (a machine and its platform
/// before any peripheral command, the ELF loaded before the mailbox writes that follow it):
///
/// 1. `:name:` and `:description:` header comments;
/// 2. `$name?=` and `$bin?=` defaults, so an including script can override them;
/// 3. `using sysbus`, `mach create $name`, `machine LoadPlatformDescription`;
/// 4. optional `cpu PerformanceInMips` and `logFile`;
/// 5. the UART: `showAnalyzer`, or a server socket terminal and its `connector Connect`;
/// 6. optional networking: switch, NIC connection, TAP, TAP connection;
/// 7. `macro reset` holding `sysbus LoadELF $bin`, then a `sysbus ZeroRange` of the whole
///    mailbox region, then one `sysbus WriteDoubleWord` per mailbox word;
/// 8. `runMacro $reset` and `start`.
///
/// Renode keeps RAM across a machine reset and replays the machine's `reset` macro after
/// every reset, so the endpoint is rewritten after every `LoadELF`, on every reset and every
/// Renode start. The output ends with a new line and uses `\n` line ends; lines in the macro
/// are not indented, so the mailbox lines appear exactly as `wasmbed-gateway endpoint encode`
/// prints them.
pub fn render(script: &Script) -> String {
    let mut out = String::with_capacity(2048);
    // Writing to a String cannot fail.
    let _ = write_script(&mut out, script);
    out
}

fn write_script(out: &mut String, s: &Script) -> std::fmt::Result {
    writeln!(out, ":name: wasmbed device {}", s.machine)?;
    writeln!(out, ":description: {}", s.description)?;
    writeln!(out)?;
    writeln!(out, "$name?=\"{}\"", s.machine)?;
    writeln!(out, "$bin?=@{}", s.elf)?;
    writeln!(out)?;
    writeln!(out, "using sysbus")?;
    writeln!(out, "mach create $name")?;
    writeln!(out, "machine LoadPlatformDescription @{}", s.platform)?;
    if let Some(mips) = s.performance_mips {
        writeln!(out, "{} PerformanceInMips {mips}", s.cpu)?;
    }
    if let Some(log) = &s.log_file {
        writeln!(out, "logFile @{log} true")?;
    }
    writeln!(out)?;
    match s.uart {
        Uart::Analyzer => writeln!(out, "showAnalyzer sysbus.{}", s.uart_name)?,
        Uart::Socket { port, telnet } => {
            writeln!(
                out,
                "emulation CreateServerSocketTerminal {port} \"term\" {telnet}"
            )?;
            writeln!(out, "connector Connect sysbus.{} term", s.uart_name)?;
        }
    }
    if let Some(network) = &s.network {
        writeln!(out)?;
        writeln!(out, "emulation CreateSwitch \"switch\"")?;
        writeln!(out, "connector Connect sysbus.{} switch", s.nic)?;
        let keep = if network.keeps_tap() { " true" } else { "" };
        writeln!(
            out,
            "emulation CreateTap \"{}\" \"tap\"{keep}",
            network.tap_name()
        )?;
        writeln!(out, "connector Connect host.tap switch")?;
    }
    writeln!(out)?;
    writeln!(out, "macro reset")?;
    writeln!(out, "\"\"\"")?;
    writeln!(out, "sysbus LoadELF $bin")?;
    for op in s.mailbox.ops() {
        writeln!(out, "{op}")?;
    }
    writeln!(out, "\"\"\"")?;
    writeln!(out, "runMacro $reset")?;
    writeln!(out)?;
    writeln!(out, "start")
}
