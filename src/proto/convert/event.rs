//! Events (the scenario syntax) as proto and back.

use super::compute::{report_from_pb, report_to_pb, silent_from_pb, silent_to_pb};
use super::{pool_kind, pool_kind_from};
use crate::document::{EventDoc, FieldError, SetLinkDoc, SetPoolDoc};
use crate::proto::v1 as pb;

/// A proto event as a document.
pub fn event_from_pb(e: &pb::Event) -> Result<EventDoc, FieldError> {
    use pb::event::Event as E;
    Ok(match e.event.clone() {
        None => {
            return Err(FieldError::new(
                "event",
                "one of link_down, link_up, router_down, router_up, set_link, set_pool, \
                 report_pool, reporter_silent is required",
            ));
        }
        Some(E::LinkDown(id)) => EventDoc::LinkDown(id),
        Some(E::LinkUp(id)) => EventDoc::LinkUp(id),
        Some(E::RouterDown(id)) => EventDoc::RouterDown(id),
        Some(E::RouterUp(id)) => EventDoc::RouterUp(id),
        Some(E::SetLink(s)) => EventDoc::SetLink(SetLinkDoc {
            id: s.id,
            latency_us: s.latency_us,
            igp: s.igp,
            te: s.te,
            bandwidth_mbps: s.bandwidth_mbps,
            used_mbps: s.used_mbps,
            jitter_us: s.jitter_us,
            loss_ppm: s.loss_ppm,
            up: s.up,
        }),
        Some(E::SetPool(s)) => EventDoc::SetPool(SetPoolDoc {
            datacenter: s.datacenter,
            kind: pool_kind_from(s.kind, "set_pool.kind")?,
            used_tflops: s.used_tflops,
            used_memory_gb: s.used_memory_gb,
        }),
        Some(E::ReportPool(r)) => EventDoc::ReportPool(report_from_pb(&r, "report_pool")?),
        Some(E::ReporterSilent(s)) => EventDoc::ReporterSilent(silent_from_pb(&s)?),
    })
}

/// An event document as proto.
pub fn event_to_pb(e: &EventDoc) -> pb::Event {
    use pb::event::Event as E;
    let event = match e.clone() {
        EventDoc::LinkDown(id) => E::LinkDown(id),
        EventDoc::LinkUp(id) => E::LinkUp(id),
        EventDoc::RouterDown(id) => E::RouterDown(id),
        EventDoc::RouterUp(id) => E::RouterUp(id),
        EventDoc::SetLink(s) => E::SetLink(pb::SetLink {
            id: s.id,
            latency_us: s.latency_us,
            igp: s.igp,
            te: s.te,
            bandwidth_mbps: s.bandwidth_mbps,
            used_mbps: s.used_mbps,
            jitter_us: s.jitter_us,
            loss_ppm: s.loss_ppm,
            up: s.up,
        }),
        EventDoc::SetPool(s) => E::SetPool(pb::SetPool {
            datacenter: s.datacenter,
            kind: pool_kind(s.kind).into(),
            used_tflops: s.used_tflops,
            used_memory_gb: s.used_memory_gb,
        }),
        EventDoc::ReportPool(r) => E::ReportPool(report_to_pb(&r)),
        EventDoc::ReporterSilent(s) => E::ReporterSilent(silent_to_pb(&s)),
    };
    pb::Event { event: Some(event) }
}
