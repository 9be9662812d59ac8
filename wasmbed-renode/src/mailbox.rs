//! Where the endpoint goes: the firmware's reserved mailbox region ([`MailboxRegion`], from a
//! board preset or read from the firmware by [`elf`](crate::elf)) and the endpoint placed in
//! it ([`Mailbox`]), with the memory operations that fill it.
//!
//! The firmware reserves the mailbox as a devicetree `zephyr,memory-region` named `GWMAILBOX`
//! (`zephyr-app/boards/*.overlay`) and reads the endpoint from the region's first byte, so an
//! image is always placed at the region's start and must fit inside it.

use wasmbed_endpoint::{Endpoint, MAILBOX_DEFAULT_BASE, MAILBOX_HEADER_LEN, MemoryImage, MemoryOp};

use crate::error::MailboxError;

/// Smallest mailbox region in bytes: the length word and one word of text.
pub const MIN_REGION_SIZE: u32 = MAILBOX_HEADER_LEN as u32 + 4;

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
}

impl Default for MailboxRegion {
    /// The seed's address, as reserved on `sam_e70_xplained`:
    /// [`MailboxRegion::SAM_E70_XPLAINED`].
    fn default() -> MailboxRegion {
        MailboxRegion::SAM_E70_XPLAINED
    }
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
            .sysbus_lines(self.region.base())
            // Cannot fail: the region is aligned and ends within 32 bits, and the image fits.
            .expect("a placed image's writes stay inside its region");
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
