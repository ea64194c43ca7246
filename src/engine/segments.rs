//! Encoding a path as the shortest SRv6 segment list that steers a packet
//! onto exactly that path (path-query.md, "Segments steer the packet").
//!
//! From the current router, an `End` at R follows the operator's unique IGP
//! shortest path to R; an `End.X` at R first does the same, then crosses one
//! link (the only way across a peering link); an `End.DT6` at the last router
//! (the data center's, or the router's own) steers the packet there as an
//! `End` would and decapsulates it. Every list ends with one: an `End` or
//! `End.X` with Segments Left 0 would hand the inner packet to the router
//! itself (RFC 8986 4.1, 4.2), and nothing would leave the SR domain.
//!
//! From an anchor (where the last segment ended), `End` reaches exactly the
//! prefix of the rest of the path that is a unique IGP shortest path: up to
//! `reach(anchor)`. Subpaths of unique shortest paths are unique, so `reach`
//! never decreases inside that prefix, and the furthest anchor one more
//! segment can give is `reach + 1`, by an `End.X` over the link that stops
//! the IGP. Taking it every time is therefore minimal, and needs IGP trees
//! from about two routers per segment, not from every router of the path.
//! When an `End` to `reach` leads exactly as far, the `End` is used: the IGP,
//! not a pinned adjacency, then carries the packet.

use super::answer::Segment;
use super::igp::IgpCache;
use crate::model::{Behavior, DatacenterIx, LinkIx, RouterIx, Topology};

/// How far `End` from `path[i]` can reach: the largest `j >= i` such that
/// `path[i..=j]` is the unique IGP shortest path from `path[i]`.
pub fn end_reach(
    t: &Topology,
    igp: &mut IgpCache,
    path: &[RouterIx],
    links: &[LinkIx],
    i: usize,
) -> usize {
    igp.reach(t, path, links, i)
}

fn end(t: &Topology, r: RouterIx) -> Segment {
    Segment {
        sid: t.sids().end(r),
        behavior: Behavior::End,
        router: r,
        link: None,
        datacenter: None,
        container: None,
    }
}

fn end_x(t: &Topology, r: RouterIx, link: LinkIx) -> Segment {
    Segment {
        sid: t
            .sids()
            .end_x(r, link)
            .expect("the link joins its path neighbors"),
        behavior: Behavior::EndX,
        router: r,
        link: Some(link),
        datacenter: None,
        container: None,
    }
}

/// The fewest segments steering onto `path` (with `links[i]` joining
/// `path[i]` and `path[i+1]`), ending with the End.DT6 of the last router:
/// into `datacenter` when given, else into the router's main table.
pub fn encode(
    t: &Topology,
    igp: &mut IgpCache,
    path: &[RouterIx],
    links: &[LinkIx],
    datacenter: Option<DatacenterIx>,
) -> Vec<Segment> {
    let k = path.len() - 1;
    let reach = |i: usize, igp: &mut IgpCache| end_reach(t, igp, path, links, i);
    let mut segments = Vec::new();
    let mut anchor = 0;
    let mut r = reach(anchor, igp);
    while r < k {
        // `path[r] -> path[r+1]` is where the IGP stops following the path.
        let beyond = reach(r + 1, igp);
        let at = reach(r, igp);
        if r > anchor && at >= beyond {
            segments.push(end(t, path[r]));
            anchor = r;
            r = at;
        } else {
            segments.push(end_x(t, path[r], links[r]));
            anchor = r + 1;
            r = beyond;
        }
    }
    // The End.DT6 reaches `path[k]` from the anchor as an End would (the
    // loop left `r == k`).
    let sid = match datacenter {
        Some(dc) => t
            .sids()
            .end_dt6(path[k], dc)
            .expect("paths to a data center end at one of its gateways"),
        None => t.sids().own_dt6(path[k]),
    };
    segments.push(Segment {
        sid,
        behavior: Behavior::EndDt6,
        router: path[k],
        link: None,
        datacenter,
        container: None,
    });
    segments
}
