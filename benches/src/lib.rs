//! Benchmarks and the device load tool for wasmbed (`publish = false`).
//!
//! The benchmarks arrive with the benchmarks issue, the sixth of the project's plan: criterion
//! groups for the endpoint parser (Rust against the firmware's C), TLS handshakes and frame
//! round trips, and a checker that compares results with `benches/targets.toml`. This crate
//! holds nothing else yet.
#![forbid(unsafe_code)]
