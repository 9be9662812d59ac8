//! The mailbox region read from a firmware ELF's symbols. Each test links a tiny ELF with the
//! system C compiler and linker and a linker script laid out like Zephyr's: flash, `sram0`,
//! and the `GWMAILBOX` NOLOAD section with the symbols of
//! `include/zephyr/linker/devicetree_regions.h`.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasmbed_renode::reader::read_writes;
use wasmbed_renode::{
    Board, ElfError, Mailbox, MailboxError, MailboxRegion, ScriptBuilder, render,
};

/// The firmware's side: the mailbox buffer placed in the region's section (or not).
const FIRMWARE_C: &str = r#"
#ifdef WITH_MAILBOX
__attribute__((section("GWMAILBOX"), used)) volatile unsigned char mailbox[MAILBOX_SIZE];
#endif
unsigned int counter;           /* .bss in sram0 */
unsigned char stacks[8192];     /* .bss too: thread stacks, 8 KiB */
unsigned int initialised = 7;   /* .data in sram0, loaded from flash */
void _start(void) { for (;;) { counter += initialised; } }
"#;

/// Zephyr's layout in miniature; `SRAM0` and the mailbox come from the test.
fn linker_script(sram0: (u32, u32), mailbox: (u32, u32)) -> String {
    format!(
        r#"
MEMORY {{
    FLASH (rx) : ORIGIN = 0x00400000, LENGTH = 0x200000
    RAM (rwx) : ORIGIN = {:#x}, LENGTH = {:#x}
    GWMAILBOX (rw) : ORIGIN = {:#x}, LENGTH = {:#x}
}}
ENTRY(_start)
SECTIONS {{
    .text : {{ *(.text*) }} > FLASH
    .data : {{ *(.data*) }} > RAM AT > FLASH
    .bss (NOLOAD) : {{ *(.bss*) *(COMMON) }} > RAM
    GWMAILBOX {:#x} (NOLOAD) : {{
        __GWMAILBOX_start = .;
        KEEP(*(GWMAILBOX))
        KEEP(*(GWMAILBOX.*))
        __GWMAILBOX_end = .;
    }} > GWMAILBOX
    __GWMAILBOX_size = __GWMAILBOX_end - __GWMAILBOX_start;
    __GWMAILBOX_load_start = LOADADDR(GWMAILBOX);
    /DISCARD/ : {{ *(.note*) *(.eh_frame*) *(.comment) }}
}}
"#,
        sram0.0, sram0.1, mailbox.0, mailbox.1, mailbox.0
    )
}

/// Compiles and links the test firmware in `dir`; `buffer` is the size of the mailbox buffer
/// placed in the section, if any.
fn link(
    dir: &Path,
    sram0: (u32, u32),
    mailbox: (u32, u32),
    buffer: Option<u32>,
    extra_symbols: &str,
    ld_flags: &[&str],
) -> PathBuf {
    std::fs::write(dir.join("fw.c"), FIRMWARE_C).unwrap();
    std::fs::write(
        dir.join("fw.ld"),
        linker_script(sram0, mailbox) + extra_symbols,
    )
    .unwrap();
    let mut cc = Command::new("cc");
    cc.current_dir(dir).args([
        "-c",
        "-O1",
        "-ffreestanding",
        "-fno-pic",
        "-fno-asynchronous-unwind-tables",
    ]);
    if let Some(size) = buffer {
        cc.args(["-DWITH_MAILBOX", &format!("-DMAILBOX_SIZE={size}")]);
    }
    run(cc.args(["fw.c", "-o", "fw.o"]));
    run(Command::new("ld").current_dir(dir).args(ld_flags).args([
        "-static",
        "-nostdlib",
        "-T",
        "fw.ld",
        "fw.o",
        "-o",
        "zephyr.elf",
    ]));
    dir.join("zephyr.elf")
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run {command:?} (the ELF tests need a C compiler and ld, e.g. Debian's gcc): {e}")
    });
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const SAM_E70_SRAM0: (u32, u32) = (0x2040_0000, 0x6_0000);

#[test]
fn reads_the_region_like_the_sam_e70_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let elf = link(
        dir.path(),
        SAM_E70_SRAM0,
        (0x2000_1000, 0x200),
        Some(0x200),
        "",
        &[],
    );
    let region = MailboxRegion::read_elf(&elf).unwrap();
    assert_eq!(region, Board::SAM_E70_XPLAINED.mailbox);

    // The region from the ELF drives the script; the firmware's reader finds the endpoint.
    let mailbox = Mailbox::place(region, &"10.42.0.12:8081".parse().unwrap()).unwrap();
    let script = ScriptBuilder::new(Board::SAM_E70_XPLAINED)
        .with_elf(&elf)
        .unwrap()
        .with_mailbox(mailbox)
        .build()
        .unwrap();
    let mut ram = vec![0u8; region.size() as usize];
    for write in read_writes(&render(&script)).unwrap() {
        write.apply(u64::from(region.base()), &mut ram).unwrap();
    }
    let endpoint = wasmbed_zephyr_host::mailbox_read(&ram).unwrap();
    assert_eq!(endpoint.text, b"10.42.0.12:8081");
}

#[test]
fn reads_a_region_carved_from_the_top_of_sram0() {
    let dir = tempfile::tempdir().unwrap();
    let elf = link(
        dir.path(),
        (0x2000_0000, 0x2_fc00),
        (0x2002_fc00, 0x400),
        Some(0x400),
        "",
        &[],
    );
    let region = MailboxRegion::read_elf(&elf).unwrap();
    assert_eq!(region, Board::FRDM_K64F.mailbox);
    let endpoint = "10.42.0.12:8081".parse().unwrap();
    assert!(matches!(
        Mailbox::place_at(region, 0x2000_1000, &endpoint),
        Err(MailboxError::OutsideRegion { .. })
    ));
    assert!(Mailbox::place_at(region, 0x2002_fc00, &endpoint).is_ok());
}

#[test]
fn a_small_region_refuses_a_long_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let elf = link(
        dir.path(),
        SAM_E70_SRAM0,
        (0x2000_1000, 0x20),
        Some(0x20),
        "",
        &[],
    );
    let region = MailboxRegion::read_elf(&elf).unwrap();
    assert_eq!(region.size(), 0x20);
    assert!(Mailbox::place(region, &"10.42.0.12:8081".parse().unwrap()).is_ok());
    let err =
        Mailbox::place(region, &"gateway.wasmbed.example.org:8081".parse().unwrap()).unwrap_err();
    assert!(
        matches!(err, MailboxError::DoesNotFit { needed: 36, .. }),
        "{err}"
    );
}

#[test]
fn an_empty_section_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let elf = link(
        dir.path(),
        SAM_E70_SRAM0,
        (0x2000_1000, 0x200),
        None,
        "",
        &[],
    );
    let err = MailboxRegion::read_elf(&elf).unwrap_err();
    assert!(
        matches!(
            err,
            ElfError::EmptySection {
                start: 0x2000_1000,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("Z_GENERIC_SECTION(GWMAILBOX)"),
        "{err}"
    );
}

#[test]
fn a_region_inside_sram0_is_refused() {
    // The seed's address on a board whose sram0 starts at 0x20000000: .bss lands on it. GNU
    // ld refuses to link that by itself; an ELF linked without its check must not pass here.
    let dir = tempfile::tempdir().unwrap();
    let elf = link(
        dir.path(),
        (0x2000_0000, 0x3_0000),
        (0x2000_1000, 0x200),
        Some(0x200),
        "",
        &["--no-check-sections"],
    );
    let err = MailboxRegion::read_elf(&elf).unwrap_err();
    match &err {
        ElfError::Overlap { section, .. } => {
            assert!(section == ".bss" || section == ".data", "{err}")
        }
        other => panic!("expected an overlap, got {other}"),
    }
    assert!(err.to_string().contains("shrink sram0"), "{err}");
}

#[test]
fn missing_or_inconsistent_symbols_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let elf = link(
        dir.path(),
        SAM_E70_SRAM0,
        (0x2000_1000, 0x200),
        Some(0x200),
        "",
        &[],
    );
    let bytes = std::fs::read(&elf).unwrap();
    let err = MailboxRegion::from_elf_named(&bytes, "OTHERBOX").unwrap_err();
    assert!(
        matches!(&err, ElfError::MissingSymbol { symbol } if symbol == "__OTHERBOX_start"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    // A wrong __GWMAILBOX_size cannot be defined twice; define the region under another name
    // with an inconsistent size instead.
    let elf = link(
        dir.path(),
        SAM_E70_SRAM0,
        (0x2000_1000, 0x200),
        Some(0x200),
        "__ODD_start = 0x20001000; __ODD_end = 0x20001200; __ODD_size = 0x100;\n",
        &[],
    );
    let bytes = std::fs::read(&elf).unwrap();
    let err = MailboxRegion::from_elf_named(&bytes, "ODD").unwrap_err();
    assert!(
        matches!(
            &err,
            ElfError::InconsistentSymbols { name, size: 0x100, span: 0x200 } if name == "ODD"
        ),
        "{err}"
    );
}

#[test]
fn files_that_are_not_elf_are_refused() {
    assert!(matches!(
        MailboxRegion::from_elf(b"#!/bin/sh\necho not an elf\n"),
        Err(ElfError::NotElf { .. })
    ));
    let err = MailboxRegion::read_elf(Path::new("/nonexistent/zephyr.elf")).unwrap_err();
    assert!(matches!(err, ElfError::Io { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/zephyr.elf"), "{err}");
    // The operating system's error is the source, printed once by a `{:#}` chain.
    let source = std::error::Error::source(&err).expect("the io::Error is the source");
    assert!(!err.to_string().contains(&source.to_string()), "{err}");
}
