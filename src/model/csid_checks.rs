//! The topology rules about compressed SIDs (RFC 9800 NEXT-C-SID): each
//! operator's block and micro-SID length, each router's node micro-SID,
//! and that blocks overlap neither locators nor each other.

use std::collections::HashMap;

use ipnetwork::Ipv6Network;

use super::builder::TopologyBuilder;
use super::csid::{CsidBlock, MicroSid};
use super::problems::{BuildError, Place, Problem, Section};

fn place(section: Section, index: usize, id: &str, field: &str) -> Place {
    Place {
        section,
        index: Some(index),
        id: Some(id.to_owned()),
        field: field.to_owned(),
    }
}

/// The first and last address of a prefix.
fn range(n: &Ipv6Network) -> (u128, u128) {
    let start = u128::from(n.network());
    (start, start | (u128::MAX >> n.prefix()))
}

fn overlap(a: &Ipv6Network, b: &Ipv6Network) -> bool {
    let (a0, a1) = range(a);
    let (b0, b1) = range(b);
    a0 <= b1 && b0 <= a1
}

/// What is wrong with the form of a block, if anything: the kernel takes
/// block and micro-SID lengths in whole bytes that fit one address, and
/// CPN asks for at least two micro-SIDs per container (else nothing is
/// compressed) and micro-SIDs of at most 32 bits.
fn form_problem(c: &CsidBlock) -> Option<&'static str> {
    let (lbl, lnfl) = (c.block.prefix(), c.lnfl);
    if lbl == 0 || lbl % 8 != 0 {
        Some("the block length must be a non-zero multiple of 8")
    } else if !(8..=32).contains(&lnfl) || lnfl % 8 != 0 {
        Some("lnfl must be 8, 16, 24 or 32")
    } else if usize::from(128 - lbl) / usize::from(lnfl) < 2 {
        Some("a container must hold at least two micro-SIDs: (128 - block length) / lnfl >= 2")
    } else if c.block.ip() != c.block.network() {
        Some("the block has bits set after its prefix length")
    } else {
        None
    }
}

/// Every rule about compressed SIDs; pushes one error per violation.
pub(super) fn check(b: &TopologyBuilder, errors: &mut Vec<BuildError>) {
    let mut err = |place: Place, problem: Problem| errors.push(BuildError { place, problem });
    // Well-formed blocks by operator id.
    let mut blocks: HashMap<&str, CsidBlock> = HashMap::new();
    let mut seen: Vec<(Ipv6Network, &str)> = Vec::new();
    for (i, op) in b.operators.iter().enumerate() {
        let Some(c) = op.csid else { continue };
        let id = op.id.as_str();
        if let Some(rule) = form_problem(&c) {
            let problem = Problem::CsidBlockForm {
                block: c.block,
                lnfl: c.lnfl,
                rule,
            };
            err(place(Section::Operators, i, id, "next_csid"), problem);
            continue;
        }
        let here = place(Section::Operators, i, id, "next_csid.block");
        if let Some((other, owner)) = seen.iter().find(|(o, _)| overlap(o, &c.block)) {
            let other = format!("block {other} of operator `{owner}`");
            err(
                here,
                Problem::CsidBlockOverlap {
                    block: c.block,
                    other,
                },
            );
            continue;
        }
        if let Some(r) = b.routers.iter().find(|r| overlap(&r.locator, &c.block)) {
            let other = format!("locator {} of router `{}`", r.locator, r.id);
            err(
                here,
                Problem::CsidBlockOverlap {
                    block: c.block,
                    other,
                },
            );
            continue;
        }
        seen.push((c.block, id));
        blocks.insert(id, c);
    }
    let declared: HashMap<&str, bool> = b
        .operators
        .iter()
        .map(|o| (o.id.as_str(), o.csid.is_some()))
        .collect();
    let mut links = HashMap::<&str, usize>::new();
    for l in &b.links {
        *links.entry(l.a.as_str()).or_default() += 1;
        *links.entry(l.b.as_str()).or_default() += 1;
    }
    let mut datacenters = HashMap::<&str, usize>::new();
    for dc in &b.datacenters {
        for r in &dc.attach {
            *datacenters.entry(r.as_str()).or_default() += 1;
        }
    }
    let mut used: HashMap<(&str, MicroSid), &str> = HashMap::new();
    for (i, r) in b.routers.iter().enumerate() {
        let Some(usid) = r.usid else { continue };
        let (id, op) = (r.id.as_str(), r.operator.as_str());
        let here = place(Section::Routers, i, id, "usid");
        let Some(block) = blocks.get(op) else {
            // An unknown operator is reported by the main checks, a
            // malformed block above.
            if declared.get(op) == Some(&false) {
                err(here, Problem::UsidWithoutBlock(op.to_owned()));
            }
            continue;
        };
        if !block.is_node_value(usid) {
            let problem = Problem::OutOfRange {
                value: usid.to_string(),
                rule: format!(
                    "must be a node micro-SID of block {}: 0x1 to {:#x} (above are local micro-SIDs)",
                    block.block,
                    block.local_base() - 1
                ),
            };
            err(here, problem);
            continue;
        }
        if let Some(first) = used.insert((op, usid), id) {
            used.insert((op, usid), first);
            let problem = Problem::DuplicateUsid {
                usid,
                first: first.to_owned(),
                block: block.block,
            };
            err(here.clone(), problem);
        }
        let n = links.get(id).copied().unwrap_or(0);
        if n > block.max_adjacencies() {
            let problem = Problem::OutOfRange {
                value: format!("{n} links"),
                rule: format!(
                    "exceed the {} uA micro-SIDs of block {}",
                    block.max_adjacencies(),
                    block.block
                ),
            };
            err(here.clone(), problem);
        }
        let n = datacenters.get(id).copied().unwrap_or(0);
        if n > block.max_datacenters() {
            let problem = Problem::OutOfRange {
                value: format!("{n} data centers"),
                rule: format!(
                    "exceed the {} uDT6 micro-SIDs of block {}",
                    block.max_datacenters(),
                    block.block
                ),
            };
            err(here, problem);
        }
    }
}
