//! Where the endpoint goes: the firmware's reserved mailbox region, read from its ELF, and the
//! memory operations that fill it.
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
use wasmbed_endpoint::{Endpoint, MAILBOX_DEFAULT_BASE, MAILBOX_HEADER_LEN, MemoryImage};

use crate::error::{ElfError, MailboxError};
use crate::reader::MemoryOp;

/// Smallest mailbox region in bytes: the length word and one word of text.
pub const MIN_REGION_SIZE: u32 = MAILBOX_HEADER_LEN as u32 + 4;

/// Largest firmware ELF [`MailboxRegion::read_elf`] reads, in bytes (64 MiB). A Zephyr image
/// with debug information is a few MiB; the limit keeps a wrong path from exhausting memory.
pub const MAX_ELF_LEN: u64 = 64 << 20;

/// The devicetree region name the firmware uses (`zephyr,memory-region = "GWMAILBOX"`).
pub const REGION_NAME: &str = "GWMAILBOX";

/// A reserved mailbox region on the device's 32-bit bus: `base..base + size`.
///
/// `base` is 4-byte aligned, `size` at least [`MIN_REGION_SIZE`], and the region ends at or
/// before `0x1_0000_0000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MailboxRegion {
    base: u32,
    size: u32,
}

impl MailboxRegion {
    /// `zephyr-app/boards/sam_e70_xplained_same70q21.overlay`: `0x20001000`, 0x200 bytes.
    pub const SAM_E70_XPLAINED: MailboxRegion = MailboxRegion {
        base: MAILBOX_DEFAULT_BASE,
        size: 0x200,
    };

    /// `zephyr-app/boards/frdm_k64f.overlay`: `0x2002fc00`, 0x400 bytes (the top 1 KiB of a
    /// 192 KiB `sram0` at `0x20000000`).
    pub const FRDM_K64F: MailboxRegion = MailboxRegion::TOP_OF_192K_SRAM;

    /// The top 1 KiB of a 192 KiB SRAM at `0x20000000`: `0x2002fc00`, 0x400 bytes.
    pub const TOP_OF_192K_SRAM: MailboxRegion = MailboxRegion {
        base: 0x2002_fc00,
        size: 0x400,
    };

    /// A region at `base` of `size` bytes.
    ///
    /// # Errors
    ///
    /// [`MailboxError::Misaligned`] when `base` is not a multiple of 4,
    /// [`MailboxError::RegionTooSmall`] below [`MIN_REGION_SIZE`], and
    /// [`MailboxError::RegionOverflow`] when the region passes the end of the 32-bit bus.
    pub fn new(base: u32, size: u32) -> Result<MailboxRegion, MailboxError> {
        if !base.is_multiple_of(4) {
            return Err(MailboxError::Misaligned { base });
        }
        if size < MIN_REGION_SIZE {
            return Err(MailboxError::RegionTooSmall { base, size });
        }
        if u64::from(base) + u64::from(size) > 1 << 32 {
            return Err(MailboxError::RegionOverflow { base, size });
        }
        Ok(MailboxRegion { base, size })
    }

    /// The first address.
    pub const fn base(&self) -> u32 {
        self.base
    }

    /// The size in bytes.
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// One past the last address (up to `0x1_0000_0000`, hence `u64`).
    pub const fn end(&self) -> u64 {
        self.base as u64 + self.size as u64
    }

    /// Whether `address` lies in the region.
    pub const fn contains(&self, address: u64) -> bool {
        address >= self.base as u64 && address < self.end()
    }

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
        let kind = object::FileKind::parse(elf).map_err(|e| ElfError::NotElf {
            reason: e.to_string(),
        })?;
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
                reason: format!("the file is {other:?}, not ELF"),
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
        let io = |e: std::io::Error| ElfError::Io {
            path: path.to_owned(),
            reason: e.to_string(),
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

impl Default for MailboxRegion {
    /// The seed's address, as reserved on `sam_e70_xplained`:
    /// [`MailboxRegion::SAM_E70_XPLAINED`].
    fn default() -> MailboxRegion {
        MailboxRegion::SAM_E70_XPLAINED
    }
}

fn not_elf(e: object::Error) -> ElfError {
    ElfError::NotElf {
        reason: e.to_string(),
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

/// An endpoint placed in a mailbox region: what the `reset` macro writes.
///
/// # Examples
///
/// ```
/// use wasmbed_renode::{Mailbox, MailboxRegion};
///
/// let mailbox = Mailbox::place(MailboxRegion::default(), &"10.42.0.12:8081".parse()?)?;
/// let ops: Vec<String> = mailbox.ops().iter().map(|op| op.to_string()).collect();
/// assert_eq!(ops[0], "sysbus ZeroRange <0x20001000 0x200>");
/// assert_eq!(ops[1], "sysbus WriteDoubleWord 0x20001000 0x0000000f");
/// assert_eq!(ops.len(), 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mailbox {
    region: MailboxRegion,
    image: MemoryImage,
    endpoint: Endpoint,
}

impl Mailbox {
    /// Places `endpoint`'s image at the start of `region`, where the firmware reads it.
    ///
    /// # Errors
    ///
    /// [`MailboxError::Encode`] for an endpoint that has no image (port 0, text over 255
    /// bytes) and [`MailboxError::DoesNotFit`] when the image is larger than the region.
    pub fn place(region: MailboxRegion, endpoint: &Endpoint) -> Result<Mailbox, MailboxError> {
        let image = MemoryImage::encode(endpoint).map_err(MailboxError::Encode)?;
        let needed = image.as_bytes().len();
        if needed > region.size() as usize {
            return Err(MailboxError::DoesNotFit {
                endpoint: endpoint.to_string(),
                needed,
                region,
            });
        }
        Ok(Mailbox {
            region,
            image,
            endpoint: *endpoint,
        })
    }

    /// Like [`place`](Mailbox::place), with an address the caller asked for: it must be the
    /// region's start, because that is where the firmware reads.
    ///
    /// # Errors
    ///
    /// [`MailboxError::OutsideRegion`] when `address` is not in the region,
    /// [`MailboxError::NotRegionStart`] when it is inside but not at its start; otherwise as
    /// [`place`](Mailbox::place).
    pub fn place_at(
        region: MailboxRegion,
        address: u32,
        endpoint: &Endpoint,
    ) -> Result<Mailbox, MailboxError> {
        if !region.contains(u64::from(address)) {
            return Err(MailboxError::OutsideRegion { address, region });
        }
        if address != region.base() {
            return Err(MailboxError::NotRegionStart { address, region });
        }
        Mailbox::place(region, endpoint)
    }

    /// The region.
    pub fn region(&self) -> MailboxRegion {
        self.region
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The image written at the region's start.
    pub fn image(&self) -> &MemoryImage {
        &self.image
    }

    /// What the `reset` macro does after `LoadELF`: clear the whole region, then write the
    /// image word by word. Every operation lies inside the region.
    pub fn ops(&self) -> Vec<MemoryOp> {
        let zero = MemoryOp::Zero {
            address: u64::from(self.region.base()),
            length: u64::from(self.region.size()),
        };
        let words = self
            .image
            .writes(self.region.base())
            // Cannot fail: the region is aligned and ends within 32 bits, and the image fits.
            .expect("a placed image's writes stay inside its region")
            .map(|(address, value)| MemoryOp::DoubleWord {
                address: u64::from(address),
                value,
            });
        std::iter::once(zero).chain(words).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_limits() {
        assert!(MailboxRegion::new(0x2000_1000, 0x200).is_ok());
        assert_eq!(
            MailboxRegion::new(0x2000_1002, 0x200),
            Err(MailboxError::Misaligned { base: 0x2000_1002 })
        );
        assert!(matches!(
            MailboxRegion::new(0x2000_1000, 7),
            Err(MailboxError::RegionTooSmall { .. })
        ));
        assert!(MailboxRegion::new(0xffff_fe00, 0x200).is_ok());
        assert!(matches!(
            MailboxRegion::new(0xffff_fe04, 0x200),
            Err(MailboxError::RegionOverflow { .. })
        ));
    }

    #[test]
    fn placement_refuses_what_does_not_fit_or_is_elsewhere() {
        let endpoint: Endpoint = "10.42.0.12:8081".parse().unwrap();
        let small = MailboxRegion::new(0x2000_1000, 16).unwrap();
        let err = Mailbox::place(small, &endpoint).unwrap_err();
        assert_eq!(
            err.to_string(),
            "endpoint 10.42.0.12:8081 needs 20 mailbox bytes but the region 0x20001000..0x20001010 \
             holds 16: use a shorter endpoint or reserve a larger region in the firmware's overlay"
        );
        let region = MailboxRegion::default();
        assert!(matches!(
            Mailbox::place_at(region, 0x2000_1200, &endpoint),
            Err(MailboxError::OutsideRegion { .. })
        ));
        assert!(matches!(
            Mailbox::place_at(region, 0x2000_1004, &endpoint),
            Err(MailboxError::NotRegionStart { .. })
        ));
        let placed = Mailbox::place_at(region, 0x2000_1000, &endpoint).unwrap();
        for op in placed.ops() {
            assert!(region.contains(op.address()));
            assert!(op.address() + op.len() <= region.end());
        }
    }
}
