//! The domain, as pure data: ids, operators, routers, links, data centers with
//! their pools, SIDs and the SRH. No I/O, no async, no file formats.

mod builder;
mod checks;
mod csid;
mod csid_checks;
mod datacenter;
mod geo;
mod ids;
mod liveness;
mod network;
mod prefixes;
mod problems;
mod sid;
pub mod srh;
mod topology;

pub use builder::{DatacenterDraft, LinkDraft, PoolDraft, RouterDraft, TopologyBuilder};
pub use csid::{CsidBlock, DEFAULT_LNFL, MicroSid};
pub use datacenter::{Datacenter, DatacenterIx, Held, Pool, PoolKind};
pub use geo::Coordinates;
pub use ids::{DatacenterId, LinkId, OperatorId, RouterId};
pub use liveness::{PoolHealth, Reporter, ReporterState};
pub use network::{DEFAULT_MSD, Link, LinkKind, Operator, OperatorIx, Router};
pub use prefixes::{Kind as PrefixOwner, derived_prefix};
pub use problems::{BuildError, BuildErrors, Place, Problem, Section};
pub use sid::{
    Behavior, MAX_ADJACENCIES, Sid, SidFunction, SidStructure, SidTable, sid_in_locator,
};
pub use topology::{Adjacency, LinkIx, LinkPerformance, RouterIx, Topology};

#[cfg(test)]
mod tests;
