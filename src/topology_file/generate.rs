//! Generated topologies of any size for benchmarks and tests: regional
//! clusters ("cities") where every operator has routers, rings and chords
//! inside a city, a backbone between nearby cities, peering in some cities,
//! latency from distance, and data centers that are big and cheap in the
//! west and small and dear in the east.
//!
//! The same parameters and seed always give the same document.

use std::collections::{BTreeMap, BTreeSet};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::document::{
    DatacenterEntry, FORMAT_VERSION, LinkEntry, OperatorEntry, PoolEntry, RouterEntry,
    TopologyDocument,
};
use crate::model::PoolKind;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateParams {
    /// Number of routers, >= 1.
    pub routers: usize,
    /// Number of operators, 1..=routers.
    pub operators: usize,
    /// Number of data centers.
    pub datacenters: usize,
    /// Random seed.
    pub seed: u64,
    /// Total links wanted; `None` keeps the regional layout's own (average
    /// degree 3-4). More links are added between nearby routers of one operator.
    pub links: Option<usize>,
    /// Compressed SRv6: every operator a NEXT-C-SID block (F3216,
    /// `fd00:OP::/32`), every router its serial in it as node micro-SID.
    pub compressed: bool,
}

/// Why parameters cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// Out of range parameter.
    #[error("{0}")]
    Invalid(String),
}

/// Routers per city on average.
const CITY_SIZE: usize = 20;
/// Width and height of the map, in km.
pub(super) const MAP_KM: (f64, f64) = (4000.0, 3000.0);
/// Fiber latency per km of straight-line distance, with a 1.2 route factor.
const US_PER_KM: f64 = 5.0 * 1.2;
/// Routers per operator the /48 locator scheme can number.
const MAX_ROUTERS_PER_OPERATOR: usize = 0xffff;

struct City {
    x: f64,
    y: f64,
}

struct Node {
    city: usize,
    operator: usize,
    x: f64,
    y: f64,
}

pub(super) fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

pub(super) fn operator_id(k: usize, total: usize) -> String {
    if total <= 26 {
        format!("op-{}", (b'a' + k as u8) as char)
    } else {
        format!("op-{k}")
    }
}

pub(super) fn region_of(x: f64) -> &'static str {
    match x / MAP_KM.0 {
        f if f < 0.4 => "west",
        f if f < 0.7 => "central",
        _ => "east",
    }
}

/// Generates a valid topology document. `progress(done, total)` is called as
/// routers are linked, for progress display on large sizes.
pub fn generate(
    params: &GenerateParams,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<TopologyDocument, GenerateError> {
    let GenerateParams {
        routers: n,
        operators: k,
        datacenters: d,
        seed,
        links: wanted_links,
        compressed,
    } = *params;
    if n == 0 {
        return Err(GenerateError::Invalid(
            "--routers must be at least 1".into(),
        ));
    }
    if k == 0 || k > n {
        return Err(GenerateError::Invalid(format!(
            "--operators must be between 1 and the number of routers ({n})"
        )));
    }
    if n.div_ceil(k) > MAX_ROUTERS_PER_OPERATOR {
        return Err(GenerateError::Invalid(format!(
            "at most {MAX_ROUTERS_PER_OPERATOR} routers per operator"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let city_count = n.div_ceil(CITY_SIZE).max(1);
    let cities: Vec<City> = (0..city_count)
        .map(|_| City {
            x: rng.random_range(0.0..MAP_KM.0),
            y: rng.random_range(0.0..MAP_KM.1),
        })
        .collect();

    // Routers: round-robin over cities, then over operators inside a city.
    let mut nodes = Vec::with_capacity(n);
    let mut members: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); k]; city_count];
    for i in 0..n {
        let city = i % city_count;
        let operator = (i / city_count) % k;
        let c = &cities[city];
        nodes.push(Node {
            city,
            operator,
            x: (c.x + rng.random_range(-60.0..60.0)).clamp(0.0, MAP_KM.0),
            y: (c.y + rng.random_range(-60.0..60.0)).clamp(0.0, MAP_KM.1),
        });
        members[city][operator].push(i);
    }
    let mut names = vec![String::new(); n];
    let mut per_operator = vec![0usize; k];
    let mut router_entries = Vec::with_capacity(n);
    for (i, node) in nodes.iter().enumerate() {
        let serial = per_operator[node.operator];
        per_operator[node.operator] += 1;
        names[i] = format!("r{i}");
        router_entries.push(RouterEntry {
            id: names[i].clone(),
            operator: operator_id(node.operator, k),
            locator: format!("fc00:{:x}:{:x}::/48", node.operator + 1, serial),
            city: Some(format!("city{}", node.city)),
            region: Some(region_of(node.x).to_owned()),
            lat: None,
            lon: None,
            msd: None,
            mgmt: None,
            end_sid: None,
            // Node micro-SIDs stop below the local range (0xe000).
            usid: (compressed && serial + 1 < 0xe000).then_some(serial as u32 + 1),
            prefix: None,
        });
    }

    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    let add = |a: usize, b: usize, edges: &mut BTreeSet<(usize, usize)>| {
        if a != b {
            edges.insert((a.min(b), a.max(b)));
        }
    };
    let pos = |i: usize| (nodes[i].x, nodes[i].y);

    // Inside a city, per operator: a ring plus a chord to the nearest non-neighbor.
    let mut done = 0;
    for city in &members {
        for group in city {
            let m = group.len();
            for (j, &r) in group.iter().enumerate() {
                if m > 1 {
                    add(r, group[(j + 1) % m], &mut edges);
                }
                if m > 3 {
                    let nearest = group
                        .iter()
                        .enumerate()
                        .filter(|&(o, _)| o != j && o != (j + 1) % m && (o + 1) % m != j)
                        .min_by(|a, b| {
                            distance(pos(r), pos(*a.1)).total_cmp(&distance(pos(r), pos(*b.1)))
                        })
                        .map(|(_, &o)| o);
                    if let Some(o) = nearest {
                        add(r, o, &mut edges);
                    }
                }
                done += 1;
                if done % 1000 == 0 {
                    progress(done, n);
                }
            }
        }
    }

    // Backbone: each city to its 3 nearest cities, for every operator present
    // in both, through routers chosen round-robin so no router is a hub.
    let mut city_links: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (c, city) in cities.iter().enumerate() {
        let mut others: Vec<usize> = (0..city_count).filter(|&o| o != c).collect();
        others.sort_by(|&a, &b| {
            let da = distance((city.x, city.y), (cities[a].x, cities[a].y));
            let db = distance((city.x, city.y), (cities[b].x, cities[b].y));
            da.total_cmp(&db).then(a.cmp(&b))
        });
        for &o in others.iter().take(3) {
            city_links.insert((c.min(o), c.max(o)));
        }
    }
    for (e, &(c1, c2)) in city_links.iter().enumerate() {
        for (g1, g2) in members[c1].iter().zip(&members[c2]) {
            if !g1.is_empty() && !g2.is_empty() {
                add(g1[e % g1.len()], g2[e % g2.len()], &mut edges);
            }
        }
    }

    // Peering between consecutive operators in every fourth city (and city 0).
    for (c, city) in members.iter().enumerate() {
        if c % 4 != 0 {
            continue;
        }
        for op in 1..k {
            if let (Some(&a), Some(&b)) = (city[op - 1].first(), city[op].first()) {
                add(a, b, &mut edges);
            }
        }
    }

    // Denser networks on request: extra links to routers of the same
    // operator in the same or a backbone-neighbor city.
    if let Some(wanted) = wanted_links {
        let mut near: Vec<Vec<usize>> = (0..city_count).map(|c| vec![c]).collect();
        for &(c1, c2) in &city_links {
            near[c1].push(c2);
            near[c2].push(c1);
        }
        let mut stalled = 0;
        while edges.len() < wanted && stalled < 10 * n {
            let r = rng.random_range(0..n);
            let cities_near = &near[nodes[r].city];
            let city = cities_near[rng.random_range(0..cities_near.len())];
            let group = &members[city][nodes[r].operator];
            let before = edges.len();
            if !group.is_empty() {
                add(r, group[rng.random_range(0..group.len())], &mut edges);
            }
            stalled = if edges.len() > before { 0 } else { stalled + 1 };
        }
    }

    // Join whatever is still apart, nearest routers first.
    join_components(n, &mut edges, &pos);
    progress(n, n);

    let links: Vec<LinkEntry> = edges
        .iter()
        .map(|&(a, b)| {
            let km = distance(pos(a), pos(b));
            let latency_us = (km * US_PER_KM).round() as u64 + 20;
            let igp = (latency_us / 100).max(1) as u32;
            let bandwidth_mbps = [10_000, 40_000, 100_000, 400_000][rng.random_range(0..4)];
            let backbone = nodes[a].city != nodes[b].city;
            LinkEntry {
                id: None,
                a: names[a].clone(),
                b: names[b].clone(),
                igp,
                te: Some(igp + rng.random_range(0..3)),
                latency_us,
                bandwidth_mbps,
                used_mbps: bandwidth_mbps * rng.random_range(0..50) / 100,
                jitter_us: rng.random_range(0..30),
                loss_ppm: rng.random_range(0..5),
                srlg: if backbone {
                    vec![
                        (nodes[a].city.min(nodes[b].city) * city_count
                            + nodes[a].city.max(nodes[b].city)) as u32,
                    ]
                } else {
                    Vec::new()
                },
                up: true,
                end_x: None,
            }
        })
        .collect();

    let datacenters = (0..d)
        .map(|i| {
            let city = (i * 7919) % city_count;
            let c = &cities[city];
            let west = c.x < MAP_KM.0 * 0.4;
            let gateways: Vec<usize> = members[city].iter().flatten().copied().take(2).collect();
            let scale = if west { 4.0 } else { 1.0 } * rng.random_range(0.5..1.5);
            let price = if west { 0.6 } else { 2.0 } * rng.random_range(0.8..1.2);
            let mut pools = vec![pool(PoolKind::Ai, 2000.0 * scale, price, &mut rng)];
            if i % 2 == 0 {
                pools.push(pool(PoolKind::Hpc, 800.0 * scale, price * 0.8, &mut rng));
            }
            if i % 3 != 1 {
                pools.push(pool(
                    PoolKind::General,
                    300.0 * scale,
                    price * 0.3,
                    &mut rng,
                ));
            }
            DatacenterEntry {
                id: format!("dc{i}"),
                attach: gateways.iter().map(|&g| names[g].clone()).collect(),
                city: Some(format!("city{city}")),
                region: Some(region_of(c.x).to_owned()),
                lat: None,
                lon: None,
                latency_us: rng.random_range(20..200),
                storage_tb: BTreeMap::from([("ssd".to_owned(), (100.0 * scale).round())]),
                pools,
                prefix: None,
                reporter: None,
            }
        })
        .collect();

    Ok(TopologyDocument {
        version: FORMAT_VERSION,
        name: format!("generated-{n}r-{k}op-{d}dc-seed{seed}"),
        operators: (0..k)
            .map(|op| OperatorEntry {
                id: operator_id(op, k),
                asn: Some(64500 + op as u32),
                description: None,
                next_csid: compressed.then(|| super::document::NextCsidEntry {
                    block: format!("fd00:{:x}::/32", op + 1),
                    lnfl: None,
                }),
            })
            .collect(),
        routers: router_entries,
        links,
        datacenters,
        overrides: None,
    })
}

pub(super) fn pool(kind: PoolKind, tflops: f64, price: f64, rng: &mut ChaCha8Rng) -> PoolEntry {
    let tflops = tflops.round().max(1.0);
    // AI pools carry ~2 GB per TFLOPS of HBM/host memory; CPU pools ~1 GB per GFLOPS.
    let memory_gb = match kind {
        PoolKind::General => tflops * 1000.0 * rng.random_range(0.8..1.25),
        _ => tflops * 2.0,
    }
    .round();
    PoolEntry {
        kind,
        tflops,
        used_tflops: (tflops * rng.random_range(0.0..0.5)).round(),
        memory_gb,
        used_memory_gb: (memory_gb * rng.random_range(0.0..0.5)).round(),
        price: (price * 100.0).round() / 100.0,
        health: Default::default(),
        queue_wait_s: None,
    }
}

/// Adds the shortest link between each pair of components until one is left.
fn join_components(
    n: usize,
    edges: &mut BTreeSet<(usize, usize)>,
    pos: &dyn Fn(usize) -> (f64, f64),
) {
    loop {
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        for &(a, b) in edges.iter() {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra] = rb;
        }
        let roots: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
        let main = roots[0];
        let (inside, outside): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| roots[i] == main);
        if outside.is_empty() {
            return;
        }
        // Nearest pair between the first component and the rest.
        let best = inside
            .iter()
            .flat_map(|&a| outside.iter().map(move |&b| (a, b)))
            .min_by(|&(a1, b1), &(a2, b2)| {
                distance(pos(a1), pos(b1)).total_cmp(&distance(pos(a2), pos(b2)))
            })
            .expect("both sides non-empty");
        edges.insert((best.0.min(best.1), best.0.max(best.1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(routers: usize, operators: usize, datacenters: usize, seed: u64) -> GenerateParams {
        GenerateParams {
            compressed: false,
            routers,
            operators,
            datacenters,
            seed,
            links: None,
        }
    }

    #[test]
    fn generated_documents_load_and_are_connected() {
        for (n, k, d, seed) in [
            (1, 1, 0, 0),
            (7, 3, 2, 1),
            (200, 3, 20, 2),
            (1000, 4, 50, 3),
        ] {
            let doc = generate(&params(n, k, d, seed), &mut |_, _| {}).unwrap();
            let t = doc.to_builder().unwrap().build().unwrap();
            assert_eq!(t.router_count(), n);
            assert_eq!(t.datacenters().len(), d);
            let components = petgraph::algo::connected_components(t.graph());
            assert_eq!(components, 1, "n={n}");
            if n >= 200 {
                let avg = 2.0 * t.link_count() as f64 / n as f64;
                assert!((2.5..=4.5).contains(&avg), "average degree {avg}");
                assert!(
                    t.links()
                        .any(|(ix, _)| t.link_kind(ix).eq(&crate::model::LinkKind::Peering))
                );
            }
        }
    }

    #[test]
    fn same_seed_same_document_other_seed_other_document() {
        let a = generate(&params(300, 3, 10, 7), &mut |_, _| {}).unwrap();
        let b = generate(&params(300, 3, 10, 7), &mut |_, _| {}).unwrap();
        let c = generate(&params(300, 3, 10, 8), &mut |_, _| {}).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn links_can_be_asked_for() {
        let mut p = params(500, 2, 5, 4);
        p.links = Some(2000);
        let doc = generate(&p, &mut |_, _| {}).unwrap();
        assert_eq!(doc.links.len(), 2000);
        let t = doc.to_builder().unwrap().build().unwrap();
        assert_eq!(t.link_count(), 2000);
        // Extra links stay inside an operator: peering only where the layout put it.
        let base = generate(&params(500, 2, 5, 4), &mut |_, _| {}).unwrap();
        let peering = |t: &crate::model::Topology| {
            t.link_indices()
                .filter(|&l| t.link_kind(l) == crate::model::LinkKind::Peering)
                .count()
        };
        let base = base.to_builder().unwrap().build().unwrap();
        assert_eq!(peering(&t), peering(&base));
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(generate(&params(0, 1, 0, 0), &mut |_, _| {}).is_err());
        assert!(generate(&params(3, 4, 0, 0), &mut |_, _| {}).is_err());
        assert!(generate(&params(3, 0, 0, 0), &mut |_, _| {}).is_err());
    }
}
