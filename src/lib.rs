//! CPN, a compute-power-network controller: it keeps one model of routers,
//! links and data centers, places compute jobs and their SRv6 paths together,
//! and keeps them right as the network changes.
//!
//! Map of the crate (data flows down):
//!
//! - [`model`]: the domain as pure data (ids, topology graph, pools, SIDs, SRH)
//! - [`topology_file`]: YAML topology documents to and from the model
//! - [`api`]: the northbound gRPC services
//! - [`proto`]: the generated gRPC types of `proto/cpn/v1`
//! - [`controller`]: the one owner of mutable state: policies, reservations, events
//! - [`engine`]: pure path computation and segment encoding
//! - [`southbound`]: pushing desired state to routers, reconciliation
//! - [`router`]: the `cpn-router` agent and its back ends
//! - [`store`]: durable state
//! - [`replay`]: scenario runner
//! - [`cli`]: what `cpnctl` does, command by command

pub mod api;
pub mod cli;
pub mod controller;
pub mod daemon;
pub mod document;
pub mod engine;
pub mod grpc;
pub mod lab;
pub mod metrics;
pub mod model;
pub mod netlink;
pub mod proto;
pub mod replay;
pub mod router;
pub mod southbound;
pub mod store;
pub mod tls;
pub mod topology_file;
