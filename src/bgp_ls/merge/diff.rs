//! What changed between two learned states: events when only states and
//! metrics moved (a withdrawn link is `link_down`, a new delay `set_link`),
//! a rebuild when routers, links, SIDs, locators or business data did.

use std::collections::HashMap;

use crate::document::{EventDoc, SetLinkDoc};

use super::{Learned, LearnedLink};

/// How the model must follow.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Nothing to do.
    Same,
    /// These events, in order (router states, link states, link metrics).
    Events(Vec<EventDoc>),
    /// The shape changed: build the topology again and replace it.
    Rebuild,
}

/// Routers and links of `old` that `new` no longer has stay in `new`, down:
/// the model keeps them, so that their withdrawal is an event. A link of
/// `new` that `old` knew under another id (the same ends and descriptor:
/// a parallel link came or went) takes its old id back.
pub fn carry_over(new: &mut Learned, old: &Learned) {
    let known: HashMap<(&str, &str, &str), &str> = old
        .links
        .iter()
        .map(|(id, l)| {
            (
                (l.a.as_str(), l.b.as_str(), l.descriptor.as_str()),
                id.as_str(),
            )
        })
        .collect();
    let renames: Vec<(String, String)> = new
        .links
        .iter()
        .filter(|(id, _)| !old.links.contains_key(*id))
        .filter_map(|(id, l)| {
            let was = known.get(&(l.a.as_str(), l.b.as_str(), l.descriptor.as_str()))?;
            (!new.links.contains_key(*was)).then(|| (id.clone(), (*was).to_owned()))
        })
        .collect();
    for (id, was) in renames {
        if let Some(l) = new.links.remove(&id) {
            new.links.insert(was, l);
        }
    }
    for (id, r) in &old.routers {
        if !new.routers.contains_key(id) {
            let mut r = r.clone();
            r.up = false;
            new.routers.insert(id.clone(), r);
        }
    }
    for (id, l) in &old.links {
        if !new.links.contains_key(id)
            && new.routers.contains_key(&l.a)
            && new.routers.contains_key(&l.b)
        {
            let mut l = l.clone();
            l.up = false;
            new.links.insert(id.clone(), l);
        }
    }
}

/// What it takes to go from `old` to `new` (after [`carry_over`]).
pub fn diff(old: &Learned, new: &Learned) -> Change {
    let same_keys =
        old.routers.keys().eq(new.routers.keys()) && old.links.keys().eq(new.links.keys());
    if !same_keys {
        return Change::Rebuild;
    }
    let mut routers = Vec::new();
    for (id, o) in &old.routers {
        let n = &new.routers[id];
        let shape = (
            &o.operator,
            o.locator,
            o.end_sid,
            o.msd,
            &o.city,
            &o.region,
            &o.mgmt,
            o.prefix,
        );
        if shape
            != (
                &n.operator,
                n.locator,
                n.end_sid,
                n.msd,
                &n.city,
                &n.region,
                &n.mgmt,
                n.prefix,
            )
        {
            return Change::Rebuild;
        }
        if o.up != n.up {
            routers.push(if n.up {
                EventDoc::RouterUp(id.clone())
            } else {
                EventDoc::RouterDown(id.clone())
            });
        }
    }
    let mut states = Vec::new();
    let mut metrics = Vec::new();
    for (id, o) in &old.links {
        let n = &new.links[id];
        if (&o.a, &o.b, o.end_x, &o.srlg, o.peering) != (&n.a, &n.b, n.end_x, &n.srlg, n.peering) {
            return Change::Rebuild;
        }
        if o.up != n.up {
            states.push(if n.up {
                EventDoc::LinkUp(id.clone())
            } else {
                EventDoc::LinkDown(id.clone())
            });
        }
        metrics.extend(set_link(id, o, n));
    }
    let events: Vec<EventDoc> = routers.into_iter().chain(states).chain(metrics).collect();
    if events.is_empty() {
        Change::Same
    } else {
        Change::Events(events)
    }
}

/// The `set_link` that takes link `id` from `o`'s metrics to `n`'s, if
/// any changed.
pub(super) fn set_link(id: &str, o: &LearnedLink, n: &LearnedLink) -> Option<EventDoc> {
    let changed = |a: u64, b: u64| (a != b).then_some(b);
    let set = SetLinkDoc {
        id: id.to_owned(),
        latency_us: changed(o.latency_us, n.latency_us),
        igp: (o.igp != n.igp).then_some(n.igp),
        te: (o.te != n.te).then_some(n.te),
        bandwidth_mbps: changed(o.bandwidth_mbps, n.bandwidth_mbps),
        used_mbps: n.used_mbps.filter(|&u| Some(u) != o.used_mbps),
        jitter_us: changed(o.jitter_us, n.jitter_us),
        loss_ppm: changed(o.loss_ppm, n.loss_ppm),
        up: None,
    };
    let nothing = SetLinkDoc {
        id: id.to_owned(),
        ..Default::default()
    };
    (set != nothing).then_some(EventDoc::SetLink(set))
}
