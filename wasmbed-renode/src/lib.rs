//! Renode scripts that put a device's gateway endpoint where its firmware will find it.
//!
//! The generated `.resc` loads the firmware and writes the endpoint's mailbox image
//! (`wasmbed_endpoint::MemoryImage`) inside Renode's `reset` macro, so the endpoint is
//! rewritten on every reset and every restart. [`reader`] turns a script's
//! `sysbus WriteDoubleWord` and `sysbus ZeroRange` lines back into memory writes, so a script
//! can be checked by the firmware's own mailbox reader without Renode.
#![forbid(unsafe_code)]

pub mod reader;
