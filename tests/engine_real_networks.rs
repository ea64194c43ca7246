//! The engine on real networks (Topology Zoo, SNDlib via topohub, the
//! national network): random queries, each answer replayed over the IGP view
//! and checked against independent references (Dijkstra for the optimal
//! latency of unconstrained queries, a minimal-segment search).

mod common;

use common::oracle::IgpView;
use cpn::cli::bench::random_requests;
use cpn::engine::{Engine, Objective, PathRequest, Placement, Protection, QueryError};
use cpn::model::{RouterIx, Topology};

fn networks() -> Vec<(String, Topology)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut files: Vec<_> = std::fs::read_dir(root.join("real"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.push(root.join("china-east-west.yaml"));
    files.sort();
    assert!(files.len() >= 4, "real-network fixtures are missing");
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                cpn::topology_file::load_file(&p).unwrap(),
            )
        })
        .collect()
}

/// Latency of the best unconstrained path from the headend to each router:
/// a textbook Dijkstra written here, over up links between up routers.
fn latencies(t: &Topology, from: RouterIx) -> Vec<u64> {
    let mut dist = vec![u64::MAX; t.router_count()];
    let mut done = vec![false; t.router_count()];
    dist[from.index()] = 0;
    while let Some(u) = (0..dist.len())
        .filter(|&i| !done[i] && dist[i] != u64::MAX)
        .min_by_key(|&i| dist[i])
    {
        done[u] = true;
        for a in t.adjacencies(RouterIx::new(u)) {
            if t.link(a.link).up && t.router(a.router).up {
                let d = dist[u] + t.link(a.link).latency_us;
                if d < dist[a.router.index()] {
                    dist[a.router.index()] = d;
                }
            }
        }
    }
    dist
}

fn check_steering(view: &IgpView<'_>, p: &Placement) {
    let (routers, links) = view
        .replay(p.path[0], &p.segments)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((routers, links), (p.path.clone(), p.links.clone()));
    assert_eq!(p.segments.len(), view.min_segments(&p.path, &p.links));
}

#[test]
fn answers_on_real_networks_steer_exactly_and_are_optimal() {
    let engine = Engine::new();
    let mut checked = 0;
    for (name, t) in networks() {
        let view = IgpView::new(&t);
        let mut requests = random_requests(&t, 60, 7);
        // Plus plain latency queries, whose optimum Dijkstra gives.
        requests.extend(random_requests(&t, 20, 8).into_iter().map(|mut r| {
            r.constraints = Default::default();
            r.protection = Protection::None;
            r
        }));
        for req in &requests {
            let answer = match engine.query(&t, req) {
                Ok(a) => a,
                Err(QueryError::NoPlacement(_)) => continue,
                Err(e) => panic!("{name}: {e}"),
            };
            check_steering(&view, &answer.primary);
            if let Some(b) = &answer.backup {
                check_steering(&view, b);
                assert!(cpn::engine::disjoint(
                    &t,
                    req.protection,
                    &cpn::engine::RoutedPath {
                        routers: answer.primary.path.clone(),
                        links: answer.primary.links.clone()
                    },
                    &cpn::engine::RoutedPath {
                        routers: b.path.clone(),
                        links: b.links.clone()
                    },
                ));
            }
            if is_plain(req) && answer.notes.is_empty() {
                let dist = latencies(&t, req.from);
                let kind = req.compute.unwrap().kind;
                let best = t
                    .datacenters()
                    .iter()
                    .filter(|d| {
                        d.pool(kind)
                            .is_some_and(|p| p.available_tflops() >= req.compute.unwrap().tflops)
                    })
                    .flat_map(|d| d.attach.iter().map(move |g| (g, d.latency_us)))
                    .filter(|(g, _)| dist[g.index()] != u64::MAX)
                    .map(|(g, extra)| dist[g.index()] + extra)
                    .min()
                    .unwrap();
                assert_eq!(
                    answer.primary.metrics.latency_us, best,
                    "{name}: not the lowest latency"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} answers checked");
}

fn is_plain(req: &PathRequest) -> bool {
    req.objective == Objective::Latency
        && req.protection == Protection::None
        && req.constraints == Default::default()
        && req.to.is_none()
}
