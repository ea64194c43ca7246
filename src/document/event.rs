//! Events in the scenario syntax (shared/spec/scenario.md): `{link_down: a-b}`,
//! `{set_link: {id: a-b, igp: 20}}`, ... One event per document.

use serde::{Deserialize, Serialize};

use super::report::{PoolReportDoc, ReporterSilentDoc};
use crate::model::PoolKind;

/// One event.
#[derive(Clone, Debug, PartialEq)]
pub enum EventDoc {
    /// A link goes down.
    LinkDown(String),
    /// A link comes back.
    LinkUp(String),
    /// A router goes down.
    RouterDown(String),
    /// A router comes back.
    RouterUp(String),
    /// Link attributes change.
    SetLink(SetLinkDoc),
    /// Pool load changes.
    SetPool(SetPoolDoc),
    /// A data center reports one of its pools.
    ReportPool(PoolReportDoc),
    /// A data center's reporter went quiet.
    ReporterSilent(ReporterSilentDoc),
}

/// An event as written: a mapping with exactly one of these keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventForm {
    /// `link_down: <link id>`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_down: Option<String>,
    /// `link_up: <link id>`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_up: Option<String>,
    /// `router_down: <router id>`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_down: Option<String>,
    /// `router_up: <router id>`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_up: Option<String>,
    /// `set_link: {id, ...}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_link: Option<SetLinkDoc>,
    /// `set_pool: {datacenter, kind, ...}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_pool: Option<SetPoolDoc>,
    /// `report_pool: {datacenter, kind, ...}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_pool: Option<PoolReportDoc>,
    /// `reporter_silent: {datacenter, state}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_silent: Option<ReporterSilentDoc>,
}

impl TryFrom<EventForm> for EventDoc {
    type Error = String;
    fn try_from(f: EventForm) -> Result<Self, String> {
        let mut found: Vec<EventDoc> = Vec::new();
        found.extend(f.link_down.map(EventDoc::LinkDown));
        found.extend(f.link_up.map(EventDoc::LinkUp));
        found.extend(f.router_down.map(EventDoc::RouterDown));
        found.extend(f.router_up.map(EventDoc::RouterUp));
        found.extend(f.set_link.map(EventDoc::SetLink));
        found.extend(f.set_pool.map(EventDoc::SetPool));
        found.extend(f.report_pool.map(EventDoc::ReportPool));
        found.extend(f.reporter_silent.map(EventDoc::ReporterSilent));
        match found.len() {
            1 => Ok(found.pop().expect("one")),
            0 => Err(KINDS.into()),
            n => Err(format!("{n} events in one; {KINDS}")),
        }
    }
}

impl From<&EventDoc> for EventForm {
    fn from(e: &EventDoc) -> Self {
        let mut f = EventForm::default();
        match e.clone() {
            EventDoc::LinkDown(id) => f.link_down = Some(id),
            EventDoc::LinkUp(id) => f.link_up = Some(id),
            EventDoc::RouterDown(id) => f.router_down = Some(id),
            EventDoc::RouterUp(id) => f.router_up = Some(id),
            EventDoc::SetLink(s) => f.set_link = Some(s),
            EventDoc::SetPool(s) => f.set_pool = Some(s),
            EventDoc::ReportPool(r) => f.report_pool = Some(r),
            EventDoc::ReporterSilent(s) => f.reporter_silent = Some(s),
        }
        f
    }
}

const KINDS: &str = "an event is exactly one of link_down, link_up, router_down, router_up, \
     set_link, set_pool, report_pool, reporter_silent";

impl Serialize for EventDoc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EventForm::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for EventDoc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        EventForm::deserialize(d)?
            .try_into()
            .map_err(serde::de::Error::custom)
    }
}

/// `set_link:` unset fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetLinkDoc {
    /// The link.
    pub id: String,
    /// Latency, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    /// IGP metric, >= 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub igp: Option<u32>,
    /// TE metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub te: Option<u32>,
    /// Capacity, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_mbps: Option<u64>,
    /// Load, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_mbps: Option<u64>,
    /// Jitter, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_us: Option<u64>,
    /// Loss, ppm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_ppm: Option<u64>,
    /// Up or down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up: Option<bool>,
}

/// `set_pool:` unset fields stay as they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPoolDoc {
    /// The data center.
    pub datacenter: String,
    /// The pool kind.
    pub kind: PoolKind,
    /// TFLOPS in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_tflops: Option<f64>,
    /// Memory in use, GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_memory_gb: Option<f64>,
}

/// Parses one event document; the error names the field and line.
pub fn parse_event(text: &str) -> Result<EventDoc, String> {
    if text.len() > super::MAX_REQUEST_BYTES {
        return Err(format!(
            "event is {} bytes, more than {}",
            text.len(),
            super::MAX_REQUEST_BYTES
        ));
    }
    crate::topology_file::guard::check_flow_depth(text)
        .map_err(|(line, m)| format!("line {line}: {m}"))?;
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_syntax_parses() {
        assert_eq!(
            parse_event("{link_down: a-b}").unwrap(),
            EventDoc::LinkDown("a-b".into())
        );
        assert_eq!(
            parse_event("router_up: r1\n").unwrap(),
            EventDoc::RouterUp("r1".into())
        );
        let e = parse_event("set_link: {id: a-b, igp: 20, used_mbps: 5}").unwrap();
        assert_eq!(
            e,
            EventDoc::SetLink(SetLinkDoc {
                id: "a-b".into(),
                igp: Some(20),
                used_mbps: Some(5),
                ..Default::default()
            })
        );
        let e = parse_event("set_pool: {datacenter: dc1, kind: ai, used_tflops: 10}").unwrap();
        assert!(
            matches!(e, EventDoc::SetPool(SetPoolDoc { used_tflops: Some(t), .. }) if t == 10.0)
        );
    }

    #[test]
    fn bad_events_are_refused_with_the_reason() {
        assert!(
            parse_event("{link_sideways: a-b}")
                .unwrap_err()
                .contains("unknown field `link_sideways`")
        );
        assert!(
            parse_event("set_link: {id: a-b, colour: red}")
                .unwrap_err()
                .contains("unknown field `colour`")
        );
        assert!(
            parse_event("{link_down: a-b, link_up: a-b}")
                .unwrap_err()
                .contains("2 events in one")
        );
        assert!(parse_event("{}").unwrap_err().contains("exactly one of"));
    }
}
