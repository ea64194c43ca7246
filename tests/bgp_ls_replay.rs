//! The replay comparison: the bundled national network (and the lab),
//! exported as BGP-LS UPDATE messages, fed byte by byte through CPN's
//! session state machine into a RIB, learned and built with the business
//! data alone, answers every example request exactly as the file does:
//! the same data center, path, links, segment list (SIDs included) and
//! metrics. A thousand random requests on the national network too.

use std::net::Ipv4Addr;
use std::time::Instant;

use cpn::bgp_ls::export::{export, messages};
use cpn::bgp_ls::merge::{build, learn};
use cpn::bgp_ls::rib::Rib;
use cpn::bgp_ls::session::{Config, Event, Output, Session};
use cpn::bgp_ls::wire::message::{Capability, Message, Open};
use cpn::document::{RequestDoc, answer_json, error_json, parse_request, resolve};
use cpn::engine::{Engine, QueryError};
use cpn::model::Topology;
use cpn::topology_file::business::parse_business;

fn load(name: &str) -> Topology {
    cpn::topology_file::load_file(format!("{}/topologies/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
}

/// `t` exported, sent over a session, learned and built again.
fn learned_back(t: &Topology) -> Topology {
    let e = export(t);
    let business = parse_business(&serde_yaml::to_string(&e.business).unwrap(), "b.yaml").unwrap();
    let now = Instant::now();
    let (mut s, _) = Session::new(Config::default(), now);
    let open = Open {
        version: 4,
        my_as: 65000,
        hold_time: 90,
        bgp_id: Ipv4Addr::new(10, 9, 9, 9),
        capabilities: vec![Capability::Multiprotocol {
            afi: 16388,
            safi: 71,
        }],
    };
    s.receive(&Message::Open(open).encode(), now);
    s.receive(&Message::Keepalive.encode(), now);
    let mut rib = Rib::new();
    rib.session_up("rr");
    let bytes: Vec<u8> = messages(&e.routes, 65000, "10.0.0.1".parse().unwrap()).concat();
    // In reads of 4 KiB, as a socket gives them.
    for chunk in bytes.chunks(4096) {
        for o in s.receive(chunk, now) {
            match o {
                Output::Event(Event::Update(u)) => {
                    rib.apply("rr", &u);
                }
                Output::Event(Event::Closed(c)) => panic!("session closed: {}", c.reason),
                _ => {}
            }
        }
    }
    assert!(rib.ready(), "End-of-RIB came");
    let l = learn(&rib, &business);
    assert_eq!(l.problems, Vec::<String>::new());
    build(&l, &business, None).unwrap().topology
}

/// The answer to `doc` on `t`, as JSON (an answer, or the refusal).
fn answer(engine: &Engine, t: &Topology, doc: &RequestDoc) -> serde_json::Value {
    let req = resolve(doc, t).unwrap();
    match engine.query(t, &req) {
        Ok(a) => serde_json::to_value(answer_json(t, &a)).unwrap(),
        Err(QueryError::NoPlacement(e)) => serde_json::to_value(error_json(t, &e)).unwrap(),
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn the_national_network_learned_over_bgp_ls_answers_as_the_file() {
    let file = load("china-east-west.yaml");
    let learned = learned_back(&file);
    assert_eq!(learned.router_count(), file.router_count());
    assert_eq!(learned.link_count(), file.link_count());
    assert_eq!(learned.sids().len(), file.sids().len());
    let engine = Engine::new();
    let dir = format!("{}/topologies/requests", env!("CARGO_MANIFEST_DIR"));
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let doc = parse_request(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let want = answer(&engine, &file, &doc);
        let got = answer(&engine, &learned, &doc);
        assert_eq!(got, want, "{}", path.display());
        compared += 1;
    }
    assert_eq!(compared, 3);
    // Random requests from every router, to every kind, every objective.
    let routers: Vec<String> = file.routers().map(|(_, r)| r.id.to_string()).collect();
    for (i, from) in routers.iter().enumerate() {
        let kind = ["ai", "hpc", "general"][i % 3];
        let objective = ["latency", "igp", "te", "price"][i % 4];
        let protection = ["none", "link", "node", "srlg"][(i / 4) % 4];
        let doc = parse_request(&format!(
            "{{from: {from}, compute: {{kind: {kind}, tflops: {}}}, objective: {objective}, protection: {protection}}}",
            10 * (i + 1)
        ))
        .unwrap();
        assert_eq!(
            answer(&engine, &learned, &doc),
            answer(&engine, &file, &doc),
            "{from}"
        );
    }
}

#[test]
fn the_lab_learned_over_bgp_ls_answers_as_the_file() {
    let file = load("lab.yaml");
    let learned = learned_back(&file);
    let engine = Engine::new();
    for req in [
        "{from: a1, compute: {kind: ai, tflops: 200}, objective: price}",
        "{from: a1, compute: {kind: hpc, tflops: 100}, objective: latency, protection: link}",
        "{from: b3, compute: {kind: general, tflops: 10}}",
    ] {
        let doc = parse_request(req).unwrap();
        assert_eq!(
            answer(&engine, &learned, &doc),
            answer(&engine, &file, &doc),
            "{req}"
        );
    }
}
