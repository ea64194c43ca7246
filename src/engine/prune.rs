//! What a request may use: routers and links (masks), and which data centers
//! are candidates at all, with the first requirement each other one fails.

use super::graph::SearchGraph;
use super::request::{Destination, PathRequest, Residency, Standby};
use super::search::{Masks, Sink};
use crate::model::{DatacenterIx, Router, RouterIx, Topology};

/// Why a request is malformed for this topology (exit status 1, not 2):
/// the request field at fault (`compute.tflops`; empty when it is the
/// request as a whole) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct InvalidRequest {
    /// The field, as the request document spells it.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// A destination the search may end at.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The data center, or `None` for a router destination.
    pub datacenter: Option<DatacenterIx>,
    /// Usable gateways (or the destination router), with the DC's latency.
    pub sinks: Vec<Sink>,
    /// Price of the job there (pool price x TFLOPS), 0 without compute.
    pub price: f64,
}

/// Where a data center went in pruning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// It is `candidates[i]`.
    Candidate(usize),
    /// It is `rejected[i]`.
    Rejected(usize),
}

/// The pruned view of the topology for one request.
#[derive(Clone, Debug)]
pub struct Pruned {
    /// Usable routers and links.
    pub masks: Masks,
    /// Destinations that passed every static check.
    pub candidates: Vec<Candidate>,
    /// Data centers that did not, with the first requirement they fail.
    pub rejected: Vec<(DatacenterIx, String)>,
    /// Per data center: where it went.
    pub slots: Vec<Slot>,
}

/// Checks what depends on the request alone (and the ids in it).
pub fn validate(t: &Topology, req: &PathRequest) -> Result<(), InvalidRequest> {
    let bad = |field: &'static str, message: String| Err(InvalidRequest { field, message });
    let headend = t.router(req.from);
    if let Some(c) = &req.compute {
        if !(c.tflops.is_finite() && c.tflops > 0.0) {
            return bad("compute.tflops", format!("must be > 0, got {}", c.tflops));
        }
        if !(c.memory_gb.is_finite() && c.memory_gb >= 0.0) {
            return bad(
                "compute.memory_gb",
                format!("must be >= 0, got {}", c.memory_gb),
            );
        }
        if let Some(Destination::Router(r)) = req.to {
            return bad(
                "to",
                format!(
                    "compute needs a data center, but `to` names router `{}`",
                    t.router(r).id
                ),
            );
        }
    }
    if req.compute.is_none() && req.to.is_none() {
        return bad("", "a request needs `compute`, `to`, or both".into());
    }
    if req.standby != Standby::None && req.compute.is_none() {
        return bad(
            "standby",
            format!(
                "standby {} is a second data center for a job: it needs `compute`",
                req.standby.as_str()
            ),
        );
    }
    let contradiction = match (req.standby, req.residency) {
        (Standby::Region, Residency::Region) => Some("region"),
        (Standby::City, Residency::City) => Some("city"),
        _ => None,
    };
    if let Some(what) = contradiction {
        return bad(
            "standby",
            format!(
                "standby {what} asks for another {what} than the primary's, but residency {what} keeps the data in the headend's {what}"
            ),
        );
    }
    if req.objective == super::request::Objective::Price && req.compute.is_none() {
        return bad(
            "objective",
            "objective `price` needs `compute` (price is per TFLOPS)".into(),
        );
    }
    let missing = match req.residency {
        Residency::City => headend.city.is_none().then_some("city"),
        Residency::Region => headend.region.is_none().then_some("region"),
        _ => None,
    };
    if let Some(field) = missing {
        return bad(
            "data.residency",
            format!(
                "residency `{field}` needs headend `{}` to have a {field} in the topology",
                headend.id
            ),
        );
    }
    Ok(())
}

/// True when the request excludes no router beyond those that are down.
fn is_open(req: &PathRequest) -> bool {
    req.residency == Residency::Any
        && req.constraints.operators.is_none()
        && req.constraints.avoid_routers.is_empty()
}

/// Why a router may not be used, or `None` when it may.
pub fn router_refusal(t: &Topology, req: &PathRequest, r: RouterIx) -> Option<String> {
    let router = t.router(r);
    let headend = t.router(req.from);
    if !router.up {
        return Some(format!("{} is down", router.id));
    }
    if req.constraints.avoid_routers.contains(&r) {
        return Some(format!("{} is avoided", router.id));
    }
    if let Some(ops) = &req.constraints.operators
        && !ops.contains(&router.operator)
    {
        return Some(format!(
            "{} belongs to {}, not an allowed operator",
            router.id,
            t.operator(router.operator).id
        ));
    }
    if !same_residency(
        req.residency,
        headend,
        router.operator,
        &router.region,
        &router.city,
    ) {
        return Some(format!(
            "{} is outside the headend's {}",
            router.id,
            req.residency.as_str()
        ));
    }
    None
}

fn same_residency(
    residency: Residency,
    headend: &Router,
    operator: crate::model::OperatorIx,
    region: &Option<String>,
    city: &Option<String>,
) -> bool {
    match residency {
        Residency::Any => true,
        Residency::Operator => operator == headend.operator,
        Residency::Region => region.is_some() && *region == headend.region,
        Residency::City => city.is_some() && *city == headend.city,
    }
}

/// Masks and candidates for a valid request.
pub fn prune(t: &Topology, graph: &SearchGraph, req: &PathRequest) -> Pruned {
    let router_ok: Vec<bool> = if is_open(req) {
        graph.router_up.clone()
    } else {
        t.router_indices()
            .map(|r| router_refusal(t, req, r).is_none())
            .collect()
    };
    let mut link_ok = graph.link_up.clone();
    if let Some(min_bw) = req.constraints.min_bandwidth_mbps {
        for (ix, l) in t.links() {
            link_ok[ix.index()] &= l.available_mbps() >= min_bw;
        }
    }
    for l in &req.constraints.avoid_links {
        link_ok[l.index()] = false;
    }
    // Links whose ends are out count as out, for users of the masks that
    // walk links rather than routers.
    if !is_open(req) {
        for (ix, ok) in link_ok.iter_mut().enumerate() {
            if *ok {
                let (a, b) = t.link_ends(crate::model::LinkIx::new(ix));
                *ok = router_ok[a.index()] && router_ok[b.index()];
            }
        }
    }
    let masks = Masks { router_ok, link_ok };

    if let Some(Destination::Router(r)) = req.to {
        let mut candidates = Vec::new();
        let mut rejected = Vec::new();
        if masks.router_ok[r.index()] {
            candidates.push(Candidate {
                datacenter: None,
                sinks: vec![Sink {
                    router: r,
                    extra_latency: 0,
                }],
                price: 0.0,
            });
        }
        for dc in t.datacenter_indices() {
            let reason = format!("not the requested destination (to: {})", t.router(r).id);
            rejected.push((dc, reason));
        }
        let slots = (0..rejected.len()).map(Slot::Rejected).collect();
        return Pruned {
            masks,
            candidates,
            rejected,
            slots,
        };
    }
    datacenter_candidates(t, req, masks, Role::Primary)
}

/// The data centers that may be the standby of a primary in `primary`,
/// over the same masks as the primary's search (the primary's own data
/// center is rejected as such).
pub fn standby(t: &Topology, req: &PathRequest, masks: Masks, primary: DatacenterIx) -> Pruned {
    datacenter_candidates(t, req, masks, Role::Standby(primary))
}

/// What a data center is being checked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The job's data center.
    Primary,
    /// The standby of a primary in this data center.
    Standby(DatacenterIx),
}

fn datacenter_candidates(t: &Topology, req: &PathRequest, masks: Masks, role: Role) -> Pruned {
    let mut candidates = Vec::new();
    let mut rejected = Vec::new();
    let mut slots = Vec::with_capacity(t.datacenters().len());
    for dc in t.datacenter_indices() {
        match datacenter_refusal(t, req, &masks, dc, role) {
            Some(reason) => {
                slots.push(Slot::Rejected(rejected.len()));
                rejected.push((dc, reason));
            }
            None => {
                slots.push(Slot::Candidate(candidates.len()));
                let d = t.datacenter(dc);
                let price = match &req.compute {
                    Some(c) => d.pool(c.kind).map_or(0.0, |p| p.price * c.tflops),
                    None => 0.0,
                };
                candidates.push(Candidate {
                    datacenter: Some(dc),
                    sinks: d
                        .attach
                        .iter()
                        .filter(|g| masks.router_ok[g.index()])
                        .map(|&g| Sink {
                            router: g,
                            extra_latency: d.latency_us,
                        })
                        .collect(),
                    price,
                });
            }
        }
    }
    Pruned {
        masks,
        candidates,
        rejected,
        slots,
    }
}

/// The first static requirement a data center fails in `role`.
fn datacenter_refusal(
    t: &Topology,
    req: &PathRequest,
    masks: &Masks,
    dc: DatacenterIx,
    role: Role,
) -> Option<String> {
    let d = t.datacenter(dc);
    match role {
        Role::Primary => {
            if let Some(Destination::Datacenter(pinned)) = req.to
                && pinned != dc
            {
                return Some(format!(
                    "not the requested destination (to: {})",
                    t.datacenter(pinned).id
                ));
            }
        }
        Role::Standby(primary) => {
            if let Some(why) = not_apart(t, req.standby, primary, dc) {
                return Some(why);
            }
        }
    }
    if !d.takes_jobs() {
        return Some("its reporter went silent past the grace period: treated as down".into());
    }
    if let Some(c) = &req.compute {
        let Some(pool) = d.pool(c.kind) else {
            return Some(format!("no {} pool", c.kind));
        };
        if !pool.health.takes_jobs() {
            return Some(format!(
                "{} pool is down, as its data center reports",
                c.kind
            ));
        }
        let (tflops, memory_gb, what) = match role {
            Role::Primary => (
                pool.available_tflops(),
                pool.available_memory_gb(),
                "available",
            ),
            Role::Standby(primary) => {
                let h = pool.standby_available(primary);
                (h.tflops, h.memory_gb, "available to a standby")
            }
        };
        if tflops < c.tflops {
            return Some(format!(
                "{} pool has {} TFLOPS {what}, {} requested",
                c.kind,
                fmt_num(tflops),
                fmt_num(c.tflops)
            ));
        }
        if memory_gb < c.memory_gb {
            return Some(format!(
                "{} pool has {} GB memory {what}, {} requested",
                c.kind,
                fmt_num(memory_gb),
                fmt_num(c.memory_gb)
            ));
        }
    }
    let headend = t.router(req.from);
    let dc_inside = match req.residency {
        Residency::Region => d.region.is_some() && d.region == headend.region,
        Residency::City => d.city.is_some() && d.city == headend.city,
        _ => true,
    };
    if !dc_inside {
        let (what, there, here) = match req.residency {
            Residency::Region => ("region", &d.region, &headend.region),
            _ => ("city", &d.city, &headend.city),
        };
        return Some(format!(
            "in {what} {}, but residency {what} keeps the data in {}",
            there.as_deref().unwrap_or("(unknown)"),
            here.as_deref().unwrap_or("(unknown)")
        ));
    }
    if d.attach.iter().all(|g| !masks.router_ok[g.index()]) {
        let why: Vec<String> = d
            .attach
            .iter()
            .filter_map(|&g| router_refusal(t, req, g))
            .collect();
        return Some(format!("no usable gateway: {}", why.join(", ")));
    }
    None
}

/// Why `dc` is not apart enough from `primary` to be its standby.
fn not_apart(
    t: &Topology,
    standby: Standby,
    primary: DatacenterIx,
    dc: DatacenterIx,
) -> Option<String> {
    if dc == primary {
        return Some("the primary's data center".into());
    }
    let (p, d) = (t.datacenter(primary), t.datacenter(dc));
    let (what, here, there) = match standby {
        Standby::None => return None,
        Standby::Region => ("region", &d.region, &p.region),
        Standby::City => ("city", &d.city, &p.city),
    };
    match (here, there) {
        (_, None) => Some(format!(
            "the primary {} declares no {what}: no standby can be shown to be in another",
            p.id
        )),
        (None, _) => Some(format!(
            "declares no {what}: it cannot be shown to be outside the primary's"
        )),
        (Some(a), Some(b)) if a == b => Some(format!(
            "in {what} {a}, as the primary {} is; standby {what} asks for another",
            p.id
        )),
        _ => None,
    }
}

/// A number without a useless fraction: 200 -> "200", 2.5 -> "2.5".
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}
