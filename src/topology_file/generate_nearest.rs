//! Generated topologies of the "nearest neighbours" shape, as real national
//! networks look to a path engine: routers in regional clusters over a
//! 4,000 x 3,000 km plane, each linked to its 3 nearest neighbours plus a
//! chain for connectivity (average degree near 5.7, paths of 50-100 hops
//! coast to coast); IGP metric = round(km / 50), at least 1 (coarse: many
//! equal-cost ties), latency = 5 us per km + 10 us (so the latency-optimal
//! path often leaves the IGP path); operators split by longitude (their
//! borders are peering links); data centers with 2 pool kinds each.
//!
//! The same parameters and seed always give the same document.

use std::collections::{BTreeMap, BTreeSet};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::document::{
    DatacenterEntry, FORMAT_VERSION, LinkEntry, OperatorEntry, RouterEntry, TopologyDocument,
};
use super::generate::{GenerateError, MAP_KM, distance, operator_id, pool, region_of};
use crate::model::PoolKind;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearestParams {
    /// Number of routers, >= 4.
    pub routers: usize,
    /// Number of operators, split by longitude.
    pub operators: usize,
    /// Number of data centers.
    pub datacenters: usize,
    /// Random seed.
    pub seed: u64,
}

/// Routers per regional cluster on average.
const CLUSTER_SIZE: usize = 50;
/// Spread of a cluster around its centre, km.
const CLUSTER_KM: f64 = 120.0;
/// Neighbours each router is linked to.
const NEAREST: usize = 3;

/// A grid over the plane for nearest-neighbour search.
struct Grid {
    cell_km: f64,
    cols: usize,
    rows: usize,
    cells: Vec<Vec<usize>>,
}

impl Grid {
    fn new(points: &[(f64, f64)]) -> Grid {
        // About two points per cell.
        let cell_km = (MAP_KM.0 * MAP_KM.1 * 2.0 / points.len().max(1) as f64).sqrt();
        let cols = (MAP_KM.0 / cell_km).ceil() as usize + 1;
        let rows = (MAP_KM.1 / cell_km).ceil() as usize + 1;
        let mut cells = vec![Vec::new(); cols * rows];
        for (i, &(x, y)) in points.iter().enumerate() {
            let (c, r) = ((x / cell_km) as usize, (y / cell_km) as usize);
            cells[r * cols + c].push(i);
        }
        Grid {
            cell_km,
            cols,
            rows,
            cells,
        }
    }

    /// The `k` points nearest to point `i` (ties by index).
    fn nearest(&self, points: &[(f64, f64)], i: usize, k: usize) -> Vec<usize> {
        let (x, y) = points[i];
        let (c0, r0) = ((x / self.cell_km) as isize, (y / self.cell_km) as isize);
        let mut found: Vec<(f64, usize)> = Vec::new();
        let mut ring = 0isize;
        loop {
            for r in r0 - ring..=r0 + ring {
                for c in c0 - ring..=c0 + ring {
                    let on_ring = (r - r0).abs() == ring || (c - c0).abs() == ring;
                    if !on_ring || r < 0 || c < 0 {
                        continue;
                    }
                    let (r, c) = (r as usize, c as usize);
                    if r >= self.rows || c >= self.cols {
                        continue;
                    }
                    for &j in &self.cells[r * self.cols + c] {
                        if j != i {
                            found.push((distance(points[i], points[j]), j));
                        }
                    }
                }
            }
            found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            // Everything within `ring` cells is found: the k-th nearest is
            // final once it is closer than the ring's inner edge.
            let covered = ring as f64 * self.cell_km;
            let done = found.len() >= k && found[k - 1].0 <= covered;
            let exhausted = ring as usize > self.cols.max(self.rows);
            if done || exhausted {
                return found.into_iter().take(k).map(|(_, j)| j).collect();
            }
            ring += 1;
        }
    }
}

/// Generates a valid topology document of the nearest-neighbours shape.
/// `progress(done, total)` is called as routers are linked.
pub fn generate_nearest(
    params: &NearestParams,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<TopologyDocument, GenerateError> {
    let NearestParams {
        routers: n,
        operators: k,
        datacenters: d,
        seed,
    } = *params;
    if n < 4 {
        return Err(GenerateError::Invalid(
            "--routers must be at least 4 for the nearest shape".into(),
        ));
    }
    if k == 0 || k > n {
        return Err(GenerateError::Invalid(format!(
            "--operators must be between 1 and the number of routers ({n})"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let clusters: Vec<(f64, f64)> = (0..n.div_ceil(CLUSTER_SIZE))
        .map(|_| {
            (
                rng.random_range(0.0..MAP_KM.0),
                rng.random_range(0.0..MAP_KM.1),
            )
        })
        .collect();
    let points: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let (cx, cy) = clusters[i % clusters.len()];
            (
                (cx + rng.random_range(-CLUSTER_KM..CLUSTER_KM)).clamp(0.0, MAP_KM.0 - 1e-6),
                (cy + rng.random_range(-CLUSTER_KM..CLUSTER_KM)).clamp(0.0, MAP_KM.1 - 1e-6),
            )
        })
        .collect();
    // Operators by longitude: equal slices of the map's width.
    let operator_of = |i: usize| ((points[i].0 / MAP_KM.0 * k as f64) as usize).min(k - 1);

    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    let grid = Grid::new(&points);
    for i in 0..n {
        for j in grid.nearest(&points, i, NEAREST) {
            edges.insert((i.min(j), i.max(j)));
        }
        if i % 1000 == 999 {
            progress(i + 1, n);
        }
    }
    // The chain: routers in order of longitude, each to the next.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0).then(a.cmp(&b)));
    for w in order.windows(2) {
        edges.insert((w[0].min(w[1]), w[0].max(w[1])));
    }
    progress(n, n);

    let mut serial = vec![0usize; k];
    let routers: Vec<RouterEntry> = (0..n)
        .map(|i| {
            let op = operator_of(i);
            serial[op] += 1;
            RouterEntry {
                id: format!("r{i}"),
                operator: operator_id(op, k),
                locator: format!("fc00:{:x}:{:x}::/48", op + 1, serial[op] - 1),
                city: Some(format!("cluster{}", i % clusters.len())),
                region: Some(region_of(points[i].0).to_owned()),
                lat: None,
                lon: None,
                msd: None,
                mgmt: None,
                end_sid: None,
                usid: None,
                prefix: None,
            }
        })
        .collect();
    let links: Vec<LinkEntry> = edges
        .iter()
        .map(|&(a, b)| {
            let km = distance(points[a], points[b]);
            LinkEntry {
                id: None,
                a: format!("r{a}"),
                b: format!("r{b}"),
                igp: ((km / 50.0).round() as u32).max(1),
                te: None,
                latency_us: (km * 5.0).round() as u64 + 10,
                bandwidth_mbps: 100_000,
                used_mbps: 0,
                jitter_us: 0,
                loss_ppm: 0,
                srlg: Vec::new(),
                up: true,
                end_x: None,
            }
        })
        .collect();
    let datacenters: Vec<DatacenterEntry> = (0..d)
        .map(|i| {
            let at = rng.random_range(0..n);
            let kinds = [PoolKind::Ai, PoolKind::Hpc, PoolKind::General];
            let first = rng.random_range(0..3);
            let mut two = [
                kinds[first],
                kinds[(first + 1 + rng.random_range(0..2)) % 3],
            ];
            two.sort();
            let price = rng.random_range(0.5..2.5);
            DatacenterEntry {
                id: format!("dc{i}"),
                attach: vec![format!("r{at}")],
                city: Some(format!("cluster{}", at % clusters.len())),
                region: Some(region_of(points[at].0).to_owned()),
                lat: None,
                lon: None,
                latency_us: rng.random_range(20..200),
                storage_tb: BTreeMap::new(),
                pools: two
                    .iter()
                    .map(|&kind| pool(kind, 2000.0, price, &mut rng))
                    .collect(),
                prefix: None,
                reporter: None,
            }
        })
        .collect();
    Ok(TopologyDocument {
        version: FORMAT_VERSION,
        name: format!("nearest-{n}r-{k}op-{d}dc-seed{seed}"),
        operators: (0..k)
            .map(|op| OperatorEntry {
                id: operator_id(op, k),
                asn: Some(64500 + op as u32),
                description: None,
                next_csid: None,
            })
            .collect(),
        routers,
        links,
        datacenters,
        overrides: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(routers: usize, datacenters: usize, seed: u64) -> NearestParams {
        NearestParams {
            routers,
            operators: 3,
            datacenters,
            seed,
        }
    }

    #[test]
    fn the_nearest_shape_is_connected_with_its_degree_metrics_and_peering() {
        let doc = generate_nearest(&params(2000, 100, 7), &mut |_, _| {}).unwrap();
        let t = doc.to_builder().unwrap().build().unwrap();
        assert_eq!(t.router_count(), 2000);
        assert_eq!(petgraph::algo::connected_components(t.graph()), 1);
        let avg = 2.0 * t.link_count() as f64 / 2000.0;
        assert!((4.5..=6.5).contains(&avg), "average degree {avg}");
        for (_, l) in t.links() {
            // latency = 5 us/km + 10 and igp = round(km / 50) >= 1 (km
            // known to 0.1 from the rounded latency).
            let km = (l.latency_us - 10) as f64 / 5.0;
            let off = (f64::from(l.igp) - (km / 50.0).max(1.0)).abs();
            assert!(off <= 0.5 + 0.01, "{l:?}");
        }
        assert!(
            t.links()
                .any(|(ix, _)| t.link_kind(ix) == crate::model::LinkKind::Peering)
        );
        assert!(t.datacenters().iter().all(|d| d.pools.len() == 2));
        // Same seed, same document.
        let again = generate_nearest(&params(2000, 100, 7), &mut |_, _| {}).unwrap();
        assert_eq!(doc, again);
    }

    #[test]
    fn nearest_neighbours_from_the_grid_match_a_scan() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let points: Vec<(f64, f64)> = (0..500)
            .map(|_| {
                (
                    rng.random_range(0.0..MAP_KM.0),
                    rng.random_range(0.0..MAP_KM.1),
                )
            })
            .collect();
        let grid = Grid::new(&points);
        for i in (0..500).step_by(7) {
            let mut all: Vec<(f64, usize)> = (0..500)
                .filter(|&j| j != i)
                .map(|j| (distance(points[i], points[j]), j))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let want: Vec<usize> = all.iter().take(3).map(|&(_, j)| j).collect();
            assert_eq!(grid.nearest(&points, i, 3), want, "point {i}");
        }
    }
}
