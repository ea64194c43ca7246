//! The topology file format (version 1) as serde types, and their conversion
//! to model drafts and back. Field names, defaults and optionality follow
//! `shared/spec/topology.md` exactly; unknown fields are refused.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use ipnetwork::Ipv6Network;
use serde::{Deserialize, Serialize};

use crate::model::{
    CsidBlock, DEFAULT_LNFL, DEFAULT_MSD, DatacenterDraft, LinkDraft, MicroSid, Operator,
    PoolDraft, PoolHealth, PoolKind, PrefixOwner, Reporter, RouterDraft, Topology, TopologyBuilder,
    derived_prefix,
};

/// The only version of the format.
pub const FORMAT_VERSION: u32 = 1;

/// A whole topology file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyDocument {
    /// Must be 1.
    pub version: u32,
    /// Network name.
    pub name: String,
    /// At least one.
    pub operators: Vec<OperatorEntry>,
    /// At least one (none in a business-data file of `cpnd --bgp-ls`).
    #[serde(default)]
    pub routers: Vec<RouterEntry>,
    /// Bidirectional links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkEntry>,
    /// Data centers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datacenters: Vec<DatacenterEntry>,
    /// Business data and overrides for routers and links learned over
    /// BGP-LS (`cpnd --bgp-ls`; see docs/bgp-ls.md). Refused elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<OverridesEntry>,
}

/// `overrides:` what only the operator knows about learned routers and
/// links, and values that win over what the network says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverridesEntry {
    /// By learned router id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routers: Vec<RouterOverride>,
    /// By learned link id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkOverride>,
}

/// `overrides.routers[]`: unset fields come from the network (or defaults).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterOverride {
    /// The learned router's id.
    pub id: String,
    /// Operator id, instead of the one whose `asn` is the router's AS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Max SID depth, instead of the advertised SRH Max H.Encaps MSD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msd: Option<u8>,
    /// Agent address `host:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mgmt: Option<String>,
    /// The site prefix policies pinned to the router steer; default
    /// derived from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// `overrides.links[]`: set fields win over what the network advertises.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride {
    /// The learned link's id.
    pub id: String,
    /// IGP metric, >= 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub igp: Option<u32>,
    /// TE metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub te: Option<u32>,
    /// One-way latency, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    /// Capacity, Mbit/s, > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_mbps: Option<u64>,
    /// Load, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_mbps: Option<u64>,
    /// Jitter, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_us: Option<u64>,
    /// Loss, parts per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_ppm: Option<u64>,
    /// Shared-risk link groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srlg: Option<Vec<u32>>,
}

/// `operators[]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorEntry {
    /// Unique id.
    pub id: String,
    /// AS number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Compressed SRv6 (RFC 9800 NEXT-C-SID) in this operator's network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_csid: Option<NextCsidEntry>,
}

/// `operators[].next_csid`: the Locator-Block and micro-SID length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextCsidEntry {
    /// The Locator-Block, an IPv6 prefix whose length is the LBL.
    pub block: String,
    /// Locator-Node + Function length in bits, default 16.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lnfl: Option<u8>,
}

/// `routers[]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterEntry {
    /// Unique id.
    pub id: String,
    /// Operator id.
    pub operator: String,
    /// IPv6 prefix, /16 to /64.
    pub locator: String,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Latitude, degrees (-90..=90); with `lon`, places it on maps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, degrees (-180..=180); with `lat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Max SID depth; default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msd: Option<u8>,
    /// Agent address `host:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mgmt: Option<String>,
    /// End SID given by the network (learned over BGP-LS); default:
    /// allocated from the locator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_sid: Option<String>,
    /// Node micro-SID (uN) in the operator's NEXT-C-SID block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usid: Option<u32>,
    /// The site prefix policies pinned to the router steer; default
    /// derived from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_true(v: &bool) -> bool {
    *v
}

fn yes() -> bool {
    true
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// `links[]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkEntry {
    /// Unique id; default `<a>-<b>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// One end.
    pub a: String,
    /// The other end.
    pub b: String,
    /// IGP metric, >= 1.
    pub igp: u32,
    /// TE metric; default = igp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub te: Option<u32>,
    /// One-way latency, microseconds.
    pub latency_us: u64,
    /// Capacity, Mbit/s, > 0.
    pub bandwidth_mbps: u64,
    /// Load, Mbit/s.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub used_mbps: u64,
    /// Jitter, microseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jitter_us: u64,
    /// Loss, parts per million.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub loss_ppm: u64,
    /// Shared-risk link groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub srlg: Vec<u32>,
    /// Carries traffic; default true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub up: bool,
    /// End.X SIDs given by the network (learned over BGP-LS), from end a
    /// and from end b; default: allocated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_x: Option<EndXEntry>,
}

/// `links[].end_x`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndXEntry {
    /// The End.X SID of end a for crossing the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<String>,
    /// The End.X SID of end b.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<String>,
}

/// `datacenters[]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatacenterEntry {
    /// Unique id.
    pub id: String,
    /// Gateway routers, at least one.
    pub attach: Vec<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Latitude, degrees (-90..=90); with `lon`, places it on maps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, degrees (-180..=180); with `lat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Gateway-to-servers latency, microseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_us: u64,
    /// Storage by medium, TB.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage_tb: BTreeMap<String, f64>,
    /// Pools, at least one.
    pub pools: Vec<PoolEntry>,
    /// The prefix policies steer into; default derived from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Its reporter (`{interval_s, state}`), once it has reported: written
    /// by the controller when it exports the live topology.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Reporter>,
}

/// `datacenters[].pools[]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolEntry {
    /// ai, hpc or general.
    pub kind: PoolKind,
    /// Capacity, TFLOPS, > 0.
    pub tflops: f64,
    /// Load, TFLOPS.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub used_tflops: f64,
    /// Memory, GB, > 0.
    pub memory_gb: f64,
    /// Memory in use, GB.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub used_memory_gb: f64,
    /// Price per TFLOPS-hour.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub price: f64,
    /// up (default), degraded or down, as its data center reports it.
    #[serde(default, skip_serializing_if = "PoolHealth::is_up")]
    pub health: PoolHealth,
    /// Queue wait before a job starts, seconds, as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_wait_s: Option<f64>,
}

/// An optional `prefix` field; the error names the item (`noun` `id`, at
/// `list[index]`).
fn parse_prefix(
    text: Option<&str>,
    noun: &str,
    id: &str,
    list: &str,
    index: usize,
) -> Result<Option<Ipv6Network>, PathError> {
    match text.map(str::parse::<Ipv6Network>) {
        None => Ok(None),
        Some(Ok(p)) => Ok(Some(p)),
        Some(Err(_)) => Err(PathError {
            path: format!("{list}[{index}].prefix"),
            message: format!(
                "{noun} `{id}` ({list}[{index}].prefix): `{}` is not an IPv6 prefix like fd00:dc:1::/64",
                text.unwrap_or_default()
            ),
        }),
    }
}

/// A prefix as the file writes it: only when it is not the one derived
/// from the id (which follows the id by itself).
fn declared(prefix: Ipv6Network, owner: PrefixOwner, id: &str) -> Option<String> {
    (prefix != derived_prefix(owner, id)).then(|| prefix.to_string())
}

/// A problem found while converting a document, at a document path.
#[derive(Clone, Debug, PartialEq)]
pub struct PathError {
    /// Document path, e.g. `routers[2].locator`.
    pub path: String,
    /// What is wrong, naming the item.
    pub message: String,
}

/// A SID given in a document, or `None` (recording an error when it is
/// not an IPv6 address).
fn parse_sid(
    sid: Option<&str>,
    path: &str,
    what: &str,
    errors: &mut Vec<PathError>,
) -> Option<std::net::Ipv6Addr> {
    let s = sid?;
    match s.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            errors.push(PathError {
                path: path.to_owned(),
                message: format!("{what} ({path}): `{s}` is not an IPv6 address"),
            });
            None
        }
    }
}

/// Checks that `s` is `host:port` with a numeric port.
pub(super) fn valid_mgmt(s: &str) -> bool {
    if s.parse::<SocketAddr>().is_ok() {
        return true;
    }
    match s.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && !host.contains(':')
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && port.parse::<u16>().is_ok()
        }
        None => false,
    }
}

impl TopologyDocument {
    /// Converts to model drafts, checking what only the file format knows
    /// (version, locator and address syntax). Meaning is checked by the builder.
    pub fn to_builder(&self) -> Result<TopologyBuilder, Vec<PathError>> {
        let mut errors = Vec::new();
        if self.version != FORMAT_VERSION {
            errors.push(PathError {
                path: "version".into(),
                message: format!(
                    "version: unsupported version {}, expected {FORMAT_VERSION}",
                    self.version
                ),
            });
        }
        if self.overrides.is_some() {
            errors.push(PathError {
                path: "overrides".into(),
                message: "overrides: only for a network learned over BGP-LS (cpnd --bgp-ls)".into(),
            });
        }
        let mut b = TopologyBuilder::new(&self.name);
        b.operators = self
            .operators
            .iter()
            .enumerate()
            .map(|(i, o)| Operator {
                id: o.id.as_str().into(),
                asn: o.asn,
                description: o.description.clone(),
                csid: o.next_csid.as_ref().and_then(|c| {
                    let Ok(block) = c.block.parse::<Ipv6Network>() else {
                        errors.push(PathError {
                            path: format!("operators[{i}].next_csid.block"),
                            message: format!(
                                "operator `{}` (operators[{i}].next_csid.block): `{}` is not an IPv6 prefix like fc00::/32",
                                o.id, c.block
                            ),
                        });
                        return None;
                    };
                    let lnfl = c.lnfl.unwrap_or(DEFAULT_LNFL);
                    Some(CsidBlock { block, lnfl })
                }),
            })
            .collect();
        for (i, r) in self.routers.iter().enumerate() {
            let locator = match r.locator.parse::<Ipv6Network>() {
                Ok(l) => l,
                Err(_) => {
                    errors.push(PathError {
                        path: format!("routers[{i}].locator"),
                        message: format!(
                            "router `{}` (routers[{i}].locator): `{}` is not an IPv6 prefix like fc00:a:1::/48",
                            r.id, r.locator
                        ),
                    });
                    continue;
                }
            };
            let Ok(prefix) = parse_prefix(r.prefix.as_deref(), "router", &r.id, "routers", i)
                .map_err(|e| errors.push(e))
            else {
                continue;
            };
            if let Some(m) = &r.mgmt
                && !valid_mgmt(m)
            {
                errors.push(PathError {
                    path: format!("routers[{i}].mgmt"),
                    message: format!(
                        "router `{}` (routers[{i}].mgmt): `{m}` is not a host:port address",
                        r.id
                    ),
                });
            }
            let end_sid = parse_sid(
                r.end_sid.as_deref(),
                &format!("routers[{i}].end_sid"),
                &format!("router `{}`", r.id),
                &mut errors,
            );
            b.router(RouterDraft {
                end_sid,
                usid: r.usid.map(MicroSid),
                id: r.id.as_str().into(),
                operator: r.operator.as_str().into(),
                locator,
                city: r.city.clone(),
                region: r.region.clone(),
                msd: r.msd.unwrap_or(DEFAULT_MSD),
                mgmt: r.mgmt.clone(),
                prefix,
                lat: r.lat,
                lon: r.lon,
            });
        }
        for (i, l) in self.links.iter().enumerate() {
            let mut end_x = [None, None];
            if let Some(e) = &l.end_x {
                for (k, (side, sid)) in [("a", &e.a), ("b", &e.b)].into_iter().enumerate() {
                    end_x[k] = parse_sid(
                        sid.as_deref(),
                        &format!("links[{i}].end_x.{side}"),
                        &format!("link {}-{}", l.a, l.b),
                        &mut errors,
                    );
                }
            }
            b.link(LinkDraft {
                end_x,
                id: l
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("{}-{}", l.a, l.b))
                    .into(),
                a: l.a.as_str().into(),
                b: l.b.as_str().into(),
                igp: l.igp,
                te: l.te.unwrap_or(l.igp),
                latency_us: l.latency_us,
                bandwidth_mbps: l.bandwidth_mbps,
                used_mbps: l.used_mbps,
                jitter_us: l.jitter_us,
                loss_ppm: l.loss_ppm,
                srlg: l.srlg.clone(),
                up: l.up,
            });
        }
        for (i, d) in self.datacenters.iter().enumerate() {
            let Ok(prefix) =
                parse_prefix(d.prefix.as_deref(), "datacenter", &d.id, "datacenters", i)
                    .map_err(|e| errors.push(e))
            else {
                continue;
            };
            b.datacenter(DatacenterDraft {
                prefix,
                id: d.id.as_str().into(),
                attach: d.attach.iter().map(|r| r.as_str().into()).collect(),
                city: d.city.clone(),
                region: d.region.clone(),
                lat: d.lat,
                lon: d.lon,
                latency_us: d.latency_us,
                storage_tb: d.storage_tb.clone(),
                pools: d
                    .pools
                    .iter()
                    .map(|p| PoolDraft {
                        kind: p.kind,
                        tflops: p.tflops,
                        used_tflops: p.used_tflops,
                        memory_gb: p.memory_gb,
                        used_memory_gb: p.used_memory_gb,
                        price: p.price,
                        health: p.health,
                        queue_wait_s: p.queue_wait_s,
                    })
                    .collect(),
                reporter: d.reporter,
            });
        }
        if errors.is_empty() {
            Ok(b)
        } else {
            Err(errors)
        }
    }

    /// The document of a topology as it is now (loads and events included;
    /// reservations are the controller's and are not part of the file).
    /// Loading it again gives the same topology and the same SIDs.
    pub fn from_topology(t: &Topology) -> TopologyDocument {
        TopologyDocument {
            version: FORMAT_VERSION,
            name: t.name().to_owned(),
            operators: t
                .operators()
                .iter()
                .map(|o| OperatorEntry {
                    id: o.id.to_string(),
                    asn: o.asn,
                    description: o.description.clone(),
                    next_csid: o.csid.map(|c| NextCsidEntry {
                        block: c.block.to_string(),
                        lnfl: (c.lnfl != DEFAULT_LNFL).then_some(c.lnfl),
                    }),
                })
                .collect(),
            routers: t
                .routers()
                .map(|(ix, r)| RouterEntry {
                    end_sid: t.sids().given_end(ix).map(|a| a.to_string()),
                    usid: r.usid.map(|u| u.0),
                    id: r.id.to_string(),
                    operator: t.operator(r.operator).id.to_string(),
                    locator: r.locator.to_string(),
                    city: r.city.clone(),
                    region: r.region.clone(),
                    lat: r.coordinates.map(|c| c.lat),
                    lon: r.coordinates.map(|c| c.lon),
                    msd: (r.msd != DEFAULT_MSD).then_some(r.msd),
                    mgmt: r.mgmt.clone(),
                    prefix: declared(r.prefix, PrefixOwner::Router, r.id.as_str()),
                })
                .collect(),
            links: t
                .links()
                .map(|(ix, l)| {
                    let (a, b) = t.link_ends(ix);
                    let (a, b) = (t.router(a).id.to_string(), t.router(b).id.to_string());
                    let given = t.sids().given_end_x(ix);
                    LinkEntry {
                        end_x: (given != [None, None]).then(|| EndXEntry {
                            a: given[0].map(|s| s.to_string()),
                            b: given[1].map(|s| s.to_string()),
                        }),
                        id: (l.id.as_str() != format!("{a}-{b}")).then(|| l.id.to_string()),
                        a,
                        b,
                        igp: l.igp,
                        te: (l.te != l.igp).then_some(l.te),
                        latency_us: l.latency_us,
                        bandwidth_mbps: l.bandwidth_mbps,
                        used_mbps: l.used_mbps,
                        jitter_us: l.jitter_us,
                        loss_ppm: l.loss_ppm,
                        srlg: l.srlg.clone(),
                        up: l.up,
                    }
                })
                .collect(),
            datacenters: t
                .datacenters()
                .iter()
                .map(|d| DatacenterEntry {
                    // Written only when declared (a derived one follows the id).
                    prefix: declared(d.prefix, PrefixOwner::Datacenter, d.id.as_str()),
                    id: d.id.to_string(),
                    attach: d
                        .attach
                        .iter()
                        .map(|&r| t.router(r).id.to_string())
                        .collect(),
                    city: d.city.clone(),
                    region: d.region.clone(),
                    lat: d.coordinates.map(|c| c.lat),
                    lon: d.coordinates.map(|c| c.lon),
                    latency_us: d.latency_us,
                    storage_tb: d.storage_tb.clone(),
                    pools: d
                        .pools
                        .iter()
                        .map(|p| PoolEntry {
                            kind: p.kind,
                            tflops: p.tflops,
                            used_tflops: p.used_tflops,
                            memory_gb: p.memory_gb,
                            used_memory_gb: p.used_memory_gb,
                            price: p.price,
                            health: p.health,
                            queue_wait_s: p.queue_wait_s,
                        })
                        .collect(),
                    reporter: d.reporter,
                })
                .collect(),
            overrides: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mgmt_addresses() {
        assert!(valid_mgmt("127.0.0.1:50101"));
        assert!(valid_mgmt("[::1]:50101"));
        assert!(valid_mgmt("router-1.lab:443"));
        assert!(!valid_mgmt("127.0.0.1"));
        assert!(!valid_mgmt("host:port"));
        assert!(!valid_mgmt(":80"));
        assert!(!valid_mgmt("a b:80"));
    }
}
