//! The floor for whole-process batch figures (BENCHMARKS.md, issue 20
//! goal 2): a program that loads the same topology YAML as `cpnctl path
//! --requests`, reads the same request lines, and runs one plain Dijkstra
//! (binary heap, latency) per request from its headend, printing one line
//! per request (the farthest router's latency) so that nothing is skipped.
//! It knows nothing of operators, SIDs or data centers: routers and links
//! only, parsed with serde_yaml_ng into the few fields it needs.
//!
//! ```text
//! cargo run --release --example plain_dijkstra -- TOPOLOGY.yaml REQUESTS.jsonl
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{BufRead, Write};

use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    routers: Vec<Router>,
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Router {
    id: String,
}

#[derive(Deserialize)]
struct Link {
    a: String,
    b: String,
    latency_us: u64,
}

#[derive(Deserialize)]
struct Request {
    from: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, topology, requests] = &args[..] else {
        return Err("usage: plain_dijkstra TOPOLOGY.yaml REQUESTS.jsonl".into());
    };
    let file: File = serde_yaml::from_reader(std::fs::File::open(topology)?)?;
    let index: HashMap<&str, u32> = file
        .routers
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i as u32))
        .collect();
    // Compressed adjacency: arcs of router i are arcs[start[i]..start[i+1]].
    let n = file.routers.len();
    let mut degree = vec![0u32; n + 1];
    let ends: Vec<(u32, u32, u64)> = file
        .links
        .iter()
        .map(|l| (index[l.a.as_str()], index[l.b.as_str()], l.latency_us))
        .collect();
    for &(a, b, _) in &ends {
        degree[a as usize + 1] += 1;
        degree[b as usize + 1] += 1;
    }
    for i in 0..n {
        degree[i + 1] += degree[i];
    }
    let start = degree;
    let mut fill = start.clone();
    let mut arcs = vec![(0u32, 0u64); start[n] as usize];
    for &(a, b, w) in &ends {
        arcs[fill[a as usize] as usize] = (b, w);
        fill[a as usize] += 1;
        arcs[fill[b as usize] as usize] = (a, w);
        fill[b as usize] += 1;
    }

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut dist = vec![u64::MAX; n];
    let mut heap = BinaryHeap::new();
    for line in std::io::BufReader::new(std::fs::File::open(requests)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let request: Request = serde_json::from_str(&line)?;
        let from = index[request.from.as_str()];
        dist.fill(u64::MAX);
        dist[from as usize] = 0;
        heap.push(Reverse((0u64, from)));
        while let Some(Reverse((d, r))) = heap.pop() {
            if d > dist[r as usize] {
                continue;
            }
            for &(next, w) in &arcs[start[r as usize] as usize..start[r as usize + 1] as usize] {
                let nd = d + w;
                if nd < dist[next as usize] {
                    dist[next as usize] = nd;
                    heap.push(Reverse((nd, next)));
                }
            }
        }
        let farthest = dist.iter().filter(|&&d| d != u64::MAX).max().unwrap_or(&0);
        writeln!(
            out,
            "{{\"from\": \"{}\", \"farthest_us\": {farthest}}}",
            request.from
        )?;
    }
    Ok(())
}
