//! Benchmarks and the device load tool for wasmbed (`publish = false`).
//!
//! `benches/endpoint.rs` (`cargo bench -p wasmbed-benches --bench endpoint`) measures the
//! endpoint parser and mailbox reader, Rust against the firmware's C, side by side in one run.
//! TLS handshake and frame benchmarks, the target checker and the load tool arrive with the
//! benchmarks issue.
#![forbid(unsafe_code)]
