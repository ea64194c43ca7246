//! Loader tests: one per kind of load error, each checking the line and the
//! id or field named, plus round trips.

use super::*;

const GOOD: &str = "\
version: 1
name: t
operators:
  - id: op-a
    asn: 64500
  - id: op-b
routers:
  - id: r1
    operator: op-a
    locator: \"fc00:a:1::/48\"
    city: beijing
  - id: r2
    operator: op-a
    locator: \"fc00:a:2::/48\"
    msd: 3
  - id: r3
    operator: op-b
    locator: \"fc00:b:3::/48\"
    mgmt: \"127.0.0.1:50103\"
links:
  - a: r1
    b: r2
    igp: 10
    latency_us: 100
    bandwidth_mbps: 1000
    srlg: [3, 1, 3]
  - id: peer
    a: r2
    b: r3
    igp: 5
    te: 50
    latency_us: 200
    bandwidth_mbps: 1000
    used_mbps: 400
    up: false
datacenters:
  - id: dc1
    attach: [r3]
    latency_us: 30
    storage_tb: {ssd: 10}
    pools:
      - kind: ai
        tflops: 100
        memory_gb: 200
        price: 1.5
";

/// The single diagnostic of loading `text`, or a panic.
fn only_error(text: &str) -> Diagnostic {
    let err = parse_str(text, "t.yaml").unwrap_err();
    let d = err.diagnostics();
    assert_eq!(d.len(), 1, "expected one error, got: {err}");
    d[0].clone()
}

fn replace(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn good_file_loads_with_defaults() {
    let t = parse_str(GOOD, "t.yaml").unwrap();
    assert_eq!(t.router_count(), 3);
    let r1 = t.router(t.router_ix("r1").unwrap());
    assert_eq!(r1.msd, 10);
    assert_eq!(r1.city.as_deref(), Some("beijing"));
    let l = t.link(t.link_ix("r1-r2").unwrap());
    assert_eq!((l.igp, l.te, l.used_mbps, l.up), (10, 10, 0, true));
    assert_eq!(l.srlg, [1, 3]);
    let p = t.link(t.link_ix("peer").unwrap());
    assert_eq!((p.te, p.available_mbps(), p.up), (50, 600, false));
    let dc = &t.datacenters()[0];
    assert_eq!(dc.pools[0].price, 1.5);
    assert_eq!(dc.pools[0].used_tflops, 0.0);
}

#[test]
fn export_then_load_gives_the_same_topology() {
    let t = parse_str(GOOD, "t.yaml").unwrap();
    let yaml = to_yaml(&t);
    let again = parse_str(&yaml, "again.yaml").unwrap();
    assert_eq!(
        TopologyDocument::from_topology(&t),
        TopologyDocument::from_topology(&again)
    );
    for (r, _) in t.routers() {
        assert_eq!(t.sids().of_router(r), again.sids().of_router(r));
    }
}

#[test]
fn unknown_field_names_the_field_and_its_line() {
    let d = only_error(&replace(
        "    city: beijing\n",
        "    city: beijing\n    colour: red\n",
    ));
    assert_eq!(d.line, Some(12));
    assert!(
        d.message.contains("unknown field `colour`"),
        "{}",
        d.message
    );
    assert!(d.message.contains("`r1`"), "{}", d.message);
}

#[test]
fn missing_field_names_the_item() {
    let d = only_error(&replace("    locator: \"fc00:a:2::/48\"\n", ""));
    assert_eq!(d.line, Some(12));
    assert!(
        d.message.contains("missing field `locator`"),
        "{}",
        d.message
    );
    assert!(d.message.contains("`r2` (routers[1])"), "{}", d.message);
}

#[test]
fn wrong_type_names_the_field() {
    let d = only_error(&replace("    msd: 3\n", "    msd: lots\n"));
    assert_eq!(d.line, Some(15));
    assert!(d.message.contains("routers[1].msd"), "{}", d.message);
    assert!(d.message.contains("invalid type"), "{}", d.message);
}

#[test]
fn negative_number_is_a_type_error() {
    let d = only_error(&replace("latency_us: 200", "latency_us: -5"));
    assert_eq!(d.line, Some(32));
    assert!(
        d.message.contains("`peer` (links[1].latency_us)"),
        "{}",
        d.message
    );
}

#[test]
fn duplicate_id_names_both() {
    let extra = "    mgmt: \"127.0.0.1:50103\"\n  - id: r1\n    operator: op-a\n    locator: \"fc00:a:9::/48\"\n";
    let d = only_error(&replace("    mgmt: \"127.0.0.1:50103\"\n", extra));
    assert_eq!(d.line, Some(20));
    assert!(d.message.contains("duplicate id `r1`"), "{}", d.message);
    assert!(d.message.contains("routers[0]"), "{}", d.message);
}

#[test]
fn datacenter_id_may_not_reuse_a_router_id() {
    let d = only_error(&replace("  - id: dc1\n", "  - id: r2\n"));
    assert_eq!(d.line, Some(37));
    assert!(d.message.contains("datacenter `r2`"), "{}", d.message);
}

#[test]
fn unknown_references() {
    let d = only_error(&replace("    operator: op-b\n", "    operator: op-x\n"));
    assert_eq!(d.line, Some(17));
    assert!(
        d.message.contains("unknown operator `op-x`"),
        "{}",
        d.message
    );

    let d = only_error(&replace("  - a: r1\n", "  - a: r9\n"));
    assert_eq!(d.line, Some(21));
    assert!(d.message.contains("unknown router `r9`"), "{}", d.message);

    let d = only_error(&replace("attach: [r3]", "attach: [r3, r7]"));
    assert_eq!((d.line, d.column), (Some(38), Some(18)));
    assert!(
        d.message.contains("datacenters[0].attach[1]"),
        "{}",
        d.message
    );
}

#[test]
fn self_loop() {
    let d = only_error(&replace("    b: r2\n    igp: 10", "    b: r1\n    igp: 10"));
    assert_eq!(d.line, Some(22));
    assert!(
        d.message.contains("link from router `r1` to itself"),
        "{}",
        d.message
    );
}

#[test]
fn bad_locators() {
    let d = only_error(&replace("fc00:a:2::/48", "fc00:zz::/48"));
    assert_eq!(d.line, Some(14));
    assert!(d.message.contains("not an IPv6 prefix"), "{}", d.message);

    let d = only_error(&replace("fc00:a:2::/48", "fc00:a:2::/96"));
    assert!(d.message.contains("/16 to /64"), "{}", d.message);

    let d = only_error(&replace("fc00:a:2::/48", "fc00:a:1:2::/64"));
    assert_eq!(d.line, Some(14));
    assert!(
        d.message
            .contains("overlaps locator fc00:a:1::/48 of router `r1`"),
        "{}",
        d.message
    );

    let d = only_error(&replace("fc00:a:2::/48", "fc00:a:2::1/48"));
    assert!(
        d.message.contains("did you mean fc00:a:2::/48"),
        "{}",
        d.message
    );
}

#[test]
fn zero_where_positive_is_required() {
    let d = only_error(&replace("igp: 10", "igp: 0"));
    assert_eq!(d.line, Some(23));
    assert!(d.message.contains("links[0].igp"), "{}", d.message);

    let d = only_error(&replace(
        "bandwidth_mbps: 1000\n    srlg",
        "bandwidth_mbps: 0\n    srlg",
    ));
    assert!(
        d.message.contains("bandwidth_mbps): 0 must be > 0"),
        "{}",
        d.message
    );

    let d = only_error(&replace("tflops: 100", "tflops: 0"));
    assert_eq!(d.line, Some(43));
    assert!(
        d.message.contains("`dc1` (datacenters[0].pools[0].tflops)"),
        "{}",
        d.message
    );
}

#[test]
fn used_above_capacity() {
    let d = only_error(&replace("used_mbps: 400", "used_mbps: 4000"));
    assert_eq!(d.line, Some(34));
    assert!(
        d.message.contains("must not exceed bandwidth_mbps 1000"),
        "{}",
        d.message
    );

    let d = only_error(&replace(
        "memory_gb: 200",
        "memory_gb: 200\n        used_memory_gb: 201",
    ));
    assert_eq!(d.line, Some(45));
}

#[test]
fn wrong_version_and_enum_values() {
    let d = only_error(&replace("version: 1", "version: 2"));
    assert_eq!(d.line, Some(1));
    assert!(d.message.contains("unsupported version 2"), "{}", d.message);

    let d = only_error(&replace("kind: ai", "kind: gpu"));
    assert_eq!(d.line, Some(42));
    assert!(d.message.contains("unknown variant `gpu`"), "{}", d.message);
}

#[test]
fn bad_mgmt_address() {
    let d = only_error(&replace("127.0.0.1:50103", "localhost"));
    assert_eq!(d.line, Some(19));
    assert!(d.message.contains("not a host:port"), "{}", d.message);
}

#[test]
fn several_errors_are_all_reported_in_file_order() {
    let text = replace("    msd: 3\n", "    msd: lots\n")
        .replacen("igp: 5", "igp: five", 1)
        .replacen("kind: ai", "kind: gpu", 1);
    let err = parse_str(&text, "t.yaml").unwrap_err();
    let lines: Vec<Option<usize>> = err.diagnostics().iter().map(|d| d.line).collect();
    assert_eq!(lines, [Some(15), Some(30), Some(42)], "{err}");

    let text = replace("operator: op-b", "operator: op-q")
        .replacen("igp: 10", "igp: 0", 1)
        .replacen("  - id: dc1\n", "  - id: r1\n", 1);
    let err = parse_str(&text, "t.yaml").unwrap_err();
    assert_eq!(err.diagnostics().len(), 3, "{err}");
    assert!(
        err.to_string().starts_with("t.yaml:17:5: router `r3`"),
        "{err}"
    );
}

#[test]
fn syntax_errors_have_a_position() {
    let d = only_error("version: 1\nname: [unclosed\n");
    assert!(d.line.is_some());
    let d = only_error("");
    assert!(
        d.message.contains("missing field") || d.message.contains("EOF"),
        "{}",
        d.message
    );
    let d = only_error("- just\n- a list\n");
    assert!(d.message.contains("invalid type"), "{}", d.message);
}

#[test]
fn missing_sections_are_reported() {
    let err = parse_str(
        "version: 1\nname: t\noperators: []\nrouters: []\n",
        "t.yaml",
    )
    .unwrap_err();
    let found: Vec<(Option<usize>, &str)> = err
        .diagnostics()
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (Some(3), "operators: at least one operator is required"),
            (Some(4), "routers: at least one router is required")
        ]
    );
    let err = parse_str("version: 1\nname: t\n", "t.yaml").unwrap_err();
    assert!(
        err.to_string().contains("missing field `operators`"),
        "{err}"
    );
}

#[test]
fn every_bundled_topology_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let t = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(t.router_count() > 0);
            count += 1;
        }
    }
    assert!(count >= 2, "only {count} topologies in {}", dir.display());
}

#[test]
fn coordinates_load_export_and_are_checked_with_their_line() {
    let text = replace(
        "    city: beijing\n",
        "    city: beijing\n    lat: 39.904\n    lon: 116.407\n",
    );
    let t = parse_str(&text, "t.yaml").unwrap();
    let r1 = t.router(t.router_ix("r1").unwrap());
    let c = r1.coordinates.unwrap();
    assert_eq!((c.lat, c.lon), (39.904, 116.407));
    assert!(t.router(t.router_ix("r2").unwrap()).coordinates.is_none());
    let yaml = to_yaml(&t);
    assert!(
        yaml.contains("lat: 39.904") && yaml.contains("lon: 116.407"),
        "{yaml}"
    );
    assert_eq!(yaml.matches("lat:").count(), 1, "only where given: {yaml}");

    let d = only_error(&replace(
        "    city: beijing\n",
        "    city: beijing\n    lat: 95\n    lon: 116\n",
    ));
    assert_eq!(d.line, Some(12));
    assert!(
        d.message
            .contains("router `r1` (routers[0].lat): 95 must be in -90..=90"),
        "{}",
        d.message
    );
    let d = only_error(&replace(
        "    latency_us: 30\n",
        "    latency_us: 30\n    lon: 10\n",
    ));
    assert_eq!(d.line, Some(40));
    assert!(
        d.message
            .contains("datacenter `dc1` (datacenters[0].lon): `lon` needs `lat`"),
        "{}",
        d.message
    );
}
