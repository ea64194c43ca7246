//! From what the network said to the model: the complete tables of every
//! peer ([`Rib`]) become routers and links ([`Learned`], by `learn`), which
//! with the business data become a [`Topology`] (`build`); the difference
//! between two learned states becomes events, or a rebuild when the
//! network's shape changed (`diff`). Pure: no I/O, no clock.
//!
//! The identity rules (docs/bgp-ls.md has the full contract):
//!
//! - a router is a node (Node NLRI) with an SRv6 locator (an IPv6 prefix
//!   with the SRv6 Locator TLV 1162, algorithm 0; the lowest if several).
//!   IS-IS levels and peers describing the same node (same AS, same IGP
//!   router id) are one router. LAN pseudonodes are left out;
//! - its id is its node name (TLV 1026), else the text of its IGP router id
//!   (`0000.0000.0001`, `10.0.0.1`); ids that collide (with each other or a
//!   data center) get `@<AS>`;
//! - its operator is the override's, else the file's operator whose `asn`
//!   is the node's AS (TLV 512);
//! - a link joins two routers; the two directions (one Link NLRI each) are
//!   matched by their link identifiers and addresses. Its id is its link
//!   name (TLV 1098) when unique, else `<a>-<b>` with the ends in id order,
//!   and for parallel links `<a>-<b>#<local id>` (link id, else interface
//!   address, of end a);
//! - an IGP link is up when both directions are advertised; a BGP peering
//!   link (Protocol-ID 7, RFC 9086) when its one direction is; its ends are
//!   the IGP routers whose router id (TLV 1028) is the BGP Router-ID;
//! - where the directions disagree, the worse value holds (larger metrics,
//!   delay, jitter, loss; smaller bandwidth);
//! - SIDs: a router's End SID is the lowest SRv6 SID NLRI with an End
//!   behavior (algorithm 0) in its locator, else the locator's first SID;
//!   an End.X SID per link direction from TLV 1106 (End.X behaviors,
//!   algorithm 0, a primary before a backup) in its router's locator;
//!   everything else is allocated as for a topology file;
//! - routers and links once learned and no longer advertised stay, down
//!   (see `carry_over`): a withdrawn link is a `link_down`, not a hole; and
//!   a link keeps the id it was first given while it is known (a parallel
//!   link appearing or going does not rename its neighbors).

mod build;
mod diff;
mod learn;
mod relearn;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;

use crate::bgp_ls::wire::nlri::LinkNlri;

pub use build::{Built, build};
pub use diff::{Change, carry_over, diff};
pub use learn::learn;
pub use relearn::relearn_links;

/// Bandwidth assumed for a link that advertises none, Mbit/s.
pub const DEFAULT_BANDWIDTH_MBPS: u64 = 100_000;

/// A router as the network describes it, business data applied.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedRouter {
    /// The AS of its node descriptor.
    pub asn: Option<u32>,
    /// Its operator.
    pub operator: String,
    /// Its SRv6 locator.
    pub locator: Ipv6Network,
    /// The End SID the network gave.
    pub end_sid: Option<Ipv6Addr>,
    /// Max SID depth (override, else SRH Max H.Encaps MSD).
    pub msd: Option<u8>,
    /// City (override).
    pub city: Option<String>,
    /// Region (override).
    pub region: Option<String>,
    /// Agent address (override).
    pub mgmt: Option<String>,
    /// Site prefix (override; `None`: derived from the id).
    pub prefix: Option<Ipv6Network>,
    /// Advertised now.
    pub up: bool,
    /// The peer that told.
    pub source: String,
}

/// A link as the network describes it, overrides applied.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedLink {
    /// One end (the lower id).
    pub a: String,
    /// The other end.
    pub b: String,
    /// IGP metric.
    pub igp: u32,
    /// TE metric.
    pub te: u32,
    /// One-way delay, microseconds.
    pub latency_us: u64,
    /// Capacity, Mbit/s.
    pub bandwidth_mbps: u64,
    /// Utilized bandwidth, Mbit/s, when advertised (or overridden).
    pub used_mbps: Option<u64>,
    /// Delay variation, microseconds.
    pub jitter_us: u64,
    /// Loss, parts per million.
    pub loss_ppm: u64,
    /// Shared-risk link groups.
    pub srlg: Vec<u32>,
    /// End.X SIDs given for crossing from a, from b.
    pub end_x: [Option<Ipv6Addr>; 2],
    /// Carries traffic now.
    pub up: bool,
    /// A BGP peering link (RFC 9086).
    pub peering: bool,
    /// Which link between its ends (link identifiers and addresses, seen
    /// from end a): how a link keeps its id while it is known.
    pub descriptor: String,
    /// The peer that told.
    pub source: String,
}

/// The network as learned: routers and links by id, and what could not be
/// taken, in words.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Learned {
    /// Routers by id.
    pub routers: BTreeMap<String, LearnedRouter>,
    /// Links by id.
    pub links: BTreeMap<String, LearnedLink>,
    /// What was left out and why (sorted).
    pub problems: Vec<String>,
    /// Per link id, where its directions came from: (peer, NLRI) of end
    /// a's, end b's (to follow a changed attribute without learning all).
    pub sides: HashMap<String, [Option<(String, LinkNlri)>; 2]>,
    /// Every link NLRI learned, to its link's id.
    pub link_of: HashMap<LinkNlri, String>,
}
