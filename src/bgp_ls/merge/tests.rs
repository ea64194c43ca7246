//! The lab exported as BGP-LS and learned back is the lab; withdrawals and
//! new metrics are events; new shapes are rebuilds; the identity rules for
//! parallel links, peering links, names and operators.

use std::net::Ipv4Addr;

use super::*;
use crate::bgp_ls::export::{Exported, export, router_id};
use crate::bgp_ls::rib::Rib;
use crate::bgp_ls::wire::attr::{EndXSid, LsAttribute, Measured};
use crate::bgp_ls::wire::nlri::{LinkNlri, Nlri};
use crate::bgp_ls::wire::update::Update;
use crate::document::{EventDoc, SetLinkDoc};
use crate::model::Topology;
use crate::topology_file::business::{Business, parse_business};
use crate::topology_file::{TopologyDocument, lab};

fn rib_of(routes: &[(Nlri, LsAttribute)]) -> Rib {
    let mut rib = Rib::new();
    rib.session_up("192.0.2.9");
    for (n, a) in routes {
        let u = Update::announce(
            vec![n.clone()],
            Some(a.clone()),
            &[1],
            "10.0.0.1".parse().unwrap(),
        );
        rib.apply("192.0.2.9", &u);
    }
    rib.apply("192.0.2.9", &Update::end_of_rib());
    rib
}

fn business_of(e: &Exported) -> Business {
    parse_business(
        &serde_yaml::to_string(&e.business).unwrap(),
        "business.yaml",
    )
    .unwrap()
}

fn learned_lab() -> (Topology, Exported, Business, Learned) {
    let t = lab();
    let e = export(&t);
    let b = business_of(&e);
    let l = learn(&rib_of(&e.routes), &b);
    (t, e, b, l)
}

/// A document without the SIDs that were given: what a file would say.
fn plain(t: &Topology) -> TopologyDocument {
    let mut d = TopologyDocument::from_topology(t);
    for r in &mut d.routers {
        r.end_sid = None;
    }
    for l in &mut d.links {
        l.end_x = None;
    }
    d
}

#[test]
fn the_lab_learned_back_is_the_lab() {
    let (t, _, b, learned) = learned_lab();
    assert_eq!(learned.problems, Vec::<String>::new());
    assert_eq!(learned.routers.len(), 7);
    assert_eq!(learned.links.len(), 9);
    assert!(learned.links["a4-b1"].peering && !learned.links["a1-a2"].peering);
    assert_eq!(learned.routers["a1"].source, "192.0.2.9");
    let built = build(&learned, &b, None).unwrap();
    assert_eq!(built.notes, Vec::<String>::new());
    let got = &built.topology;
    assert_eq!(plain(got), plain(&t));
    // The same SIDs, now given by the network.
    for (r, router) in t.routers() {
        let g = got.router_ix(router.id.as_str()).unwrap();
        let want: Vec<_> = t
            .sids()
            .of_router(r)
            .iter()
            .map(|s| (s.addr, s.behavior()))
            .collect();
        let have: Vec<_> = got
            .sids()
            .of_router(g)
            .iter()
            .map(|s| (s.addr, s.behavior()))
            .collect();
        assert_eq!(have, want, "{}", router.id);
        assert!(got.sids().given_end(g).is_some());
    }
    // The stored form keeps the given SIDs: loading it again gives them.
    let again = TopologyDocument::from_topology(got)
        .to_builder()
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        TopologyDocument::from_topology(&again),
        TopologyDocument::from_topology(got)
    );
}

fn withdraw(routes: &mut Vec<(Nlri, LsAttribute)>, keep: impl Fn(&Nlri, &LsAttribute) -> bool) {
    routes.retain(|(n, a)| keep(n, a));
}

fn link_named<'a>(n: &'a Nlri, a: &LsAttribute, name: &str) -> Option<&'a LinkNlri> {
    match n {
        Nlri::Link(l) if a.link_name.as_deref() == Some(name) => Some(l),
        _ => None,
    }
}

#[test]
fn withdrawals_and_new_metrics_are_events() {
    let (_, e, b, old) = learned_lab();
    // a3-a4 withdrawn (both directions), a1-a2's delay raised on one side.
    let mut routes = e.routes.clone();
    withdraw(&mut routes, |n, a| link_named(n, a, "a3-a4").is_none());
    for (n, a) in &mut routes {
        if link_named(n, a, "a1-a2").is_some_and(|l| l.link.ids == Some((1, 2))) {
            a.delay = Some(Measured {
                anomalous: false,
                value: 900,
            });
        }
    }
    let mut new = learn(&rib_of(&routes), &b);
    assert!(!new.links.contains_key("a3-a4"));
    carry_over(&mut new, &old);
    assert!(!new.links["a3-a4"].up);
    let Change::Events(events) = diff(&old, &new) else {
        panic!("events")
    };
    assert_eq!(
        events,
        vec![
            EventDoc::LinkDown("a3-a4".into()),
            EventDoc::SetLink(SetLinkDoc {
                id: "a1-a2".into(),
                latency_us: Some(900),
                ..Default::default()
            })
        ]
    );
    assert_eq!(diff(&new, &new), Change::Same);
    // One direction back is not enough for an IGP link; both are.
    let mut one = routes.clone();
    one.extend(
        e.routes
            .iter()
            .filter(|(n, a)| link_named(n, a, "a3-a4").is_some_and(|l| l.link.ids == Some((7, 8))))
            .cloned(),
    );
    let mut half = learn(&rib_of(&one), &b);
    carry_over(&mut half, &new);
    assert!(!half.links["a3-a4"].up);
    let mut full = learn(&rib_of(&e.routes), &b);
    carry_over(&mut full, &new);
    assert!(
        matches!(diff(&new, &full), Change::Events(ev) if ev.contains(&EventDoc::LinkUp("a3-a4".into())))
    );
}

#[test]
fn a_router_withdrawn_is_down_and_a_new_sid_is_a_rebuild() {
    let (_, e, b, old) = learned_lab();
    let a3 = crate::bgp_ls::export::system_id(lab().router_ix("a3").unwrap());
    let mut routes = e.routes.clone();
    withdraw(&mut routes, |n, _| match n {
        Nlri::Node(x) => x.node.igp_router_id.as_ref() != Some(&a3),
        _ => true,
    });
    let mut new = learn(&rib_of(&routes), &b);
    carry_over(&mut new, &old);
    let Change::Events(ev) = diff(&old, &new) else {
        panic!("events")
    };
    assert_eq!(ev[0], EventDoc::RouterDown("a3".into()));
    assert!(ev.contains(&EventDoc::LinkDown("a1-a3".into())));
    // A different End.X SID: the model's SIDs change, so it is rebuilt.
    let mut routes = e.routes.clone();
    for (n, a) in &mut routes {
        if link_named(n, a, "b1-b2").is_some() {
            let mut o = a.end_x_sids[0].sid.octets();
            o[7] ^= 0x70;
            a.end_x_sids[0].sid = o.into();
        }
    }
    let mut new = learn(&rib_of(&routes), &b);
    carry_over(&mut new, &old);
    assert_eq!(diff(&old, &new), Change::Rebuild);
}

#[test]
fn parallel_links_get_suffixes_and_keep_their_sids() {
    let (_, e, b, _) = learned_lab();
    // A second b1-b2 link with its own link ids and End.X SIDs, no name.
    let mut routes = e.routes.clone();
    let extra: Vec<_> = routes
        .iter()
        .filter(|(n, a)| link_named(n, a, "b1-b2").is_some())
        .map(|(n, a)| {
            let Nlri::Link(mut l) = n.clone() else {
                unreachable!()
            };
            let (x, y) = l.link.ids.unwrap();
            l.link.ids = Some((x + 100, y + 100));
            let mut a = a.clone();
            a.link_name = None;
            let mut o = a.end_x_sids[0].sid.octets();
            o[7] = 0x99;
            a.end_x_sids = vec![EndXSid {
                sid: o.into(),
                ..a.end_x_sids[0].clone()
            }];
            (Nlri::Link(l), a)
        })
        .collect();
    routes.extend(extra);
    for (_, a) in &mut routes {
        if a.link_name.as_deref() == Some("b1-b2") {
            a.link_name = None;
        }
    }
    let l = learn(&rib_of(&routes), &b);
    let ids: Vec<&str> = l
        .links
        .keys()
        .filter(|k| k.starts_with("b1-b2"))
        .map(String::as_str)
        .collect();
    assert_eq!(ids, ["b1-b2#113", "b1-b2#13"]);
    let t = build(&l, &b, None).unwrap().topology;
    let (p, q) = (
        t.link_ix("b1-b2#13").unwrap(),
        t.link_ix("b1-b2#113").unwrap(),
    );
    let b1 = t.router_ix("b1").unwrap();
    assert_ne!(t.sids().end_x(b1, p), t.sids().end_x(b1, q));
    assert_eq!(t.sids().end_x(b1, q).unwrap().octets()[7], 0x99);
}

#[test]
fn operators_names_and_leftovers() {
    let (_, e, mut b, _) = learned_lab();
    // op-b loses its AS: its routers cannot be placed; b1 gets an override.
    b.doc
        .operators
        .iter_mut()
        .find(|o| o.id == "op-b")
        .unwrap()
        .asn = Some(1);
    b.routers.insert(
        "b1".into(),
        crate::topology_file::RouterOverride {
            id: "b1".into(),
            operator: Some("op-b".into()),
            ..Default::default()
        },
    );
    let l = learn(&rib_of(&e.routes), &b);
    assert!(l.routers.contains_key("b1"));
    assert!(!l.routers.contains_key("b2"));
    assert!(
        l.problems
            .iter()
            .any(|p| p.contains("router `b2` left out: its AS (64501) is no operator's `asn`")),
        "{:?}",
        l.problems
    );
    // The peering link to b2 is gone with it; the one to b1 stays.
    assert!(l.links.contains_key("a4-b1") && !l.links.contains_key("a4-b2"));
    let built = build(&l, &b, None).unwrap();
    assert!(
        built.notes.iter().any(|n| n.contains("dc-west")),
        "{:?}",
        built.notes
    );
    // Two nodes named alike in different ASes.
    let mut routes = e.routes.clone();
    for (n, a) in &mut routes {
        if matches!(n, Nlri::Node(_)) && a.node_name.as_deref() == Some("b3") {
            a.node_name = Some("a1".into());
        }
    }
    let (_, _, b, _) = learned_lab();
    let l = learn(&rib_of(&routes), &b);
    assert!(l.routers.contains_key("a1@64500") && l.routers.contains_key("a1@64501"));
}

#[test]
fn peering_link_ends_are_found_by_bgp_router_id() {
    let (t, e, b, _) = learned_lab();
    // Without the IPv4 router ids, a BGP router id names nobody CPN knows.
    let mut routes = e.routes.clone();
    for (_, a) in &mut routes {
        if a.router_id_v4 == Some(router_id(t.router_ix("a4").unwrap())) {
            a.router_id_v4 = Some(Ipv4Addr::new(192, 0, 2, 200));
        }
    }
    let l = learn(&rib_of(&routes), &b);
    assert!(!l.links.contains_key("a4-b1"));
    assert!(
        l.problems
            .iter()
            .any(|p| p.contains("link directions left out"))
    );
}

#[test]
fn changed_link_attributes_are_followed_without_learning_all() {
    let (_, e, b, _) = learned_lab();
    let mut rib = rib_of(&e.routes);
    let applied = learn(&rib, &b);
    assert!(rib.take_changes().structural);
    // A new delay on one direction of a1-a2: only that link moves.
    let (n, a) = e
        .routes
        .iter()
        .find(|(n, a)| link_named(n, a, "a1-a2").is_some_and(|l| l.link.ids == Some((1, 2))))
        .unwrap();
    let mut a = a.clone();
    a.delay = Some(Measured {
        anomalous: false,
        value: 777,
    });
    let u = Update::announce(vec![n.clone()], Some(a), &[1], "10.0.0.1".parse().unwrap());
    assert!(rib.apply("192.0.2.9", &u));
    let changes = rib.take_changes();
    assert!(!changes.structural && changes.links.len() == 1);
    let mut fast = applied.clone();
    let events = relearn_links(&rib, &b, &mut fast, &changes.links).unwrap();
    let mut full = learn(&rib, &b);
    carry_over(&mut full, &applied);
    assert_eq!(fast.links, full.links);
    assert_eq!(diff(&applied, &full), Change::Events(events));
    assert_eq!(fast.links["a1-a2"].latency_us, 777);
    // A new End.X SID is more than metrics: the full way.
    let (n, a) = e
        .routes
        .iter()
        .find(|(n, a)| link_named(n, a, "b1-b3").is_some())
        .unwrap();
    let mut a = a.clone();
    let mut o = a.end_x_sids[0].sid.octets();
    o[7] ^= 0x40;
    a.end_x_sids[0].sid = o.into();
    rib.apply(
        "192.0.2.9",
        &Update::announce(vec![n.clone()], Some(a), &[1], "10.0.0.1".parse().unwrap()),
    );
    let changes = rib.take_changes();
    let mut same = applied.clone();
    assert!(relearn_links(&rib, &b, &mut same, &changes.links).is_none());
    assert_eq!(same, applied, "untouched when it gives up");
    // A withdrawal is structural.
    rib.apply("192.0.2.9", &Update::withdrawal(vec![n.clone()]));
    assert!(rib.take_changes().structural);
}
