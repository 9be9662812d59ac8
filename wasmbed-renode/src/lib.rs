//! Renode scripts that put a device's gateway endpoint where its firmware will find it.
//!
//! The generated `.resc` loads the firmware and writes the endpoint's mailbox image
//! (`wasmbed_endpoint::MemoryImage`) inside Renode's `reset` macro, so the endpoint is
//! rewritten on every reset and every restart. This crate will hold the typed script model and
//! renderer, per-device artefacts, the reader that turns `sysbus WriteDoubleWord` lines back
//! into memory writes, and a launcher (see `docs/design.md`, "Renode").
//!
//! It has no API yet: the issue that builds it is the fifth of the project's plan.
#![forbid(unsafe_code)]
