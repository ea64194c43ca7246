//! What the network said, per session: every route (NLRI and its BGP-LS
//! attribute) a peer announced and has not withdrawn, with counters. Pure
//! data: the speaker feeds it UPDATEs, the merge reads it.
//!
//! A peer's table is complete once it sent End-of-RIB (or was quiet long
//! enough, see the speaker). When its session goes down, the table stays as
//! it was (graceful restart's "stale" routes, kept until the next complete
//! table replaces them): losing the feed never takes the network down. A new
//! session of the same peer fills a fresh table; until it is complete, the
//! last complete one stands for the peer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::wire::attr::LsAttribute;
use super::wire::nlri::{LinkNlri, Nlri, NodeNlri, PrefixNlri, Srv6SidNlri};
use super::wire::update::Update;

/// The routes of one peer, by NLRI.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Node NLRI.
    pub nodes: HashMap<NodeNlri, Arc<LsAttribute>>,
    /// Link NLRI (one direction each).
    pub links: HashMap<LinkNlri, Arc<LsAttribute>>,
    /// IPv4 and IPv6 prefix NLRI.
    pub prefixes: HashMap<PrefixNlri, Arc<LsAttribute>>,
    /// SRv6 SID NLRI.
    pub sids: HashMap<Srv6SidNlri, Arc<LsAttribute>>,
    /// NLRI of types CPN does not read, kept whole.
    pub other: HashMap<(u16, Vec<u8>), Arc<LsAttribute>>,
}

impl Table {
    /// How many routes in all.
    pub fn len(&self) -> usize {
        self.nodes.len()
            + self.links.len()
            + self.prefixes.len()
            + self.sids.len()
            + self.other.len()
    }

    /// True when it holds no route.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&mut self, n: Nlri, a: Arc<LsAttribute>) -> bool {
        let changed = |old: Option<Arc<LsAttribute>>| old.is_none_or(|o| *o != *a);
        match n {
            Nlri::Node(k) => changed(self.nodes.insert(k, a.clone())),
            Nlri::Link(k) => changed(self.links.insert(k, a.clone())),
            Nlri::Prefix(k) => changed(self.prefixes.insert(k, a.clone())),
            Nlri::Srv6Sid(k) => changed(self.sids.insert(k, a.clone())),
            Nlri::Unknown { nlri_type, body } => {
                changed(self.other.insert((nlri_type, body), a.clone()))
            }
        }
    }

    fn remove(&mut self, n: &Nlri) -> bool {
        match n {
            Nlri::Node(k) => self.nodes.remove(k).is_some(),
            Nlri::Link(k) => self.links.remove(k).is_some(),
            Nlri::Prefix(k) => self.prefixes.remove(k).is_some(),
            Nlri::Srv6Sid(k) => self.sids.remove(k).is_some(),
            Nlri::Unknown { nlri_type, body } => {
                self.other.remove(&(*nlri_type, body.clone())).is_some()
            }
        }
    }
}

/// What a peer sent, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// UPDATE messages.
    pub updates: u64,
    /// NLRI announced.
    pub announced: u64,
    /// NLRI withdrawn.
    pub withdrawn: u64,
    /// TLVs not understood (unknown types, in NLRI or attributes).
    pub unknown_tlvs: u64,
    /// Known TLVs with a bad length, or repeated.
    pub malformed_tlvs: u64,
    /// NLRI of types CPN does not read.
    pub unknown_nlri: u64,
    /// BGP-LS attributes discarded (their TLVs overran them).
    pub attributes_discarded: u64,
    /// UPDATEs whose NLRI were treated as withdrawn.
    pub treated_as_withdraw: u64,
    /// End-of-RIB markers.
    pub end_of_rib: u64,
}

impl Counters {
    /// Adds `other` to these.
    pub fn add(&mut self, other: &Counters) {
        self.updates += other.updates;
        self.announced += other.announced;
        self.withdrawn += other.withdrawn;
        self.unknown_tlvs += other.unknown_tlvs;
        self.malformed_tlvs += other.malformed_tlvs;
        self.unknown_nlri += other.unknown_nlri;
        self.attributes_discarded += other.attributes_discarded;
        self.treated_as_withdraw += other.treated_as_withdraw;
        self.end_of_rib += other.end_of_rib;
    }
}

/// One peer's routes and standing.
#[derive(Clone, Debug, Default)]
pub struct PeerRib {
    /// The table of the current (or last) session.
    pub table: Table,
    /// The last complete table of an earlier session, standing in while
    /// the current one fills.
    pub previous: Option<Table>,
    /// The current session is up.
    pub up: bool,
    /// The current session's table is complete.
    pub synced: bool,
    /// Counters over every session of the peer.
    pub counters: Counters,
}

impl PeerRib {
    /// The complete table that stands for this peer, if any.
    pub fn view(&self) -> Option<&Table> {
        if self.synced {
            Some(&self.table)
        } else {
            self.previous.as_ref()
        }
    }
}

/// What changed in the complete views since it was last taken: only link
/// attributes (a delay, a load: the common case, cheap to follow), or more.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Something other than a link's attribute changed.
    pub structural: bool,
    /// Link NLRI of a complete view whose attribute changed.
    pub links: HashSet<LinkNlri>,
}

/// Every peer's routes, by peer name (its address).
#[derive(Clone, Debug, Default)]
pub struct Rib {
    peers: BTreeMap<String, PeerRib>,
    changes: Changes,
}

impl Rib {
    /// An empty RIB.
    pub fn new() -> Self {
        Rib::default()
    }

    /// Every peer, by name.
    pub fn peers(&self) -> &BTreeMap<String, PeerRib> {
        &self.peers
    }

    /// A session of `peer` came up: a fresh table starts; the last complete
    /// one stands until it is complete.
    pub fn session_up(&mut self, peer: &str) {
        self.changes.structural = true;
        let p = self.peers.entry(peer.to_owned()).or_default();
        let old = std::mem::take(&mut p.table);
        if p.synced {
            p.previous = Some(old);
        }
        p.up = true;
        p.synced = false;
    }

    /// The session of `peer` went down: what it had stays (stale).
    pub fn session_down(&mut self, peer: &str) {
        self.changes.structural = true;
        if let Some(p) = self.peers.get_mut(peer) {
            p.up = false;
            if !p.synced {
                // A half table is worth nothing; the previous one stands.
                p.table = Table::default();
            }
        }
    }

    /// Takes one UPDATE of `peer`; true when the peer's complete view may
    /// have changed (routes of a complete table, or the table just became
    /// complete with End-of-RIB).
    pub fn apply(&mut self, peer: &str, u: &Update) -> bool {
        let p = self.peers.entry(peer.to_owned()).or_default();
        let c = &mut p.counters;
        c.updates += 1;
        c.announced += u.reach.len() as u64;
        c.withdrawn += u.withdraw.len() as u64;
        c.attributes_discarded += u64::from(u.attribute_discarded);
        c.treated_as_withdraw += u64::from(u.treated_as_withdraw);
        c.end_of_rib += u64::from(u.end_of_rib);
        for n in u.reach.iter().chain(&u.withdraw) {
            c.unknown_tlvs += n.unknown_tlvs() as u64;
            c.unknown_nlri += u64::from(matches!(n, Nlri::Unknown { .. }));
        }
        if let Some(a) = &u.attribute {
            c.unknown_tlvs += a.unknown.len() as u64;
            c.malformed_tlvs += a.malformed.len() as u64;
        }
        let attribute = Arc::new(u.attribute.clone().unwrap_or_default());
        let mut changed = false;
        let live = p.synced;
        for n in &u.withdraw {
            let gone = p.table.remove(n);
            changed |= gone;
            self.changes.structural |= gone && live;
        }
        for n in &u.reach {
            let link = match n {
                Nlri::Link(k) => p.table.links.contains_key(k).then(|| k.clone()),
                _ => None,
            };
            let moved = p.table.insert(n.clone(), attribute.clone());
            changed |= moved;
            if moved && live {
                match link {
                    Some(k) => {
                        self.changes.links.insert(k);
                    }
                    None => self.changes.structural = true,
                }
            }
        }
        let completed = u.end_of_rib && !p.synced;
        self.changes.structural |= completed;
        if completed {
            p.synced = true;
            p.previous = None;
        }
        completed || (changed && p.synced)
    }

    /// Takes `peer`'s current table as complete without End-of-RIB (the
    /// speaker's quiet-period fallback); true when that changed anything.
    pub fn assume_synced(&mut self, peer: &str) -> bool {
        match self.peers.get_mut(peer) {
            Some(p) if p.up && !p.synced => {
                self.changes.structural = true;
                p.synced = true;
                p.previous = None;
                true
            }
            _ => false,
        }
    }

    /// What changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// True when the network may be applied: some peer has a complete
    /// table, and no session that is up is still loading its first one.
    pub fn ready(&self) -> bool {
        self.peers.values().any(|p| p.view().is_some())
            && self
                .peers
                .values()
                .all(|p| !p.up || p.synced || p.previous.is_some())
    }

    /// The complete tables, by peer name.
    pub fn views(&self) -> impl Iterator<Item = (&str, &Table)> {
        self.peers
            .iter()
            .filter_map(|(name, p)| p.view().map(|t| (name.as_str(), t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp_ls::wire::nlri::{NodeDescriptor, Origin};

    fn node(id: u8) -> Nlri {
        Nlri::Node(NodeNlri {
            origin: Origin {
                protocol: 2,
                identifier: 0,
            },
            node: NodeDescriptor {
                asn: Some(64500),
                igp_router_id: Some(vec![0, 0, 0, 0, 0, id]),
                ..Default::default()
            },
            unknown: vec![],
        })
    }

    fn announce(n: Vec<Nlri>) -> Update {
        Update::announce(n, None, &[64500], "10.0.0.1".parse().unwrap())
    }

    #[test]
    fn nothing_counts_before_end_of_rib_and_stale_tables_stand() {
        let mut rib = Rib::new();
        rib.session_up("p");
        assert!(!rib.apply("p", &announce(vec![node(1), node(2)])));
        assert!(!rib.ready(), "half a table is not ready");
        assert!(rib.apply("p", &Update::end_of_rib()));
        assert!(rib.ready());
        assert_eq!(rib.views().next().unwrap().1.nodes.len(), 2);
        // Withdrawals count now.
        assert!(rib.apply("p", &Update::withdrawal(vec![node(2)])));
        assert!(
            !rib.apply("p", &Update::withdrawal(vec![node(2)])),
            "gone already"
        );
        // The session drops: its table stands.
        rib.session_down("p");
        assert!(rib.ready());
        assert_eq!(rib.views().next().unwrap().1.nodes.len(), 1);
        // It comes back and refills: the old table stands until End-of-RIB.
        rib.session_up("p");
        assert!(!rib.apply("p", &announce(vec![node(3)])));
        assert!(rib.ready(), "the previous complete table stands");
        let view: Vec<_> = rib
            .views()
            .next()
            .unwrap()
            .1
            .nodes
            .keys()
            .cloned()
            .collect();
        assert_eq!(view.len(), 1);
        assert!(rib.apply("p", &Update::end_of_rib()));
        let t = rib.views().next().unwrap().1;
        assert!(t.nodes.contains_key(match &node(3) {
            Nlri::Node(n) => n,
            _ => unreachable!(),
        }));
        assert_eq!(rib.peers()["p"].counters.end_of_rib, 2);
    }

    #[test]
    fn a_second_peer_loading_holds_the_network_back() {
        let mut rib = Rib::new();
        rib.session_up("a");
        rib.apply("a", &Update::end_of_rib());
        rib.session_up("b");
        rib.apply("b", &announce(vec![node(1)]));
        assert!(!rib.ready());
        assert!(rib.assume_synced("b"));
        assert!(rib.ready());
        assert!(!rib.assume_synced("b"));
    }

    #[test]
    fn unknown_nlri_are_kept_and_counted() {
        let mut rib = Rib::new();
        rib.session_up("p");
        let u = announce(vec![Nlri::Unknown {
            nlri_type: 5,
            body: vec![1],
        }]);
        rib.apply("p", &u);
        assert_eq!(rib.peers()["p"].table.other.len(), 1);
        assert_eq!(rib.peers()["p"].counters.unknown_nlri, 1);
    }
}
