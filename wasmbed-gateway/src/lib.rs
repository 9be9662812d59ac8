//! The wasmbed gateway: the TLS server devices keep their sessions with, and its HTTP API.
//!
//! Devices reach the gateway over TLS on port 8081 and speak the framed wire protocol of
//! `docs/design.md` ("Device wire protocol"); operators use the HTTP API on port 8080. This
//! crate will hold the protocol codec, the device server, the API router and the
//! `wasmbed-gateway` reference binary.
//!
//! It has no API yet: the issue that builds it is the third of the project's plan.
#![forbid(unsafe_code)]
