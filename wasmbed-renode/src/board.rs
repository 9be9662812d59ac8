//! Board presets: the Renode platform and peripheral names of each Zephyr board the project
//! runs, and where its firmware reserves the endpoint mailbox.
//!
//! Source: Renode's platform descriptions (`platforms/boards/*.repl` in the Renode
//! repository), Zephyr's board devicetrees, and the firmware's overlays in `zephyr-app/boards/`.

use crate::mailbox::MailboxRegion;

/// A Zephyr board as Renode emulates it.
///
/// # Examples
///
/// ```
/// use wasmbed_renode::Board;
///
/// let board = Board::find("sam_e70_xplained/same70q21").expect("a preset");
/// assert_eq!(board.platform, "platforms/cpus/sam_e70.repl");
/// assert_eq!(board.uart, "usart1");
/// assert_eq!(board.mailbox.base(), 0x2000_1000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Board {
    /// Zephyr's board target (`west build -b <zephyr>`).
    pub zephyr: &'static str,
    /// The platform description, relative to Renode's install root.
    pub platform: &'static str,
    /// The CPU's name in the platform description (for `PerformanceInMips`).
    pub cpu: &'static str,
    /// The console UART's name on `sysbus`.
    pub uart: &'static str,
    /// The Ethernet controller's name on `sysbus`.
    pub nic: &'static str,
    /// The mailbox region the firmware's overlay for this board reserves.
    pub mailbox: MailboxRegion,
    /// Whether `zephyr-app/boards/` has an overlay for this board; without one the firmware
    /// must be built with an overlay reserving [`mailbox`](Board::mailbox) first.
    pub has_overlay: bool,
}

impl Board {
    /// `sam_e70_xplained/same70q21` on `platforms/cpus/sam_e70.repl`: CadenceGEM `gem`,
    /// console `usart1`, mailbox at the seed's `0x20001000` (outside Zephyr's `sram0`),
    /// 0x200 bytes. Renode's CI runs Zephyr networking on this platform; the recommended
    /// board.
    pub const SAM_E70_XPLAINED: Board = Board {
        zephyr: "sam_e70_xplained/same70q21",
        platform: "platforms/cpus/sam_e70.repl",
        cpu: "cpu",
        uart: "usart1",
        nic: "gem",
        mailbox: MailboxRegion::SAM_E70_XPLAINED,
        has_overlay: true,
    };

    /// `frdm_k64f` on `platforms/cpus/nxp-k6xf.repl`: K6xF_Ethernet `eth`, console `uart0`,
    /// mailbox carved from the top of `sram0`: `0x2002fc00`, 0x400 bytes.
    pub const FRDM_K64F: Board = Board {
        zephyr: "frdm_k64f",
        platform: "platforms/cpus/nxp-k6xf.repl",
        cpu: "cpu",
        uart: "uart0",
        nic: "eth",
        mailbox: MailboxRegion::FRDM_K64F,
        has_overlay: true,
    };

    /// `nucleo_f429zi` on `platforms/boards/stm32f4_discovery-kit.repl`: SynopsysEthernetMAC
    /// `ethernet`, console `usart3`. A fallback (Renode's MAC model has stalled with newer
    /// STM32 Ethernet drivers). No overlay in `zephyr-app/boards/` yet; the preset
    /// assumes one carving the top 1 KiB of its 192 KiB `sram0`, as for `frdm_k64f`.
    pub const NUCLEO_F429ZI: Board = Board {
        zephyr: "nucleo_f429zi",
        platform: "platforms/boards/stm32f4_discovery-kit.repl",
        cpu: "cpu",
        uart: "usart3",
        nic: "ethernet",
        mailbox: MailboxRegion::TOP_OF_192K_SRAM,
        has_overlay: false,
    };

    /// Every preset, the recommended one first.
    pub const ALL: [Board; 3] = [
        Board::SAM_E70_XPLAINED,
        Board::FRDM_K64F,
        Board::NUCLEO_F429ZI,
    ];

    /// The preset for a Zephyr board target; `_` may stand for `/`
    /// (`sam_e70_xplained_same70q21`, as in overlay file names).
    pub fn find(zephyr: &str) -> Option<Board> {
        Board::ALL
            .into_iter()
            .find(|board| board.zephyr == zephyr || board.zephyr.replace('/', "_") == zephyr)
    }
}

impl Default for Board {
    /// [`Board::SAM_E70_XPLAINED`].
    fn default() -> Board {
        Board::SAM_E70_XPLAINED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_firmware_overlays() {
        let overlays = concat!(env!("CARGO_MANIFEST_DIR"), "/../zephyr-app/boards");
        for board in Board::ALL.iter().filter(|b| b.has_overlay) {
            let file = format!("{overlays}/{}.overlay", board.zephyr.replace('/', "_"));
            let text = std::fs::read_to_string(&file).unwrap();
            let reg = format!(
                "reg = <{:#x} {:#x}>;",
                board.mailbox.base(),
                board.mailbox.size()
            );
            assert!(text.contains(&reg), "{file} does not contain `{reg}`");
            assert!(
                text.contains("zephyr,memory-region = \"GWMAILBOX\""),
                "{file}"
            );
        }
    }

    #[test]
    fn find_by_target_or_file_name() {
        assert_eq!(Board::find("frdm_k64f"), Some(Board::FRDM_K64F));
        assert_eq!(
            Board::find("sam_e70_xplained_same70q21"),
            Some(Board::SAM_E70_XPLAINED)
        );
        assert_eq!(Board::find("nrf52840dk/nrf52840"), None);
        assert_eq!(Board::ALL[0], Board::default());
    }
}
