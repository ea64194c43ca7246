//! Encoding a path as the shortest SRv6 segment list that steers a packet
//! onto exactly that path (path-query.md, "Segments steer the packet").
//!
//! From the current router, an `End` at R follows the operator's unique IGP
//! shortest path to R; an `End.X` at R first does the same, then crosses one
//! link (the only way across a peering link); an `End.DT6` at the last router
//! hands the packet to the data center. A dynamic program over the positions
//! of the path finds the fewest segments: from each position, `End` can reach
//! exactly the prefix of the rest of the path that is a unique IGP shortest
//! path, and `End.X` one link beyond it.

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
    let tree = igp.tree(t, path[i]);
    let mut reach = i;
    for j in i + 1..path.len() {
        if tree.unique_last_link(t, path[j]) == Some(links[j - 1]) {
            reach = j;
        } else {
            break;
        }
    }
    reach
}

#[derive(Clone, Copy)]
enum Step {
    End,
    EndX,
}

/// The fewest segments steering onto `path` (with `links[i]` joining
/// `path[i]` and `path[i+1]`), ending with `End.DT6` into `datacenter` when
/// given. Among encodings of equal length, `End` is preferred to `End.X`
/// (the IGP, not a pinned adjacency, carries the packet where it can).
pub fn encode(
    t: &Topology,
    igp: &mut IgpCache,
    path: &[RouterIx],
    links: &[LinkIx],
    datacenter: Option<DatacenterIx>,
) -> Vec<Segment> {
    let k = path.len() - 1;
    const INF: usize = usize::MAX;
    let mut best = vec![INF; k + 1];
    let mut choice: Vec<(usize, Step)> = vec![(0, Step::End); k + 1];
    let mut reach = vec![0usize; k + 1];
    best[0] = 0;
    for i in 0..=k {
        if best[i] == INF {
            continue;
        }
        reach[i] = end_reach(t, igp, path, links, i);
        let cost = best[i] + 1;
        for j in i + 1..=reach[i] {
            if cost < best[j] {
                best[j] = cost;
                choice[j] = (i, Step::End);
            }
        }
        // End.X at path[j-1] over links[j-1], for every j-1 End reaches.
        for j in i + 1..=(reach[i] + 1).min(k) {
            if cost < best[j] {
                best[j] = cost;
                choice[j] = (i, Step::EndX);
            }
        }
    }

    let mut segments = Vec::new();
    // Where the segment before the final DT6 (if any) ended: the earliest
    // among the cheapest, so the IGP (not a pinned adjacency) carries the
    // packet to the gateway whenever it can.
    let last = match datacenter {
        Some(_) => (0..=k)
            .filter(|&i| best[i] != INF && reach[i] >= k)
            .min_by_key(|&i| (best[i], i))
            .expect("End.X over every link always reaches the end"),
        None => k,
    };
    let mut j = last;
    while j > 0 {
        let (i, step) = choice[j];
        segments.push(match step {
            Step::End => Segment {
                sid: t.sids().end(path[j]),
                behavior: Behavior::End,
                router: path[j],
                link: None,
                datacenter: None,
            },
            Step::EndX => Segment {
                sid: t
                    .sids()
                    .end_x(path[j - 1], links[j - 1])
                    .expect("the link joins its path neighbors"),
                behavior: Behavior::EndX,
                router: path[j - 1],
                link: Some(links[j - 1]),
                datacenter: None,
            },
        });
        j = i;
    }
    segments.reverse();
    if let Some(dc) = datacenter {
        segments.push(Segment {
            sid: t
                .sids()
                .end_dt6(path[k], dc)
                .expect("paths to a data center end at one of its gateways"),
            behavior: Behavior::EndDt6,
            router: path[k],
            link: None,
            datacenter: Some(dc),
        });
    }
    segments
}
