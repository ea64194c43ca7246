//! Operators, routers and links: the network half of the model.

use ipnetwork::Ipv6Network;

use super::csid::{CsidBlock, MicroSid};
use super::geo::Coordinates;
use super::ids::{LinkId, OperatorId, RouterId};

/// Index of an operator inside a [`Topology`](super::Topology) (sorted by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperatorIx(pub u16);

/// A network operator: one administrative domain with its own IGP.
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    /// Unique id.
    pub id: OperatorId,
    /// Autonomous system number, when known.
    pub asn: Option<u32>,
    /// Free text.
    pub description: Option<String>,
    /// The NEXT-C-SID Locator-Block its routers' micro-SIDs live in, when
    /// the operator runs compressed SRv6 (RFC 9800).
    pub csid: Option<CsidBlock>,
}

/// Default maximum SID depth of a headend when the file gives none.
pub const DEFAULT_MSD: u8 = 10;

/// A router: a node of the graph, owner of an SRv6 locator.
#[derive(Clone, Debug, PartialEq)]
pub struct Router {
    /// Unique id (shared namespace with data centers).
    pub id: RouterId,
    /// The operator whose IGP this router runs.
    pub operator: OperatorIx,
    /// The SRv6 locator every SID of this router lies in.
    pub locator: Ipv6Network,
    /// City, for residency constraints.
    pub city: Option<String>,
    /// Region, for residency constraints.
    pub region: Option<String>,
    /// How many SIDs this router can push as a headend.
    pub msd: u8,
    /// gRPC address (`host:port`) of this router's agent.
    pub mgmt: Option<String>,
    /// The prefix behind the router (its site) that policies pinned to it
    /// steer into: declared, or derived from the id (see
    /// [`derived_prefix`](super::derived_prefix)).
    pub prefix: Ipv6Network,
    /// Where it is, for maps; `None` when the topology does not say.
    pub coordinates: Option<Coordinates>,
    /// False while the router is down; a down router carries nothing.
    pub up: bool,
    /// Its node micro-SID (uN) in the operator's NEXT-C-SID block; `None`:
    /// the router does not take compressed SIDs.
    pub usid: Option<MicroSid>,
}

/// Whether a link stays inside one operator or joins two; derived from the
/// operators of its ends by [`Topology::link_kind`](super::Topology::link_kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// Both ends belong to the same operator: part of that operator's IGP.
    Intra,
    /// The ends belong to different operators: crossed only by an End.X SID.
    Peering,
}

/// One bidirectional link; both directions share these metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// Unique id.
    pub id: LinkId,
    /// IGP metric, >= 1.
    pub igp: u32,
    /// Traffic-engineering metric.
    pub te: u32,
    /// One-way latency in microseconds.
    pub latency_us: u64,
    /// Capacity in Mbit/s, > 0.
    pub bandwidth_mbps: u64,
    /// Bandwidth used by traffic the controller does not manage, in Mbit/s.
    pub used_mbps: u64,
    /// Bandwidth reserved by installed policies, in Mbit/s (kept by the controller).
    pub reserved_mbps: u64,
    /// Jitter in microseconds.
    pub jitter_us: u64,
    /// Packet loss in parts per million.
    pub loss_ppm: u64,
    /// Shared-risk link groups, sorted and deduplicated.
    pub srlg: Vec<u32>,
    /// False when the link carries nothing.
    pub up: bool,
}

impl Link {
    /// Bandwidth still free for new reservations: capacity - used - reserved.
    pub fn available_mbps(&self) -> u64 {
        self.bandwidth_mbps
            .saturating_sub(self.used_mbps)
            .saturating_sub(self.reserved_mbps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(bandwidth: u64, used: u64, reserved: u64) -> Link {
        Link {
            id: LinkId::new("a-b"),
            igp: 1,
            te: 1,
            latency_us: 1,
            bandwidth_mbps: bandwidth,
            used_mbps: used,
            reserved_mbps: reserved,
            jitter_us: 0,
            loss_ppm: 0,
            srlg: vec![],
            up: true,
        }
    }

    #[test]
    fn available_bandwidth_subtracts_used_and_reserved() {
        assert_eq!(link(100, 20, 30).available_mbps(), 50);
        assert_eq!(link(100, 90, 30).available_mbps(), 0);
    }
}
