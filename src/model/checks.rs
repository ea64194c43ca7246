//! The rules of the topology spec that are about meaning (ids, references,
//! ranges, locators, prefixes), one function per list, every violation
//! reported with its place. Run by [`TopologyBuilder::build`] before
//! anything is assembled.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;

use super::builder::{RouterDraft, TopologyBuilder};
use super::geo::{GeoProblem, coordinates};
use super::prefixes::{Kind, derived_prefix};
use super::problems::{BuildError, Place, Problem, Section};
use super::sid::{MAX_ADJACENCIES, MAX_DATACENTERS_PER_ROUTER};

/// Every rule about meaning; pushes one error per violation.
pub(super) fn check(b: &TopologyBuilder, errors: &mut Vec<BuildError>) {
    let mut c = Checks {
        b,
        errors,
        operators: HashMap::new(),
        nodes: HashMap::new(),
        router_ids: HashMap::new(),
    };
    c.lists_present();
    c.operators();
    c.routers();
    c.links();
    c.datacenters();
    c.given_sids();
    super::csid_checks::check(b, errors);
}

/// The checks' shared state: what has been seen so far, by id.
struct Checks<'b> {
    b: &'b TopologyBuilder,
    errors: &'b mut Vec<BuildError>,
    /// Operator ids, where first defined.
    operators: HashMap<&'b str, Place>,
    /// Router and data center ids (one namespace), where first defined.
    nodes: HashMap<&'b str, Place>,
    /// Router ids, by position in the input.
    router_ids: HashMap<&'b str, usize>,
}

fn place(section: Section, index: usize, id: &str, field: &str) -> Place {
    Place {
        section,
        index: Some(index),
        id: Some(id.to_owned()),
        field: field.to_owned(),
    }
}

fn out_of_range(value: impl fmt::Display, rule: impl Into<String>) -> Problem {
    Problem::OutOfRange {
        value: value.to_string(),
        rule: rule.into(),
    }
}

/// Records the first use of `id` in `seen`; a second use is a problem.
fn first_use<'b>(seen: &mut HashMap<&'b str, Place>, id: &'b str, here: &Place) -> Option<Problem> {
    match seen.get(id) {
        Some(first) => Some(Problem::DuplicateId {
            id: id.to_owned(),
            first: Box::new(first.clone()),
        }),
        None => {
            seen.insert(id, here.clone());
            None
        }
    }
}

/// The first and last address of a prefix.
fn range(n: &Ipv6Network) -> (u128, u128) {
    let start = u128::from(n.network());
    (start, start | (u128::MAX >> n.prefix()))
}

impl<'b> Checks<'b> {
    fn err(&mut self, place: Place, problem: Problem) {
        self.errors.push(BuildError { place, problem });
    }

    /// An item's `lat`/`lon`: both or neither, each in range.
    fn coordinates(
        &mut self,
        section: Section,
        i: usize,
        id: &str,
        lat: Option<f64>,
        lon: Option<f64>,
    ) {
        for problem in coordinates(lat, lon).err().unwrap_or_default() {
            match problem {
                GeoProblem::Unpaired(given, missing) => {
                    self.err(
                        place(section, i, id, given),
                        Problem::Unpaired { given, missing },
                    );
                }
                GeoProblem::OutOfRange(field, value, rule) => {
                    self.err(place(section, i, id, field), out_of_range(value, rule));
                }
            }
        }
    }

    fn lists_present(&mut self) {
        for (section, empty) in [
            (Section::Operators, self.b.operators.is_empty()),
            (
                Section::Routers,
                self.b.routers.is_empty() && !self.b.routers_optional,
            ),
        ] {
            if empty {
                let list = Place {
                    section,
                    index: None,
                    id: None,
                    field: String::new(),
                };
                self.err(list, Problem::Empty(section.noun()));
            }
        }
    }

    fn operators(&mut self) {
        for (i, op) in self.b.operators.iter().enumerate() {
            let here = place(Section::Operators, i, op.id.as_str(), "id");
            if let Some(p) = first_use(&mut self.operators, op.id.as_str(), &here) {
                self.err(here, p);
            }
        }
    }

    fn routers(&mut self) {
        for (i, r) in self.b.routers.iter().enumerate() {
            let id = r.id.as_str();
            let here = |field: &str| place(Section::Routers, i, id, field);
            match first_use(&mut self.nodes, id, &here("id")) {
                Some(p) => self.err(here("id"), p),
                None => {
                    self.router_ids.insert(id, i);
                }
            }
            if !self.operators.contains_key(r.operator.as_str()) {
                let problem = Problem::Unknown {
                    kind: "operator",
                    id: r.operator.to_string(),
                };
                self.err(here("operator"), problem);
            }
            self.coordinates(Section::Routers, i, id, r.lat, r.lon);
            let len = r.locator.prefix();
            if !(16..=64).contains(&len) {
                self.err(here("locator"), Problem::LocatorLength(r.locator, len));
            } else if r.locator.ip() != r.locator.network() {
                let fixed = Ipv6Network::new(r.locator.network(), len).expect("same length");
                self.err(here("locator"), Problem::LocatorHostBits(r.locator, fixed));
            }
        }
        for (i, j) in overlapping_locators(&self.b.routers) {
            let (r, other) = (&self.b.routers[i], &self.b.routers[j]);
            let problem = Problem::LocatorOverlap {
                locator: r.locator,
                other: other.id.to_string(),
                other_locator: other.locator,
            };
            self.err(
                place(Section::Routers, i, r.id.as_str(), "locator"),
                problem,
            );
        }
    }

    fn links(&mut self) {
        let b = self.b;
        let mut links: HashMap<&str, Place> = HashMap::new();
        let mut degree = vec![0usize; b.routers.len()];
        for (i, l) in b.links.iter().enumerate() {
            let id = l.id.as_str();
            let here = |field: &str| place(Section::Links, i, id, field);
            if let Some(p) = first_use(&mut links, id, &here("id")) {
                self.err(here("id"), p);
            }
            for (field, end) in [("a", &l.a), ("b", &l.b)] {
                match self.router_ids.get(end.as_str()) {
                    Some(&r) => degree[r] += 1,
                    None => {
                        let problem = Problem::Unknown {
                            kind: "router",
                            id: end.to_string(),
                        };
                        self.err(here(field), problem);
                    }
                }
            }
            if l.a == l.b {
                self.err(here("b"), Problem::SelfLoop(l.a.to_string()));
            }
            if l.igp < 1 {
                self.err(here("igp"), out_of_range(l.igp, "must be >= 1"));
            }
            if l.bandwidth_mbps == 0 {
                self.err(here("bandwidth_mbps"), out_of_range(0, "must be > 0"));
            }
            if l.used_mbps > l.bandwidth_mbps {
                let rule = format!("must not exceed bandwidth_mbps {}", l.bandwidth_mbps);
                self.err(here("used_mbps"), out_of_range(l.used_mbps, rule));
            }
        }
        for (r, &d) in degree.iter().enumerate() {
            if d > MAX_ADJACENCIES {
                let id = b.routers[r].id.as_str();
                let problem = Problem::TooManyAdjacencies(d);
                self.err(place(Section::Routers, r, id, ""), problem);
            }
        }
    }

    fn datacenters(&mut self) {
        let b = self.b;
        let mut dcs_per_router = vec![0usize; b.routers.len()];
        for (i, dc) in b.datacenters.iter().enumerate() {
            let id = dc.id.as_str();
            let here = |field: &str| place(Section::Datacenters, i, id, field);
            if let Some(p) = first_use(&mut self.nodes, id, &here("id")) {
                self.err(here("id"), p);
            }
            self.coordinates(Section::Datacenters, i, id, dc.lat, dc.lon);
            if dc.attach.is_empty() {
                self.err(here("attach"), Problem::Empty("attach router"));
            }
            for (k, r) in dc.attach.iter().enumerate() {
                let field = format!("attach[{k}]");
                if dc.attach[..k].contains(r) {
                    self.err(here(&field), Problem::DuplicateAttach(r.to_string()));
                } else if let Some(&ri) = self.router_ids.get(r.as_str()) {
                    dcs_per_router[ri] += 1;
                } else {
                    let problem = Problem::Unknown {
                        kind: "router",
                        id: r.to_string(),
                    };
                    self.err(here(&field), problem);
                }
            }
            for (medium, tb) in &dc.storage_tb {
                if !(tb.is_finite() && *tb >= 0.0) {
                    let field = format!("storage_tb.{medium}");
                    self.err(here(&field), out_of_range(tb, "must be >= 0"));
                }
            }
            self.pools(i);
        }
        for (r, &n) in dcs_per_router.iter().enumerate() {
            if n > MAX_DATACENTERS_PER_ROUTER {
                let id = b.routers[r].id.as_str();
                let problem = Problem::TooManyDatacenters(n);
                self.err(place(Section::Routers, r, id, ""), problem);
            }
        }
        self.prefixes();
    }

    /// The pools of data center `i`.
    fn pools(&mut self, i: usize) {
        let dc = &self.b.datacenters[i];
        let here = |field: &str| place(Section::Datacenters, i, dc.id.as_str(), field);
        if dc.pools.is_empty() {
            self.err(here("pools"), Problem::Empty("pool"));
        }
        for (k, pool) in dc.pools.iter().enumerate() {
            let field = |name: &str| here(&format!("pools[{k}].{name}"));
            if dc.pools[..k].iter().any(|p| p.kind == pool.kind) {
                self.err(field("kind"), Problem::DuplicatePoolKind(pool.kind));
            }
            for (name, capacity, used) in [
                ("tflops", pool.tflops, pool.used_tflops),
                ("memory_gb", pool.memory_gb, pool.used_memory_gb),
            ] {
                let used_field = field(&format!("used_{name}"));
                if !(capacity.is_finite() && capacity > 0.0) {
                    self.err(field(name), out_of_range(capacity, "must be > 0"));
                }
                if !(used.is_finite() && used >= 0.0) {
                    self.err(used_field, out_of_range(used, "must be >= 0"));
                } else if used > capacity {
                    let rule = format!("must not exceed {name} {capacity}");
                    self.err(used_field, out_of_range(used, rule));
                }
            }
            if !(pool.price.is_finite() && pool.price >= 0.0) {
                self.err(field("price"), out_of_range(pool.price, "must be >= 0"));
            }
            if let Some(w) = pool.queue_wait_s
                && !(w.is_finite() && w >= 0.0)
            {
                self.err(field("queue_wait_s"), out_of_range(w, "must be >= 0"));
            }
        }
        if dc.reporter.is_some_and(|r| r.interval_s == 0) {
            self.err(here("reporter.interval_s"), out_of_range(0, "must be > 0"));
        }
    }

    /// Steering prefixes (of routers and data centers): well formed, and
    /// overlapping neither a locator nor another steering prefix (each
    /// reported once, against the first thing it overlaps in address
    /// order).
    fn prefixes(&mut self) {
        let b = self.b;
        // Every prefix to check, with where it is, whether it was derived,
        // and what it is called in an error.
        let mut owned: Vec<(Place, Ipv6Network, bool, String)> = Vec::new();
        // A second item with an id already used (reported as such) would
        // derive the same prefix: its prefix is not checked again.
        let first = |here: &Place, id: &str| {
            self.nodes
                .get(id)
                .is_some_and(|p| p.section == here.section && p.index == here.index)
        };
        for (i, r) in b.routers.iter().enumerate() {
            let prefix = r
                .prefix
                .unwrap_or_else(|| derived_prefix(Kind::Router, r.id.as_str()));
            let here = place(Section::Routers, i, r.id.as_str(), "prefix");
            if !first(&here, r.id.as_str()) {
                continue;
            }
            owned.push((
                here,
                prefix,
                r.prefix.is_none(),
                format!("router `{}`", r.id),
            ));
        }
        for (i, dc) in b.datacenters.iter().enumerate() {
            let prefix = dc
                .prefix
                .unwrap_or_else(|| derived_prefix(Kind::Datacenter, dc.id.as_str()));
            let here = place(Section::Datacenters, i, dc.id.as_str(), "prefix");
            if !first(&here, dc.id.as_str()) {
                continue;
            }
            owned.push((
                here,
                prefix,
                dc.prefix.is_none(),
                format!("data center `{}`", dc.id),
            ));
        }
        // (first, last address, what it is, the prefix it is, if one)
        let mut spans: Vec<(u128, u128, String, Option<usize>)> = Vec::new();
        for r in &b.routers {
            let well_formed =
                (16..=64).contains(&r.locator.prefix()) && r.locator.ip() == r.locator.network();
            if well_formed {
                let (s, e) = range(&r.locator);
                spans.push((
                    s,
                    e,
                    format!("locator {} of router `{}`", r.locator, r.id),
                    None,
                ));
            }
        }
        for (k, (here, prefix, _, owner)) in owned.iter().enumerate() {
            let len = prefix.prefix();
            if !(32..=128).contains(&len) {
                self.err(here.clone(), Problem::PrefixLength(*prefix, len));
            } else if prefix.ip() != prefix.network() {
                let fixed = Ipv6Network::new(prefix.network(), len).expect("same length");
                self.err(here.clone(), Problem::PrefixHostBits(*prefix, fixed));
            } else {
                let (s, e) = range(prefix);
                spans.push((s, e, format!("prefix {prefix} of {owner}"), Some(k)));
            }
        }
        spans.sort_by_key(|x| (x.0, x.1));
        let mut reach: Option<(u128, usize)> = None;
        let mut reported = vec![false; owned.len()];
        for k in 0..spans.len() {
            let (start, end) = (spans[k].0, spans[k].1);
            if let Some((far, j)) = reach
                && start <= far
            {
                // Blame a prefix of the pair (the later one when both are).
                let blame = match (spans[k].3, spans[j].3) {
                    (Some(p), _) => Some((p, j)),
                    (None, Some(p)) => Some((p, k)),
                    (None, None) => None,
                };
                if let Some((p, other)) = blame
                    && !reported[p]
                {
                    reported[p] = true;
                    let (here, prefix, derived, _) = &owned[p];
                    let problem = Problem::PrefixOverlap {
                        prefix: *prefix,
                        derived: *derived,
                        other: spans[other].2.clone(),
                    };
                    self.err(here.clone(), problem);
                }
            }
            if reach.is_none_or(|(far, _)| end > far) {
                reach = Some((end, k));
            }
        }
    }

    /// SIDs the network gave: inside their router's locator, and each
    /// given once.
    fn given_sids(&mut self) {
        let b = self.b;
        let mut seen: HashMap<Ipv6Addr, String> = HashMap::new();
        let mut check = |c: &mut Self, addr: Ipv6Addr, owner: &str, here: Place| {
            let Some(&r) = c.router_ids.get(owner) else {
                return;
            };
            let locator = b.routers[r].locator;
            if !locator.contains(addr) {
                c.err(here, Problem::SidOutsideLocator { sid: addr, locator });
            } else if let Some(first) = seen.get(&addr) {
                let problem = Problem::DuplicateSid {
                    sid: addr,
                    first: first.clone(),
                };
                c.err(here, problem);
            } else {
                seen.insert(addr, here.to_string());
            }
        };
        for (i, r) in b.routers.iter().enumerate() {
            if let Some(sid) = r.end_sid {
                let here = place(Section::Routers, i, r.id.as_str(), "end_sid");
                check(self, sid, r.id.as_str(), here);
            }
        }
        for (i, l) in b.links.iter().enumerate() {
            for (side, owner, field) in [(0, &l.a, "end_x.a"), (1, &l.b, "end_x.b")] {
                if let Some(sid) = l.end_x[side] {
                    let here = place(Section::Links, i, l.id.as_str(), field);
                    check(self, sid, owner.as_str(), here);
                }
            }
        }
    }
}

/// Pairs `(later, earlier)` of router positions whose locators overlap; each
/// overlapping router is reported once, against the earliest router in the
/// input it collides with. Locators already refused for their form are skipped.
fn overlapping_locators(routers: &[RouterDraft]) -> Vec<(usize, usize)> {
    let well_formed = |n: &Ipv6Network| (16..=64).contains(&n.prefix()) && n.ip() == n.network();
    let mut order: Vec<usize> = (0..routers.len())
        .filter(|&i| well_formed(&routers[i].locator))
        .collect();
    order.sort_by_key(|&i| (range(&routers[i].locator).0, i));
    let mut found = Vec::new();
    // The router whose range reaches furthest so far.
    let mut reach: Option<(u128, usize)> = None;
    for i in order {
        let (start, end) = range(&routers[i].locator);
        match reach {
            Some((far, j)) if start <= far => {
                let (later, earlier) = if i > j { (i, j) } else { (j, i) };
                found.push((later, earlier));
                if end > far {
                    reach = Some((end, i));
                }
            }
            _ => reach = Some((end, i)),
        }
    }
    found.sort_unstable();
    found.dedup_by_key(|p| p.0);
    found
}
