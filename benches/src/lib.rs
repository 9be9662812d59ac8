//! Benchmarks, the device load tool and the target checker for wasmbed (`publish = false`).
//!
//! The pieces (`docs/design.md` section 8; the README's "Performance" section has the
//! commands):
//!
//! * criterion benchmarks in `benches/`: the endpoint parser (Rust against the firmware's C),
//!   the frame codec, TLS handshakes, echo round trips and bulk DATA through an in-process
//!   gateway beside plain-TCP and minimal-TLS baselines, and the Nagle/delayed-ACK effect;
//! * `wasmbed-loadgen` ([`loadgen`]): many devices against a running gateway (or handshakes
//!   against any TLS server), with latency percentiles, server CPU per handshake and memory
//!   per session from `/proc`;
//! * `bench-report` ([`report`]): compares criterion's saved estimates and the load tool's
//!   JSON with `benches/targets.toml`;
//! * `nginx-compare.sh`: the same handshake load against nginx and the gateway in one run.
//!
//! This library holds what they share: TLS fixtures ([`fixture`]), servers started in-process
//! ([`server`]), a lean device connection ([`device`]), loopback-only connecting ([`net`]) and
//! `/proc` accounting ([`procfs`]).
//!
//! Ratios measured side by side in one run are the figures to quote; absolute times depend on
//! the machine and on what else runs on it.
#![forbid(unsafe_code)]

pub mod device;
pub mod fixture;
pub mod latency;
pub mod loadgen;
pub mod net;
pub mod procfs;
pub mod report;
pub mod server;
