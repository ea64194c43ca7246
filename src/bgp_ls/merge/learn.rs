//! The complete tables of the RIB to routers and links by the identity
//! rules of the module documentation. Deterministic: every table is walked
//! in sorted order, and the lowest peer name wins where peers disagree.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnetwork::Ipv6Network;

use super::{DEFAULT_BANDWIDTH_MBPS, Learned, LearnedLink, LearnedRouter};
use crate::bgp_ls::rib::Rib;
use crate::bgp_ls::wire::attr::{EndXSid, LsAttribute};
use crate::bgp_ls::wire::nlri::{LinkDescriptor, LinkNlri, NodeDescriptor, protocol};
use crate::topology_file::business::Business;

/// MSD type "SRH Max H.Encaps" (RFC 9352): SIDs a headend can push.
const MSD_H_ENCAPS: u8 = 44;

/// A node, whatever protocol or peer described it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum NodeKey {
    Igp { asn: Option<u32>, id: Vec<u8> },
    Bgp { asn: Option<u32>, id: Ipv4Addr },
}

impl NodeKey {
    fn of(d: &NodeDescriptor) -> Option<NodeKey> {
        match (&d.igp_router_id, d.bgp_router_id) {
            (Some(id), _) => Some(NodeKey::Igp {
                asn: d.asn,
                id: id.clone(),
            }),
            (None, Some(id)) => Some(NodeKey::Bgp { asn: d.asn, id }),
            (None, None) => None,
        }
    }

    fn asn(&self) -> Option<u32> {
        match self {
            NodeKey::Igp { asn, .. } | NodeKey::Bgp { asn, .. } => *asn,
        }
    }
}

/// What the tables say about one node.
#[derive(Default)]
struct Node {
    source: String,
    name: Option<String>,
    text: String,
    router_id_v4: Option<Ipv4Addr>,
    msd: Option<u8>,
    locators: BTreeSet<(Ipv6Addr, u8)>,
    end_sids: BTreeSet<Ipv6Addr>,
}

/// One direction of a link.
struct Dir<'a> {
    nlri: &'a LinkNlri,
    peer: &'a str,
    protocol: u8,
    from: NodeKey,
    to: NodeKey,
    desc: &'a LinkDescriptor,
    attr: Arc<LsAttribute>,
}

/// End behaviors (RFC 8986 End with flavors, RFC 9800 NEXT-CSID "uN").
pub(crate) fn is_end(behavior: u16) -> bool {
    matches!(behavior, 1..=4 | 28..=31 | 42..=50)
}

/// End.X behaviors ("uA" included; 44 too, which FRR sends for uA).
pub(crate) fn is_end_x(behavior: u16) -> bool {
    matches!(behavior, 5..=8 | 32..=35 | 44 | 51..=59)
}

/// Megabits per second from an IEEE float of bytes per second.
fn mbps(bytes_per_second: f32) -> Option<u64> {
    let v = f64::from(bytes_per_second) * 8.0 / 1e6;
    (v.is_finite() && v > 0.0).then(|| v.round().max(1.0) as u64)
}

/// Learns routers and links from the complete tables of `rib`.
pub fn learn(rib: &Rib, business: &Business) -> Learned {
    let mut problems = BTreeSet::new();
    let views: Vec<(&str, &crate::bgp_ls::rib::Table)> = rib.views().collect();

    // Nodes, sorted so that the lowest peer and protocol speak first.
    let mut node_entries = Vec::new();
    for (peer, t) in &views {
        for (n, a) in &t.nodes {
            node_entries.push((NodeKey::of(&n.node), *peer, n.origin.protocol, &n.node, a));
        }
    }
    node_entries.sort_by(|x, y| (&x.0, x.1, x.2).cmp(&(&y.0, y.1, y.2)));
    let mut nodes: BTreeMap<NodeKey, Node> = BTreeMap::new();
    for (key, peer, _, desc, a) in node_entries {
        let Some(key) = key else {
            problems.insert("a node without IGP or BGP router id was left out".to_owned());
            continue;
        };
        if desc.is_pseudonode() {
            problems.insert(format!(
                "pseudonode {} left out (LANs are not modeled; run point-to-point)",
                desc.router_id_text()
            ));
            continue;
        }
        let node = nodes.entry(key).or_insert_with(|| Node {
            source: peer.to_owned(),
            text: desc.router_id_text(),
            ..Default::default()
        });
        if node.name.is_none() {
            node.name = a.node_name.clone().filter(|n| !n.trim().is_empty());
        }
        node.router_id_v4 = node.router_id_v4.or(a.router_id_v4);
        if node.msd.is_none() {
            node.msd = a
                .node_msd
                .as_ref()
                .and_then(|m| m.iter().find(|(t, _)| *t == MSD_H_ENCAPS).map(|(_, v)| *v));
        }
    }
    // BGP router ids (peering links' ends) to IGP nodes: by TLV 1028, or an
    // OSPF router id.
    let mut by_bgp_id: HashMap<(Option<u32>, Ipv4Addr), NodeKey> = HashMap::new();
    for (key, node) in &nodes {
        if let NodeKey::Igp { asn, id } = key {
            let ospf = <[u8; 4]>::try_from(id.as_slice()).ok().map(Ipv4Addr::from);
            for rid in [node.router_id_v4, ospf].into_iter().flatten() {
                by_bgp_id.entry((*asn, rid)).or_insert_with(|| key.clone());
            }
        }
    }
    let resolve = |k: NodeKey| match &k {
        NodeKey::Bgp { asn, id } => by_bgp_id.get(&(*asn, *id)).cloned().unwrap_or(k),
        NodeKey::Igp { .. } => k,
    };

    // Locators and End SIDs.
    for (_, t) in &views {
        for (p, a) in &t.prefixes {
            let (IpAddr::V6(addr), Some(loc)) = (p.prefix.addr, &a.srv6_locator) else {
                continue;
            };
            if loc.algorithm != 0 {
                continue;
            }
            let Some(node) = NodeKey::of(&p.node)
                .map(&resolve)
                .and_then(|k| nodes.get_mut(&k))
            else {
                continue;
            };
            node.locators.insert((addr, p.prefix.len));
        }
        for (s, a) in &t.sids {
            let end = a
                .endpoint_behavior
                .is_some_and(|b| is_end(b.behavior) && b.algorithm == 0);
            if let (true, Some(node)) = (
                end,
                NodeKey::of(&s.node)
                    .map(&resolve)
                    .and_then(|k| nodes.get_mut(&k)),
            ) {
                node.end_sids.insert(s.sid);
            }
        }
    }

    // Routers: nodes with a usable locator and an operator, named.
    let mut wanted: BTreeMap<String, Vec<&NodeKey>> = BTreeMap::new();
    for (key, node) in nodes.iter().filter(|(_, n)| !n.locators.is_empty()) {
        wanted
            .entry(node.name.clone().unwrap_or_else(|| node.text.clone()))
            .or_default()
            .push(key);
    }
    let dc_ids: BTreeSet<&str> = business
        .doc
        .datacenters
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    let mut names: HashMap<&NodeKey, String> = HashMap::new();
    for (name, keys) in &wanted {
        if keys.len() == 1 && !dc_ids.contains(name.as_str()) {
            names.insert(keys[0], name.clone());
            continue;
        }
        for (i, key) in keys.iter().enumerate() {
            let asn = key.asn().map_or("?".to_owned(), |a| a.to_string());
            let unique = keys.iter().filter(|k| k.asn() == key.asn()).count() == 1;
            let id = if unique {
                format!("{name}@{asn}")
            } else {
                format!("{name}@{asn}#{i}")
            };
            problems.insert(format!("router name `{name}` is taken: `{id}` used"));
            names.insert(key, id);
        }
    }
    let file_locators: Vec<Ipv6Network> = business
        .doc
        .routers
        .iter()
        .filter(|r| !names.values().any(|n| *n == r.id))
        .filter_map(|r| r.locator.parse().ok())
        .collect();
    let mut routers: BTreeMap<String, LearnedRouter> = BTreeMap::new();
    let mut router_of: HashMap<NodeKey, String> = HashMap::new();
    let mut taken: Vec<(Ipv6Network, String)> = file_locators
        .into_iter()
        .map(|l| (l, "a router of the file".to_owned()))
        .collect();
    let mut order: Vec<(&String, &NodeKey)> = names.iter().map(|(k, n)| (n, *k)).collect();
    order.sort();
    for (key, node) in &nodes {
        if node.locators.is_empty() && matches!(key, NodeKey::Igp { .. }) {
            let id = node.name.clone().unwrap_or_else(|| node.text.clone());
            problems.insert(format!(
                "router `{id}` left out: no SRv6 locator (TLV 1162, algorithm 0)"
            ));
        }
    }
    for (id, key) in order {
        let node = &nodes[key];
        let Some(locator) = node.locators.iter().find_map(|&(addr, len)| {
            let net = Ipv6Network::new(addr, len).ok()?;
            (16..=64)
                .contains(&len)
                .then(|| Ipv6Network::new(net.network(), len).ok())?
        }) else {
            let why = if node.locators.is_empty() {
                "no SRv6 locator (TLV 1162, algorithm 0)".to_owned()
            } else {
                "no SRv6 locator of length /16 to /64".to_owned()
            };
            problems.insert(format!("router `{id}` left out: {why}"));
            continue;
        };
        let over = business.routers.get(id);
        let operator = match over.and_then(|o| o.operator.clone()) {
            Some(op) => op,
            None => match key.asn().and_then(|a| business.operator_of_asn(a)) {
                Some(op) => op.to_owned(),
                None => {
                    let asn = key.asn().map_or("none".to_owned(), |a| a.to_string());
                    problems.insert(format!(
                        "router `{id}` left out: its AS ({asn}) is no operator's `asn`"
                    ));
                    continue;
                }
            },
        };
        if let Some((_, other)) = taken.iter().find(|(l, _)| overlaps(l, &locator)) {
            problems.insert(format!(
                "router `{id}` left out: locator {locator} overlaps {other}"
            ));
            continue;
        }
        taken.push((locator, format!("router `{id}`")));
        let end_sid = node.end_sids.iter().copied().find(|s| locator.contains(*s));
        routers.insert(
            id.clone(),
            LearnedRouter {
                asn: key.asn(),
                operator,
                locator,
                end_sid,
                msd: over.and_then(|o| o.msd).or(node.msd),
                city: over.and_then(|o| o.city.clone()),
                region: over.and_then(|o| o.region.clone()),
                mgmt: over.and_then(|o| o.mgmt.clone()),
                prefix: over.and_then(|o| o.prefix.as_deref()?.parse().ok()),
                up: true,
                source: node.source.clone(),
            },
        );
        router_of.insert(key.clone(), id.clone());
    }

    let (mut links, sides, link_of) = links(
        &views,
        &resolve,
        &router_of,
        &routers,
        business,
        &mut problems,
    );
    // A SID means one thing: an End.X SID given twice (a set of
    // adjacencies sharing one) or equal to an End SID is taken once, in id
    // order; the others are allocated.
    let mut used: HashMap<Ipv6Addr, String> = routers
        .iter()
        .filter_map(|(id, r)| r.end_sid.map(|s| (s, format!("the End SID of `{id}`"))))
        .collect();
    for (id, l) in &mut links {
        for sid in l.end_x.iter_mut() {
            let Some(s) = *sid else { continue };
            if let Some(first) = used.get(&s) {
                problems.insert(format!(
                    "link `{id}`: End.X SID {s} is also {first}; CPN allocates this one"
                ));
                *sid = None;
            } else {
                used.insert(s, format!("an End.X SID of `{id}`"));
            }
        }
    }
    Learned {
        routers,
        links,
        problems: problems.into_iter().collect(),
        sides,
        link_of,
    }
}

fn overlaps(a: &Ipv6Network, b: &Ipv6Network) -> bool {
    a.contains(b.network()) || b.contains(a.network())
}

/// A direction's descriptor from the lower end's point of view.
type DirKey = (
    Option<(u32, u32)>,
    (Option<Ipv4Addr>, Option<Ipv4Addr>),
    (Option<Ipv6Addr>, Option<Ipv6Addr>),
);

fn dir_key(d: &LinkDescriptor, from_low: bool) -> DirKey {
    if from_low {
        (
            d.ids,
            (d.ipv4_interface, d.ipv4_neighbor),
            (d.ipv6_interface, d.ipv6_neighbor),
        )
    } else {
        (
            d.ids.map(|(l, r)| (r, l)),
            (d.ipv4_neighbor, d.ipv4_interface),
            (d.ipv6_neighbor, d.ipv6_interface),
        )
    }
}

fn links(
    views: &[(&str, &crate::bgp_ls::rib::Table)],
    resolve: &dyn Fn(NodeKey) -> NodeKey,
    router_of: &HashMap<NodeKey, String>,
    routers: &BTreeMap<String, LearnedRouter>,
    business: &Business,
    problems: &mut BTreeSet<String>,
) -> (
    BTreeMap<String, LearnedLink>,
    SidesOf,
    HashMap<LinkNlri, String>,
) {
    let mut dirs = Vec::new();
    for (peer, t) in views {
        for (l, a) in &t.links {
            let (Some(from), Some(to)) = (NodeKey::of(&l.local), NodeKey::of(&l.remote)) else {
                continue;
            };
            dirs.push(Dir {
                nlri: l,
                peer,
                protocol: l.origin.protocol,
                from: resolve(from),
                to: resolve(to),
                desc: &l.link,
                attr: a.clone(),
            });
        }
    }
    dirs.sort_by(|x, y| {
        (&x.from, &x.to, x.desc, x.peer, x.protocol)
            .cmp(&(&y.from, &y.to, y.desc, y.peer, y.protocol))
    });
    // Per pair of routers (lower id first): per descriptor, both sides.
    type Sides<'d> = [Option<&'d Dir<'d>>; 2];
    let mut pairs: BTreeMap<(String, String), BTreeMap<DirKey, Sides<'_>>> = BTreeMap::new();
    let mut unknown_ends = 0usize;
    for d in &dirs {
        let (Some(from), Some(to)) = (router_of.get(&d.from), router_of.get(&d.to)) else {
            unknown_ends += 1;
            continue;
        };
        if from == to {
            continue;
        }
        let low = from < to;
        let pair = if low {
            (from.clone(), to.clone())
        } else {
            (to.clone(), from.clone())
        };
        let sides = pairs
            .entry(pair)
            .or_default()
            .entry(dir_key(d.desc, low))
            .or_insert([None, None]);
        let side = usize::from(!low);
        if sides[side].is_none() {
            sides[side] = Some(d);
        }
    }
    if unknown_ends > 0 {
        problems.insert(format!(
            "{unknown_ends} link directions left out: an end is not a router CPN models"
        ));
    }
    // Descriptors that differ between the two sides of a single link.
    for by_key in pairs.values_mut() {
        if by_key.len() == 2 {
            let v: Vec<Sides<'_>> = by_key.values().copied().collect();
            let one_each = match (v[0], v[1]) {
                ([Some(a), None], [None, Some(b)]) => Some([Some(a), Some(b)]),
                ([None, Some(b)], [Some(a), None]) => Some([Some(a), Some(b)]),
                _ => None,
            };
            if let Some(merged) = one_each {
                let key = *by_key.keys().next().expect("two keys");
                by_key.clear();
                by_key.insert(key, merged);
            }
        }
    }
    // Ids: the link name when unique, else <a>-<b>[#suffix].
    let mut drafts: Vec<(String, Option<String>, String, String, Sides<'_>)> = Vec::new();
    for ((a, b), by_key) in &pairs {
        let parallel = by_key.len() > 1;
        for (n, (key, sides)) in by_key.iter().enumerate() {
            let fallback = if parallel {
                let suffix = match key {
                    (Some((local, _)), _, _) => local.to_string(),
                    (None, _, (Some(v6), _)) => v6.to_string(),
                    (None, (Some(v4), _), _) => v4.to_string(),
                    _ => n.to_string(),
                };
                format!("{a}-{b}#{suffix}")
            } else {
                format!("{a}-{b}")
            };
            let name = sides
                .iter()
                .flatten()
                .find_map(|d| d.attr.link_name.clone())
                .filter(|n| !n.trim().is_empty());
            drafts.push((fallback, name, a.clone(), b.clone(), *sides));
        }
    }
    let fallbacks: BTreeSet<&str> = drafts.iter().map(|d| d.0.as_str()).collect();
    let mut name_count: HashMap<&str, usize> = HashMap::new();
    for d in &drafts {
        if let Some(n) = &d.1 {
            *name_count.entry(n.as_str()).or_default() += 1;
        }
    }
    let mut out = BTreeMap::new();
    let mut sides_of: SidesOf = HashMap::new();
    let mut ids_by_pair: BTreeMap<(String, String), Vec<(DirKey, String)>> = BTreeMap::new();
    for (fallback, name, a, b, sides) in &drafts {
        let id = match name {
            Some(n)
                if name_count[n.as_str()] == 1
                    && (n == fallback || !fallbacks.contains(n.as_str())) =>
            {
                n.clone()
            }
            _ => fallback.clone(),
        };
        let view = sides.map(|d| {
            d.map(|d| Side {
                peer: d.peer,
                protocol: d.protocol,
                attr: d.attr.as_ref(),
            })
        });
        let mut link = link(a, b, &view, routers, business.links.get(&id), problems, &id);
        let key = key_of(sides);
        link.descriptor = describe(&key);
        ids_by_pair
            .entry((a.clone(), b.clone()))
            .or_default()
            .push((key, id.clone()));
        sides_of.insert(
            id.clone(),
            sides.map(|d| d.map(|d| (d.peer.to_owned(), d.nlri.clone()))),
        );
        out.insert(id, link);
    }
    // Every link NLRI (of every peer) to its link's id.
    let mut link_of = HashMap::new();
    for d in &dirs {
        let (Some(from), Some(to)) = (router_of.get(&d.from), router_of.get(&d.to)) else {
            continue;
        };
        let low = from < to;
        let pair = if low {
            (from.clone(), to.clone())
        } else {
            (to.clone(), from.clone())
        };
        let Some(ids) = ids_by_pair.get(&pair) else {
            continue;
        };
        let key = dir_key(d.desc, low);
        let id = match ids.as_slice() {
            [(_, id)] => Some(id),
            many => many.iter().find(|(k, _)| *k == key).map(|(_, id)| id),
        };
        if let Some(id) = id {
            link_of.insert(d.nlri.clone(), id.clone());
        }
    }
    (out, sides_of, link_of)
}

/// Per link id, where its directions came from: (peer, NLRI) of end a's
/// and end b's.
pub(super) type SidesOf = HashMap<String, [Option<(String, LinkNlri)>; 2]>;

/// One direction of a link, as `link` reads it.
pub(super) struct Side<'a> {
    pub peer: &'a str,
    pub protocol: u8,
    pub attr: &'a LsAttribute,
}

/// The descriptor key of a link's sides (end a's when it has one).
fn key_of(sides: &[Option<&Dir<'_>>; 2]) -> DirKey {
    match sides {
        [Some(d), _] => dir_key(d.desc, true),
        [None, Some(d)] => dir_key(d.desc, false),
        [None, None] => Default::default(),
    }
}

fn describe(k: &DirKey) -> String {
    let mut parts = Vec::new();
    if let Some((l, r)) = k.0 {
        parts.push(format!("ids {l}/{r}"));
    }
    if let (Some(l), r) = k.1 {
        parts.push(format!(
            "ipv4 {l}/{}",
            r.map(|a| a.to_string()).unwrap_or_default()
        ));
    }
    if let (Some(l), r) = k.2 {
        parts.push(format!(
            "ipv6 {l}/{}",
            r.map(|a| a.to_string()).unwrap_or_default()
        ));
    }
    parts.join(" ")
}

/// The End.X SID of one side: End.X behaviors, algorithm 0, primary first,
/// inside the owner's locator.
fn end_x(attr: &LsAttribute, locator: Ipv6Network) -> Option<Ipv6Addr> {
    let mut candidates: Vec<&EndXSid> = attr
        .end_x_sids
        .iter()
        .filter(|s| is_end_x(s.behavior) && s.algorithm == 0 && locator.contains(s.sid))
        .collect();
    candidates.sort_by_key(|s| (s.flags & EndXSid::BACKUP != 0, s.sid));
    candidates.first().map(|s| s.sid)
}

/// A link from its two directions, the override applied.
pub(super) fn link(
    a: &str,
    b: &str,
    sides: &[Option<Side<'_>>; 2],
    routers: &BTreeMap<String, LearnedRouter>,
    over: Option<&crate::topology_file::LinkOverride>,
    problems: &mut BTreeSet<String>,
    id: &str,
) -> LearnedLink {
    let attrs: Vec<&LsAttribute> = sides.iter().flatten().map(|d| d.attr).collect();
    let max = |f: &dyn Fn(&LsAttribute) -> Option<u64>| attrs.iter().filter_map(|x| f(x)).max();
    let min = |f: &dyn Fn(&LsAttribute) -> Option<u64>| attrs.iter().filter_map(|x| f(x)).min();
    let peering = sides.iter().flatten().any(|d| d.protocol == protocol::BGP);
    let igp =
        max(&|x| x.igp_metric.map(u64::from)).map_or(1, |m| m.clamp(1, u64::from(u32::MAX)) as u32);
    let te = max(&|x| x.te_metric.map(u64::from)).map_or(igp, |m| m as u32);
    let latency = max(&|x| {
        x.delay
            .map(|d| u64::from(d.value))
            .or(x.min_max_delay.map(|(min, _)| u64::from(min.value)))
    });
    let bandwidth = min(&|x| x.max_bandwidth.and_then(mbps));
    if bandwidth.is_none() && over.and_then(|o| o.bandwidth_mbps).is_none() {
        problems.insert(format!(
            "link `{id}` advertises no bandwidth (TLV 1089): {DEFAULT_BANDWIDTH_MBPS} Mbit/s assumed"
        ));
    }
    let used = max(&|x| x.utilized_bandwidth.and_then(mbps));
    let jitter = max(&|x| x.delay_variation.map(|d| u64::from(d.value)));
    // Loss is in units of 0.000003 %: 3/100 of a part per million.
    let loss = max(&|x| x.loss.map(|l| (u64::from(l.value) * 3 + 50) / 100));
    let mut srlg: Vec<u32> = attrs
        .iter()
        .flat_map(|x| x.srlg.clone().unwrap_or_default())
        .collect();
    srlg.sort_unstable();
    srlg.dedup();
    let end_x = [0, 1].map(|side| {
        let d = sides[side].as_ref()?;
        let owner = if side == 0 { a } else { b };
        end_x(d.attr, routers.get(owner)?.locator)
    });
    let up = if peering {
        sides.iter().any(Option::is_some)
    } else {
        sides.iter().all(Option::is_some)
    };
    let source = sides
        .iter()
        .flatten()
        .map(|d| d.peer)
        .min()
        .unwrap_or_default();
    let bandwidth_mbps = over
        .and_then(|o| o.bandwidth_mbps)
        .or(bandwidth)
        .unwrap_or(DEFAULT_BANDWIDTH_MBPS);
    LearnedLink {
        a: a.to_owned(),
        b: b.to_owned(),
        igp: over.and_then(|o| o.igp).unwrap_or(igp),
        te: over.and_then(|o| o.te).unwrap_or(te),
        latency_us: over.and_then(|o| o.latency_us).or(latency).unwrap_or(0),
        bandwidth_mbps,
        used_mbps: over
            .and_then(|o| o.used_mbps)
            .or(used)
            .map(|u| u.min(bandwidth_mbps)),
        jitter_us: over.and_then(|o| o.jitter_us).or(jitter).unwrap_or(0),
        loss_ppm: over.and_then(|o| o.loss_ppm).or(loss).unwrap_or(0),
        srlg: over.and_then(|o| o.srlg.clone()).unwrap_or(srlg),
        end_x,
        up,
        peering,
        descriptor: String::new(),
        source: source.to_owned(),
    }
}
