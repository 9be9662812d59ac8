//! Benchmarks for wasmbed, run with `cargo bench -p wasmbed-benches`.
//!
//! `benches/endpoint.rs` measures the Rust endpoint parser and mailbox reader against the
//! firmware's C implementation on the same inputs, side by side in one run.
#![forbid(unsafe_code)]
