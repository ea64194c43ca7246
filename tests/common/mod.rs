//! Helpers shared by the integration tests (each file has `mod common;`).

// Each test file uses only some of them.
#![allow(dead_code)]

pub mod certs;
pub mod daemon;
pub mod grpc;
pub mod oracle;
pub mod server;
pub mod system;
pub mod wait;
