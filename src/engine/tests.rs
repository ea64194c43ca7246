//! Engine tests on hand-built topologies.
