//! Renode system-bus memory writes: the one type ([`MemoryOp`]), its one rendering as a
//! monitor line, and the reader that parses a script's lines back (`read_writes`, feature
//! `alloc`).
//!
//! [`MemoryImage::sysbus_lines`](crate::MemoryImage::sysbus_lines) yields [`MemoryOp`]s, a
//! Renode script generator writes their [`Display`](fmt::Display) text, and `read_writes`
//! (feature `alloc`) turns that text back into the same values:
//!
//! ```
//! use wasmbed_endpoint::sysbus::MemoryOp;
//!
//! let op = MemoryOp::DoubleWord { address: 0x2000_1000, value: 0x0f };
//! assert_eq!(op.to_string(), "sysbus WriteDoubleWord 0x20001000 0x0000000f");
//! # #[cfg(feature = "alloc")]
//! assert_eq!(wasmbed_endpoint::sysbus::read_writes(&op.to_string())?[0].op, op);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Reading a script back
//!
//! The firmware's host build (`wasmbed-device --resc FILE`) and wasmbed-renode's tests use the
//! reader to put a script's mailbox words into a buffer, the way Renode's `sysbus` would, and
//! then run the firmware's own mailbox reader over that buffer. A generated script is thereby
//! checked end to end without Renode.
//!
//! # What is read
//!
//! Two commands of Renode's monitor (Renode documentation, "Monitor syntax";
//! `SystemBus.WriteDoubleWord` and `SystemBus.ZeroRange` in renode-infrastructure):
//!
//! | command | effect |
//! | --- | --- |
//! | `sysbus WriteDoubleWord <address> <value>` | 4 bytes, `value` little-endian, at `address` |
//! | `sysbus ZeroRange <address size>` | `size` zero bytes from `address` |
//! | `sysbus ZeroRange <first, last>` | zero bytes `first..=last` (an inclusive range) |
//! | `sysbus ZeroRange <address> <size>` | as `<address size>` (the `(from, size)` overload) |
//!
//! Numbers are written as Renode's tokenizer accepts them: `0x` (lower-case `x`) followed by
//! hex digits in either case, or decimal digits with an optional `+`. Addresses are 64-bit
//! (Renode's bus addresses are `ulong`); a `WriteDoubleWord` value must fit 32 bits.
//!
//! Commands are separated by new lines and `;`. `#` starts a comment outside strings, and so
//! does `:` at the start of a token (the `:name:` header lines of a `.resc`). The body of
//! `macro <name> """ ... """` is read as commands, since Renode runs it (`runMacro`, and the
//! `reset` macro on every machine reset); every other quoted string, single or triple, is
//! skipped. Writes are returned in text order, whichever machine or macro holds them.
//!
//! Every other command (`LoadELF`, `mach create`, `start`, ...) is ignored. Other `sysbus`
//! commands that write memory by the bus (`WriteByte`, `WriteWord`, `WriteQuadWord`,
//! `WriteBytes`, `WriteString`, ...) are refused with
//! `ReadErrorKind::UnsupportedWrite` rather than ignored: a reader that silently skipped them
//! would report memory that differs from what Renode writes. `LoadELF`/`LoadBinary` are not
//! modelled: the mailbox is a NOLOAD region the ELF never fills.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use wasmbed_endpoint::sysbus::{read_writes, MemoryOp};
//!
//! let script = "\
//! :name: demo
//! macro reset
//! \"\"\"
//!     sysbus LoadELF $bin
//!     sysbus ZeroRange <0x20001000 0x200>
//!     sysbus WriteDoubleWord 0x20001000 0x0000000f  # length 15
//! \"\"\"
//! runMacro $reset
//! ";
//! let writes = read_writes(script)?;
//! assert_eq!(writes.len(), 2);
//! assert_eq!(writes[1].line, 6);
//! assert_eq!(writes[1].op, MemoryOp::DoubleWord { address: 0x2000_1000, value: 15 });
//!
//! let mut region = [0xffu8; 0x200];
//! for write in &writes {
//!     write.apply(0x2000_1000, &mut region)?;
//! }
//! assert_eq!(region[..5], [15, 0, 0, 0, 0]);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

#[cfg(feature = "alloc")]
mod read;

#[cfg(feature = "alloc")]
pub use read::{
    MAX_ERROR_OPERAND_LEN, MAX_ERROR_TEXT_LEN, MemoryWrite, OutsideRegion, ReadError,
    ReadErrorKind, read_writes,
};

/// A memory operation of Renode's system bus.
///
/// Displays as the monitor command that performs it; this `Display` is the only place the
/// project writes the line format:
/// `sysbus WriteDoubleWord 0x20001000 0x0000000f` (lower-case hex, 8 digits or more) and
/// `sysbus ZeroRange <0x20001000 0x200>` (Renode's relative range: start and size). Reading the
/// displayed text with `read_writes` gives the operation back.
///
/// The enum is exhaustive on purpose, unlike the crate's error enums: whoever applies these
/// operations to memory (the firmware's Linux build does) must handle every kind, and a new
/// kind should stop such code from compiling rather than be skipped by a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryOp {
    /// `sysbus WriteDoubleWord <address> <value>`: 4 bytes little-endian at address.
    DoubleWord {
        /// Bus address of the first (least significant) byte.
        address: u64,
        /// The 32-bit value; byte 0 lands at `address` (Cortex-M is little-endian).
        value: u32,
    },
    /// `sysbus ZeroRange <address> <length>`
    Zero {
        /// Bus address of the first byte cleared.
        address: u64,
        /// Number of bytes cleared; may be 0.
        length: u64,
    },
}

impl MemoryOp {
    /// The first bus address the operation touches.
    pub fn address(&self) -> u64 {
        match *self {
            MemoryOp::DoubleWord { address, .. } | MemoryOp::Zero { address, .. } => address,
        }
    }

    /// How many bytes the operation touches: 4 for a double word, the length for a range.
    pub fn len(&self) -> u64 {
        match *self {
            MemoryOp::DoubleWord { .. } => 4,
            MemoryOp::Zero { length, .. } => length,
        }
    }

    /// Whether the operation touches no byte (a zero-length range).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for MemoryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MemoryOp::DoubleWord { address, value } => {
                write!(f, "sysbus WriteDoubleWord 0x{address:08x} 0x{value:08x}")
            }
            MemoryOp::Zero { address, length } => {
                write!(f, "sysbus ZeroRange <0x{address:08x} 0x{length:x}>")
            }
        }
    }
}
