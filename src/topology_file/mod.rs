//! Topology files (YAML, `shared/spec/topology.md`) to a validated
//! [`Topology`], and back.
//!
//! Loading is all or nothing: a file either becomes a whole topology or is
//! refused with every problem found, each naming the file, the line and the
//! id or field at fault.

pub mod business;
mod document;
pub mod generate;
pub mod generate_nearest;
pub mod guard;
mod load;
mod spans;

pub use document::{
    DatacenterEntry, EndXEntry, FORMAT_VERSION, LinkEntry, LinkOverride, OperatorEntry,
    OverridesEntry, PathError, PoolEntry, RouterEntry, RouterOverride, TopologyDocument,
};
pub use load::{Diagnostic, LoadError, MAX_FILE_BYTES, load_file, parse_document, parse_str};
pub use spans::{Pos, Spans};

use crate::model::Topology;

/// The topology as a YAML document in the file format.
pub fn to_yaml(topology: &Topology) -> String {
    serde_yaml::to_string(&TopologyDocument::from_topology(topology))
        .expect("topology documents always serialize")
}

#[cfg(test)]
mod csid_tests;
#[cfg(test)]
mod tests;

/// The bundled lab topology, for the library's own tests.
#[cfg(test)]
pub(crate) fn lab() -> crate::model::Topology {
    load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml")).expect("the lab loads")
}
