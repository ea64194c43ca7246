//! Business-data files: the topology file of `cpnd --bgp-ls`. The network
//! (routers, links, metrics, SIDs) is learned over BGP-LS; the file keeps
//! what only the operators know: operators with their AS numbers, data
//! centers with their gateways, and `overrides` for learned routers (city,
//! region, MSD, agent, operator) and links (metrics that win over the
//! network's). It may still hold routers and links of its own, for parts of
//! the network no BGP-LS session describes.
//!
//! Checked at load, with lines, as far as it can be without the network:
//! the file's own routers and links as in any topology file, data centers
//! against the routers the file has (gateways it does not have are waited
//! for), and every override's values.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::document::{LinkOverride, PathError, RouterOverride, TopologyDocument, valid_mgmt};
use super::load::{LoadError, build_errors, locate_all, parse_document, read_text};
use crate::model::TopologyBuilder;

/// A checked business-data file.
#[derive(Clone, Debug, PartialEq)]
pub struct Business {
    /// The document without its overrides.
    pub doc: TopologyDocument,
    /// Router overrides, by router id.
    pub routers: HashMap<String, RouterOverride>,
    /// Link overrides, by link id.
    pub links: HashMap<String, LinkOverride>,
}

impl Business {
    /// The file's own part as drafts: operators, its routers and links,
    /// and every data center (gateways not resolved yet).
    pub fn builder(&self) -> TopologyBuilder {
        let mut b = self
            .doc
            .to_builder()
            .expect("checked when the business data was loaded");
        b.routers_optional = true;
        b
    }

    /// The operator id whose `asn` is `asn` (the first by id).
    pub fn operator_of_asn(&self, asn: u32) -> Option<&str> {
        let mut ops: Vec<&super::OperatorEntry> = self
            .doc
            .operators
            .iter()
            .filter(|o| o.asn == Some(asn))
            .collect();
        ops.sort_by(|a, b| a.id.cmp(&b.id));
        ops.first().map(|o| o.id.as_str())
    }
}

/// Reads and checks a business-data file.
pub fn load_business(path: impl AsRef<Path>) -> Result<Business, LoadError> {
    let (text, origin) = read_text(path.as_ref())?;
    parse_business(&text, &origin)
}

/// Checks business data from YAML text; `origin` names it in errors.
pub fn parse_business(text: &str, origin: &str) -> Result<Business, LoadError> {
    let mut doc = parse_document(text, origin)?;
    let overrides = doc.overrides.take().unwrap_or_default();
    let mut errors = Vec::new();
    let operators: BTreeSet<&str> = doc.operators.iter().map(|o| o.id.as_str()).collect();
    let mut routers = HashMap::new();
    for (i, r) in overrides.routers.iter().enumerate() {
        let path = |field: &str| format!("overrides.routers[{i}].{field}");
        let mut bad = |field: &str, what: String| {
            errors.push(PathError {
                path: path(field),
                message: format!("router override `{}` ({}): {what}", r.id, path(field)),
            })
        };
        if let Some(op) = &r.operator
            && !operators.contains(op.as_str())
        {
            bad("operator", format!("unknown operator `{op}`"));
        }
        if let Some(m) = &r.mgmt
            && !valid_mgmt(m)
        {
            bad("mgmt", format!("`{m}` is not a host:port address"));
        }
        if let Some(p) = &r.prefix
            && p.parse::<ipnetwork::Ipv6Network>().is_err()
        {
            bad(
                "prefix",
                format!("`{p}` is not an IPv6 prefix like fded:1::/64"),
            );
        }
        if routers.insert(r.id.clone(), r.clone()).is_some() {
            bad("id", "a second override of this router".into());
        }
    }
    let mut links = HashMap::new();
    for (i, l) in overrides.links.iter().enumerate() {
        let path = |field: &str| format!("overrides.links[{i}].{field}");
        let mut bad = |field: &str, what: String| {
            errors.push(PathError {
                path: path(field),
                message: format!("link override `{}` ({}): {what}", l.id, path(field)),
            })
        };
        if l.igp == Some(0) {
            bad("igp", "0 must be >= 1".into());
        }
        if l.bandwidth_mbps == Some(0) {
            bad("bandwidth_mbps", "0 must be > 0".into());
        }
        if let (Some(u), Some(b)) = (l.used_mbps, l.bandwidth_mbps)
            && u > b
        {
            bad(
                "used_mbps",
                format!("{u} must not exceed bandwidth_mbps {b}"),
            );
        }
        if links.insert(l.id.clone(), l.clone()).is_some() {
            bad("id", "a second override of this link".into());
        }
    }
    // The file's own part, with the gateways it does not have set aside
    // (they come with the network).
    match doc.to_builder() {
        Ok(mut b) => {
            b.routers_optional = true;
            let own: BTreeSet<String> = b.routers.iter().map(|r| r.id.to_string()).collect();
            for dc in &mut b.datacenters {
                dc.attach.retain(|r| own.contains(r.as_str()));
            }
            b.datacenters.retain(|dc| !dc.attach.is_empty());
            if let Err(e) = b.build() {
                // Data center positions moved with the ones set aside.
                errors.extend(
                    build_errors(e)
                        .into_iter()
                        .filter(|e| !e.path.starts_with("datacenters[")),
                );
            }
        }
        Err(e) => errors.extend(e),
    }
    if !errors.is_empty() {
        return Err(locate_all(text, origin, errors));
    }
    Ok(Business {
        doc,
        routers,
        links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB_BUSINESS: &str = "version: 1
name: lab
operators:
  - {id: op-a, asn: 64500}
  - {id: op-b, asn: 64501}
datacenters:
  - id: dc-north
    attach: [a2]
    pools: [{kind: ai, tflops: 400, memory_gb: 800}]
overrides:
  routers:
    - {id: a1, city: beijing, region: north, msd: 5}
  links:
    - {id: a1-a2, bandwidth_mbps: 100000}
";

    #[test]
    fn business_data_loads_without_routers() {
        let b = parse_business(LAB_BUSINESS, "b.yaml").unwrap();
        assert!(b.doc.routers.is_empty());
        assert_eq!(b.routers["a1"].msd, Some(5));
        assert_eq!(b.links["a1-a2"].bandwidth_mbps, Some(100_000));
        assert_eq!(b.operator_of_asn(64501), Some("op-b"));
        assert_eq!(b.operator_of_asn(1), None);
        assert_eq!(b.builder().datacenters.len(), 1);
    }

    #[test]
    fn bad_overrides_are_located() {
        let text = LAB_BUSINESS
            .replace("msd: 5}", "msd: 5, operator: op-z}")
            .replace("bandwidth_mbps: 100000}", "bandwidth_mbps: 0}");
        let err = parse_business(&text, "b.yaml").unwrap_err();
        let d = err.diagnostics();
        assert_eq!(d.len(), 2, "{err}");
        assert_eq!(d[0].line, Some(12));
        assert!(d[0].message.contains("unknown operator `op-z`"));
        assert!(d[1].message.contains("0 must be > 0"));
    }

    #[test]
    fn a_plain_topology_refuses_overrides() {
        let err = super::super::parse_str(LAB_BUSINESS, "b.yaml").unwrap_err();
        assert!(
            err.to_string()
                .contains("overrides: only for a network learned over BGP-LS"),
            "{err}"
        );
    }
}
