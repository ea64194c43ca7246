//! What the BGP-LS speaker tells the API, the metrics and `cpnctl bgp-ls
//! status`: its sessions, what each peer sent, what was applied to the
//! model and when, and where each router and link came from. The speaker
//! publishes a fresh snapshot after every change; readers never wait.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use super::rib::Counters;

/// One peer and its session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeerStatus {
    /// The peer's address.
    pub peer: String,
    /// The session's state: OpenSent, OpenConfirm, Established, or Idle
    /// (down; what it sent stays as stale routes).
    pub state: String,
    /// The peer's AS, once known.
    pub asn: Option<u32>,
    /// The peer's BGP Identifier, once known.
    pub bgp_id: Option<Ipv4Addr>,
    /// The negotiated hold time, seconds.
    pub hold_time: u16,
    /// Its table is complete (End-of-RIB, or the quiet-period fallback).
    pub synced: bool,
    /// Node NLRI held.
    pub nodes: usize,
    /// Link NLRI held.
    pub links: usize,
    /// Prefix NLRI held.
    pub prefixes: usize,
    /// SRv6 SID NLRI held.
    pub srv6_sids: usize,
    /// NLRI of other types held.
    pub other: usize,
    /// Counters over every session of the peer.
    pub counters: Counters,
    /// When the session came up, Unix milliseconds (0: never).
    pub established_unix_ms: u64,
    /// When its last UPDATE came, Unix milliseconds (0: none).
    pub last_update_unix_ms: u64,
    /// Why its last session ended, if one did.
    pub last_error: String,
}

/// Where a router or link of the model came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The topology file.
    File,
    /// A BGP-LS peer (its address).
    BgpLs(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File => f.write_str("file"),
            Source::BgpLs(peer) => write!(f, "bgp-ls {peer}"),
        }
    }
}

/// Everything the speaker knows, at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// The address it listens on.
    pub listen: String,
    /// CPN's AS on its sessions.
    pub asn: u32,
    /// CPN's BGP Identifier.
    pub bgp_id: Option<Ipv4Addr>,
    /// The learned network has been applied to the model at least once.
    pub synced: bool,
    /// Every peer that ever connected, by address.
    pub peers: Vec<PeerStatus>,
    /// Routers of the model by id, with their source (shared between
    /// snapshots).
    pub routers: Arc<BTreeMap<String, Source>>,
    /// Links of the model by id, with their source.
    pub links: Arc<BTreeMap<String, Source>>,
    /// Learned changes applied as events.
    pub event_batches: u64,
    /// Events in them.
    pub events: u64,
    /// Learned changes applied by rebuilding the topology.
    pub rebuilds: u64,
    /// When a learned change was last applied, Unix milliseconds.
    pub last_apply_unix_ms: u64,
    /// What that was, in words.
    pub last_apply: String,
    /// What could not be learned or applied, in words.
    pub problems: Vec<String>,
}

impl Status {
    /// Every peer's counters, added up.
    pub fn totals(&self) -> Counters {
        let mut c = Counters::default();
        for p in &self.peers {
            c.add(&p.counters);
        }
        c
    }
}
