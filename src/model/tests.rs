//! Tests of the model as a whole: building, validation, SID allocation.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv6Addr;

use super::*;

fn loc(s: &str) -> ipnetwork::Ipv6Network {
    s.parse().unwrap()
}

fn pool(kind: PoolKind) -> PoolDraft {
    PoolDraft {
        kind,
        tflops: 100.0,
        used_tflops: 0.0,
        memory_gb: 100.0,
        used_memory_gb: 0.0,
        price: 1.0,
        health: PoolHealth::Up,
        queue_wait_s: None,
    }
}

fn dc(id: &str, attach: &[&str]) -> DatacenterDraft {
    DatacenterDraft {
        id: id.into(),
        attach: attach.iter().map(|&r| r.into()).collect(),
        city: None,
        region: None,
        lat: None,
        lon: None,
        latency_us: 0,
        storage_tb: BTreeMap::new(),
        pools: vec![pool(PoolKind::Ai)],
        prefix: None,
        reporter: None,
    }
}

/// r1 - r2 - r3 in op-a, r3 - r4 peering into op-b, a DC on r4.
fn small() -> TopologyBuilder {
    let mut b = TopologyBuilder::new("small");
    b.operator("op-b").operator("op-a");
    b.router(RouterDraft::new("r2", "op-a", loc("fc00:a:2::/48")))
        .router(RouterDraft::new("r1", "op-a", loc("fc00:a:1::/48")))
        .router(RouterDraft::new("r3", "op-a", loc("fc00:a:3::/48")))
        .router(RouterDraft::new("r4", "op-b", loc("fc00:b:4::/48")));
    b.link(LinkDraft::new("r2", "r3", 10, 100))
        .link(LinkDraft::new("r1", "r2", 10, 100))
        .link(LinkDraft::new("r3", "r4", 10, 100));
    b.datacenter(dc("dc4", &["r4"]));
    b
}

fn problems(b: TopologyBuilder) -> Vec<(String, Problem)> {
    b.build()
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| (e.place.path(), e.problem))
        .collect()
}

#[test]
fn builds_in_id_order_with_derived_kinds() {
    let t = small().build().unwrap();
    let ids: Vec<&str> = t.routers().map(|(_, r)| r.id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2", "r3", "r4"]);
    let links: Vec<&str> = t.links().map(|(_, l)| l.id.as_str()).collect();
    assert_eq!(links, ["r1-r2", "r2-r3", "r3-r4"]);
    assert_eq!(t.operators()[0].id.as_str(), "op-a");
    assert_eq!(t.link_kind(t.link_ix("r1-r2").unwrap()), LinkKind::Intra);
    assert_eq!(t.link_kind(t.link_ix("r3-r4").unwrap()), LinkKind::Peering);
    let r4 = t.router_ix("r4").unwrap();
    assert_eq!(t.datacenters_at(r4), &[t.datacenter_ix("dc4").unwrap()]);
    let r2 = t.router_ix("r2").unwrap();
    let mut neighbors: Vec<&str> = t
        .adjacencies(r2)
        .iter()
        .map(|a| t.router(a.router).id.as_str())
        .collect();
    neighbors.sort();
    assert_eq!(neighbors, ["r1", "r3"]);
}

#[test]
fn sids_are_unique_inside_their_locator_and_look_up_both_ways() {
    let t = small().build().unwrap();
    let sids = t.sids();
    // 4 End + 3 links x 2 End.X + 1 data center End.DT6 + 4 routers' own End.DT6
    assert_eq!(sids.len(), 4 + 6 + 1 + 4);
    let mut seen = HashSet::new();
    for (r, router) in t.routers() {
        for sid in sids.of_router(r) {
            assert!(
                router.locator.contains(sid.addr),
                "{} outside {}",
                sid.addr,
                router.locator
            );
            assert!(seen.insert(sid.addr), "{} twice", sid.addr);
            assert_eq!(sids.lookup(sid.addr), Some(&sid));
        }
    }
    let r3 = t.router_ix("r3").unwrap();
    let r4 = t.router_ix("r4").unwrap();
    let l23 = t.link_ix("r2-r3").unwrap();
    let l34 = t.link_ix("r3-r4").unwrap();
    let a = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    assert_eq!(sids.end(r3), a("fc00:a:3::"));
    // r3's links sorted by id: r2-r3 then r3-r4.
    assert_eq!(sids.end_x(r3, l23), Some(a("fc00:a:3:e001::")));
    assert_eq!(sids.end_x(r3, l34), Some(a("fc00:a:3:e002::")));
    assert_eq!(sids.end_x(r4, l34), Some(a("fc00:b:4:e001::")));
    assert_eq!(sids.end_x(r4, l23), None);
    let dc4 = t.datacenter_ix("dc4").unwrap();
    assert_eq!(sids.end_dt6(r4, dc4), Some(a("fc00:b:4:d000::")));
    assert_eq!(sids.end_dt6(r3, dc4), None);
    assert_eq!(sids.own_dt6(r3), a("fc00:a:3:e000::"));
    assert_eq!(
        sids.lookup(a("fc00:a:3:e000::")).unwrap().function,
        SidFunction::EndDt6 { datacenter: None }
    );
    let x = sids.lookup(a("fc00:a:3:e002::")).unwrap();
    assert_eq!(x.router, r3);
    assert_eq!(x.function, SidFunction::EndX { link: l34 });
    assert_eq!(x.behavior(), Behavior::EndX);
    assert_eq!(sids.lookup(a("fc00:a:3:e003::")), None);
}

#[test]
fn sids_do_not_depend_on_input_order() {
    let forward = small().build().unwrap();
    let mut reversed = small();
    reversed.routers.reverse();
    reversed.links.reverse();
    let reversed = reversed.build().unwrap();
    for (r, _) in forward.routers() {
        assert_eq!(forward.sids().of_router(r), reversed.sids().of_router(r));
    }
}

#[test]
fn every_problem_is_reported_with_its_place() {
    let mut b = small();
    b.operator("op-a");
    b.router(RouterDraft::new("r1", "op-z", loc("fc00:a:1:8000::/49")));
    b.router(RouterDraft::new("r9", "op-a", loc("fc00::/8")));
    b.router(RouterDraft::new("r8", "op-a", loc("fc00:c::1/48")));
    let mut bad = LinkDraft::new("r1", "r1", 0, 1);
    bad.bandwidth_mbps = 0;
    b.link(bad);
    let mut over = LinkDraft::new("r1", "rx", 1, 1);
    over.used_mbps = 100_001;
    b.link(over);
    b.link(LinkDraft::new("r2", "r3", 1, 1));
    let mut d = dc("r2", &["r1", "r1", "nope"]);
    d.pools.push(pool(PoolKind::Ai));
    d.pools[0].used_tflops = 101.0;
    d.pools[0].memory_gb = 0.0;
    d.pools[0].price = -1.0;
    b.datacenter(d);
    b.datacenter(DatacenterDraft {
        pools: vec![],
        attach: vec![],
        ..dc("dc9", &[])
    });

    let found = problems(b);
    let at = |path: &str| -> Vec<&Problem> {
        found
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, e)| e)
            .collect()
    };
    assert!(matches!(
        at("operators[2].id")[..],
        [Problem::DuplicateId { .. }]
    ));
    assert!(matches!(
        at("routers[4].id")[..],
        [Problem::DuplicateId { .. }]
    ));
    assert!(matches!(
        at("routers[4].operator")[..],
        [Problem::Unknown {
            kind: "operator",
            ..
        }]
    ));
    assert!(matches!(
        at("routers[4].locator")[..],
        [Problem::LocatorOverlap { .. }]
    ));
    assert!(matches!(
        at("routers[5].locator")[..],
        [Problem::LocatorLength(_, 8)]
    ));
    assert!(matches!(
        at("routers[6].locator")[..],
        [Problem::LocatorHostBits(..)]
    ));
    assert!(matches!(at("links[3].b")[..], [Problem::SelfLoop(_)]));
    assert!(matches!(
        at("links[3].igp")[..],
        [Problem::OutOfRange { .. }]
    ));
    assert!(matches!(
        at("links[3].bandwidth_mbps")[..],
        [Problem::OutOfRange { .. }]
    ));
    assert!(matches!(
        at("links[4].b")[..],
        [Problem::Unknown { kind: "router", .. }]
    ));
    assert!(matches!(
        at("links[4].used_mbps")[..],
        [Problem::OutOfRange { .. }]
    ));
    assert!(matches!(
        at("links[5].id")[..],
        [Problem::DuplicateId { .. }]
    ));
    assert!(matches!(
        at("datacenters[1].id")[..],
        [Problem::DuplicateId { .. }]
    ));
    assert!(matches!(
        at("datacenters[1].attach[1]")[..],
        [Problem::DuplicateAttach(_)]
    ));
    assert!(matches!(
        at("datacenters[1].attach[2]")[..],
        [Problem::Unknown { .. }]
    ));
    assert!(matches!(
        at("datacenters[1].pools[1].kind")[..],
        [Problem::DuplicatePoolKind(PoolKind::Ai)]
    ));
    assert!(matches!(
        at("datacenters[1].pools[0].used_tflops")[..],
        [Problem::OutOfRange { .. }]
    ));
    assert!(matches!(
        at("datacenters[1].pools[0].memory_gb")[..],
        [Problem::OutOfRange { .. }]
    ));
    assert!(matches!(
        at("datacenters[1].pools[0].price")[..],
        [Problem::OutOfRange { .. }]
    ));
    assert!(matches!(
        at("datacenters[2].attach")[..],
        [Problem::Empty(_)]
    ));
    assert!(matches!(
        at("datacenters[2].pools")[..],
        [Problem::Empty(_)]
    ));
}

#[test]
fn an_empty_network_is_refused() {
    let found = problems(TopologyBuilder::new("empty"));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["operators", "routers"]);
}

#[test]
fn error_messages_name_the_item_and_field() {
    let mut b = small();
    b.routers[0].operator = "op-q".into();
    let msg = b.build().unwrap_err().to_string();
    assert_eq!(
        msg,
        "router `r2` (routers[0].operator): unknown operator `op-q`"
    );
}

#[test]
fn nested_locators_overlap() {
    let mut b = small();
    b.router(RouterDraft::new("r5", "op-a", loc("fc00:a::/32")));
    let found = problems(b);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(matches!(&found[0].1, Problem::LocatorOverlap { other, .. } if other == "r2"));
}

#[test]
fn changes_bump_generation_and_only_igp_changes_bump_the_igp_key() {
    let mut t = small().build().unwrap();
    let (g, igp) = (t.generation(), t.igp_key());
    let l = t.link_ix("r1-r2").unwrap();
    t.set_link_load(l, 500);
    t.set_link_reserved(l, 100);
    assert_eq!(t.link(l).available_mbps(), 100_000 - 600);
    assert!(t.generation() > g);
    assert_eq!(t.igp_key(), igp);
    t.link_mut(l).up = false;
    assert_ne!(t.igp_key(), igp);
    assert!(!t.link(l).up);
    // A clone keeps the IGP key (its IGP is the same) until either side
    // changes; two sides that change apart never meet on one key.
    let mut copy = t.clone();
    assert_eq!(copy.igp_key(), t.igp_key());
    t.link_mut(l).up = true;
    copy.link_mut(l).up = true;
    assert_ne!(copy.igp_key(), t.igp_key());
    assert_ne!(copy.generation(), t.generation());
    // Latency and the like leave the IGP key alone.
    let before = t.igp_key();
    let mut p = LinkPerformance {
        latency_us: 7,
        te: 3,
        jitter_us: 1,
        loss_ppm: 0,
        bandwidth_mbps: 1000,
    };
    t.set_link_performance(l, p);
    assert_eq!((t.igp_key(), t.link(l).latency_us), (before, 7));
    p.te = 4;
    t.set_link_performance(l, p);
    assert_eq!(t.link(l).te, 4);
}

#[test]
fn adjacencies_are_sorted_by_link_id() {
    let t = small().build().unwrap();
    let r3 = t.router_ix("r3").unwrap();
    let adj: Vec<(&str, &str)> = t
        .adjacencies(r3)
        .iter()
        .map(|a| (t.link(a.link).id.as_str(), t.router(a.router).id.as_str()))
        .collect();
    assert_eq!(adj, [("r2-r3", "r2"), ("r3-r4", "r4")]);
}

#[test]
fn datacenter_prefixes_follow_the_id_not_the_order() {
    let t = small().build().unwrap();
    let dc4 = t.datacenter(t.datacenter_ix("dc4").unwrap()).prefix;
    // The low 48 bits of FNV-1a (64-bit) of "dc4" are 0xe818f450e6cc,
    // computed apart from this code (a few lines of Python over the
    // published constants).
    assert_eq!(dc4, loc("fddc:e818:f450:e6cc::/64"));
    // A router's derived prefix lies in fded::/16.
    let r1 = t.router(t.router_ix("r1").unwrap()).prefix;
    assert_eq!(r1.network().segments()[0], 0xfded);
    assert_eq!(r1.prefix(), 64);
    // A data center sorting before it moves nothing.
    let mut b = small();
    b.datacenter(dc("dc0", &["r1"]));
    let t = b.build().unwrap();
    assert_eq!(t.datacenter(t.datacenter_ix("dc4").unwrap()).prefix, dc4);
    // A declared prefix is kept as declared.
    let mut b = small();
    b.datacenter(DatacenterDraft {
        prefix: Some(loc("fd00:dc:1::/64")),
        ..dc("dc1", &["r1"])
    });
    let t = b.build().unwrap();
    assert_eq!(
        t.datacenter(t.datacenter_ix("dc1").unwrap()).prefix,
        loc("fd00:dc:1::/64")
    );
}

#[test]
fn datacenter_prefixes_must_be_networks_apart_from_locators_and_each_other() {
    let mut b = small();
    b.datacenter(DatacenterDraft {
        prefix: Some(loc("fc00:a:1:5::/64")),
        ..dc("inside-r1", &["r1"])
    });
    b.datacenter(DatacenterDraft {
        prefix: Some(loc("fd00:dc:1::1/64")),
        ..dc("host-bits", &["r1"])
    });
    b.datacenter(DatacenterDraft {
        prefix: Some(loc("fd00:dc:7::/64")),
        ..dc("first", &["r2"])
    });
    b.datacenter(DatacenterDraft {
        prefix: Some(loc("fd00:dc:7::/48")),
        ..dc("covers-first", &["r2"])
    });
    // A router's site prefix declared inside another router's locator.
    b.routers[0].prefix = Some(loc("fc00:a:1:9::/64"));
    let found = problems(b);
    assert!(found.iter().any(|(at, p)| at == "datacenters[1].prefix"
        && matches!(p, Problem::PrefixOverlap { other, derived: false, .. } if other.contains("router `r1`"))), "{found:?}");
    assert!(
        found.iter().any(|(at, p)| at == "datacenters[2].prefix"
            && matches!(p, Problem::PrefixHostBits(_, fixed) if *fixed == loc("fd00:dc:1::/64"))),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(at, p)| at == "datacenters[4].prefix"
            && matches!(p, Problem::PrefixOverlap { other, .. } if other.contains("`first`"))),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(at, p)| at == "routers[0].prefix"
            && matches!(p, Problem::PrefixOverlap { other, .. } if other.contains("router `r1`"))),
        "{found:?}"
    );
    assert_eq!(found.len(), 4, "{found:?}");
}

#[test]
fn coordinates_are_both_or_neither_and_in_range() {
    let mut b = small();
    b.routers[0].lat = Some(39.9);
    b.routers[0].lon = Some(-200.0);
    b.routers[1].lat = Some(10.0);
    let mut d = dc("dc9", &["r1"]);
    d.lat = Some(30.0);
    d.lon = Some(120.0);
    b.datacenter(d);
    let found = problems(b.clone());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        matches!(&found[0], (at, Problem::OutOfRange { value, .. }) if at == "routers[0].lon" && value == "-200")
    );
    assert!(
        matches!(&found[1], (at, Problem::Unpaired { given: "lat", missing: "lon" }) if at == "routers[1].lat")
    );
    b.routers[0].lon = Some(116.4);
    b.routers[1].lat = None;
    let t = b.build().unwrap();
    let r = t.router(t.router_ix("r2").unwrap());
    assert_eq!(r.coordinates.map(|c| (c.lat, c.lon)), Some((39.9, 116.4)));
    let dc9 = t.datacenter(t.datacenter_ix("dc9").unwrap());
    assert_eq!(dc9.coordinates.map(|c| (c.lat, c.lon)), Some((30.0, 120.0)));
}

#[test]
fn given_sids_are_taken_and_allocation_steps_around_them() {
    let mut b = small();
    let r2 = b
        .routers
        .iter_mut()
        .find(|r| r.id.as_str() == "r2")
        .unwrap();
    r2.end_sid = Some("fc00:a:2:1::".parse().unwrap());
    // r2's End.X for r2-r3 takes the function r2's first End.X would have.
    let l = b
        .links
        .iter_mut()
        .find(|l| l.id.as_str() == "r2-r3")
        .unwrap();
    l.end_x = [Some("fc00:a:2:e001::".parse().unwrap()), None];
    let t = b.build().unwrap();
    let r2 = t.router_ix("r2").unwrap();
    let (r1r2, r2r3) = (t.link_ix("r1-r2").unwrap(), t.link_ix("r2-r3").unwrap());
    assert_eq!(
        t.sids().end(r2),
        "fc00:a:2:1::".parse::<Ipv6Addr>().unwrap()
    );
    assert_eq!(t.sids().given_end(r2), Some(t.sids().end(r2)));
    assert_eq!(
        t.sids().end_x(r2, r2r3),
        Some("fc00:a:2:e001::".parse().unwrap())
    );
    // r1-r2 ranks first at r2 (e001), taken: the next free function.
    assert_eq!(
        t.sids().end_x(r2, r1r2),
        Some("fc00:a:2:e002::".parse().unwrap())
    );
    assert_eq!(t.sids().given_end_x(r1r2), [None, None]);
    assert_eq!(
        t.sids()
            .lookup("fc00:a:2:1::".parse().unwrap())
            .unwrap()
            .router,
        r2
    );
    // Every SID is unique.
    let all: HashSet<Ipv6Addr> = t
        .routers()
        .flat_map(|(r, _)| t.sids().of_router(r))
        .map(|s| s.addr)
        .collect();
    assert_eq!(all.len(), t.sids().len());
}

#[test]
fn given_sids_outside_the_locator_or_twice_are_refused() {
    let mut b = small();
    b.routers[0].end_sid = Some("fc00:b:9::".parse().unwrap());
    b.links[0].end_x = [Some("fc00:a:2:7::".parse().unwrap()); 2];
    let found = problems(b);
    assert!(
        found.iter().any(|(path, p)| path == "routers[0].end_sid"
            && matches!(p, Problem::SidOutsideLocator { .. })),
        "{found:?}"
    );
    // links[0] is r2-r3: a's SID is in r2's locator, b's is not in r3's.
    assert!(
        found.iter().any(|(path, _)| path == "links[0].end_x.b"),
        "{found:?}"
    );
    let mut b = small();
    b.routers[1].end_sid = Some("fc00:a:1:5::".parse().unwrap());
    b.links[1].end_x = [Some("fc00:a:1:5::".parse().unwrap()), None];
    let found = problems(b);
    assert!(
        found
            .iter()
            .any(|(_, p)| matches!(p, Problem::DuplicateSid { .. })),
        "{found:?}"
    );
}

#[test]
fn routers_may_be_optional() {
    let mut b = TopologyBuilder::new("empty");
    b.operator("op-a");
    assert!(b.clone().build().is_err());
    b.routers_optional = true;
    let t = b.build().unwrap();
    assert_eq!(t.router_count(), 0);
}
