//! CPN, a compute-power-network controller: it keeps one model of routers,
//! links and data centers, places compute jobs and their SRv6 paths together,
//! and keeps them right as the network changes.
//!
//! Map of the crate. Each layer uses only the layers below it (checked: no
//! module imports one above it, so there is no import cycle):
//!
//! ```text
//!  layer       modules                               may use
//!  programs    bin/cpnd, bin/cpnctl, bin/cpn-router  the library
//!  edges       daemon, cli, router, lab, replay      every layer below
//!  services    api, console, southbound, bgp_ls,     conversion, core, below
//!              metrics, ha
//!  conversion  proto (and proto::convert), grpc, tls core, documents, pure
//!  core        controller, store                     documents, pure
//!  documents   document, topology_file               pure
//!  pure        engine, model                         model
//! ```
//!
//! - [`model`]: the domain as pure data (ids, topology graph, pools, SIDs, SRH)
//! - [`engine`]: pure path computation and segment encoding
//! - [`topology_file`]: YAML topology documents to and from the model
//! - [`document`]: requests, answers, events and policies as users write
//!   and read them; bad input as [`document::FieldError`]
//! - [`store`]: durable state (redb, or memory)
//! - [`controller`]: the one owner of mutable state: policies, reservations,
//!   events, re-optimization; its outbox (desired state for routers) and
//!   feedback (push status, router reports) are in domain terms
//! - [`proto`]: the generated gRPC types, and [`proto::convert`], the one
//!   place that converts them to and from the domain
//! - [`grpc`]: server plumbing shared by every gRPC server
//! - [`api`]: the northbound gRPC handlers, one call shape
//! - [`console`]: the web console (`cpnd --http-listen`): static pages and
//!   the JSON and event stream they read, on `api`'s access rules
//! - [`southbound`]: reads the controller's outbox, pushes to routers
//!   (agents, BGP speakers), reconciles, reports back
//! - [`bgp_ls`]: learns the network over BGP-LS: a sans-IO codec and
//!   session, the RIB, the merge of what was learned with the file's
//!   business data, and a passive speaker that feeds the controller
//!   through its handle, as an input like a topology file
//! - [`ha`]: several replicas on etcd: election on a lease, the fenced
//!   etcd store, standbys' hot copy
//! - [`daemon`]: `cpnd` as a library ([`daemon::run`]), and what daemons share
//! - [`router`]: the `cpn-router` agent and its back ends (mock, Linux)
//! - [`netlink`]: Linux namespaces, links and SRv6 routes over rtnetlink
//! - [`lab`]: a real SRv6 lab in network namespaces
//! - [`replay`]: scenario runner
//! - [`metrics`]: Prometheus counters
//! - [`cli`]: what `cpnctl` does, command by command
//! - [`tls`]: TLS files and configurations

pub mod api;
pub mod bgp_ls;
pub mod cli;
pub mod console;
pub mod controller;
pub mod daemon;
pub mod document;
pub mod engine;
pub mod grpc;
pub mod ha;
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
