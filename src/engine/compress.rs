//! Encoding a path as compressed SRv6 (RFC 9800 NEXT-C-SID): micro-SIDs
//! packed into the fewest SRH entries (containers), mixed with full SIDs
//! where a router takes no micro-SIDs.
//!
//! The steps a list can take from the router the packet is at, `path[i]`:
//!
//! - uN of `path[j]`: the IGP carries the packet to `path[j]` (as an `End`
//!   would: `path[i..=j]` is the operator's unique shortest path);
//! - uA of `path[i]` over `links[i]`: a local micro-SID, so only while the
//!   packet is at `path[i]` (the previous step ended there);
//! - uDT6 of the endpoint: local too, so only at the endpoint, last;
//! - a full `End`, `End.X` or `End.DT6` SID, routable from anywhere in the
//!   operator, as the uncompressed encoding uses them (one SRH entry each).
//!
//! Micro-SIDs of one block share a container while it has room; a container
//! holds one block, so a micro-SID of another block (another operator, after
//! a peering uA) or a full SID starts a new entry. This is how CPN handles
//! the boundary RFC 9800 leaves open: each entry is either one block's
//! container or one full SID, so every router only ever sees its own
//! operator's addresses as the active one.
//!
//! A dynamic program over (position on the path, open container) finds the
//! fewest entries exactly (then the fewest full SIDs, then the fewest
//! micro-SIDs); the states per position
//! are bounded by the blocks times their micro-SIDs per container.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use super::answer::Segment;
use super::igp::IgpCache;
use super::segments::{encode as encode_full, end_reach};
use crate::model::{Behavior, DatacenterIx, LinkIx, MicroSid, RouterIx, Topology};

/// An encoding: the segments in travel order, and, when any micro-SID is
/// used, the SRH entries (containers and full SIDs) in travel order with
/// each segment's entry index set.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// Segments (micro-SIDs and full SIDs) in travel order.
    pub segments: Vec<Segment>,
    /// What goes in the packet, in order; `None` when uncompressed.
    pub containers: Option<Vec<Ipv6Addr>>,
}

impl Encoded {
    /// How many SRH entries the headend pushes: what its MSD counts.
    pub fn depth(&self) -> usize {
        self.containers
            .as_ref()
            .map_or(self.segments.len(), Vec::len)
    }
}

/// One step of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// uN of `path[j]`.
    MicroEnd(usize),
    /// uA of `path[i]` over `links[i]`.
    MicroEndX,
    /// uDT6 of the endpoint.
    MicroDt6,
    /// Full End of `path[j]`.
    End(usize),
    /// Full End.X of `path[r]` over `links[r]`.
    EndX(usize),
    /// Full End.DT6 of the endpoint.
    Dt6,
}

/// The open container: its block (by operator) and how many micro-SIDs it
/// holds; `None` when the last entry is a full SID (or nothing yet).
type Open = Option<(u16, u8)>;
/// Entries, then full SIDs, then micro-SIDs: of the lists with the
/// fewest entries (the same header bytes), the one that leaves the most to
/// compressed processing, then the shortest.
type Cost = (u32, u32, u32);

#[derive(Clone, Copy, Debug)]
struct Best {
    cost: Cost,
    /// Where it came from: position, open state, step.
    from: Option<(usize, Open, Step)>,
}

/// Adds one micro-SID of `block` (with `room` per container) to `open`.
fn push_micro(open: Open, cost: Cost, block: u16, room: usize) -> (Open, Cost) {
    match open {
        Some((b, used)) if b == block && usize::from(used) < room => {
            (Some((b, used + 1)), (cost.0, cost.1, cost.2 + 1))
        }
        _ => (Some((block, 1)), (cost.0 + 1, cost.1, cost.2 + 1)),
    }
}

/// The fewest-entries encoding of `path` (see the module documentation).
/// Falls back to the uncompressed list when no micro-SID would be used.
pub fn encode(
    t: &Topology,
    igp: &mut IgpCache,
    path: &[RouterIx],
    links: &[LinkIx],
    datacenter: Option<DatacenterIx>,
) -> Encoded {
    let k = path.len() - 1;
    let reach: Vec<usize> = (0..=k).map(|i| end_reach(t, igp, path, links, i)).collect();
    let block_of = |r: RouterIx| {
        t.csid_block(r)
            .map(|b| (t.router(r).operator.0, b.per_container()))
    };
    let mut states: Vec<BTreeMap<Open, Best>> = vec![BTreeMap::new(); k + 1];
    states[0].insert(
        None,
        Best {
            cost: (0, 0, 0),
            from: None,
        },
    );
    let mut done: Option<Best> = None;
    let offer = |map: &mut BTreeMap<Open, Best>, open: Open, best: Best| {
        let keep = map.get(&open).is_some_and(|b| b.cost <= best.cost);
        if !keep {
            map.insert(open, best);
        }
    };
    for i in 0..=k {
        let here: Vec<(Open, Best)> = states[i].iter().map(|(o, b)| (*o, *b)).collect();
        for (open, best) in here {
            let from = |step| Some((i, open, step));
            // Micro-SIDs.
            for j in i + 1..=reach[i] {
                if let Some((block, room)) = block_of(path[j]) {
                    let (o, c) = push_micro(open, best.cost, block, room);
                    offer(
                        &mut states[j],
                        o,
                        Best {
                            cost: c,
                            from: from(Step::MicroEnd(j)),
                        },
                    );
                }
            }
            if let Some((block, room)) = block_of(path[i]) {
                let (o, c) = push_micro(open, best.cost, block, room);
                let b = Best {
                    cost: c,
                    from: from(if i < k {
                        Step::MicroEndX
                    } else {
                        Step::MicroDt6
                    }),
                };
                if i < k {
                    offer(&mut states[i + 1], o, b);
                } else if done.is_none_or(|d| b.cost < d.cost) {
                    done = Some(b);
                }
            }
            // Full SIDs.
            let full = (best.cost.0 + 1, best.cost.1 + 1, best.cost.2);
            for (j, state) in states
                .iter_mut()
                .enumerate()
                .take(reach[i].min(k) + 1)
                .skip(i + 1)
            {
                let b = Best {
                    cost: full,
                    from: from(Step::End(j)),
                };
                offer(state, None, b);
            }
            for r in i..=reach[i].min(k.saturating_sub(1)) {
                if r < k {
                    offer(
                        &mut states[r + 1],
                        None,
                        Best {
                            cost: full,
                            from: from(Step::EndX(r)),
                        },
                    );
                }
            }
            if reach[i] == k {
                let b = Best {
                    cost: full,
                    from: from(Step::Dt6),
                };
                if done.is_none_or(|d| b.cost < d.cost) {
                    done = Some(b);
                }
            }
        }
    }
    let Some(last) = done else {
        // Unreachable for a connected path: a full End.X always moves on.
        return uncompressed(t, igp, path, links, datacenter);
    };
    let mut steps = Vec::new();
    let mut cursor = last.from;
    while let Some((i, open, step)) = cursor {
        steps.push((i, step));
        cursor = states[i][&open].from;
    }
    steps.reverse();
    let micro = steps
        .iter()
        .any(|(_, s)| matches!(s, Step::MicroEnd(_) | Step::MicroEndX | Step::MicroDt6));
    if !micro {
        return uncompressed(t, igp, path, links, datacenter);
    }
    assemble(t, path, links, datacenter, &steps)
}

fn uncompressed(
    t: &Topology,
    igp: &mut IgpCache,
    path: &[RouterIx],
    links: &[LinkIx],
    datacenter: Option<DatacenterIx>,
) -> Encoded {
    Encoded {
        segments: encode_full(t, igp, path, links, datacenter),
        containers: None,
    }
}

/// Builds segments and containers from the chosen steps.
fn assemble(
    t: &Topology,
    path: &[RouterIx],
    links: &[LinkIx],
    datacenter: Option<DatacenterIx>,
    steps: &[(usize, Step)],
) -> Encoded {
    let k = path.len() - 1;
    let sids = t.sids();
    let mut segments = Vec::with_capacity(steps.len());
    let mut containers: Vec<Ipv6Addr> = Vec::new();
    // The open container: its router's block owner and micro-SIDs so far.
    let mut open: Option<(u16, Vec<MicroSid>)> = None;
    let flush =
        |open: &mut Option<(u16, Vec<MicroSid>)>, containers: &mut Vec<Ipv6Addr>, r: RouterIx| {
            if let Some((_, csids)) = open.take() {
                let block = t
                    .csid_block(r)
                    .expect("micro-SIDs only of routers with a block");
                let at = containers.len() - 1;
                containers[at] = block.container(&csids);
            }
        };
    let mut open_router = path[0];
    for &(i, step) in steps {
        let (router, link, dc, behavior, micro) = match step {
            Step::MicroEnd(j) => (path[j], None, None, Behavior::End, t.usid_end(path[j])),
            Step::MicroEndX => (
                path[i],
                Some(links[i]),
                None,
                Behavior::EndX,
                t.usid_end_x(path[i], links[i]),
            ),
            Step::MicroDt6 => (
                path[k],
                None,
                datacenter,
                Behavior::EndDt6,
                t.usid_dt6(path[k], datacenter),
            ),
            Step::End(j) => (path[j], None, None, Behavior::End, None),
            Step::EndX(r) => (path[r], Some(links[r]), None, Behavior::EndX, None),
            Step::Dt6 => (path[k], None, datacenter, Behavior::EndDt6, None),
        };
        let sid = match micro {
            Some(csid) => {
                let block = t.csid_block(router).expect("checked by the program");
                let owner = t.router(router).operator.0;
                let room = block.per_container();
                let fits = matches!(&open, Some((b, c)) if *b == owner && c.len() < room);
                if !fits {
                    flush(&mut open, &mut containers, open_router);
                    containers.push(Ipv6Addr::UNSPECIFIED);
                    open = Some((owner, Vec::new()));
                    open_router = router;
                }
                open.as_mut().expect("opened above").1.push(csid);
                block.address(csid)
            }
            None => {
                flush(&mut open, &mut containers, open_router);
                let sid = match step {
                    Step::End(_) => sids.end(router),
                    Step::EndX(_) => sids
                        .end_x(router, link.expect("End.X has a link"))
                        .expect("the link joins its path neighbors"),
                    _ => match datacenter {
                        Some(d) => sids
                            .end_dt6(router, d)
                            .expect("paths to a data center end at one of its gateways"),
                        None => sids.own_dt6(router),
                    },
                };
                containers.push(sid);
                sid
            }
        };
        segments.push(Segment {
            sid,
            behavior,
            router,
            link,
            datacenter: dc,
            container: Some(containers.len() - 1),
        });
    }
    flush(&mut open, &mut containers, open_router);
    Encoded {
        segments,
        containers: Some(containers),
    }
}
