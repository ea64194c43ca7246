//! What `cpnctl` does, command by command, and how it prints. Argument
//! structs live here next to the code they drive; `bin/cpnctl.rs` only wires
//! them together.

pub mod bench;
pub mod bench_encoding;
pub mod bgp_ls;
pub mod client;
pub mod cluster;
pub mod dc;
pub mod dot;
pub mod lab;
pub mod load;
pub mod online;
pub mod output;
pub mod path;
pub mod prometheus;
pub mod render;
pub mod topology;
