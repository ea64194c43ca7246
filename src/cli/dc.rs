//! `cpnctl dc`: a data center's side of the controller. `report` sends one
//! pool report (for scripts); `reporter` keeps reporting figures read from
//! a Prometheus text endpoint (a GPU exporter, a scheduler's metrics), as
//! a mapping file says, so that a real site is wired without code.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde::Deserialize;
use tokio_stream::StreamExt;

use super::client::{Target, connect};
use super::online::Failure;
use super::prometheus::{Sample, Selector, scrape};
use crate::document::PoolReportDoc;
use crate::model::{PoolHealth, PoolKind};
use crate::proto::convert;
use crate::proto::v1 as pb;
use crate::proto::v1::compute_service_client::ComputeServiceClient;

/// `cpnctl dc ...`
#[derive(Debug, Subcommand)]
pub enum DcCommand {
    /// Report one pool of a data center once: exit 0 when the controller
    /// took it, 1 on bad input or an unknown data center or pool.
    Report(ReportArgs),
    /// Keep reporting a data center's pools from a Prometheus text
    /// endpoint, as a mapping file says (docs/compute.md).
    Reporter(ReporterArgs),
}

/// `cpnctl dc report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The data center id.
    #[arg(long)]
    datacenter: String,
    /// The pool kind.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["ai", "hpc", "general"]))]
    pool: String,
    /// Capacity, TFLOPS.
    #[arg(long)]
    tflops: Option<f64>,
    /// TFLOPS free as the data center's scheduler sees it.
    #[arg(long)]
    free_tflops: Option<f64>,
    /// Memory free, GB.
    #[arg(long)]
    free_memory_gb: Option<f64>,
    /// Price per TFLOPS-hour.
    #[arg(long)]
    price: Option<f64>,
    /// Health.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["up", "degraded", "down"]))]
    health: Option<String>,
    /// Queue wait before a job starts, seconds.
    #[arg(long)]
    queue_wait_s: Option<f64>,
    /// How often this data center reports, seconds (silent longer: stale).
    #[arg(long)]
    interval_s: Option<u32>,
}

/// `cpnctl dc reporter`
#[derive(Debug, Args)]
pub struct ReporterArgs {
    /// The mapping file (YAML): data center, endpoint, interval, and where
    /// each pool's figures come from.
    #[arg(long, value_name = "FILE")]
    map: PathBuf,
    /// Scrape and report once, then exit (0: every report taken).
    #[arg(long)]
    once: bool,
}

fn bad(message: String) -> anyhow::Error {
    Failure { code: 1, message }.into()
}

/// Sends `reports` on one stream; the acknowledgements, in order.
async fn send(target: &Target, reports: Vec<pb::PoolReport>) -> anyhow::Result<Vec<pb::ReportAck>> {
    let mut client = ComputeServiceClient::new(connect(target).await?);
    let n = reports.len();
    let mut acks = client
        .report(tokio_stream::iter(reports))
        .await
        .map_err(|s| bad(s.message().to_owned()))?
        .into_inner();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match acks.next().await {
            Some(Ok(ack)) => out.push(ack),
            Some(Err(s)) => return Err(bad(s.message().to_owned())),
            None => return Err(bad("the controller closed the stream".into())),
        }
    }
    Ok(out)
}

/// One line about an acknowledged report.
fn describe(report: &pb::PoolReport, ack: &pb::ReportAck) -> String {
    let kind = pb::PoolKind::try_from(report.kind).map_or("?", |k| k.as_str_name());
    let kind = kind.trim_start_matches("POOL_KIND_").to_lowercase();
    if ack.error.is_empty() {
        format!(
            "reported {}/{kind}: {} policies changed",
            report.datacenter,
            ack.affected_policies.len()
        )
    } else {
        format!("refused {}/{kind}: {}", report.datacenter, ack.error)
    }
}

/// `cpnctl dc report`
pub async fn report(target: &Target, a: ReportArgs) -> anyhow::Result<ExitCode> {
    let kind: PoolKind = a.pool.parse().map_err(bad)?;
    let doc = PoolReportDoc {
        tflops: a.tflops,
        free_tflops: a.free_tflops,
        free_memory_gb: a.free_memory_gb,
        price: a.price,
        health: a
            .health
            .map(|h| h.parse::<PoolHealth>())
            .transpose()
            .map_err(bad)?,
        queue_wait_s: a.queue_wait_s,
        interval_s: a.interval_s,
        ..PoolReportDoc::new(a.datacenter, kind)
    };
    let report = convert::report_to_pb(&doc);
    let acks = send(target, vec![report.clone()]).await?;
    let line = describe(&report, &acks[0]);
    if acks[0].error.is_empty() {
        eprintln!("{line}");
        Ok(ExitCode::SUCCESS)
    } else {
        Err(bad(line))
    }
}

/// The reporter's mapping file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterMap {
    /// The data center reported for.
    pub datacenter: String,
    /// The Prometheus text endpoint, `http://HOST:PORT/metrics`.
    pub scrape: String,
    /// Seconds between reports (declared to the controller).
    #[serde(default = "default_interval")]
    pub interval_s: u32,
    /// Each pool's figures.
    pub pools: Vec<PoolMap>,
}

fn default_interval() -> u32 {
    crate::document::DEFAULT_REPORT_INTERVAL_S
}

/// Where one pool's figures come from; unset ones are not reported.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolMap {
    /// The pool kind.
    pub kind: PoolKind,
    /// Capacity, TFLOPS.
    #[serde(default)]
    pub tflops: Option<Figure>,
    /// TFLOPS free.
    #[serde(default)]
    pub free_tflops: Option<Figure>,
    /// Memory free, GB.
    #[serde(default)]
    pub free_memory_gb: Option<Figure>,
    /// Price per TFLOPS-hour.
    #[serde(default)]
    pub price: Option<Figure>,
    /// Queue wait, seconds.
    #[serde(default)]
    pub queue_wait_s: Option<Figure>,
    /// Health from a metric.
    #[serde(default)]
    pub health: Option<HealthRule>,
}

/// A figure: a constant, a metric, or free TFLOPS from a utilisation.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Figure {
    /// A constant.
    Constant(f64),
    /// `{utilisation: SELECTOR, full: 100}`: free = capacity x (1 -
    /// utilisation / full) (only for `free_tflops`, with `tflops` set).
    Utilisation {
        /// The utilisation metric.
        utilisation: Selector,
        /// The value that means fully used.
        full: f64,
    },
    /// A metric.
    Metric(Selector),
}

/// Health from a metric: below `down_below` down, below `degraded_below`
/// degraded, else up.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthRule {
    /// The metric.
    pub from: Selector,
    /// Down below this value.
    pub down_below: f64,
    /// Degraded below this value.
    #[serde(default)]
    pub degraded_below: Option<f64>,
}

impl ReporterMap {
    /// Reads and checks a mapping file; errors name the file.
    pub fn load(path: &std::path::Path) -> anyhow::Result<ReporterMap> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let map: ReporterMap =
            serde_yaml::from_str(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        if map.interval_s == 0 {
            return Err(bad(format!(
                "{}: interval_s: 0 must be > 0",
                path.display()
            )));
        }
        for (i, p) in map.pools.iter().enumerate() {
            if matches!(p.free_tflops, Some(Figure::Utilisation { .. })) && p.tflops.is_none() {
                return Err(bad(format!(
                    "{}: pools[{i}].free_tflops: a utilisation needs `tflops` (the capacity)",
                    path.display()
                )));
            }
        }
        Ok(map)
    }

    /// The reports the samples give; an error names the pool and figure.
    pub fn reports(&self, samples: &[Sample]) -> Result<Vec<PoolReportDoc>, String> {
        let mut out = Vec::new();
        for p in &self.pools {
            let at = |what: &str, e: String| format!("{} pool, {what}: {e}", p.kind);
            let value = |f: &Option<Figure>, what: &str, capacity: Option<f64>| {
                f.as_ref()
                    .map(|f| match f {
                        Figure::Constant(v) => Ok(*v),
                        Figure::Metric(s) => s.pick(samples),
                        Figure::Utilisation { utilisation, full } => {
                            let used = utilisation.pick(samples)? / full;
                            Ok(capacity.unwrap_or(0.0) * (1.0 - used.clamp(0.0, 1.0)))
                        }
                    })
                    .transpose()
                    .map_err(|e| at(what, e))
            };
            let tflops = value(&p.tflops, "tflops", None)?;
            let free_tflops = value(&p.free_tflops, "free_tflops", tflops)?;
            let free_memory_gb = value(&p.free_memory_gb, "free_memory_gb", None)?;
            let health = match &p.health {
                None => None,
                Some(rule) => {
                    let v = rule.from.pick(samples).map_err(|e| at("health", e))?;
                    Some(if v < rule.down_below {
                        PoolHealth::Down
                    } else if rule.degraded_below.is_some_and(|d| v < d) {
                        PoolHealth::Degraded
                    } else {
                        PoolHealth::Up
                    })
                }
            };
            out.push(PoolReportDoc {
                tflops,
                free_tflops,
                free_memory_gb,
                price: value(&p.price, "price", None)?,
                queue_wait_s: value(&p.queue_wait_s, "queue_wait_s", None)?,
                health,
                interval_s: Some(self.interval_s),
                ..PoolReportDoc::new(self.datacenter.clone(), p.kind)
            });
        }
        Ok(out)
    }
}

/// One round: scrape, report every pool; Ok(true) when every report was
/// taken.
async fn round(target: &Target, map: &ReporterMap) -> anyhow::Result<bool> {
    let samples = scrape(&map.scrape).await.map_err(bad)?;
    let docs = map.reports(&samples).map_err(bad)?;
    let reports: Vec<pb::PoolReport> = docs.iter().map(convert::report_to_pb).collect();
    let acks = send(target, reports.clone()).await?;
    let mut all = true;
    for (r, a) in reports.iter().zip(&acks) {
        all &= a.error.is_empty();
        eprintln!("{}", describe(r, a));
    }
    Ok(all)
}

/// `cpnctl dc reporter`
pub async fn reporter(target: &Target, a: ReporterArgs) -> anyhow::Result<ExitCode> {
    let map = ReporterMap::load(&a.map)?;
    if a.once {
        return Ok(if round(target, &map).await? {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    eprintln!(
        "reporting {} every {} s from {} (Ctrl-C to stop)",
        map.datacenter, map.interval_s, map.scrape
    );
    let mut tick = tokio::time::interval(Duration::from_secs(u64::from(map.interval_s)));
    loop {
        tick.tick().await;
        // A failed round is skipped: a controller that hears nothing marks
        // the data center stale, which is the truth.
        if let Err(e) = round(target, &map).await {
            eprintln!("round skipped: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_turns_gpu_utilisation_into_free_tflops_and_health() {
        let map: ReporterMap = serde_yaml::from_str(
            "datacenter: dc-north
scrape: http://127.0.0.1:9400/metrics
interval_s: 5
pools:
  - kind: ai
    tflops: 400
    free_tflops: {utilisation: {metric: gpu_util, aggregate: mean}, full: 100}
    free_memory_gb: {metric: mem_bytes, factor: 1.0e-9}
    health: {from: {metric: up}, down_below: 1}
",
        )
        .unwrap();
        let samples = super::super::prometheus::parse(
            "gpu_util{gpu=\"0\"} 20\ngpu_util{gpu=\"1\"} 60\nmem_bytes 3e11\nup 0\n",
        )
        .unwrap();
        let r = &map.reports(&samples).unwrap()[0];
        assert_eq!(r.tflops, Some(400.0));
        assert_eq!(r.free_tflops, Some(240.0), "mean utilisation 40%");
        assert_eq!(r.free_memory_gb, Some(300.0));
        assert_eq!(r.health, Some(PoolHealth::Down));
        assert_eq!(r.interval_s, Some(5));
        let missing = map.reports(&samples[..1]).unwrap_err();
        assert!(missing.contains("ai pool, free_memory_gb"), "{missing}");
    }
}
