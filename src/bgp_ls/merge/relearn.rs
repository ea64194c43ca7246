//! Following changed link attributes without learning everything again:
//! in a steady network most UPDATEs only carry a new delay, load or metric
//! for a link direction; recomputing those links alone costs microseconds
//! where learning a 10,000-router network costs most of a second. Anything
//! more (a new, withdrawn or moved link, a changed SID or SRLG) goes the
//! full way.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::diff::set_link;
use super::learn::{Side, link};
use super::{Learned, LearnedLink};
use crate::bgp_ls::rib::{Rib, Table};
use crate::bgp_ls::wire::nlri::LinkNlri;
use crate::document::EventDoc;
use crate::topology_file::business::Business;

/// Recomputes the links of `applied` whose NLRI are in `changed` from
/// `rib`, in place, and gives the events that take the model along; or
/// `None`, leaving `applied` as it was, when that is not enough (a link's
/// SIDs, SRLG, kind or state moved, or an NLRI is new: learn it all).
pub fn relearn_links(
    rib: &Rib,
    business: &Business,
    applied: &mut Learned,
    changed: &HashSet<LinkNlri>,
) -> Option<Vec<EventDoc>> {
    let mut ids = BTreeSet::new();
    for n in changed {
        ids.insert(applied.link_of.get(n)?.clone());
    }
    let tables: HashMap<&str, &Table> = rib.views().collect();
    let mut problems = BTreeSet::new();
    let mut fresh = Vec::with_capacity(ids.len());
    for id in ids {
        let old = applied.links.get(&id)?;
        let sides = applied.sides.get(&id)?;
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
            business.links.get(&id),
            &mut problems,
            &id,
        );
        l.descriptor = old.descriptor.clone();
        let shape = |x: &LearnedLink| (x.end_x, x.srlg.clone(), x.peering, x.up);
        if shape(&l) != shape(old) {
            return None;
        }
        fresh.push((id, l));
    }
    let mut events = Vec::new();
    for (id, l) in fresh {
        let old = applied.links.insert(id.clone(), l).expect("known above");
        events.extend(set_link(&id, &old, &applied.links[&id]));
    }
    Some(events)
}
