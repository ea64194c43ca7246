//! The engine against a brute-force reference on hundreds of small random
//! networks: every simple path enumerated, every rule of path-query.md
//! re-implemented here independently (pruning, bounds, pools, residency, IGP
//! uniqueness, minimal segment lists, disjointness), and the engine's answer
//! checked for feasibility, optimality, segment correctness and protection.

//!
//! In compressed mode (operators with NEXT-C-SID blocks) the answer's SRH
//! entries are replayed the way the kernel processes micro-SIDs, and their
//! number is checked against the fewest any list of steps can pack into.

use cpn::engine::{
    Destination, Engine, Objective, PathAnswer, PathRequest, Placement, Protection, QueryError,
    Residency, Standby,
};
use cpn::model::{DatacenterIx, LinkIx, PoolHealth, ReporterState, RouterIx, Topology};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const CASES: u64 = 3000;
/// Standby requests (more: a primary that gives way is rarer).
const STANDBY_CASES: u64 = 20_000;

// ------------------------------------------------------------ the reference

mod common;
use common::csid_oracle::{compressed, min_entries, replay_entries};
use common::oracle::IgpView;
use common::random_net::{random_request, random_topology, random_topology_with};

struct Reference<'a> {
    t: &'a Topology,
    req: &'a PathRequest,
    view: IgpView<'a>,
    /// The headend encodes with micro-SIDs: its MSD counts SRH entries.
    compressed: bool,
}

#[derive(Clone, Debug)]
struct Dest {
    dc: Option<DatacenterIx>,
    sinks: Vec<(RouterIx, u64)>,
    price: f64,
}

#[derive(Clone, Debug)]
struct Candidate {
    dest: usize,
    routers: Vec<RouterIx>,
    links: Vec<LinkIx>,
    value: (f64, u64, u64),
}

impl<'a> Reference<'a> {
    fn router_ok(&self, r: RouterIx) -> bool {
        let (t, req) = (self.t, self.req);
        let x = t.router(r);
        let h = t.router(req.from);
        x.up && !req.constraints.avoid_routers.contains(&r)
            && req
                .constraints
                .operators
                .as_ref()
                .is_none_or(|o| o.contains(&x.operator))
            && match req.residency {
                Residency::Any => true,
                Residency::Operator => x.operator == h.operator,
                Residency::Region => x.region.is_some() && x.region == h.region,
                Residency::City => x.city.is_some() && x.city == h.city,
            }
    }

    fn link_ok(&self, l: LinkIx) -> bool {
        let link = self.t.link(l);
        let (a, b) = self.t.link_ends(l);
        link.up
            && !self.req.constraints.avoid_links.contains(&l)
            && link.available_mbps() >= self.req.constraints.min_bandwidth_mbps.unwrap_or(0)
            && self.router_ok(a)
            && self.router_ok(b)
    }

    fn destinations(&self) -> Vec<Dest> {
        let (t, req) = (self.t, self.req);
        if let Some(Destination::Router(r)) = req.to {
            return vec![Dest {
                dc: None,
                sinks: if self.router_ok(r) {
                    vec![(r, 0)]
                } else {
                    vec![]
                },
                price: 0.0,
            }];
        }
        let h = t.router(req.from);
        let mut out = Vec::new();
        for (i, d) in t.datacenters().iter().enumerate() {
            let dc = DatacenterIx(i as u32);
            if matches!(req.to, Some(Destination::Datacenter(p)) if p != dc) {
                continue;
            }
            // A data center whose reporter is lost takes nothing.
            if d.reporter.is_some_and(|r| r.state == ReporterState::Lost) {
                continue;
            }
            let mut price = 0.0;
            if let Some(c) = &req.compute {
                let Some(p) = d.pools.iter().find(|p| p.kind == c.kind) else {
                    continue;
                };
                if p.health == PoolHealth::Down
                    || p.tflops - p.used_tflops < c.tflops
                    || p.memory_gb - p.used_memory_gb < c.memory_gb
                {
                    continue;
                }
                price = p.price * c.tflops;
            }
            let inside = match req.residency {
                Residency::Region => d.region.is_some() && d.region == h.region,
                Residency::City => d.city.is_some() && d.city == h.city,
                _ => true,
            };
            if !inside {
                continue;
            }
            let sinks = d
                .attach
                .iter()
                .filter(|&&g| self.router_ok(g))
                .map(|&g| (g, d.latency_us))
                .collect();
            out.push(Dest {
                dc: Some(dc),
                sinks,
                price,
            });
        }
        out
    }

    fn sums(&self, links: &[LinkIx]) -> (u64, u64, u64, u64, u64) {
        links.iter().fold((0, 0, 0, 0, 0), |s, &l| {
            let x = self.t.link(l);
            (
                s.0 + x.latency_us,
                s.1 + u64::from(x.igp),
                s.2 + u64::from(x.te),
                s.3 + x.jitter_us,
                s.4 + x.loss_ppm,
            )
        })
    }

    fn value(&self, dest: &Dest, links: &[LinkIx], extra: u64) -> (f64, u64, u64) {
        let (lat, igp, te, _, _) = self.sums(links);
        let lat = lat + extra;
        match self.req.objective {
            Objective::Latency => (0.0, lat, igp),
            Objective::Igp => (0.0, igp, lat),
            Objective::Te => (0.0, te, lat),
            Objective::Price => (dest.price, lat, 0),
        }
    }

    fn within_bounds(&self, links: &[LinkIx], extra: u64) -> bool {
        let (lat, _, _, jit, loss) = self.sums(links);
        let c = &self.req.constraints;
        c.max_latency_us.is_none_or(|m| lat + extra <= m)
            && c.max_jitter_us.is_none_or(|m| jit <= m)
            && c.max_loss_ppm.is_none_or(|m| loss <= m)
    }

    /// Every feasible (destination, path), with its value.
    fn feasible(&self) -> (Vec<Dest>, Vec<Candidate>) {
        let dests = self.destinations();
        let found = self.paths_to(&dests);
        (dests, found)
    }

    /// The data centers that may be the standby of a primary in `primary`:
    /// another region (or city), both declared; the pool as for a primary
    /// (the random networks hold no reservations); residency; any `to`
    /// ignored (it pins the primary).
    fn standby_destinations(&self, primary: DatacenterIx) -> Vec<Dest> {
        let (t, req) = (self.t, self.req);
        let p = t.datacenter(primary);
        let apart = |d: &cpn::model::Datacenter| match req.standby {
            Standby::Region => d.region.is_some() && p.region.is_some() && d.region != p.region,
            Standby::City => d.city.is_some() && p.city.is_some() && d.city != p.city,
            Standby::None => unreachable!("asked for a standby"),
        };
        let unpinned = PathRequest {
            to: None,
            ..req.clone()
        };
        let all = Reference {
            t,
            req: &unpinned,
            view: IgpView::new(t),
            compressed: self.compressed,
        }
        .destinations();
        all.into_iter()
            .filter(|d| {
                d.dc.is_some_and(|dc| dc != primary && apart(t.datacenter(dc)))
            })
            .collect()
    }

    /// Every feasible path to one of `dests`, with its value.
    fn paths_to(&self, dests: &[Dest]) -> Vec<Candidate> {
        let mut found = Vec::new();
        if !self.router_ok(self.req.from) {
            return found;
        }
        let msd = usize::from(self.t.router(self.req.from).msd);
        let mut stack = vec![(vec![self.req.from], Vec::<LinkIx>::new())];
        while let Some((routers, links)) = stack.pop() {
            let end = *routers.last().unwrap();
            for (di, dest) in dests.iter().enumerate() {
                for &(s, extra) in &dest.sinks {
                    if s == end
                        && self.within_bounds(&links, extra)
                        && self.depth(&routers, &links) <= msd
                    {
                        let value = self.value(dest, &links, extra);
                        found.push(Candidate {
                            dest: di,
                            routers: routers.clone(),
                            links: links.clone(),
                            value,
                        });
                    }
                }
            }
            for adj in self.t.adjacencies(end) {
                if !routers.contains(&adj.router)
                    && self.link_ok(adj.link)
                    && self.router_ok(adj.router)
                {
                    let mut r = routers.clone();
                    r.push(adj.router);
                    let mut l = links.clone();
                    l.push(adj.link);
                    stack.push((r, l));
                }
            }
        }
        found
    }

    /// SRH entries the best list for a path needs: segments, or with
    /// compression containers and full SIDs.
    fn depth(&self, routers: &[RouterIx], links: &[LinkIx]) -> usize {
        if self.compressed {
            min_entries(&self.view, routers, links)
        } else {
            self.view.min_segments(routers, links)
        }
    }

    /// A compressed answer: its entries replay (as the kernel processes
    /// them) onto the path and into the destination, the segments are
    /// what the entries carry, and no list of steps packs into fewer.
    fn check_compressed(&self, p: &Placement) {
        let t = self.t;
        let Some(entries) = &p.containers else {
            // Uncompressed although it could be: only when micro-SIDs
            // would not save an entry.
            let min = min_entries(&self.view, &p.path, &p.links);
            assert_eq!(p.segments.len(), min, "compression would save entries");
            return;
        };
        let (routers, links, dc) = replay_entries(&self.view, self.req.from, entries)
            .unwrap_or_else(|e| panic!("entries {entries:?} do not replay: {e}"));
        assert_eq!(
            (routers, links),
            (p.path.clone(), p.links.clone()),
            "entries steer elsewhere"
        );
        assert_eq!(dc, p.datacenter, "decapsulated into another table");
        let min = min_entries(&self.view, &p.path, &p.links);
        assert_eq!(entries.len(), min, "{entries:?} are not the fewest entries");
        // Segments in entry order; a full SID is its entry, micro-SIDs are
        // the entry's block with that micro-SID first.
        let mut last = 0;
        for s in &p.segments {
            let c = s.container.expect("every segment names its entry");
            assert!(c >= last && c < entries.len(), "entries out of order");
            last = c;
            let entry = u128::from(entries[c]);
            let sid = u128::from(s.sid);
            if compressed(t, s.router) && entry != sid {
                let block = t.operator(t.router(s.router).operator).csid.unwrap();
                let lbl = u32::from(block.block.prefix());
                let mask = !(u128::MAX >> lbl);
                assert_eq!(
                    entry & mask,
                    sid & mask,
                    "micro-SID outside its entry's block"
                );
            } else {
                assert_eq!(entry, sid, "a full SID is its own entry");
            }
        }
    }

    fn disjoint(&self, p: &Candidate, q: &Candidate) -> bool {
        if (p.routers == q.routers && p.links == q.links)
            || p.links.iter().any(|l| q.links.contains(l))
        {
            return false;
        }
        match self.req.protection {
            Protection::None | Protection::Link => true,
            Protection::Node => {
                let head = p.routers[0];
                let same_end = p.routers.last() == q.routers.last();
                q.routers.iter().all(|r| {
                    *r == head
                        || (same_end && Some(r) == p.routers.last())
                        || !p.routers.contains(r)
                })
            }
            Protection::Srlg => p.links.iter().all(|&a| {
                q.links.iter().all(|&b| {
                    self.t
                        .link(a)
                        .srlg
                        .iter()
                        .all(|g| !self.t.link(b).srlg.contains(g))
                })
            }),
        }
    }

    /// Checks one placement of the engine's answer; returns it as a candidate.
    fn check_placement(&self, p: &Placement, dests: &[Dest]) -> Candidate {
        let t = self.t;
        assert_eq!(p.path[0], self.req.from);
        assert_eq!(p.path.len(), p.links.len() + 1);
        let mut seen = p.path.clone();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), p.path.len(), "path is not simple");
        for (i, &l) in p.links.iter().enumerate() {
            let (a, b) = t.link_ends(l);
            assert!(
                (a, b) == (p.path[i], p.path[i + 1]) || (b, a) == (p.path[i], p.path[i + 1]),
                "links do not join the path"
            );
            assert!(self.link_ok(l), "link {} not allowed", t.link(l).id);
        }
        assert!(
            p.path.iter().all(|&r| self.router_ok(r)),
            "router not allowed"
        );
        let di = dests
            .iter()
            .position(|d| d.dc == p.datacenter)
            .expect("destination is a candidate");
        let dest = &dests[di];
        let extra = dest
            .sinks
            .iter()
            .find(|s| s.0 == p.endpoint)
            .expect("ends at a usable sink")
            .1;
        assert!(self.within_bounds(&p.links, extra), "bounds violated");
        let (lat, igp, te, jit, loss) = self.sums(&p.links);
        assert_eq!(
            (
                p.metrics.latency_us,
                p.metrics.igp,
                p.metrics.te,
                p.metrics.jitter_us,
                p.metrics.loss_ppm
            ),
            (lat + extra, igp, te, jit, loss),
            "metrics are not the true sums"
        );
        assert_eq!(
            p.metrics.min_available_mbps,
            p.links.iter().map(|&l| t.link(l).available_mbps()).min()
        );
        if self.compressed {
            self.check_compressed(p);
        } else {
            assert!(p.containers.is_none(), "compressed without compression");
            let (routers, links) = self
                .view
                .replay(self.req.from, &p.segments)
                .unwrap_or_else(|e| panic!("segments do not replay: {e}"));
            assert_eq!(
                (routers, links),
                (p.path.clone(), p.links.clone()),
                "segments steer elsewhere"
            );
            let min = self.view.min_segments(&p.path, &p.links);
            assert_eq!(p.segments.len(), min, "segment list is not minimal");
        }
        assert!(
            p.sid_depth() <= usize::from(t.router(self.req.from).msd),
            "over msd"
        );
        Candidate {
            dest: di,
            routers: p.path.clone(),
            links: p.links.clone(),
            value: self.value(dest, &p.links, extra),
        }
    }
}

fn cmp(a: &(f64, u64, u64), b: &(f64, u64, u64)) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
}

fn check_case(case: u64, engine: &Engine, with_csid: bool) -> (bool, bool, bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(case);
    let t = random_topology(&mut rng, with_csid);
    let req = random_request(&mut rng, &t);
    let reference = Reference {
        t: &t,
        req: &req,
        view: IgpView::new(&t),
        compressed: compressed(&t, req.from),
    };
    let (dests, feasible) = reference.feasible();
    let optimum = feasible.iter().map(|c| c.value).min_by(cmp);
    let answer: Result<PathAnswer, QueryError> = engine.query(&t, &req);
    let context = || format!("case {case}: request {req:?}");
    match (answer, optimum) {
        (Err(QueryError::Invalid(e)), _) => {
            // Only requests the spec calls malformed.
            let price_without_compute = req.objective == Objective::Price && req.compute.is_none();
            assert!(
                price_without_compute || e.field == "data.residency",
                "{}: invalid: {e}",
                context()
            );
            (false, false, false)
        }
        (Err(QueryError::NoPlacement(e)), None) => {
            assert!(e.message.starts_with("no feasible"), "{}", e.message);
            assert_eq!(e.rejected.len(), t.datacenters().len(), "{}", context());
            (false, false, false)
        }
        (Err(QueryError::NoPlacement(e)), Some(o)) => panic!(
            "{}: engine found nothing ({}), reference {o:?}",
            context(),
            e.message
        ),
        (Ok(a), None) => panic!(
            "{}: engine answered {:?}, reference found nothing",
            context(),
            a.primary.path
        ),
        (Ok(a), Some(optimum)) => {
            let primary = reference.check_placement(&a.primary, &dests);
            let chosen_dc = a.primary.datacenter;
            assert_eq!(
                a.rejected.len(),
                t.datacenters().len() - usize::from(chosen_dc.is_some()),
                "{}",
                context()
            );
            assert!(a.rejected.iter().all(|r| Some(r.datacenter) != chosen_dc));
            let mut protected = false;
            if req.protection == Protection::None {
                assert!(a.backup.is_none());
                assert!(
                    cmp(&primary.value, &optimum).is_eq(),
                    "{}: engine {:?} worse than reference {optimum:?}",
                    context(),
                    primary.value
                );
            } else {
                let pairs = |p: &Candidate| {
                    feasible
                        .iter()
                        .any(|q| q.dest == p.dest && reference.disjoint(p, q))
                };
                let optimal_has_partner = feasible
                    .iter()
                    .any(|p| cmp(&p.value, &optimum).is_eq() && pairs(p));
                let any_pair = feasible.iter().any(pairs);
                if optimal_has_partner || !any_pair {
                    assert!(
                        cmp(&primary.value, &optimum).is_eq(),
                        "{}: primary {:?} not optimal {optimum:?}",
                        context(),
                        primary.value
                    );
                }
                match &a.backup {
                    Some(b) => {
                        let backup = reference.check_placement(b, &dests);
                        assert_eq!(backup.dest, primary.dest, "backup to another destination");
                        assert!(
                            reference.disjoint(&primary, &backup),
                            "{}: backup not disjoint",
                            context()
                        );
                        protected = true;
                    }
                    None => assert!(
                        !any_pair,
                        "{}: a disjoint pair exists but no backup was given",
                        context()
                    ),
                }
            }
            (true, protected, !a.notes.is_empty())
        }
    }
}

impl Reference<'_> {
    /// True when standby path `q` shares with primary path `p` nothing the
    /// request's protection forbids: no link (link), no router but the
    /// headend (node: the primary's gateway neither), no shared-risk group
    /// (srlg).
    fn standby_apart(&self, p: &Candidate, q: &Candidate) -> bool {
        let t = self.t;
        let shared_link = p.links.iter().any(|l| q.links.contains(l));
        match self.req.protection {
            Protection::None => true,
            Protection::Link => !shared_link,
            Protection::Node => {
                !shared_link
                    && q.routers
                        .iter()
                        .all(|r| *r == p.routers[0] || !p.routers.contains(r))
            }
            Protection::Srlg => {
                !shared_link
                    && p.links.iter().all(|&a| {
                        q.links
                            .iter()
                            .all(|&b| t.link(a).srlg.iter().all(|g| !t.link(b).srlg.contains(g)))
                    })
            }
        }
    }

    /// The standby destinations of primary path `p` and every feasible
    /// standby path to them.
    fn standbys(&self, dests: &[Dest], p: &Candidate) -> (Vec<Dest>, Vec<Candidate>) {
        let dc = dests[p.dest].dc.expect("standby requests have compute");
        let sd = self.standby_destinations(dc);
        let paths = self
            .paths_to(&sd)
            .into_iter()
            .filter(|q| self.standby_apart(p, q))
            .collect();
        (sd, paths)
    }
}

/// A standby request's answer against the reference: the primary is its
/// data center's best; no data center with a better best path has a
/// standby for every one of its best paths (the engine takes one of them);
/// the standby is feasible, apart as asked and the best for that primary;
/// or, when there is none, none exists for the primary either.
fn check_standby_case(case: u64, engine: &Engine) -> (bool, bool, bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(case);
    let t = random_topology_with(&mut rng, false, 2..=5);
    let mut req = random_request(&mut rng, &t);
    if req.compute.is_none() {
        return (false, false, false);
    }
    req.standby = if case.is_multiple_of(3) {
        Standby::City
    } else {
        Standby::Region
    };
    let reference = Reference {
        t: &t,
        req: &req,
        view: IgpView::new(&t),
        compressed: false,
    };
    let context = || format!("case {case}: request {req:?}");
    let (dests, feasible) = reference.feasible();
    let a = match engine.query(&t, &req) {
        Err(QueryError::Invalid(e)) => {
            let contradiction = matches!(
                (req.standby, req.residency),
                (Standby::Region, Residency::Region) | (Standby::City, Residency::City)
            );
            assert!(
                e.field == "data.residency" || (e.field == "standby" && contradiction),
                "{}: invalid: {e}",
                context()
            );
            return (false, false, false);
        }
        Err(QueryError::NoPlacement(e)) => {
            assert!(
                feasible.is_empty(),
                "{}: engine found nothing ({e})",
                context()
            );
            return (false, false, false);
        }
        Ok(a) => a,
    };
    let best_of = |dest: usize| {
        feasible
            .iter()
            .filter(|c| c.dest == dest)
            .map(|c| c.value)
            .min_by(cmp)
    };
    let every_best_has_standby = |dest: usize| {
        let best = best_of(dest).expect("a feasible destination");
        feasible
            .iter()
            .filter(|c| c.dest == dest && cmp(&c.value, &best).is_eq())
            .all(|c| !reference.standbys(&dests, c).1.is_empty())
    };
    let primary = reference.check_placement(&a.primary, &dests);
    assert!(
        cmp(&primary.value, &best_of(primary.dest).unwrap()).is_eq(),
        "{}: the primary is not its data center's best",
        context()
    );
    let sb = a.standby.as_ref().expect("a standby was asked for");
    let (sd, standbys) = reference.standbys(&dests, &primary);
    let better_dests =
        (0..dests.len()).filter(|&d| best_of(d).is_some_and(|v| cmp(&v, &primary.value).is_lt()));
    match &sb.placement {
        Some(s) => {
            let standby = reference.check_placement(s, &sd);
            assert!(
                reference.standby_apart(&primary, &standby),
                "{}: standby shares what the protection forbids",
                context()
            );
            let best = standbys.iter().map(|c| c.value).min_by(cmp).unwrap();
            assert!(
                cmp(&standby.value, &best).is_eq(),
                "{}: standby {:?} worse than {best:?}",
                context(),
                standby.value
            );
            for d in better_dests {
                assert!(
                    !every_best_has_standby(d),
                    "{}: {:?} is better and has a standby",
                    context(),
                    dests[d].dc
                );
            }
        }
        None => {
            assert!(
                standbys.is_empty(),
                "{}: the primary has a standby the engine missed",
                context()
            );
            for (d, dest) in dests.iter().enumerate() {
                assert!(
                    best_of(d).is_none() || !every_best_has_standby(d),
                    "{}: {:?} has a standby",
                    context(),
                    dest.dc
                );
            }
            assert!(
                a.notes.iter().any(|n| n.contains("no standby")),
                "{}: no note",
                context()
            );
        }
    }
    let placed = 1 + usize::from(sb.placement.is_some());
    assert_eq!(sb.rejected.len(), t.datacenters().len() - placed);
    if req.protection != Protection::None {
        match &a.backup {
            Some(b) => {
                let backup = reference.check_placement(b, &dests);
                assert_eq!(backup.dest, primary.dest);
                assert!(reference.disjoint(&primary, &backup), "{}", context());
            }
            None => assert!(
                !feasible
                    .iter()
                    .any(|q| q.dest == primary.dest && reference.disjoint(&primary, q)),
                "{}: the primary has a backup the engine missed",
                context()
            ),
        }
    }
    let moved = best_of(primary.dest)
        .zip(feasible.iter().map(|c| c.value).min_by(cmp))
        .is_some_and(|(p, o)| cmp(&p, &o).is_gt());
    (true, sb.placement.is_some(), moved)
}

#[test]
fn standby_placement_agrees_with_brute_force() {
    let engine = Engine::new();
    let (mut answered, mut with_standby, mut moved) = (0, 0, 0);
    for case in 0..STANDBY_CASES {
        let (a, s, m) = check_standby_case(case, &engine);
        answered += usize::from(a);
        with_standby += usize::from(s);
        moved += usize::from(m);
    }
    eprintln!("answered {answered}, with a standby {with_standby}, primary moved {moved}");
    assert!(
        answered > STANDBY_CASES as usize / 5,
        "only {answered} answered"
    );
    assert!(with_standby > 50, "only {with_standby} with a standby");
    assert!(
        answered - with_standby > 50,
        "only {} without",
        answered - with_standby
    );
    assert!(moved > 5, "only {moved} primaries moved for a standby");
}

#[test]
fn engine_agrees_with_brute_force() {
    let engine = Engine::new();
    let (mut answered, mut protected, mut noted) = (0, 0, 0);
    for case in 0..CASES {
        let (a, p, n) = check_case(case, &engine, false);
        answered += usize::from(a);
        protected += usize::from(p);
        noted += usize::from(n);
    }
    eprintln!("answered {answered}, protected {protected}, noted {noted}");
    // The mix must exercise every branch, not just infeasible cases.
    assert!(answered > CASES as usize / 3, "only {answered} answered");
    assert!(protected > 30, "only {protected} protected answers");
    assert!(noted > 5, "only {noted} answers with notes (MSD)");
}

#[test]
fn engine_agrees_with_brute_force_on_compressed_networks() {
    let engine = Engine::new();
    let (mut answered, mut compressed_answers, mut noted) = (0, 0, 0);
    for case in 0..CASES {
        let (a, _, n) = check_case(case, &engine, true);
        answered += usize::from(a);
        noted += usize::from(n);
        let mut rng = ChaCha8Rng::seed_from_u64(case);
        let t = random_topology(&mut rng, true);
        let req = random_request(&mut rng, &t);
        if let Ok(answer) = engine.query(&t, &req) {
            compressed_answers += usize::from(answer.primary.containers.is_some());
        }
    }
    eprintln!("answered {answered}, compressed {compressed_answers}, noted {noted}");
    assert!(answered > CASES as usize / 3, "only {answered} answered");
    assert!(
        compressed_answers > CASES as usize / 10,
        "only {compressed_answers} compressed"
    );
}
