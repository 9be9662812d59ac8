//! Reading the mailbox region from a firmware ELF: [`MailboxRegion::read_elf`] and
//! [`MailboxRegion::from_elf`].
//!
//! The firmware reserves the mailbox as a devicetree `zephyr,memory-region` named
//! `GWMAILBOX` (`zephyr-app/boards/*.overlay`). Zephyr's linker script turns it into a NOLOAD
//! output section with the symbols `__GWMAILBOX_start`, `__GWMAILBOX_end` and
//! `__GWMAILBOX_size` (`include/zephyr/linker/devicetree_regions.h`); start-up code never
//! clears it, and Renode's `sysbus LoadELF` loads only sections with contents, so it never
//! writes a NOLOAD region either.
//!
//! # Why must the firmware put a buffer in the section?
//!
//! Zephyr defines `__GWMAILBOX_end` as the end of what was *placed* in the section, not the
//! end of the devicetree region. If no object is placed there, `__GWMAILBOX_size` is 0 and the
//! ELF does not tell how large the region is. [`MailboxRegion::from_elf`] refuses such an ELF
//! instead of guessing; the firmware places its mailbox buffer in the section
//! (`Z_GENERIC_SECTION(GWMAILBOX)`, sized `DT_REG_SIZE(DT_NODELABEL(gw_mailbox))`).

use std::path::Path;

use object::read::elf::{ElfFile32, ElfFile64, FileHeader};
use object::{Endianness, Object, ObjectSection, ObjectSymbol, SectionFlags, elf};

use crate::error::{ElfError, NotElfCause, NotElfKind};
use crate::mailbox::MailboxRegion;

/// Largest firmware ELF [`MailboxRegion::read_elf`] reads, in bytes (64 MiB). A Zephyr image
/// with debug information is a few MiB; the limit keeps a wrong path from exhausting memory.
pub const MAX_ELF_LEN: u64 = 64 << 20;

/// The devicetree region name the firmware uses (`zephyr,memory-region = "GWMAILBOX"`).
pub const REGION_NAME: &str = "GWMAILBOX";

impl MailboxRegion {
    /// Reads the `GWMAILBOX` region from a firmware ELF's symbols; see
    /// [`from_elf_named`](MailboxRegion::from_elf_named).
    ///
    /// # Errors
    ///
    /// As [`from_elf_named`](MailboxRegion::from_elf_named).
    pub fn from_elf(elf: &[u8]) -> Result<MailboxRegion, ElfError> {
        MailboxRegion::from_elf_named(elf, REGION_NAME)
    }

    /// Reads the region `name` from a firmware ELF: `__<name>_start`, and the size from
    /// `__<name>_size` or `__<name>_end` (both must agree when both exist).
    ///
    /// It also checks that the ELF is little-endian (the mailbox layout is) and that no other
    /// allocated section overlaps the region: one that did (`.bss`, `.noinit`, a stack) would
    /// be cleared or reused by the firmware at boot.
    ///
    /// # Errors
    ///
    /// [`ElfError`]: not an ELF, big-endian, a symbol missing, sizes that disagree, an empty
    /// section (see the module documentation), a region beyond 32 bits or misaligned, or an
    /// overlapping section.
    pub fn from_elf_named(elf: &[u8], name: &str) -> Result<MailboxRegion, ElfError> {
        let kind = object::FileKind::parse(elf).map_err(not_elf)?;
        match kind {
            object::FileKind::Elf32 => {
                let file = ElfFile32::<Endianness>::parse(elf).map_err(not_elf)?;
                region_in(&file, file.elf_header().is_little_endian(), name)
            }
            object::FileKind::Elf64 => {
                let file = ElfFile64::<Endianness>::parse(elf).map_err(not_elf)?;
                region_in(&file, file.elf_header().is_little_endian(), name)
            }
            other => Err(ElfError::NotElf {
                source: NotElfCause(NotElfKind::Format(other)),
            }),
        }
    }

    /// Reads `path` (at most [`MAX_ELF_LEN`] bytes) and the `GWMAILBOX` region from it.
    ///
    /// # Errors
    ///
    /// [`ElfError::Io`] when the file cannot be read, [`ElfError::TooLarge`] above the limit,
    /// otherwise as [`from_elf`](MailboxRegion::from_elf).
    pub fn read_elf(path: &Path) -> Result<MailboxRegion, ElfError> {
        use std::io::Read;
        let io = |source: std::io::Error| ElfError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(MAX_ELF_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_ELF_LEN {
            return Err(ElfError::TooLarge {
                path: path.to_owned(),
            });
        }
        MailboxRegion::from_elf(&bytes)
    }
}

fn not_elf(e: object::Error) -> ElfError {
    ElfError::NotElf {
        source: NotElfCause(NotElfKind::Parse(e)),
    }
}

fn region_in<'data>(
    file: &impl Object<'data>,
    little_endian: bool,
    name: &str,
) -> Result<MailboxRegion, ElfError> {
    if !little_endian {
        return Err(ElfError::BigEndian);
    }
    let symbol = |suffix: &str| {
        let wanted = format!("__{name}_{suffix}");
        file.symbols()
            .find(|s| s.name() == Ok(wanted.as_str()))
            .map(|s| s.address())
    };
    let start = symbol("start").ok_or_else(|| ElfError::MissingSymbol {
        symbol: format!("__{name}_start"),
    })?;
    let by_size = symbol("size");
    let by_end = symbol("end").map(|end| end.wrapping_sub(start));
    let size = match (by_size, by_end) {
        (Some(size), Some(span)) if size != span => {
            return Err(ElfError::InconsistentSymbols {
                name: name.to_owned(),
                size,
                span,
            });
        }
        (Some(size), _) | (None, Some(size)) => size,
        (None, None) => {
            return Err(ElfError::MissingSymbol {
                symbol: format!("__{name}_size"),
            });
        }
    };
    if size == 0 {
        return Err(ElfError::EmptySection {
            name: name.to_owned(),
            start,
        });
    }
    let (Ok(base), Ok(size32)) = (u32::try_from(start), u32::try_from(size)) else {
        return Err(ElfError::Beyond32Bits { start, size });
    };
    let region = MailboxRegion::new(base, size32).map_err(ElfError::Region)?;
    for section in file.sections() {
        let allocated = match section.flags() {
            SectionFlags::Elf { sh_flags, .. } => sh_flags.contains(elf::SHF_ALLOC),
            _ => true,
        };
        let section_name = section.name().unwrap_or("?");
        let (s_start, s_end) = (
            section.address(),
            section.address().saturating_add(section.size()),
        );
        if allocated
            && section.size() > 0
            && section_name != name
            && s_start < region.end()
            && u64::from(region.base()) < s_end
        {
            return Err(ElfError::Overlap {
                section: section_name.to_owned(),
                start: s_start,
                end: s_end,
                region,
            });
        }
    }
    Ok(region)
}
