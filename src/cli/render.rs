//! Human tables for answers and policies, from their JSON documents (so the
//! offline engine and the controller's API render the same way).

use super::output::{table, thousands};
use crate::document::{AnswerJson, PlacementJson, PolicyJson, RejectionJson};
use crate::engine::fmt_num;
use crate::model::srh;

/// One placement: destination, path, metrics, segments.
pub fn placement(title: &str, p: &PlacementJson, msd: Option<u8>) -> String {
    let mut s = String::new();
    let dest = match (&p.datacenter, &p.pool) {
        (Some(dc), Some(pool)) => format!("{dc} ({pool} pool) via {}", p.endpoint),
        (Some(dc), None) => format!("{dc} via {}", p.endpoint),
        _ => p.endpoint.clone(),
    };
    s.push_str(&format!("{title}: {} -> {dest}\n", p.headend));
    s.push_str(&format!("  path      {}\n", p.path.join(" -> ")));
    let m = &p.metrics;
    s.push_str(&format!(
        "  metrics   latency {}us, igp {}, te {}, jitter {}us, loss {}ppm, min available {}, price {}\n",
        thousands(m.latency_us),
        m.igp,
        m.te,
        m.jitter_us,
        m.loss_ppm,
        m.min_available_mbps.map_or("-".into(), |b| format!("{} Mbit/s", thousands(b))),
        fmt_num((m.price * 100.0).round() / 100.0),
    ));
    let of = msd.map(|m| format!(" of msd {m}")).unwrap_or_default();
    match &p.containers {
        None => s.push_str(&format!(
            "  segments  {}{of} ({} bytes of H.Encaps overhead)\n",
            p.segments.len(),
            srh::encap_overhead(p.segments.len())
        )),
        Some(containers) => {
            s.push_str(&format!(
                "  segments  {} in {} container{}{of}, next-csid ({} bytes of H.Encaps.Red overhead, {} uncompressed)\n",
                p.segments.len(),
                containers.len(),
                if containers.len() == 1 { "" } else { "s" },
                srh::encap_red_overhead(containers.len()),
                srh::encap_overhead(p.segments.len())
            ));
            for (i, c) in containers.iter().enumerate() {
                s.push_str(&format!("  container {i}  {c}\n"));
            }
        }
    }
    let compressed = p.containers.is_some();
    let mut header = vec!["#", "SID", "behavior", "router", "link / data center"];
    if compressed {
        header.push("container");
    }
    let mut segs = table(header);
    for (i, seg) in p.segments.iter().enumerate() {
        let what = seg
            .link
            .clone()
            .or_else(|| seg.datacenter.clone())
            .unwrap_or_default();
        let mut row = vec![
            (i + 1).to_string(),
            seg.sid.clone(),
            seg.behavior.clone(),
            seg.router.clone(),
            what,
        ];
        if compressed {
            row.push(seg.container.map(|c| c.to_string()).unwrap_or_default());
        }
        segs.add_row(row);
    }
    s.push_str(&format!("{segs}\n"));
    s
}

/// Why the other data centers lost.
pub fn rejected(rejected: &[RejectionJson]) -> String {
    if rejected.is_empty() {
        return String::new();
    }
    let mut r = table(["data center", "feasible", "why not chosen"]);
    for x in rejected {
        r.add_row(vec![
            x.datacenter.clone(),
            if x.feasible { "yes" } else { "no" }.to_owned(),
            x.reason.clone(),
        ]);
    }
    format!("{r}\n")
}

/// A whole answer.
pub fn answer(a: &AnswerJson, msd: Option<u8>) -> String {
    let mut s = placement("primary", &a.primary, msd);
    if let Some(b) = &a.backup {
        s.push('\n');
        s.push_str(&placement("backup", b, msd));
    }
    if let Some(Some(b)) = &a.standby {
        s.push('\n');
        s.push_str(&placement("standby", b, msd));
    }
    if !a.rejected.is_empty() {
        s.push('\n');
        s.push_str(&rejected(&a.rejected));
    }
    if let Some(others) = a.standby_rejected.as_deref().filter(|r| !r.is_empty()) {
        s.push_str("\nnot the standby:\n");
        s.push_str(&rejected(others));
    }
    for note in &a.notes {
        s.push_str(&format!("note: {note}\n"));
    }
    s
}

/// One policy in full.
pub fn policy(p: &PolicyJson) -> String {
    let mut s = format!(
        "policy {} (version {}): {}{}\n  southbound {}{}\n\n",
        p.name,
        p.version,
        p.state,
        p.reason
            .as_ref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default(),
        p.southbound,
        p.southbound_detail
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default(),
    );
    if let Some(from) = &p.failed_over_from {
        s.insert_str(
            s.len() - 1,
            &format!(
                "  failed over from {from}: it stays here until `cpnctl policy failback {}`\n",
                p.name
            ),
        );
    }
    if let (Some(endpoint), Some(metrics)) = (&p.endpoint, &p.metrics) {
        let a = AnswerJson {
            primary: PlacementJson {
                headend: p.headend.clone(),
                datacenter: p.datacenter.clone(),
                pool: p.pool.clone(),
                endpoint: endpoint.clone(),
                path: p.path.clone(),
                links: p.links.clone(),
                segments: p.segments.clone(),
                compression: p.compression.clone(),
                containers: p.containers.clone(),
                metrics: *metrics,
            },
            backup: p.backup.clone(),
            standby: p.standby.clone().map(Some),
            rejected: p.rejected.clone(),
            standby_rejected: None,
            notes: p.notes.clone(),
        };
        s.push_str(&answer(&a, None));
    }
    s
}

/// Policies, one row each.
pub fn policy_list(policies: &[PolicyJson]) -> String {
    if policies.is_empty() {
        return "no policies\n".into();
    }
    let mut t = table([
        "name",
        "state",
        "data center",
        "path",
        "segments",
        "latency us",
        "southbound",
        "reason",
    ]);
    for p in policies {
        t.add_row(vec![
            p.name.clone(),
            p.state.clone(),
            p.datacenter.clone().unwrap_or_default(),
            p.path.join(" -> "),
            if p.state == "up" {
                p.segments.len().to_string()
            } else {
                String::new()
            },
            p.metrics
                .as_ref()
                .map(|m| thousands(m.latency_us))
                .unwrap_or_default(),
            p.southbound.clone(),
            p.reason.clone().unwrap_or_default(),
        ]);
    }
    format!("{t}\n")
}
