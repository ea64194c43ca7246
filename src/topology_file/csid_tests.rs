//! Loader tests for compressed SIDs (RFC 9800 NEXT-C-SID): blocks and
//! micro-SIDs load, round-trip, and every mistake is named with its line.

use super::*;
use crate::model::MicroSid;

const GOOD: &str = "\
version: 1
name: t
operators:
  - id: op-a
    next_csid: {block: \"fc00::/32\"}
  - id: op-b
    next_csid: {block: \"fc00:1::/48\", lnfl: 16}
routers:
  - id: r1
    operator: op-a
    locator: \"fc00:a:1::/48\"
    usid: 0x100
  - id: r2
    operator: op-a
    locator: \"fc00:a:2::/48\"
    usid: 0x200
  - id: r3
    operator: op-b
    locator: \"fc00:b:3::/48\"
    usid: 0x300
links:
  - {a: r1, b: r2, igp: 10, latency_us: 100, bandwidth_mbps: 1000}
  - {a: r2, b: r3, igp: 10, latency_us: 100, bandwidth_mbps: 1000}
";

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
fn blocks_and_micro_sids_load_and_round_trip() {
    let t = parse_str(GOOD, "t.yaml").unwrap();
    let r1 = t.router_ix("r1").unwrap();
    let r3 = t.router_ix("r3").unwrap();
    assert_eq!(t.usid_end(r1), Some(MicroSid(0x100)));
    assert_eq!(t.csid_block(r1).unwrap().per_container(), 6);
    assert_eq!(t.csid_block(r3).unwrap().per_container(), 5);
    // uA values follow the router's links in id order: r2's first link
    // (r1-r2) is 0xe001, its second (r2-r3) 0xe002.
    let r2 = t.router_ix("r2").unwrap();
    let second = t.link_ix("r2-r3").unwrap();
    assert_eq!(t.usid_end_x(r2, second), Some(MicroSid(0xe002)));
    assert_eq!(t.usid_dt6(r2, None), Some(MicroSid(0xe000)));
    let doc = TopologyDocument::from_topology(&t);
    let again = parse_str(&serde_yaml::to_string(&doc).unwrap(), "again.yaml").unwrap();
    assert_eq!(again.usid_end(r3), Some(MicroSid(0x300)));
    assert_eq!(again.csid_block(r3), t.csid_block(r3));
}

#[test]
fn a_micro_sid_used_twice_in_one_block_names_both_routers() {
    let d = only_error(&replace("usid: 0x200", "usid: 0x100"));
    assert_eq!(d.line, Some(16));
    assert!(
        d.message.contains("router `r2`")
            && d.message
                .contains("also the micro-SID of router `r1` in block fc00::/32"),
        "{}",
        d.message
    );
    // The same value in another operator's block is fine.
    parse_str(&replace("usid: 0x300", "usid: 0x100"), "t.yaml").unwrap();
}

#[test]
fn a_block_overlapping_a_locator_or_another_block_is_refused() {
    let d = only_error(&replace("fc00:1::/48", "fc00:a::/32"));
    assert_eq!(d.line, Some(7));
    assert!(
        d.message
            .contains("block fc00:a::/32 overlaps locator fc00:a:1::/48 of router `r1`"),
        "{}",
        d.message
    );
    let d = only_error(&replace("fc00:1::/48", "fc00:0:1::/48"));
    assert!(
        d.message
            .contains("overlaps block fc00::/32 of operator `op-a`"),
        "{}",
        d.message
    );
}

#[test]
fn block_forms_the_kernel_cannot_take_are_refused() {
    let d = only_error(&replace("fc00::/32", "fc00::/30"));
    assert_eq!(d.line, Some(5));
    assert!(d.message.contains("multiple of 8"), "{}", d.message);
    let d = only_error(&replace("lnfl: 16", "lnfl: 12"));
    assert!(
        d.message.contains("lnfl must be 8, 16, 24 or 32"),
        "{}",
        d.message
    );
    let d = only_error(&replace(
        "fc00:1::/48\", lnfl: 16",
        "fc00:1::/104\", lnfl: 16",
    ));
    assert!(
        d.message.contains("at least two micro-SIDs"),
        "{}",
        d.message
    );
    let d = only_error(&replace("\"fc00::/32\"", "\"fc00::zz/32\""));
    assert!(d.message.contains("not an IPv6 prefix"), "{}", d.message);
}

#[test]
fn micro_sid_values_and_operators_are_checked() {
    let d = only_error(&replace("usid: 0x200", "usid: 0xe001"));
    assert_eq!(d.line, Some(16));
    assert!(d.message.contains("local micro-SIDs"), "{}", d.message);
    let d = only_error(&replace("usid: 0x200", "usid: 0"));
    assert!(d.message.contains("node micro-SID"), "{}", d.message);
    let no_block = replace("    next_csid: {block: \"fc00:1::/48\", lnfl: 16}\n", "");
    let d = only_error(&no_block);
    assert_eq!(d.line, Some(19));
    assert!(
        d.message
            .contains("operator `op-b` declares no `next_csid` block"),
        "{}",
        d.message
    );
}
