//! Hand-built traps for the path engine: ECMP that forces an End.X, a latency
//! path that is not the IGP path, a peering crossing, a Suurballe trap where
//! "remove the primary and retry" finds no backup, an MSD too small for the
//! best path; plus explanations, residency and the IGP tree cache.

mod common;

use common::oracle::IgpView;
use cpn::document::{parse_request, resolve};
use cpn::engine::{Engine, PathAnswer, Placement, QueryError};
use cpn::model::{Behavior, Topology};
use cpn::topology_file::parse_str;

fn topology(yaml: &str) -> Topology {
    parse_str(yaml, "trap.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn ask(engine: &Engine, t: &Topology, request: &str) -> Result<PathAnswer, QueryError> {
    let doc = parse_request(request).unwrap();
    engine.query(t, &resolve(&doc, t).unwrap())
}

fn ids(t: &Topology, p: &Placement) -> Vec<String> {
    p.path.iter().map(|&r| t.router(r).id.to_string()).collect()
}

/// Segments as (behavior, router, link or datacenter) strings.
fn segs(t: &Topology, p: &Placement) -> Vec<String> {
    p.segments
        .iter()
        .map(|s| {
            let what = match (s.link, s.datacenter) {
                (Some(l), _) => format!(" {}", t.link(l).id),
                (_, Some(d)) => format!(" {}", t.datacenter(d).id),
                _ => String::new(),
            };
            format!("{} {}{what}", s.behavior, t.router(s.router).id)
        })
        .collect()
}

/// The segments must replay onto the reported path over the IGP view.
fn assert_steers(t: &Topology, p: &Placement) {
    let view = IgpView::new(t);
    let (routers, links) = view
        .replay(p.path[0], &p.segments)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(routers, p.path);
    assert_eq!(links, p.links);
    assert_eq!(p.segments.len(), view.min_segments(&p.path, &p.links));
}

const HEAD: &str = "version: 1\nname: trap\noperators: [{id: op-a}, {id: op-b}]\n";

fn routers(list: &[(&str, &str)]) -> String {
    let mut s = String::from("routers:\n");
    for (i, (id, op)) in list.iter().enumerate() {
        s.push_str(&format!(
            "  - {{id: {id}, operator: {op}, locator: \"fc00:{:x}::/32\", city: c{}, region: r}}\n",
            i + 1,
            i % 2
        ));
    }
    s
}

#[test]
fn ecmp_forces_an_end_x_over_the_chosen_parallel_link() {
    let t = topology(&format!(
        "{HEAD}{}links:
  - {{id: slow, a: a, b: c, igp: 10, latency_us: 500, bandwidth_mbps: 100}}
  - {{id: fast, a: a, b: c, igp: 10, latency_us: 100, bandwidth_mbps: 100}}
  - {{a: c, b: d, igp: 10, latency_us: 100, bandwidth_mbps: 100}}
datacenters:
  - {{id: dc, attach: [d], pools: [{{kind: ai, tflops: 10, memory_gb: 10}}]}}
",
        routers(&[("a", "op-a"), ("c", "op-a"), ("d", "op-a")])
    ));
    let a = ask(
        &Engine::new(),
        &t,
        "{from: a, compute: {kind: ai, tflops: 1}}",
    )
    .unwrap();
    assert_eq!(ids(&t, &a.primary), ["a", "c", "d"]);
    assert_eq!(t.link(a.primary.links[0]).id.as_str(), "fast");
    assert_eq!(segs(&t, &a.primary), ["End.X a fast", "End.DT6 d dc"]);
    assert_steers(&t, &a.primary);
}

const TWO_WAYS: &str = "links:
  - {a: a, b: b, igp: 10, latency_us: 5000, bandwidth_mbps: 100}
  - {a: b, b: d, igp: 10, latency_us: 5000, bandwidth_mbps: 100}
  - {a: a, b: c, igp: 30, latency_us: 100, bandwidth_mbps: 100}
  - {a: c, b: d, igp: 30, latency_us: 100, bandwidth_mbps: 100}
datacenters:
  - {id: dc, attach: [d], pools: [{kind: ai, tflops: 10, memory_gb: 10}]}
";

#[test]
fn latency_path_differs_from_the_igp_path() {
    let t = topology(&format!(
        "{HEAD}{}{TWO_WAYS}",
        routers(&[("a", "op-a"), ("b", "op-a"), ("c", "op-a"), ("d", "op-a")])
    ));
    let engine = Engine::new();
    let fast = ask(&engine, &t, "{from: a, compute: {kind: ai, tflops: 1}}").unwrap();
    assert_eq!(ids(&t, &fast.primary), ["a", "c", "d"]);
    assert_eq!(fast.primary.metrics.latency_us, 200);
    assert_eq!(segs(&t, &fast.primary), ["End c", "End.DT6 d dc"]);
    assert_steers(&t, &fast.primary);

    let igp = ask(
        &engine,
        &t,
        "{from: a, compute: {kind: ai, tflops: 1}, objective: igp}",
    )
    .unwrap();
    assert_eq!(ids(&t, &igp.primary), ["a", "b", "d"]);
    // The IGP path itself needs nothing but the decapsulation SID.
    assert_eq!(segs(&t, &igp.primary), ["End.DT6 d dc"]);
    assert_steers(&t, &igp.primary);
}

#[test]
fn msd_too_small_for_the_best_path_takes_the_best_that_fits() {
    let yaml = |msd: u8| {
        let r = routers(&[("a", "op-a"), ("b", "op-a"), ("c", "op-a"), ("d", "op-a")]).replacen(
            "city: c0, region: r}",
            &format!("city: c0, region: r, msd: {msd}}}"),
            1,
        );
        format!("{HEAD}{r}{TWO_WAYS}")
    };
    let t = topology(&yaml(1));
    let a = ask(
        &Engine::new(),
        &t,
        "{from: a, compute: {kind: ai, tflops: 1}}",
    )
    .unwrap();
    assert_eq!(ids(&t, &a.primary), ["a", "b", "d"]);
    assert_eq!(a.primary.segments.len(), 1);
    assert_eq!(a.notes.len(), 1);
    assert!(
        a.notes[0].contains("needs 2 segments, more than the msd 1"),
        "{:?}",
        a.notes
    );

    let t = topology(&yaml(2));
    let a = ask(
        &Engine::new(),
        &t,
        "{from: a, compute: {kind: ai, tflops: 1}}",
    )
    .unwrap();
    assert_eq!(ids(&t, &a.primary), ["a", "c", "d"]);
    assert!(a.notes.is_empty());
}

#[test]
fn peering_is_crossed_only_by_an_end_x() {
    let t = topology(&format!(
        "{HEAD}{}links:
  - {{a: a1, b: a2, igp: 10, latency_us: 100, bandwidth_mbps: 100}}
  - {{a: a2, b: b1, igp: 10, latency_us: 100, bandwidth_mbps: 100}}
  - {{a: b1, b: b2, igp: 10, latency_us: 100, bandwidth_mbps: 100}}
datacenters:
  - {{id: dc, attach: [b2], pools: [{{kind: hpc, tflops: 10, memory_gb: 10}}]}}
",
        routers(&[
            ("a1", "op-a"),
            ("a2", "op-a"),
            ("b1", "op-b"),
            ("b2", "op-b")
        ])
    ));
    let a = ask(
        &Engine::new(),
        &t,
        "{from: a1, compute: {kind: hpc, tflops: 1}}",
    )
    .unwrap();
    assert_eq!(ids(&t, &a.primary), ["a1", "a2", "b1", "b2"]);
    assert_eq!(segs(&t, &a.primary), ["End.X a2 a2-b1", "End.DT6 b2 dc"]);
    assert_eq!(a.primary.segments[0].behavior, Behavior::EndX);
    assert_steers(&t, &a.primary);
}

#[test]
fn suurballe_trap_still_gets_a_backup() {
    // Shortest s-a-b-t uses the bridge a-b; without its links neither side
    // can finish, yet s-a-d-t and s-c-b-t are disjoint.
    let t = topology(&format!(
        "{HEAD}{}links:
  - {{a: s, b: a, igp: 1, latency_us: 100, bandwidth_mbps: 100}}
  - {{a: a, b: b, igp: 1, latency_us: 100, bandwidth_mbps: 100}}
  - {{a: b, b: t, igp: 1, latency_us: 100, bandwidth_mbps: 100}}
  - {{a: s, b: c, igp: 2, latency_us: 200, bandwidth_mbps: 100}}
  - {{a: c, b: b, igp: 2, latency_us: 200, bandwidth_mbps: 100}}
  - {{a: a, b: d, igp: 2, latency_us: 200, bandwidth_mbps: 100}}
  - {{a: d, b: t, igp: 2, latency_us: 200, bandwidth_mbps: 100}}
datacenters:
  - {{id: dc, attach: [t], pools: [{{kind: ai, tflops: 10, memory_gb: 10}}]}}
",
        routers(&[
            ("s", "op-a"),
            ("a", "op-a"),
            ("b", "op-a"),
            ("c", "op-a"),
            ("d", "op-a"),
            ("t", "op-a")
        ])
    ));
    let engine = Engine::new();
    let plain = ask(&engine, &t, "{from: s, compute: {kind: ai, tflops: 1}}").unwrap();
    assert_eq!(ids(&t, &plain.primary), ["s", "a", "b", "t"]);
    for protection in ["link", "node"] {
        let a = ask(
            &engine,
            &t,
            &format!("{{from: s, compute: {{kind: ai, tflops: 1}}, protection: {protection}}}"),
        )
        .unwrap();
        let backup = a.backup.as_ref().expect("a disjoint pair exists");
        let mut pair = [ids(&t, &a.primary), ids(&t, backup)];
        pair.sort();
        assert_eq!(
            pair,
            [vec!["s", "a", "d", "t"], vec!["s", "c", "b", "t"]],
            "{protection}"
        );
        assert_eq!(a.primary.metrics.latency_us, 500);
        assert_steers(&t, &a.primary);
        assert_steers(&t, backup);
    }
}

fn lab() -> Topology {
    cpn::topology_file::load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap()
}

#[test]
fn explanations_name_the_first_violated_requirement() {
    let t = lab();
    let engine = Engine::new();
    let a = ask(
        &engine,
        &t,
        "{from: a1, compute: {kind: ai, tflops: 200}, constraints: {max_latency_us: 9000}}",
    )
    .unwrap();
    assert_eq!(
        t.datacenter(a.primary.datacenter.unwrap()).id.as_str(),
        "dc-central"
    );
    let reasons: Vec<(String, bool, String)> = a
        .rejected
        .iter()
        .map(|r| {
            (
                t.datacenter(r.datacenter).id.to_string(),
                r.feasible,
                r.reason.clone(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "dc-north".into(),
                false,
                "ai pool has 150 TFLOPS available, 200 requested".into()
            ),
            (
                "dc-west".into(),
                false,
                "latency 9220us exceeds max_latency_us 9000".into()
            ),
        ]
    );
    let a = ask(&engine, &t, "{from: a1, compute: {kind: ai, tflops: 10}}").unwrap();
    let west = a
        .rejected
        .iter()
        .find(|r| t.datacenter(r.datacenter).id.as_str() == "dc-west")
        .unwrap();
    assert!(west.feasible);
    assert_eq!(
        west.reason,
        format!("latency 9220us, chosen {}us", a.primary.metrics.latency_us)
    );
}

#[test]
fn nothing_feasible_says_why_for_every_datacenter() {
    let t = lab();
    let err = match ask(
        &Engine::new(),
        &t,
        "{from: a1, compute: {kind: hpc, tflops: 1e9}}",
    ) {
        Err(QueryError::NoPlacement(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        err.message,
        "no feasible placement for hpc 1000000000 TFLOPS from a1: none of 3 data centers qualifies"
    );
    let reasons: Vec<&str> = err.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "hpc pool has 600 TFLOPS available, 1000000000 requested",
            "no hpc pool",
            "no hpc pool"
        ]
    );
}

#[test]
fn residency_and_pinned_destinations() {
    let t = lab();
    let engine = Engine::new();
    // a1 is in beijing; only dc-north (behind a2, beijing) qualifies.
    let a = ask(
        &engine,
        &t,
        "{from: a1, compute: {kind: general, tflops: 10}, data: {residency: city}}",
    )
    .unwrap();
    assert_eq!(
        t.datacenter(a.primary.datacenter.unwrap()).id.as_str(),
        "dc-north"
    );
    assert!(
        a.primary
            .path
            .iter()
            .all(|&r| t.router(r).city.as_deref() == Some("beijing"))
    );
    let west = a
        .rejected
        .iter()
        .find(|r| t.datacenter(r.datacenter).id.as_str() == "dc-west")
        .unwrap();
    assert_eq!(
        west.reason,
        "in city lanzhou, but residency city keeps the data in beijing"
    );

    let a = ask(
        &engine,
        &t,
        "{from: a1, compute: {kind: ai, tflops: 10}, to: dc-west}",
    )
    .unwrap();
    assert_eq!(
        t.datacenter(a.primary.datacenter.unwrap()).id.as_str(),
        "dc-west"
    );
    assert!(a.rejected.iter().all(|r| {
        r.reason
            .starts_with("not the requested destination (to: dc-west)")
    }));

    let a = ask(&engine, &t, "{from: a1, to: b3}").unwrap();
    assert_eq!(a.primary.datacenter, None);
    assert_eq!(a.primary.pool, None);
    assert_eq!(t.router(a.primary.endpoint).id.as_str(), "b3");
    assert_steers(&t, &a.primary);
}

#[test]
fn malformed_requests_are_invalid_not_infeasible() {
    let t = lab();
    let engine = Engine::new();
    for (request, expected) in [
        (
            "{from: a1, to: b3, objective: price}",
            "objective `price` needs `compute`",
        ),
        (
            "{from: a1, compute: {kind: ai, tflops: 0}}",
            "compute.tflops: must be > 0",
        ),
        (
            "{from: a1, compute: {kind: ai, tflops: 5}, to: b3}",
            "compute needs a data center",
        ),
        ("{from: a1}", "needs `compute`, `to`, or both"),
    ] {
        match ask(&engine, &t, request) {
            Err(QueryError::Invalid(e)) => {
                assert!(e.to_string().contains(expected), "{request}: {e}")
            }
            other => panic!("{request}: {other:?}"),
        }
    }
}

#[test]
fn igp_trees_are_cached_across_queries_until_the_igp_changes() {
    let mut t = lab();
    let engine = Engine::new();
    let request = "{from: a1, compute: {kind: ai, tflops: 10}, constraints: {avoid_routers: [a2]}}";
    let first = ask(&engine, &t, request).unwrap();
    let computed = engine.igp_trees_computed();
    assert!(computed > 0);
    let again = ask(&engine, &t, request).unwrap();
    assert_eq!(first, again);
    assert_eq!(
        engine.igp_trees_computed(),
        computed,
        "a repeated query recomputed IGP trees"
    );
    // Load changes leave the IGP alone; a metric change does not.
    let l = t.link_ix("a3-a4").unwrap();
    t.set_link_load(l, 1000);
    ask(&engine, &t, request).unwrap();
    assert_eq!(engine.igp_trees_computed(), computed);
    t.link_mut(l).igp = 50;
    let moved = ask(&engine, &t, request).unwrap();
    assert!(engine.igp_trees_computed() > computed);
    assert_steers(&t, &moved.primary);
}

/// h reaches d fast over a ladder where every hop ties with a parallel
/// link (each needs an End.X), or slowly over one IGP-shortest detour. h
/// pushes 2 SIDs: uncompressed the fast path needs 4 (three End.X and the
/// End.DT6), compressed it needs one container of four micro-SIDs.
const LADDER: &str = "version: 1
name: ladder
operators:
  - {id: op-a, next_csid: {block: \"fd00::/32\"}}
  - {id: op-z}
routers:
  - {id: h, operator: op-a, locator: \"fc00:1::/32\", msd: 2, usid: 0x100}
  - {id: x, operator: op-a, locator: \"fc00:2::/32\", usid: 0x200}
  - {id: y, operator: op-a, locator: \"fc00:3::/32\", usid: 0x300}
  - {id: d, operator: op-a, locator: \"fc00:4::/32\", usid: 0x400}
  - {id: s, operator: op-a, locator: \"fc00:5::/32\", usid: 0x500}
  - {id: z, operator: op-z, locator: \"fc00:6::/32\", msd: 2}
links:
  - {id: hx1, a: h, b: x, igp: 10, latency_us: 100, bandwidth_mbps: 100}
  - {id: hx2, a: h, b: x, igp: 10, latency_us: 900, bandwidth_mbps: 100}
  - {id: xy1, a: x, b: y, igp: 10, latency_us: 100, bandwidth_mbps: 100}
  - {id: xy2, a: x, b: y, igp: 10, latency_us: 900, bandwidth_mbps: 100}
  - {id: yd1, a: y, b: d, igp: 10, latency_us: 100, bandwidth_mbps: 100}
  - {id: yd2, a: y, b: d, igp: 10, latency_us: 900, bandwidth_mbps: 100}
  - {id: hs, a: h, b: s, igp: 5, latency_us: 5000, bandwidth_mbps: 100}
  - {id: sd, a: s, b: d, igp: 5, latency_us: 5000, bandwidth_mbps: 100}
  - {id: zh, a: z, b: h, igp: 1, latency_us: 10, bandwidth_mbps: 100}
datacenters:
  - {id: dc, attach: [d], pools: [{kind: ai, tflops: 10, memory_gb: 10}]}
";

#[test]
fn compression_makes_the_msd_infeasible_best_path_feasible() {
    let t = topology(LADDER);
    let engine = Engine::new();
    let a = ask(&engine, &t, "{from: h, compute: {kind: ai, tflops: 1}}").unwrap();
    assert_eq!(ids(&t, &a.primary), ["h", "x", "y", "d"]);
    assert!(a.notes.is_empty(), "{:?}", a.notes);
    assert_eq!(
        segs(&t, &a.primary),
        ["End.X h hx1", "End.X x xy1", "End.X y yd1", "End.DT6 d dc"]
    );
    let containers = a.primary.containers.as_ref().expect("compressed");
    assert_eq!(
        containers.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        ["fd00:0:e002:e003:e003:f000::"],
        "uA of h (hx1: its 2nd link by id), x and y (xy1, yd1: their 3rd), then d's uDT6"
    );
    assert!(a.primary.segments.iter().all(|s| s.container == Some(0)));
    assert_eq!(a.primary.sid_depth(), 1);

    // Full SIDs only: the fast path needs 4 > 2, the detour fits.
    let off = ask(
        &engine,
        &t,
        "{from: h, compute: {kind: ai, tflops: 1}, compression: none}",
    )
    .unwrap();
    assert_eq!(ids(&t, &off.primary), ["h", "s", "d"]);
    assert!(off.primary.containers.is_none());
    assert!(off.notes[0].contains("needs 4 segments"), "{:?}", off.notes);
    assert_steers(&t, &off.primary);
}

#[test]
fn next_csid_is_refused_at_a_headend_without_micro_sids() {
    let t = topology(LADDER);
    let doc = parse_request("{from: z, to: dc, compression: next-csid}").unwrap();
    let e = resolve(&doc, &t).unwrap_err();
    assert_eq!(e.field, "compression");
    assert!(e.message.contains("op-z"), "{}", e.message);
    // Without asking, z gets full SIDs: its operator has no block.
    let a = ask(&Engine::new(), &t, "{from: z, to: dc}").unwrap();
    assert!(a.primary.containers.is_none());
}
