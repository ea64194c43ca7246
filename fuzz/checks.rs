//! What every fuzz target checks, shared with `tests/fuzz_regressions.rs`
//! (which replays the inputs in `fuzz/regressions/` that once failed).
//! Each function panics on a broken property.

#![allow(dead_code)]

use std::net::Ipv6Addr;
use std::sync::OnceLock;

/// The topology loader answers (a topology, or errors) and never panics;
/// what loads survives a round trip through the file format.
pub fn topology(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = cpn::topology_file::parse_str(text, "fuzz.yaml") {
        let doc = cpn::topology_file::TopologyDocument::from_topology(&t);
        let again = serde_yaml::to_string(&doc).expect("a loaded topology serializes");
        let back = cpn::topology_file::parse_str(&again, "again.yaml").expect("and loads again");
        assert_eq!(back.router_count(), t.router_count());
        assert_eq!(back.link_count(), t.link_count());
    }
}

fn lab() -> &'static cpn::model::Topology {
    static LAB: OnceLock<cpn::model::Topology> = OnceLock::new();
    LAB.get_or_init(|| {
        cpn::topology_file::parse_str(include_str!("../topologies/lab.yaml"), "lab.yaml")
            .expect("the lab loads")
    })
}

/// A path request is parsed, resolved against the lab and answered by the
/// engine, or refused; never a panic.
pub fn request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = cpn::document::parse_request(text) else {
        return;
    };
    let t = lab();
    if let Ok(req) = cpn::document::resolve(&doc, t) {
        let engine = cpn::engine::Engine::default();
        let _ = engine.query(t, &req);
    }
}

/// The SRH codec (RFC 8754): bytes parse or are refused; what parses writes
/// back to the same header; a segment list becomes an SRH that parses back
/// to it, or is refused.
pub fn srh(data: &[u8]) {
    use cpn::model::srh::Srh;
    if let Ok(h) = Srh::parse(data) {
        assert_eq!(
            Srh::parse(&h.to_bytes()).as_ref(),
            Ok(&h),
            "parse . write . parse"
        );
    }
    let segments: Vec<Ipv6Addr> = data
        .chunks_exact(16)
        .map(|c| Ipv6Addr::from(<[u8; 16]>::try_from(c).expect("16 bytes")))
        .collect();
    if let Ok(h) = Srh::for_segments(&segments, 41) {
        let back = Srh::parse(&h.to_bytes()).expect("a headend's SRH parses");
        assert_eq!(back.segments(), segments);
        assert_eq!(usize::from(back.segments_left) + 1, segments.len());
    }
}

fn lab_business() -> &'static cpn::topology_file::business::Business {
    static BUSINESS: OnceLock<cpn::topology_file::business::Business> = OnceLock::new();
    BUSINESS.get_or_init(|| {
        let e = cpn::bgp_ls::export::export(lab());
        let text = serde_yaml::to_string(&e.business).expect("serializes");
        cpn::topology_file::business::parse_business(&text, "business.yaml").expect("loads")
    })
}

/// The BGP-LS decoder, behind a session that is up: arbitrary bytes (cut
/// where the first byte says) close the session with a NOTIFICATION or go
/// through, never a panic; every NLRI and attribute that decodes writes
/// back to bytes that decode to the same; whatever the RIB then holds is
/// learned and built (or refused) without a panic. The same bytes as an
/// NLRI list and as a BGP-LS attribute round-trip too.
pub fn bgp_ls(data: &[u8]) {
    use cpn::bgp_ls::rib::Rib;
    use cpn::bgp_ls::session::{Config, Event, Output, Session};
    use cpn::bgp_ls::wire::attr::LsAttribute;
    use cpn::bgp_ls::wire::message::{Capability, Message, Open};
    use cpn::bgp_ls::wire::nlri::Nlri;
    use std::time::Instant;

    let nlri_round_trip = |nlri: &[Nlri]| {
        let mut bytes = Vec::new();
        for n in nlri {
            n.encode(&mut bytes);
        }
        assert_eq!(
            Nlri::decode_all(&bytes).as_deref(),
            Ok(nlri),
            "NLRI write . read"
        );
    };
    let attr_round_trip = |a: &LsAttribute| {
        let bytes = a.encode();
        let again = LsAttribute::decode(&bytes).expect("what was written reads");
        assert_eq!(again.encode(), bytes, "attribute write . read . write");
    };
    if let Ok(n) = Nlri::decode_all(data) {
        nlri_round_trip(&n);
    }
    if let Ok(a) = LsAttribute::decode(data) {
        attr_round_trip(&a);
    }

    let now = Instant::now();
    let (mut s, _) = Session::new(Config::default(), now);
    let open = Open {
        version: 4,
        my_as: 65000,
        hold_time: 90,
        bgp_id: "10.9.9.9".parse().expect("an address"),
        capabilities: vec![Capability::Multiprotocol {
            afi: 16388,
            safi: 71,
        }],
    };
    s.receive(&Message::Open(open).encode(), now);
    s.receive(&Message::Keepalive.encode(), now);
    let mut rib = Rib::new();
    rib.session_up("fuzz");
    let cut = data.first().map_or(1, |&b| usize::from(b).max(1));
    for chunk in data.chunks(cut) {
        for o in s.receive(chunk, now) {
            match o {
                Output::Event(Event::Update(u)) => {
                    nlri_round_trip(&u.reach);
                    nlri_round_trip(&u.withdraw);
                    if let Some(a) = &u.attribute {
                        attr_round_trip(a);
                    }
                    let again = Message::Update(u.clone()).encode();
                    assert!(Message::decode(&again).is_ok() || again.len() > 4096);
                    rib.apply("fuzz", &u);
                }
                Output::Event(Event::Closed(c)) => {
                    assert!(c.sent.is_some(), "CPN closes with a NOTIFICATION");
                }
                _ => {}
            }
        }
    }
    rib.assume_synced("fuzz");
    let learned = cpn::bgp_ls::merge::learn(&rib, lab_business());
    let _ = cpn::bgp_ls::merge::build(&learned, lab_business(), Some(lab()));
}
