//! Learned routers and links plus the business data to a [`Topology`]: the
//! file's operators, data centers and own routers and links, the learned
//! ones beside them (a learned router or link wins over the file's of the
//! same id), gateways not learned yet set aside. Loads that events set on
//! the live topology (pools, links the network gives no utilization for)
//! are carried over, so a rebuild loses no compute report.

use std::collections::BTreeSet;

use super::Learned;
use crate::model::{BuildErrors, DEFAULT_MSD, LinkDraft, RouterDraft, Topology};
use crate::topology_file::business::Business;

/// A topology built from learned state, and what was set aside.
#[derive(Debug)]
pub struct Built {
    /// The topology.
    pub topology: Topology,
    /// What the build left out or replaced, in words.
    pub notes: Vec<String>,
}

/// Builds the topology of `learned` with `business`, carrying loads over
/// from `live` (the controller's topology now, if any).
pub fn build(
    learned: &Learned,
    business: &Business,
    live: Option<&Topology>,
) -> Result<Built, BuildErrors> {
    let mut notes = Vec::new();
    let mut b = business.builder();
    b.routers.retain(|r| {
        let learned_too = learned.routers.contains_key(r.id.as_str());
        if learned_too {
            notes.push(format!(
                "router `{}` of the file is learned over BGP-LS: the network's is used",
                r.id
            ));
        }
        !learned_too
    });
    b.links
        .retain(|l| !learned.links.contains_key(l.id.as_str()));
    for (id, r) in &learned.routers {
        b.router(RouterDraft {
            id: id.as_str().into(),
            operator: r.operator.as_str().into(),
            locator: r.locator,
            city: r.city.clone(),
            region: r.region.clone(),
            msd: r.msd.unwrap_or(DEFAULT_MSD),
            mgmt: r.mgmt.clone(),
            end_sid: r.end_sid,
            usid: None,
            prefix: r.prefix,
            // BGP-LS carries no coordinates: the console lays learned
            // routers out by force.
            lat: None,
            lon: None,
        });
    }
    let live_used = |id: &str| {
        live.and_then(|t| t.link_ix(id))
            .map(|ix| live.expect("checked").link(ix).used_mbps)
    };
    for (id, l) in &learned.links {
        let used = l
            .used_mbps
            .or_else(|| live_used(id))
            .unwrap_or(0)
            .min(l.bandwidth_mbps);
        b.link(LinkDraft {
            id: id.as_str().into(),
            a: l.a.as_str().into(),
            b: l.b.as_str().into(),
            igp: l.igp,
            te: l.te,
            latency_us: l.latency_us,
            bandwidth_mbps: l.bandwidth_mbps,
            used_mbps: used,
            jitter_us: l.jitter_us,
            loss_ppm: l.loss_ppm,
            srlg: l.srlg.clone(),
            up: l.up,
            end_x: l.end_x,
        });
    }
    for l in &mut b.links {
        if !learned.links.contains_key(l.id.as_str())
            && let Some(used) = live_used(l.id.as_str())
        {
            l.used_mbps = used.min(l.bandwidth_mbps);
        }
    }
    let known: BTreeSet<String> = b.routers.iter().map(|r| r.id.to_string()).collect();
    b.datacenters.retain_mut(|dc| {
        let missing: Vec<String> = dc
            .attach
            .iter()
            .filter(|r| !known.contains(r.as_str()))
            .map(|r| format!("`{r}`"))
            .collect();
        dc.attach.retain(|r| known.contains(r.as_str()));
        if dc.attach.is_empty() {
            notes.push(format!(
                "data center `{}` waits for its gateways {}",
                dc.id,
                missing.join(", ")
            ));
        } else if !missing.is_empty() {
            notes.push(format!(
                "data center `{}`: gateways {} not learned yet",
                dc.id,
                missing.join(", ")
            ));
        }
        !dc.attach.is_empty()
    });
    if let Some(t) = live {
        for dc in &mut b.datacenters {
            let Some(ix) = t.datacenter_ix(dc.id.as_str()) else {
                continue;
            };
            for p in &mut dc.pools {
                if let Some(now) = t.datacenter(ix).pool(p.kind) {
                    p.used_tflops = now.used_tflops.min(p.tflops);
                    p.used_memory_gb = now.used_memory_gb.min(p.memory_gb);
                }
            }
        }
    }
    let mut topology = b.build()?;
    for (id, r) in &learned.routers {
        if !r.up
            && let Some(ix) = topology.router_ix(id)
        {
            topology.set_router_up(ix, false);
        }
    }
    Ok(Built { topology, notes })
}
