//! Why every other data center lost: the first requirement it fails, or, when
//! it could have taken the job, its best value beside the chosen one.

use std::cell::OnceCell;

use super::answer::{NoPlacement, Rejection};
use super::graph::Arc;
use super::place::{Ctx, Route, Value};
use super::prune::{Pruned, Slot, fmt_num};
use super::request::{Destination, Objective};
use super::search::{self, INF};
use crate::model::{DatacenterIx, Topology};

/// Per-candidate outcomes of the searches, with forward distances computed
/// only if some candidate needs them to explain itself.
pub(super) struct Reasons<'c, 'a> {
    ctx: &'c Ctx<'a>,
    /// Per candidate: its best value, if it has a feasible path.
    values: Vec<Option<Value>>,
    truncated: bool,
    /// Candidates that had a path, but none within the MSD.
    over_msd: Vec<Option<usize>>,
    latency: OnceCell<Vec<u64>>,
    jitter: OnceCell<Vec<u64>>,
    loss: OnceCell<Vec<u64>>,
}

impl<'c, 'a> Reasons<'c, 'a> {
    pub fn new(ctx: &'c Ctx<'a>, values: Vec<Option<Value>>, truncated: bool) -> Self {
        Reasons {
            ctx,
            over_msd: vec![None; values.len()],
            values,
            truncated,
            latency: OnceCell::new(),
            jitter: OnceCell::new(),
            loss: OnceCell::new(),
        }
    }

    /// Marks candidates that have no path within the MSD with the segments
    /// their best path needs (`needed`, per candidate).
    pub fn msd_exceeded(mut self, needed: Vec<Option<usize>>) -> Self {
        for (i, n) in needed.into_iter().enumerate() {
            if self.values[i].is_none() {
                self.over_msd[i] = n;
            }
        }
        self
    }

    /// Forward distances from the headend by one arc weight, computed once.
    fn forward<'s>(&self, cell: &'s OnceCell<Vec<u64>>, weight: fn(&Arc) -> u64) -> &'s [u64] {
        cell.get_or_init(|| {
            let start = [(self.ctx.req.from, 0)];
            search::dijkstra(&self.ctx.graph, &self.ctx.pruned.masks, &start, weight)
        })
    }

    /// The first requirement candidate `i` fails (it has no feasible route).
    fn infeasible(&self, i: usize) -> String {
        let ctx = self.ctx;
        let t = ctx.t;
        if let Some(needed) = self.over_msd[i] {
            return format!(
                "every path needs more segments than the msd {} of {} (the best needs {needed})",
                ctx.msd,
                t.router(ctx.req.from).id
            );
        }
        let sinks = &ctx.pruned.candidates[i].sinks;
        let latency = self.forward(&self.latency, |a| a.latency);
        let min_latency = sinks
            .iter()
            .filter(|s| latency[s.router.index()] != INF)
            .map(|s| latency[s.router.index()] + s.extra_latency)
            .min();
        let Some(min_latency) = min_latency else {
            let gateways: Vec<&str> = sinks
                .iter()
                .map(|s| t.router(s.router).id.as_str())
                .collect();
            return format!(
                "no path from {} to {} over usable routers and links",
                t.router(ctx.req.from).id,
                gateways.join(", ")
            );
        };
        if let Some(max) = ctx.bounds.latency
            && min_latency > max
        {
            return format!("latency {min_latency}us exceeds max_latency_us {max}");
        }
        let min_over = |cell: &OnceCell<Vec<u64>>, weight: fn(&Arc) -> u64| {
            let d = self.forward(cell, weight);
            sinks
                .iter()
                .map(|s| d[s.router.index()])
                .min()
                .unwrap_or(INF)
        };
        if let Some(max) = ctx.bounds.jitter {
            let v = min_over(&self.jitter, |a| a.jitter);
            if v > max {
                return format!("jitter {v}us exceeds max_jitter_us {max}");
            }
        }
        if let Some(max) = ctx.bounds.loss {
            let v = min_over(&self.loss, |a| a.loss);
            if v > max {
                return format!("loss {v}ppm exceeds max_loss_ppm {max}");
            }
        }
        if self.truncated {
            return format!(
                "search stopped after {} labels without a feasible path",
                search::MAX_LABELS
            );
        }
        "no single path meets the latency, jitter and loss bounds together".to_owned()
    }
}

/// The value of a placement in words: "latency 12050us".
fn value_text(objective: Objective, v: &Value) -> String {
    match objective {
        Objective::Latency => format!("latency {}us", v.key.0),
        Objective::Igp => format!("igp {}", v.key.0),
        Objective::Te => format!("te {}", v.key.0),
        Objective::Price => format!("price {}", fmt_num((v.price * 100.0).round() / 100.0)),
    }
}

/// Every data center's reason when the headend itself is unusable.
pub(super) fn all_static(t: &Topology, pruned: &Pruned, headend: &str) -> Vec<Rejection> {
    t.datacenter_indices()
        .map(|dc| Rejection {
            datacenter: dc,
            feasible: false,
            reason: pruned
                .rejected
                .iter()
                .find(|(d, _)| *d == dc)
                .map_or_else(|| headend.to_owned(), |(_, r)| r.clone()),
        })
        .collect()
}

/// Every data center but the chosen one, in id order, with its reason.
pub(super) fn rejections(
    ctx: &Ctx<'_>,
    reasons: &Reasons<'_, '_>,
    chosen: Option<&Route>,
) -> Vec<Rejection> {
    let chosen_dc = chosen.and_then(|r| ctx.pruned.candidates[r.candidate].datacenter);
    let mut out = Vec::new();
    for dc in ctx.t.datacenter_indices() {
        if Some(dc) == chosen_dc {
            continue;
        }
        out.push(rejection(ctx, reasons, chosen, dc));
    }
    out
}

fn rejection(
    ctx: &Ctx<'_>,
    reasons: &Reasons<'_, '_>,
    chosen: Option<&Route>,
    dc: DatacenterIx,
) -> Rejection {
    let i = match ctx.pruned.slots[dc.0 as usize] {
        Slot::Rejected(r) => {
            return Rejection {
                datacenter: dc,
                feasible: false,
                reason: ctx.pruned.rejected[r].1.clone(),
            };
        }
        Slot::Candidate(i) => i,
    };
    match (&reasons.values[i], chosen) {
        (Some(v), Some(c)) => {
            let objective = ctx.req.objective;
            let reason = if v.cmp(&c.value).is_eq() {
                format!(
                    "{}, as good as chosen; lost the tie on segments or id",
                    value_text(objective, v)
                )
            } else {
                let chosen = value_text(objective, &c.value);
                let chosen = chosen.split_once(' ').map_or("", |x| x.1);
                format!("{}, chosen {chosen}", value_text(objective, v))
            };
            Rejection {
                datacenter: dc,
                feasible: true,
                reason,
            }
        }
        (Some(v), None) => Rejection {
            datacenter: dc,
            feasible: true,
            reason: value_text(ctx.req.objective, v),
        },
        (None, _) => Rejection {
            datacenter: dc,
            feasible: false,
            reason: reasons.infeasible(i),
        },
    }
}

/// The error when nothing is feasible.
pub(super) fn no_placement(ctx: &Ctx<'_>, reasons: &Reasons<'_, '_>) -> NoPlacement {
    let t = ctx.t;
    let headend = &t.router(ctx.req.from).id;
    let rejected = rejections(ctx, reasons, None);
    let message = match (ctx.req.to, &ctx.req.compute) {
        (Some(Destination::Router(r)), _) => {
            let reason = match super::prune::router_refusal(t, ctx.req, r) {
                Some(why) => why,
                None => reasons.infeasible(0),
            };
            format!(
                "no feasible path from {headend} to {}: {reason}",
                t.router(r).id
            )
        }
        (Some(Destination::Datacenter(dc)), compute) => {
            let reason = rejection(ctx, reasons, None, dc).reason;
            match compute {
                Some(c) => format!(
                    "no feasible placement for {} {} TFLOPS from {headend} in {}: {reason}",
                    c.kind,
                    fmt_num(c.tflops),
                    t.datacenter(dc).id
                ),
                None => format!(
                    "no feasible path from {headend} to {}: {reason}",
                    t.datacenter(dc).id
                ),
            }
        }
        (None, Some(c)) => {
            let what = format!(
                "no feasible placement for {} {} TFLOPS from {headend}",
                c.kind,
                fmt_num(c.tflops)
            );
            match rejected.as_slice() {
                [] => format!("{what}: the topology has no data centers"),
                [only] => format!(
                    "{what}: {}: {}",
                    t.datacenter(only.datacenter).id,
                    only.reason
                ),
                all => format!("{what}: none of {} data centers qualifies", all.len()),
            }
        }
        (None, None) => unreachable!("validated: compute or to"),
    };
    NoPlacement { message, rejected }
}
