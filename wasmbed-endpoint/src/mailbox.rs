//! The RAM mailbox image: [`MemoryImage`] and the `sysbus` writes that put it in place.

use core::fmt;

use crate::endpoint::Endpoint;
use crate::error::{DecodeError, EncodeError};
use crate::layout::{MAILBOX_HEADER_LEN, MAILBOX_MAX_LEN, MAX_LEN};
use crate::sysbus::MemoryOp;

/// The bytes a Renode script writes into device RAM so the firmware finds its gateway.
///
/// Layout (see [`layout`](crate::layout)): a little-endian `u32` length `N` (1..=255), then the
/// endpoint's [`Display`](fmt::Display) text packed little-endian into 32-bit words, the last
/// word zero-padded. At most [`MAILBOX_MAX_LEN`] (260) bytes, stored inline.
///
/// # Examples
///
/// The seed's example, byte for byte:
///
/// ```
/// use wasmbed_endpoint::{Endpoint, MemoryImage, MAILBOX_DEFAULT_BASE};
///
/// let endpoint: Endpoint = "10.42.0.12:8081".parse()?;
/// let image = MemoryImage::encode(&endpoint)?;
/// assert_eq!(
///     image.sysbus_lines(MAILBOX_DEFAULT_BASE)?.to_string(),
///     "sysbus WriteDoubleWord 0x20001000 0x0000000f\n\
///      sysbus WriteDoubleWord 0x20001004 0x342e3031\n\
///      sysbus WriteDoubleWord 0x20001008 0x2e302e32\n\
///      sysbus WriteDoubleWord 0x2000100c 0x383a3231\n\
///      sysbus WriteDoubleWord 0x20001010 0x00313830\n",
/// );
/// assert_eq!(MemoryImage::decode(image.as_bytes())?, endpoint);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryImage {
    bytes: [u8; MAILBOX_MAX_LEN],
    len: usize,
}

impl MemoryImage {
    /// Builds the image holding `endpoint`'s display text.
    ///
    /// # Errors
    ///
    /// [`EncodeError::PortZero`] for port 0 and [`EncodeError::TooLong`] when the text exceeds
    /// 255 bytes (possible only for a DNS name near the 253-byte limit); every endpoint that
    /// [`Endpoint::parse`] returns encodes.
    pub fn encode(endpoint: &Endpoint) -> Result<MemoryImage, EncodeError> {
        let mut bytes = [0; MAILBOX_MAX_LEN];
        let text_len = endpoint.encode_into(&mut bytes[MAILBOX_HEADER_LEN..])?;
        // text_len <= MAX_LEN (255), so it fits in a u32.
        bytes[..MAILBOX_HEADER_LEN].copy_from_slice(&(text_len as u32).to_le_bytes());
        Ok(MemoryImage {
            bytes,
            len: MAILBOX_HEADER_LEN + text_len.next_multiple_of(4),
        })
    }

    /// Reads the endpoint from a mailbox region, the way the firmware's `wasmbed_mailbox_read()`
    /// does.
    ///
    /// `region` is the whole reserved region (it may be longer than the image); nothing past it
    /// is read and the length word is not trusted. Bytes after the text are ignored.
    ///
    /// # Errors
    ///
    /// In this order: [`DecodeError::Truncated`] when `region` is shorter than 4 bytes,
    /// [`DecodeError::Empty`] for length 0, [`DecodeError::LengthOutOfRange`] above 255,
    /// [`DecodeError::Truncated`] when `region` is shorter than 4 + length,
    /// [`DecodeError::NonPrintable`] for the first byte outside 0x21-0x7e, and
    /// [`DecodeError::Parse`] when the text is not a valid endpoint.
    pub fn decode(region: &[u8]) -> Result<Endpoint, DecodeError> {
        let Some((header, rest)) = region.split_first_chunk::<MAILBOX_HEADER_LEN>() else {
            return Err(DecodeError::Truncated {
                needed: MAILBOX_HEADER_LEN,
                available: region.len(),
            });
        };
        let length = u32::from_le_bytes(*header);
        if length == 0 {
            return Err(DecodeError::Empty);
        }
        let text_len = usize::try_from(length)
            .ok()
            .filter(|&n| n <= MAX_LEN)
            .ok_or(DecodeError::LengthOutOfRange { length })?;
        let text = rest.get(..text_len).ok_or(DecodeError::Truncated {
            needed: MAILBOX_HEADER_LEN + text_len,
            available: region.len(),
        })?;
        if let Some(offset) = text.iter().position(|b| !(0x21..=0x7e).contains(b)) {
            return Err(DecodeError::NonPrintable {
                offset,
                byte: text[offset],
            });
        }
        Endpoint::parse_bytes(text).map_err(DecodeError::Parse)
    }

    /// The image's bytes: header, text and padding; 8 to 260 bytes, a multiple of 4.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The endpoint text held in the image (1..=255 bytes of printable ASCII).
    pub fn text(&self) -> &str {
        let text_len =
            u32::from_le_bytes([self.bytes[0], self.bytes[1], self.bytes[2], self.bytes[3]]);
        let text = &self.bytes[MAILBOX_HEADER_LEN..MAILBOX_HEADER_LEN + text_len as usize];
        core::str::from_utf8(text).expect("encode writes ASCII display text")
    }

    /// The image as 32-bit words, length word first, each as a little-endian CPU reads it.
    pub fn words(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        self.as_bytes()
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    }

    /// The bus writes that put the image at `base`: one [`MemoryOp::DoubleWord`] per 32-bit
    /// word, in address order, covering exactly [`as_bytes`](MemoryImage::as_bytes).
    ///
    /// The returned value iterates as those writes and displays as Renode monitor lines, one
    /// `sysbus WriteDoubleWord 0x%08x 0x%08x` per word (lower-case hex, 8 digits), each ending
    /// in `\n`: the lines `sysbus::read_writes` reads back.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Misaligned`] when `base` is not a multiple of 4, and
    /// [`EncodeError::AddressOverflow`] when the image would run past `0xffff_ffff`.
    pub fn sysbus_lines(&self, base: u32) -> Result<SysbusLines<'_>, EncodeError> {
        if !base.is_multiple_of(4) {
            return Err(EncodeError::Misaligned { base });
        }
        // len <= 260, so the cast is lossless.
        if base.checked_add(self.len as u32 - 1).is_none() {
            return Err(EncodeError::AddressOverflow {
                base,
                len: self.len,
            });
        }
        Ok(SysbusLines {
            words: self.as_bytes().chunks_exact(4),
            address: base,
        })
    }

    /// [`sysbus_lines`](MemoryImage::sysbus_lines) as a `String`.
    ///
    /// # Errors
    ///
    /// As [`MemoryImage::sysbus_lines`].
    #[cfg(feature = "alloc")]
    pub fn sysbus_script(&self, base: u32) -> Result<alloc::string::String, EncodeError> {
        use alloc::string::ToString;
        self.sysbus_lines(base).map(|lines| lines.to_string())
    }
}

impl fmt::Debug for MemoryImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryImage")
            .field("text", &self.text())
            .field("len", &self.len)
            .finish()
    }
}

/// The bus writes of a [`MemoryImage`] at a base address, from
/// [`MemoryImage::sysbus_lines`].
///
/// Iterates as [`MemoryOp::DoubleWord`]s; displays as all `sysbus WriteDoubleWord` lines, each
/// followed by `\n`.
#[derive(Debug, Clone)]
pub struct SysbusLines<'a> {
    words: core::slice::ChunksExact<'a, u8>,
    address: u32,
}

impl Iterator for SysbusLines<'_> {
    type Item = MemoryOp;

    fn next(&mut self) -> Option<MemoryOp> {
        let word = self.words.next()?;
        let write = MemoryOp::DoubleWord {
            address: u64::from(self.address),
            value: u32::from_le_bytes([word[0], word[1], word[2], word[3]]),
        };
        // sysbus_lines() checked that the last word's address does not overflow; after it the
        // iterator is exhausted, so wrapping is never observed.
        self.address = self.address.wrapping_add(4);
        Some(write)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.words.size_hint()
    }
}

impl ExactSizeIterator for SysbusLines<'_> {}

impl fmt::Display for SysbusLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.clone().try_for_each(|op| writeln!(f, "{op}"))
    }
}
