//! `cpnctl load`: a load generator for `cpnd`. N concurrent clients mix path
//! queries, installs and removals for T seconds; the report gives throughput,
//! latency percentiles per operation, and errors by status code.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::bench::random_requests;
use super::client::{Target, connect};
use crate::document::{ComputeDoc, ConstraintsDoc, RequestDoc};
use crate::proto::convert;
use crate::proto::v1 as pb;
use crate::proto::v1::path_service_client::PathServiceClient;
use crate::proto::v1::policy_service_client::PolicyServiceClient;
use crate::proto::v1::topology_service_client::TopologyServiceClient;

/// `cpnctl load`
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// How long to run, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Weights of queries, installs and removals, as Q:I:R.
    #[arg(long, default_value = "30:50:20")]
    pub mix: String,
    /// TFLOPS each installed job asks for (small, so capacity lasts).
    #[arg(long, default_value_t = 0.01)]
    pub tflops: f64,
    /// Bandwidth each installed job reserves, Mbit/s.
    #[arg(long, default_value_t = 1)]
    pub mbps: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Remove the policies this run installed when done.
    #[arg(long)]
    pub cleanup: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Query,
    Install,
    Remove,
}

/// Figures of one operation kind.
#[derive(Debug, Serialize)]
pub struct OpStats {
    /// Completed calls (any outcome).
    pub calls: usize,
    /// Calls per second.
    pub per_second: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
    /// Errors by gRPC status code.
    pub errors: BTreeMap<String, usize>,
}

/// What `cpnctl load` reports.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    /// Clients.
    pub clients: usize,
    /// Wall time, seconds.
    pub seconds: f64,
    /// All calls per second.
    pub per_second: f64,
    /// Per operation.
    pub ops: BTreeMap<String, OpStats>,
}

fn parse_mix(mix: &str) -> anyhow::Result<[u32; 3]> {
    let parts: Vec<u32> = mix
        .split(':')
        .map(|p| p.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--mix {mix}: expected Q:I:R weights like 30:50:20"))?;
    anyhow::ensure!(
        parts.len() == 3 && parts.iter().sum::<u32>() > 0,
        "--mix {mix}: expected Q:I:R weights like 30:50:20"
    );
    Ok([parts[0], parts[1], parts[2]])
}

/// Runs the load against `target`.
pub async fn run(target: &Target, args: LoadArgs) -> anyhow::Result<LoadReport> {
    let mix = parse_mix(&args.mix)?;
    anyhow::ensure!(args.clients > 0, "--clients must be at least 1");
    let channel = connect(target).await?;
    let exported = TopologyServiceClient::new(channel.clone())
        .max_decoding_message_size(crate::grpc::MAX_MESSAGE_BYTES)
        .export_topology(pb::ExportTopologyRequest {})
        .await?
        .into_inner();
    let doc: crate::topology_file::TopologyDocument = serde_yaml::from_str(&exported.yaml)?;
    let t = doc
        .to_builder()
        .map_err(|e| anyhow::anyhow!("{}", e[0].message))?
        .build()?;
    let requests: Vec<RequestDoc> = random_requests(&t, 4096, args.seed)
        .iter()
        .map(|r| RequestDoc {
            from: t.router(r.from).id.to_string(),
            compute: r.compute.map(|c| ComputeDoc {
                kind: c.kind,
                tflops: args.tflops,
                memory_gb: 0.0,
            }),
            constraints: Some(ConstraintsDoc {
                min_bandwidth_mbps: Some(args.mbps),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let requests = std::sync::Arc::new(requests);
    let run_id = format!("load-{}-{}", std::process::id(), args.seed);
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..args.clients {
        let (channel, requests, run_id) = (channel.clone(), requests.clone(), run_id.clone());
        let cleanup = args.cleanup;
        tasks.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(client as u64 + 1);
            let mut policies = PolicyServiceClient::new(channel.clone());
            let mut paths = PathServiceClient::new(channel);
            let mut mine: Vec<String> = Vec::new();
            let mut samples: Vec<(Op, Duration, Option<tonic::Code>)> = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let roll = rng.random_range(0..mix.iter().sum::<u32>());
                let mut op = if roll < mix[0] {
                    Op::Query
                } else if roll < mix[0] + mix[1] {
                    Op::Install
                } else {
                    Op::Remove
                };
                if op == Op::Remove && mine.is_empty() {
                    op = Op::Install;
                }
                let req = &requests[rng.random_range(0..requests.len())];
                let t0 = Instant::now();
                let code = match op {
                    Op::Query => paths
                        .compute_path(pb::ComputePathRequest {
                            request: Some(convert::request_to_pb(req)),
                        })
                        .await
                        .err()
                        .map(|s| s.code()),
                    Op::Install => {
                        n += 1;
                        let name = format!("{run_id}-{client}-{n}");
                        let r = pb::InstallPolicyRequest {
                            name: name.clone(),
                            request: Some(convert::request_to_pb(req)),
                            ..Default::default()
                        };
                        match policies.install_policy(r).await {
                            Ok(_) => {
                                mine.push(name);
                                None
                            }
                            Err(s) => Some(s.code()),
                        }
                    }
                    Op::Remove => {
                        let name = mine.swap_remove(rng.random_range(0..mine.len()));
                        policies
                            .remove_policy(pb::RemovePolicyRequest {
                                name,
                                ..Default::default()
                            })
                            .await
                            .err()
                            .map(|s| s.code())
                    }
                };
                samples.push((op, t0.elapsed(), code));
            }
            if cleanup {
                for name in mine {
                    let _ = policies
                        .remove_policy(pb::RemovePolicyRequest {
                            name,
                            ..Default::default()
                        })
                        .await;
                }
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let wall = started
        .elapsed()
        .as_secs_f64()
        .min(args.seconds.max(1e-9))
        .max(1e-9);
    let mut ops = BTreeMap::new();
    for op in [Op::Query, Op::Install, Op::Remove] {
        let mut times: Vec<Duration> = all.iter().filter(|s| s.0 == op).map(|s| s.1).collect();
        if times.is_empty() {
            continue;
        }
        times.sort();
        let at =
            |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
        let mut errors = BTreeMap::new();
        for s in all.iter().filter(|s| s.0 == op) {
            if let Some(code) = s.2 {
                *errors.entry(format!("{code:?}")).or_insert(0) += 1;
            }
        }
        let name = serde_json::to_value(op)?
            .as_str()
            .unwrap_or("op")
            .to_owned();
        ops.insert(
            name,
            OpStats {
                calls: times.len(),
                per_second: times.len() as f64 / wall,
                p50_ms: at(0.5),
                p99_ms: at(0.99),
                max_ms: at(1.0),
                errors,
            },
        );
    }
    Ok(LoadReport {
        clients: args.clients,
        seconds: wall,
        per_second: all.len() as f64 / wall,
        ops,
    })
}

/// Prints a report.
pub fn print(report: &LoadReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    println!(
        "{} clients, {:.1} s: {:.0} calls/s in all",
        report.clients, report.seconds, report.per_second
    );
    let mut t = super::output::table([
        "operation",
        "calls",
        "per second",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
    ]);
    for (name, s) in &report.ops {
        let errors: Vec<String> = s.errors.iter().map(|(c, n)| format!("{c}: {n}")).collect();
        t.add_row(vec![
            name.clone(),
            s.calls.to_string(),
            format!("{:.0}", s.per_second),
            format!("{:.2}", s.p50_ms),
            format!("{:.2}", s.p99_ms),
            format!("{:.2}", s.max_ms),
            errors.join(", "),
        ]);
    }
    println!("{t}");
    Ok(())
}
