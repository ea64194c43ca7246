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
