//! `cpnctl bgp-ls status`, and the sources of routers and links that
//! `cpnctl topology` shows: what `cpnd --bgp-ls` learns over BGP-LS.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Subcommand;
use serde_json::json;

use super::client::{Target, connect};
use super::output::{table, thousands};
use crate::proto::v1 as pb;
use crate::proto::v1::bgp_ls_service_client::BgpLsServiceClient;

/// BGP-LS commands.
#[derive(Debug, Subcommand)]
pub enum BgpLsCommand {
    /// Sessions, routes received, last update, what was applied.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The speaker's status (`enabled: false` when cpnd runs without --bgp-ls).
pub async fn fetch(target: &Target) -> anyhow::Result<pb::GetBgpLsStatusResponse> {
    let mut client = BgpLsServiceClient::new(connect(target).await?)
        .max_decoding_message_size(crate::grpc::MAX_MESSAGE_BYTES);
    Ok(client
        .get_bgp_ls_status(pb::GetBgpLsStatusRequest {})
        .await
        .map_err(|s| super::online::Failure {
            code: 1,
            message: s.message().to_owned(),
        })?
        .into_inner())
}

/// Runs a BGP-LS command.
pub async fn run(target: &Target, command: BgpLsCommand) -> anyhow::Result<ExitCode> {
    let BgpLsCommand::Status { json } = command;
    let s = fetch(target).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status_json(&s))?);
    } else {
        print!("{}", render(&s, now_ms()));
    }
    Ok(ExitCode::SUCCESS)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn ago(now: u64, then: u64) -> String {
    if then == 0 {
        return "never".to_owned();
    }
    let s = now.saturating_sub(then) / 1000;
    match s {
        0..=119 => format!("{s} s ago"),
        120..=7199 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

/// The status as JSON.
pub fn status_json(s: &pb::GetBgpLsStatusResponse) -> serde_json::Value {
    let origins = |o: &[pb::BgpLsOrigin]| {
        o.iter()
            .map(|o| (o.id.clone(), json!(o.source)))
            .collect::<serde_json::Map<_, _>>()
    };
    json!({
        "enabled": s.enabled,
        "listen": s.listen,
        "asn": s.asn,
        "bgp_id": s.bgp_id,
        "synced": s.synced,
        "peers": s.peers.iter().map(|p| {
            let c = p.counters.unwrap_or_default();
            json!({
                "peer": p.peer, "state": p.state, "asn": p.asn, "bgp_id": p.bgp_id,
                "hold_time": p.hold_time, "synced": p.synced,
                "nodes": p.nodes, "links": p.links, "prefixes": p.prefixes,
                "srv6_sids": p.srv6_sids, "other": p.other,
                "counters": {
                    "updates": c.updates, "announced": c.announced, "withdrawn": c.withdrawn,
                    "unknown_tlvs": c.unknown_tlvs, "malformed_tlvs": c.malformed_tlvs,
                    "unknown_nlri": c.unknown_nlri, "attributes_discarded": c.attributes_discarded,
                    "treated_as_withdraw": c.treated_as_withdraw, "end_of_rib": c.end_of_rib,
                },
                "established_unix_ms": p.established_unix_ms,
                "last_update_unix_ms": p.last_update_unix_ms,
                "last_error": p.last_error,
            })
        }).collect::<Vec<_>>(),
        "routers": origins(&s.routers),
        "links": origins(&s.links),
        "event_batches": s.event_batches,
        "events": s.events,
        "rebuilds": s.rebuilds,
        "last_apply_unix_ms": s.last_apply_unix_ms,
        "last_apply": s.last_apply,
        "problems": s.problems,
    })
}

/// The status for people.
pub fn render(s: &pb::GetBgpLsStatusResponse, now: u64) -> String {
    if !s.enabled {
        return "BGP-LS is off (cpnd runs without --bgp-ls)\n".to_owned();
    }
    let mut out = format!(
        "BGP-LS on {} (AS {}, BGP Identifier {}): {}\n",
        s.listen,
        s.asn,
        s.bgp_id,
        if s.synced {
            format!(
                "network applied {}: {}",
                ago(now, s.last_apply_unix_ms),
                s.last_apply
            )
        } else {
            "waiting for a complete table (End-of-RIB)".to_owned()
        }
    );
    out.push_str(&format!(
        "applied {} event batches ({} events) and {} rebuilds\n\n",
        thousands(s.event_batches),
        thousands(s.events),
        thousands(s.rebuilds)
    ));
    if s.peers.is_empty() {
        out.push_str("no peer has connected\n");
    } else {
        let mut t = table([
            "peer",
            "state",
            "AS",
            "BGP id",
            "hold",
            "complete",
            "nodes",
            "links",
            "prefixes",
            "SRv6 SIDs",
            "updates",
            "not understood",
            "last update",
            "last error",
        ]);
        for p in &s.peers {
            let c = p.counters.unwrap_or_default();
            t.add_row(vec![
                p.peer.clone(),
                p.state.clone(),
                if p.asn == 0 {
                    String::new()
                } else {
                    p.asn.to_string()
                },
                p.bgp_id.clone(),
                format!("{} s", p.hold_time),
                if p.synced { "yes" } else { "no" }.to_owned(),
                thousands(p.nodes),
                thousands(p.links),
                thousands(p.prefixes),
                thousands(p.srv6_sids),
                thousands(c.updates),
                format!(
                    "{} TLVs, {} NLRI",
                    thousands(c.unknown_tlvs + c.malformed_tlvs),
                    thousands(c.unknown_nlri)
                ),
                ago(now, p.last_update_unix_ms),
                p.last_error.clone(),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    for p in &s.problems {
        out.push_str(&format!("note: {p}\n"));
    }
    out
}

/// Sources of routers and links, by id.
pub struct Sources {
    /// Router id -> source.
    pub routers: BTreeMap<String, String>,
    /// Link id -> source.
    pub links: BTreeMap<String, String>,
    /// The controller runs a BGP-LS speaker.
    pub enabled: bool,
}

impl Sources {
    /// Where router or link `id` came from: its source, else "file"
    /// (without BGP-LS) or "stored" (kept from the data directory, not
    /// learned again yet).
    pub fn of(&self, map: &BTreeMap<String, String>, id: &str) -> String {
        map.get(id)
            .cloned()
            .unwrap_or_else(|| if self.enabled { "stored" } else { "file" }.to_owned())
    }
}

/// The sources as the controller tells them.
pub async fn sources(target: &Target) -> anyhow::Result<Sources> {
    let s = fetch(target).await?;
    let map = |o: &[pb::BgpLsOrigin]| o.iter().map(|o| (o.id.clone(), o.source.clone())).collect();
    Ok(Sources {
        routers: map(&s.routers),
        links: map(&s.links),
        enabled: s.enabled,
    })
}

/// Routers and links per source, and (when `each`) every one of them.
pub fn render_sources(t: &crate::model::Topology, s: &Sources, each: bool) -> String {
    let mut per: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut rows = Vec::new();
    for (_, r) in t.routers() {
        let src = s.of(&s.routers, r.id.as_str());
        per.entry(src.clone()).or_default().0 += 1;
        rows.push(("router", r.id.to_string(), src));
    }
    for (_, l) in t.links() {
        let src = s.of(&s.links, l.id.as_str());
        per.entry(src.clone()).or_default().1 += 1;
        rows.push(("link", l.id.to_string(), src));
    }
    let mut summary = table(["source", "routers", "links"]);
    for (src, (r, l)) in &per {
        summary.add_row(vec![src.clone(), thousands(*r), thousands(*l)]);
    }
    let mut out = format!("{summary}\n");
    if each {
        let mut all = table(["kind", "id", "source"]);
        for (kind, id, src) in rows {
            all.add_row(vec![kind.to_owned(), id, src]);
        }
        out.push_str(&format!("{all}\n"));
    } else {
        out.push_str("(--sources lists every router and link with its source)\n");
    }
    out
}
