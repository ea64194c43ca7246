//! `cpnctl bench`: how fast the engine answers random valid queries on a
//! topology, next to the floor of one plain Dijkstra from the same headends.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::engine::graph::SearchGraph;
use crate::engine::search::{Masks, dijkstra};
use crate::engine::{ComputeDemand, Engine, PathRequest, Protection, QueryError};
use crate::model::{PoolKind, RouterIx, Topology};

/// `cpnctl bench`
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The topology file.
    #[arg(long)]
    pub topology: PathBuf,
    /// How many queries.
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Random seed for the queries.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Run all engine queries, then all Dijkstras (each warm in cache),
    /// instead of interleaving them (each after the other's work).
    #[arg(long)]
    pub separate: bool,
    /// Instead: encode the answered paths with full SIDs and with
    /// NEXT-C-SID micro-SIDs, and compare time and header bytes.
    #[arg(long)]
    pub encoding: bool,
}

/// The request mix: mostly plain placements, some with bounds, bandwidth and
/// protection, all from random up headends for small jobs.
pub fn random_requests(t: &Topology, count: usize, seed: u64) -> Vec<PathRequest> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let headends: Vec<RouterIx> = t
        .routers()
        .filter(|(_, r)| r.up)
        .map(|(ix, _)| ix)
        .collect();
    let kinds: Vec<PoolKind> = PoolKind::ALL
        .into_iter()
        .filter(|k| t.datacenters().iter().any(|d| d.pool(*k).is_some()))
        .collect();
    (0..count)
        .map(|_| {
            let from = headends[rng.random_range(0..headends.len())];
            let compute = (!kinds.is_empty()).then(|| ComputeDemand {
                kind: kinds[rng.random_range(0..kinds.len())],
                tflops: f64::from(rng.random_range(1..=20u32)),
                memory_gb: 0.0,
            });
            let mut req = PathRequest::new(from, compute, None);
            match rng.random_range(0..100) {
                0..70 => {}
                70..85 => req.constraints.max_latency_us = Some(rng.random_range(5_000..40_000)),
                85..95 => {
                    req.constraints.min_bandwidth_mbps = Some(rng.random_range(1_000..20_000))
                }
                _ => req.protection = Protection::Link,
            }
            req
        })
        .collect()
}

/// Latency distribution of a run.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Stats {
    /// Median per-query time, microseconds.
    pub median_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// Queries per second on one core.
    pub per_second: f64,
}

pub(super) fn stats(mut times: Vec<Duration>) -> Stats {
    times.sort();
    let total: Duration = times.iter().sum();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e6;
    Stats {
        median_us: at(0.5),
        p99_us: at(0.99),
        per_second: times.len() as f64 / total.as_secs_f64(),
    }
}

/// What `cpnctl bench` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// Routers in the topology.
    pub routers: usize,
    /// Links.
    pub links: usize,
    /// Data centers.
    pub datacenters: usize,
    /// Queries run.
    pub queries: usize,
    /// Queries answered (the rest had nothing feasible).
    pub answered: usize,
    /// The engine: placement over all data centers, segments, explanations.
    pub engine: Stats,
    /// One plain Dijkstra (latency, binary heap) from the same headends.
    pub dijkstra: Stats,
    /// engine median / Dijkstra median.
    pub ratio_median: f64,
    /// IGP trees computed (cache misses).
    pub igp_trees: u64,
}

/// Runs the benchmark; `separate` runs the two passes one after the other
/// instead of interleaving them.
pub fn run_bench(t: &Topology, queries: usize, seed: u64, separate: bool) -> BenchReport {
    let requests = random_requests(t, queries, seed);
    let engine = Engine::new();
    // The floor walks the same compact graph the engine searches.
    let graph = SearchGraph::build(t);
    let masks = Masks {
        router_ok: vec![true; t.router_count()],
        link_ok: vec![true; t.link_count()],
    };
    let mut engine_times = Vec::with_capacity(queries);
    let mut floor_times = Vec::with_capacity(queries);
    let mut answered = 0;
    let floor = |req: &PathRequest, times: &mut Vec<Duration>| {
        let start = Instant::now();
        let d = dijkstra(&graph, &masks, &[(req.from, 0)], |a| a.latency);
        times.push(start.elapsed());
        std::hint::black_box(d);
    };
    // Interleaved by default, so that both see the same machine and caches.
    for req in &requests {
        let start = Instant::now();
        let result = engine.query(t, req);
        engine_times.push(start.elapsed());
        match result {
            Ok(a) => {
                answered += 1;
                std::hint::black_box(a);
            }
            Err(QueryError::NoPlacement(e)) => {
                std::hint::black_box(e);
            }
            Err(QueryError::Invalid(e)) => panic!("generated request invalid: {e}"),
        }
        if !separate {
            floor(req, &mut floor_times);
        }
    }
    if separate {
        for req in &requests {
            floor(req, &mut floor_times);
        }
    }
    let engine_stats = stats(engine_times);
    let floor = stats(floor_times);
    BenchReport {
        routers: t.router_count(),
        links: t.link_count(),
        datacenters: t.datacenters().len(),
        queries,
        answered,
        ratio_median: engine_stats.median_us / floor.median_us,
        engine: engine_stats,
        dijkstra: floor,
        igp_trees: engine.igp_trees_computed(),
    }
}

/// Runs `cpnctl bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.queries > 0, "--queries must be at least 1");
    let t = super::topology::load(&args.topology)?;
    eprintln!(
        "running {} queries on {} routers, {} links, {} data centers...",
        args.queries,
        t.router_count(),
        t.link_count(),
        t.datacenters().len()
    );
    if args.encoding {
        let r = super::bench_encoding::run_encoding(&t, args.queries, args.seed);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            print!("{}", super::bench_encoding::render(&r));
        }
        return Ok(());
    }
    let r = run_bench(&t, args.queries, args.seed, args.separate);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let how = if args.separate {
        "separate passes"
    } else {
        "interleaved"
    };
    println!(
        "{} queries ({} answered), one core, {how}",
        r.queries, r.answered
    );
    println!(
        "engine    median {:>9.1} us   p99 {:>9.1} us   {:>9.0} queries/s",
        r.engine.median_us, r.engine.p99_us, r.engine.per_second
    );
    println!(
        "dijkstra  median {:>9.1} us   p99 {:>9.1} us   {:>9.0} runs/s",
        r.dijkstra.median_us, r.dijkstra.p99_us, r.dijkstra.per_second
    );
    println!(
        "ratio     {:.2}x the plain Dijkstra median ({} IGP trees computed)",
        r.ratio_median, r.igp_trees
    );
    Ok(())
}
