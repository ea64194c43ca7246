//! Helpers shared by the integration tests (each file has `mod common;`).

// Each test file uses only some of them.
#![allow(dead_code)]

pub mod browser;
pub mod certs;
pub mod cli;
pub mod console;
pub mod csid_oracle;
pub mod daemon;
pub mod etcd;
pub mod grpc;
pub mod ha_checks;
pub mod http;
pub mod lab;
pub mod oracle;
pub mod ports;
pub mod random_net;
pub mod replicas;
pub mod server;
pub mod system;
pub mod vmlab;
pub mod wait;
