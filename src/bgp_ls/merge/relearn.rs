//! Following changed link attributes without learning everything again:
//! in a steady network most UPDATEs only carry a new delay, load or metric
//! for a link direction; recomputing those links alone costs microseconds
//! where learning a 10,000-router network costs most of a second. Anything
//! more (a new, withdrawn or moved link, a changed SID or SRLG) goes the
//! full way.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::Learned;
use super::learn::{Side, link};
use crate::bgp_ls::rib::{Rib, Table};
use crate::bgp_ls::wire::nlri::LinkNlri;
use crate::topology_file::business::Business;

/// `applied` with the links whose NLRI are in `changed` recomputed from
/// `rib`, or `None` when that is not enough (learn it all).
pub fn relearn_links(
    rib: &Rib,
    business: &Business,
    applied: &Learned,
    changed: &HashSet<LinkNlri>,
) -> Option<Learned> {
    let mut ids = BTreeSet::new();
    for n in changed {
        ids.insert(applied.link_of.get(n)?);
    }
    let tables: HashMap<&str, &Table> = rib.views().collect();
    let mut next = applied.clone();
    let mut problems = BTreeSet::new();
    for id in ids {
        let old = applied.links.get(id)?;
        let sides = applied.sides.get(id)?;
        let mut view: [Option<Side<'_>>; 2] = [None, None];
        for (k, s) in sides.iter().enumerate() {
            if let Some((peer, nlri)) = s {
                let attr = tables.get(peer.as_str())?.links.get(nlri)?;
                view[k] = Some(Side {
                    peer,
                    protocol: nlri.origin.protocol,
                    attr: attr.as_ref(),
                });
            }
        }
        let mut l = link(
            &old.a,
            &old.b,
            &view,
            &applied.routers,
            business.links.get(id),
            &mut problems,
            id,
        );
        l.descriptor = old.descriptor.clone();
        let shape = |x: &super::LearnedLink| (x.end_x, x.srlg.clone(), x.peering, x.up);
        if shape(&l) != shape(old) {
            return None;
        }
        next.links.insert(id.clone(), l);
    }
    Some(next)
}
