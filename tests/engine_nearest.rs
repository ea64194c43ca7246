//! The engine on generated networks of the nearest-neighbours shape (issue
//! 20): long paths, coarse IGP metrics with many ties, the latency-optimal
//! path often off the IGP path. Partial IGP trees (grown on demand) must
//! answer "how far does End reach" exactly as the reference does, and the
//! answers must steer exactly, be minimal and, for plain requests, have the
//! lowest latency a textbook Dijkstra finds.

mod common;

use common::oracle::IgpView;
use cpn::cli::bench::random_requests;
use cpn::engine::igp::IgpCache;
use cpn::engine::{Engine, Objective, Protection, QueryError};
use cpn::model::{LinkIx, RouterIx, Topology};
use cpn::topology_file::generate_nearest::{NearestParams, generate_nearest};

fn nearest(routers: usize, datacenters: usize, seed: u64) -> Topology {
    let params = NearestParams {
        routers,
        operators: 3,
        datacenters,
        seed,
    };
    let doc = generate_nearest(&params, &mut |_, _| {}).unwrap();
    let yaml = serde_yaml::to_string(&doc).unwrap();
    cpn::topology_file::parse_str(&yaml, "nearest").unwrap()
}

/// The reference's reach: the largest `j` with `path[i..=j]` the unique IGP
/// shortest path.
fn reference_reach(view: &IgpView<'_>, path: &[RouterIx], links: &[LinkIx], i: usize) -> usize {
    (i + 1..path.len())
        .take_while(|&j| view.end_ok(path, links, i, j))
        .last()
        .unwrap_or(i)
}

/// The unique IGP shortest path from `from` to `to`, when there is one, as
/// a whole tree gives it.
fn unique_path(
    t: &Topology,
    igp: &mut IgpCache,
    from: RouterIx,
    to: RouterIx,
) -> Option<(Vec<RouterIx>, Vec<LinkIx>)> {
    let tree = igp.tree(t, from);
    let (mut routers, mut links) = (vec![to], vec![]);
    let mut at = to;
    while at != from {
        let l = tree.unique_last_link(at)?;
        let (a, b) = t.link_ends(l);
        at = if a == at { b } else { a };
        routers.push(at);
        links.push(l);
    }
    routers.reverse();
    links.reverse();
    Some((routers, links))
}

#[test]
fn partial_igp_trees_reach_as_far_as_the_reference() {
    let mut long = 0;
    for seed in 1..=2 {
        let t = nearest(240, 20, seed);
        let view = IgpView::new(&t);
        let engine = Engine::new();
        // Budgets in bytes: a tree of these networks (about 80 routers an
        // operator) takes about 260 bytes, so `shared` keeps some 64 trees
        // and `fresh` some 16.
        let mut shared = IgpCache::new(64 * 260);
        let mut whole = IgpCache::new(1 << 30);
        let mut paths = Vec::new();
        for req in random_requests(&t, 40, seed) {
            if let Ok(a) = engine.query(&t, &req) {
                paths.push((a.primary.path, a.primary.links));
            }
        }
        // Long unique IGP paths, where reach runs past a first partial tree.
        let mut found = 0;
        for k in 0..t.router_count() / 6 {
            let from = RouterIx::new(k * 6);
            for to in t.router_indices() {
                if found < 80
                    && let Some(p) = unique_path(&t, &mut whole, from, to)
                    && p.0.len() > 9
                {
                    found += 1;
                    paths.push(p);
                }
            }
        }
        long += found;
        for (path, links) in &paths {
            for i in 0..path.len() {
                let expected = reference_reach(&view, path, links, i);
                let mut fresh = IgpCache::new(16 * 260);
                assert_eq!(fresh.reach(&t, path, links, i), expected, "fresh cache");
                assert_eq!(shared.reach(&t, path, links, i), expected, "shared cache");
            }
        }
    }
    assert!(
        long > 5,
        "only {long} long unique IGP paths: growth untested"
    );
}

#[test]
fn answers_on_nearest_networks_steer_exactly_and_are_optimal() {
    let mut checked = 0;
    let mut noted = 0;
    // The third network is past the size from which searches queue labels
    // in a radix heap instead of a binary heap.
    for (seed, routers, requests) in [(1, 240, 80), (2, 240, 80), (3, 560, 24)] {
        let t = nearest(routers, 20, seed);
        let view = IgpView::new(&t);
        let engine = Engine::new();
        for req in random_requests(&t, requests, seed + 10) {
            let a = match engine.query(&t, &req) {
                Ok(a) => a,
                Err(QueryError::NoPlacement(_)) => continue,
                Err(e) => panic!("{e}"),
            };
            let p = &a.primary;
            let (routers, links) = view.replay(p.path[0], &p.segments).unwrap();
            assert_eq!((routers, links), (p.path.clone(), p.links.clone()));
            assert_eq!(p.segments.len(), view.min_segments(&p.path, &p.links));
            assert!(p.segments.len() <= usize::from(t.router(req.from).msd));
            noted += usize::from(!a.notes.is_empty());
            let plain = req.objective == Objective::Latency
                && req.protection == Protection::None
                && req.constraints == Default::default();
            if plain && a.notes.is_empty() {
                let best = best_latency(&t, &req);
                assert_eq!(p.metrics.latency_us, best, "not the lowest latency");
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked}, {noted} over the msd");
    assert!(checked > 100, "only {checked} answers checked");
}

/// The lowest latency to any data center that can take the request: a
/// textbook Dijkstra written here.
fn best_latency(t: &Topology, req: &cpn::engine::PathRequest) -> u64 {
    let n = t.router_count();
    let mut dist = vec![u64::MAX; n];
    let mut done = vec![false; n];
    dist[req.from.index()] = 0;
    while let Some(u) = (0..n)
        .filter(|&i| !done[i] && dist[i] != u64::MAX)
        .min_by_key(|&i| dist[i])
    {
        done[u] = true;
        for adj in t.adjacencies(RouterIx::new(u)) {
            let d = dist[u] + t.link(adj.link).latency_us;
            if t.link(adj.link).up && d < dist[adj.router.index()] {
                dist[adj.router.index()] = d;
            }
        }
    }
    let c = req.compute.unwrap();
    t.datacenters()
        .iter()
        .filter(|d| {
            d.pool(c.kind)
                .is_some_and(|p| p.available_tflops() >= c.tflops)
        })
        .flat_map(|d| d.attach.iter().map(move |g| (g, d.latency_us)))
        .filter(|(g, _)| dist[g.index()] != u64::MAX)
        .map(|(g, extra)| dist[g.index()] + extra)
        .min()
        .unwrap()
}
