//! `cpnctl topology check | show | generate`: offline work on topology files.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{amount, table, thousands};
use crate::model::{PoolKind, Topology};
use crate::topology_file::generate::{GenerateParams, generate};
use crate::topology_file::generate_nearest::{NearestParams, generate_nearest};
use crate::topology_file::{self, LoadError};

/// Topology file commands.
#[derive(Debug, Subcommand)]
pub enum TopologyCommand {
    /// Validate a topology file: exit 0 when it loads, 1 with every problem otherwise.
    Check {
        /// The topology file (YAML).
        file: PathBuf,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
    },
    /// Summarize a topology file: routers per operator, links, data centers and pools.
    Show {
        /// The topology file (YAML).
        file: PathBuf,
        /// Print the whole topology, with its SIDs, as JSON (the API's form).
        #[arg(long)]
        json: bool,
    },
    /// Write a generated topology of any size (for benchmarks and tests).
    Generate(GenerateArgs),
}

/// `cpnctl topology generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of routers.
    #[arg(long)]
    pub routers: usize,
    /// Number of operators.
    #[arg(long, default_value_t = 3)]
    pub operators: usize,
    /// Number of data centers.
    #[arg(long, default_value_t = 10)]
    pub datacenters: usize,
    /// Random seed; the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Total number of links (default: what the regional layout gives, average degree 3-4;
    /// cities shape only).
    #[arg(long)]
    pub links: Option<usize>,
    /// The network's shape: `cities` (rings and chords in cities, a backbone
    /// between them) or `nearest` (each router linked to its 3 nearest
    /// neighbours plus a chain; IGP = km / 50, latency = 5 us/km + 10;
    /// operators split by longitude; long paths, many ECMP ties).
    #[arg(long, value_enum, default_value_t = Shape::Cities)]
    pub shape: Shape,
    /// Write here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Compressed SRv6: NEXT-C-SID blocks per operator and a node micro-SID
    /// per router.
    #[arg(long)]
    pub compressed: bool,
}

/// Runs a topology command; the error is for stderr, exit status 1.
pub fn run(command: TopologyCommand) -> anyhow::Result<()> {
    match command {
        TopologyCommand::Check { file, json } => {
            let t = load(&file)?;
            if json {
                let v = serde_json::json!({
                    "file": file.display().to_string(),
                    "ok": true,
                    "operators": t.operators().len(),
                    "routers": t.router_count(),
                    "links": t.link_count(),
                    "datacenters": t.datacenters().len(),
                    "sids": t.sids().len(),
                });
                println!("{v}");
                return Ok(());
            }
            println!(
                "{}: ok ({} operators, {} routers, {} links, {} data centers, {} SIDs)",
                file.display(),
                t.operators().len(),
                t.router_count(),
                t.link_count(),
                t.datacenters().len(),
                t.sids().len()
            );
            Ok(())
        }
        TopologyCommand::Show { file, json } => {
            let t = load(&file)?;
            if json {
                let proto = crate::proto::convert::topology(&t);
                println!("{}", serde_json::to_string_pretty(&topology_json(&proto))?);
            } else {
                print!("{}", show(&t));
            }
            Ok(())
        }
        TopologyCommand::Generate(args) => generate_file(args),
    }
}

/// Loads a file, turning load errors into one message listing every problem.
pub fn load(file: &std::path::Path) -> anyhow::Result<Topology> {
    topology_file::load_file(file).map_err(|e: LoadError| anyhow::anyhow!("{e}"))
}

/// General-purpose pools whose GFLOPS per GB differ from 1:1 by more than this
/// factor are flagged: compute would wait for memory, or memory sit idle.
pub const CPU_RATIO_TOLERANCE: f64 = 2.0;

/// The human summary of `topology show`.
pub fn show(t: &Topology) -> String {
    let mut out = String::new();
    let peering = t
        .links()
        .filter(|(ix, _)| t.link_kind(*ix).eq(&crate::model::LinkKind::Peering))
        .count();
    let down = t.links().filter(|(_, l)| !l.up).count();
    out.push_str(&format!(
        "{}: {} operators, {} routers, {} links ({} peering, {} down), {} data centers\n\n",
        t.name(),
        t.operators().len(),
        t.router_count(),
        t.link_count(),
        peering,
        down,
        t.datacenters().len()
    ));

    let mut ops = table(["operator", "asn", "routers", "intra links", "peering links"]);
    for (i, op) in t.operators().iter().enumerate() {
        let ix = crate::model::OperatorIx(i as u16);
        let routers = t.routers().filter(|(_, r)| r.operator == ix).count();
        let touches = |l| {
            let (a, b) = t.link_ends(l);
            (t.router(a).operator == ix, t.router(b).operator == ix)
        };
        let intra = t
            .link_indices()
            .filter(|&l| touches(l) == (true, true))
            .count();
        let peer = t
            .link_indices()
            .filter(|&l| matches!(touches(l), (true, false) | (false, true)))
            .count();
        ops.add_row(vec![
            op.id.to_string(),
            op.asn.map(|a| a.to_string()).unwrap_or_default(),
            thousands(routers as u64),
            thousands(intra as u64),
            thousands(peer as u64),
        ]);
    }
    out.push_str(&format!("{ops}\n\n"));

    if !t.datacenters().is_empty() {
        let mut dcs = table([
            "datacenter",
            "attach",
            "city",
            "region",
            "pool",
            "TFLOPS free",
            "memory GB free",
            "price",
            "GFLOPS/GB",
            "health",
        ]);
        let mut flagged = Vec::new();
        for dc in t.datacenters() {
            let attach: Vec<&str> = dc.attach.iter().map(|&r| t.router(r).id.as_str()).collect();
            for (k, p) in dc.pools.iter().enumerate() {
                let ratio = p.gflops_per_gb();
                let far = p.kind == PoolKind::General
                    && !(1.0 / CPU_RATIO_TOLERANCE..=CPU_RATIO_TOLERANCE).contains(&ratio);
                if far {
                    flagged.push(format!(
                        "{} general pool: {:.2} GFLOPS per GB, far from 1:1 ({})",
                        dc.id,
                        ratio,
                        if ratio > 1.0 {
                            "compute will wait for memory"
                        } else {
                            "memory will sit idle"
                        }
                    ));
                }
                let first = k == 0;
                dcs.add_row(vec![
                    if first {
                        dc.id.to_string()
                    } else {
                        String::new()
                    },
                    if first {
                        attach.join(",")
                    } else {
                        String::new()
                    },
                    if first {
                        dc.city.clone().unwrap_or_default()
                    } else {
                        String::new()
                    },
                    if first {
                        dc.region.clone().unwrap_or_default()
                    } else {
                        String::new()
                    },
                    p.kind.to_string(),
                    format!("{} / {}", amount(p.available_tflops()), amount(p.tflops)),
                    format!(
                        "{} / {}",
                        amount(p.available_memory_gb()),
                        amount(p.memory_gb)
                    ),
                    format!("{:.2}", p.price),
                    format!("{ratio:.2}{}", if far { " !" } else { "" }),
                    match (&dc.reporter, first) {
                        (Some(r), true) => format!("{}, reporter {}", p.health, r.state),
                        _ => p.health.to_string(),
                    },
                ]);
            }
        }
        out.push_str(&format!("{dcs}\n"));
        for f in flagged {
            out.push_str(&format!("warning: {f}\n"));
        }
    }
    out
}

/// The shape of a generated network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// Regional cities with rings, chords and a backbone.
    Cities,
    /// Nearest neighbours plus a chain (long paths, coarse IGP).
    Nearest,
}

fn generate_file(args: GenerateArgs) -> anyhow::Result<()> {
    if args.shape == Shape::Nearest && (args.links.is_some() || args.compressed) {
        anyhow::bail!("--links and --compressed apply to --shape cities only");
    }
    let params = GenerateParams {
        routers: args.routers,
        operators: args.operators,
        datacenters: args.datacenters,
        seed: args.seed,
        links: args.links,
        compressed: args.compressed,
    };
    // Show progress only where it is worth it.
    let bar = (args.routers >= 5000).then(|| {
        let bar = ProgressBar::new(args.routers as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} routers")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message("generating");
        bar
    });
    let mut progress = |done: usize, _: usize| {
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
        }
    };
    let doc = match args.shape {
        Shape::Cities => generate(&params, &mut progress)?,
        Shape::Nearest => generate_nearest(
            &NearestParams {
                routers: args.routers,
                operators: args.operators,
                datacenters: args.datacenters,
                seed: args.seed,
            },
            &mut progress,
        )?,
    };
    if let Some(bar) = &bar {
        bar.set_message("writing");
    }
    let yaml = serde_yaml::to_string(&doc)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, yaml).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => std::io::stdout().lock().write_all(yaml.as_bytes())?,
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}

/// The API's topology (with SIDs and derived capacity) as JSON.
fn topology_json(t: &crate::proto::v1::Topology) -> serde_json::Value {
    use serde_json::json;
    let behavior = |b: i32| {
        crate::proto::convert::behavior_from_pb(b).map_or("unknown", crate::model::Behavior::name)
    };
    let kind = |k: i32| {
        crate::proto::convert::pool_kind_from(k, "kind")
            .map(|k| k.to_string())
            .unwrap_or_default()
    };
    json!({
        "name": t.name,
        "operators": t.operators.iter().map(|o| json!({"id": o.id, "asn": o.asn, "description": o.description})).collect::<Vec<_>>(),
        "routers": t.routers.iter().map(|r| json!({
            "id": r.id, "operator": r.operator, "locator": r.locator, "city": r.city, "region": r.region,
            "msd": r.msd, "mgmt": r.mgmt, "up": r.up,
            "sids": r.sids.iter().map(|s| json!({"sid": s.sid, "behavior": behavior(s.behavior), "link": s.link, "datacenter": s.datacenter})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "links": t.links.iter().map(|l| json!({
            "id": l.id, "a": l.a, "b": l.b, "igp": l.igp, "te": l.te, "latency_us": l.latency_us,
            "bandwidth_mbps": l.bandwidth_mbps, "used_mbps": l.used_mbps, "available_mbps": l.available_mbps,
            "jitter_us": l.jitter_us, "loss_ppm": l.loss_ppm, "srlg": l.srlg, "up": l.up, "peering": l.peering,
        })).collect::<Vec<_>>(),
        "datacenters": t.datacenters.iter().map(|d| json!({
            "id": d.id, "attach": d.attach, "city": d.city, "region": d.region, "latency_us": d.latency_us,
            "storage_tb": d.storage_tb,
            "pools": d.pools.iter().map(|p| json!({
                "kind": kind(p.kind), "tflops": p.tflops, "available_tflops": p.available_tflops,
                "memory_gb": p.memory_gb, "available_memory_gb": p.available_memory_gb, "price": p.price,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
