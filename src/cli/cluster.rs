//! `cpnctl cluster status`: the replicas of a controller on etcd, which one
//! leads at which epoch, and how many etcd revisions each standby is behind
//! the leader. Every replica registered is asked about itself.

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use serde::Serialize;

use super::client::{Target, connect_one, replica_urls};
use super::output::table;
use crate::proto::v1 as pb;
use crate::proto::v1::cluster_service_client::ClusterServiceClient;

/// How long each replica has to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// Cluster commands.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Replicas, the leader, its epoch, each replica's revision and lag.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// One replica in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaRow {
    /// Its id.
    pub id: String,
    /// Its API URL.
    pub url: String,
    /// `leader`, `standby`, or `unreachable`.
    pub role: String,
    /// The etcd revision its memory reflects (none when unreachable).
    pub revision: Option<i64>,
    /// Revisions behind the leader (none when unreachable or no leader).
    pub lag: Option<i64>,
}

/// The cluster as its replicas report it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterReport {
    /// The leader's id, when one answers.
    pub leader: Option<String>,
    /// Its epoch.
    pub epoch: i64,
    /// Every replica, by id.
    pub replicas: Vec<ReplicaRow>,
}

/// One replica's own status, if it answers in time.
async fn ask(target: &Target, url: &str) -> Option<pb::GetClusterStatusResponse> {
    let conn = tokio::time::timeout(ASK_TIMEOUT, connect_one(target, url))
        .await
        .ok()?
        .ok()?;
    let mut client = ClusterServiceClient::new(conn);
    let r = tokio::time::timeout(
        ASK_TIMEOUT,
        client.get_cluster_status(pb::GetClusterStatusRequest {}),
    )
    .await
    .ok()?
    .ok()?;
    Some(r.into_inner())
}

/// Asks the replicas given, then every replica they know of.
pub async fn report(target: &Target) -> anyhow::Result<ClusterReport> {
    let given = replica_urls(&target.url);
    let mut members: Vec<(String, String)> = Vec::new();
    let mut answers = Vec::new();
    for url in &given {
        if let Some(r) = ask(target, url).await {
            members.extend(r.members.iter().map(|m| (m.id.clone(), m.url.clone())));
            answers.push((url.clone(), r));
            if !members.is_empty() {
                break;
            }
        }
    }
    anyhow::ensure!(
        !answers.is_empty(),
        super::online::Failure {
            code: 1,
            message: format!("none of the replicas answered: {}", given.join(", ")),
        }
    );
    if members.is_empty() {
        // One machine, or etcd unreachable: the replicas given.
        members = answers
            .iter()
            .map(|(url, r)| {
                let id = r.replica.as_ref().map(|x| x.id.clone()).unwrap_or_default();
                (id, url.clone())
            })
            .collect();
    }
    members.sort();
    members.dedup();
    let mut rows = Vec::new();
    let mut statuses = Vec::new();
    for (id, url) in &members {
        let own = match answers.iter().find(|(u, _)| u == url) {
            Some((_, r)) => Some(r.clone()),
            None => ask(target, url).await,
        };
        let replica = own.and_then(|r| r.replica);
        statuses.push(replica.clone());
        rows.push(ReplicaRow {
            id: id.clone(),
            url: url.clone(),
            role: replica
                .as_ref()
                .map_or("unreachable".into(), |r| r.role.clone()),
            revision: replica.as_ref().map(|r| r.revision),
            lag: None,
        });
    }
    let leader = statuses
        .iter()
        .flatten()
        .filter(|s| s.role == "leader")
        .max_by_key(|s| s.epoch)
        .cloned();
    if let Some(l) = &leader {
        for row in &mut rows {
            row.lag = row.revision.map(|r| (l.revision - r).max(0));
        }
    }
    Ok(ClusterReport {
        leader: leader.as_ref().map(|l| l.id.clone()),
        epoch: leader.map_or(0, |l| l.epoch),
        replicas: rows,
    })
}

/// Runs a cluster command.
pub async fn run(target: &Target, command: ClusterCommand) -> anyhow::Result<ExitCode> {
    let ClusterCommand::Status { json } = command;
    let r = report(target).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", render(&r));
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as a table.
pub fn render(r: &ClusterReport) -> String {
    let opt = |v: Option<i64>| v.map_or("-".to_owned(), |v| v.to_string());
    let mut t = table(["replica", "url", "role", "revision", "lag"]);
    for x in &r.replicas {
        t.add_row(vec![
            x.id.clone(),
            x.url.clone(),
            x.role.clone(),
            opt(x.revision),
            opt(x.lag),
        ]);
    }
    format!(
        "leader: {} (epoch {})\n{t}\n",
        r.leader.as_deref().unwrap_or("none"),
        r.epoch,
    )
}
