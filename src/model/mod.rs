//! The domain, as pure data: ids, operators, routers, links, data centers with
//! their pools, SIDs and the SRH. No I/O, no async, no file formats.

mod builder;
mod datacenter;
mod ids;
mod network;
mod sid;
pub mod srh;
mod topology;

pub use builder::{
    BuildError, BuildErrors, DatacenterDraft, LinkDraft, Place, PoolDraft, Problem, RouterDraft,
    Section, TopologyBuilder,
};
pub use datacenter::{Datacenter, DatacenterIx, Pool, PoolKind};
pub use ids::{DatacenterId, LinkId, OperatorId, RouterId};
pub use network::{DEFAULT_MSD, Link, LinkKind, Operator, OperatorIx, Router};
pub use sid::{Behavior, MAX_ADJACENCIES, Sid, SidFunction, SidTable, sid_in_locator};
pub use topology::{Adjacency, LinkIx, RouterIx, Topology};

#[cfg(test)]
mod tests;
