//! Replay scenarios (shared/spec/scenario.md): a story of queries, installs,
//! events and checks run against the controller core in-process, each step's
//! expectation compared with what was found. Shared by `cpnctl replay` and
//! the test suite, which runs every scenario under `topologies/scenarios/`.

mod scenario;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use scenario::{Action, Expect, InstallDoc, NameDoc, Scenario, StepDoc};

use crate::controller::{Config, Controller, ControllerError};
use crate::document::{AnswerJson, PolicyJson, answer_json};
use crate::store::MemoryStore;
use crate::topology_file::{self, Spans};

/// Why a scenario could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The scenario file could not be read.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The scenario is not valid.
    #[error("{0}")]
    Invalid(String),
    /// Its topology did not load.
    #[error(transparent)]
    Topology(#[from] topology_file::LoadError),
}

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mismatch {
    /// The expectation's field.
    pub field: String,
    /// What the scenario expects.
    pub expected: String,
    /// What was found.
    pub found: String,
}

/// One step's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepReport {
    /// 1-based position.
    pub step: usize,
    /// Line of the step in the scenario file.
    pub line: Option<usize>,
    /// What was done, in words.
    pub action: String,
    /// What was found, in words.
    pub found: String,
    /// The step's note, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Expectations that did not hold (empty when the step passed).
    pub failures: Vec<Mismatch>,
    /// True when every expectation held.
    pub ok: bool,
}

/// A whole replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayReport {
    /// The scenario's name.
    pub name: String,
    /// The scenario file.
    pub file: String,
    /// Its topology file.
    pub topology: String,
    /// Every step.
    pub steps: Vec<StepReport>,
    /// True when every step passed.
    pub passed: bool,
}

/// What a step showed, in the terms of expectations.
#[derive(Debug, Default)]
struct Seen {
    datacenter: Option<String>,
    pool: Option<String>,
    endpoint: Option<String>,
    path: Vec<String>,
    links: Vec<String>,
    latency_us: Option<u64>,
    igp: Option<u64>,
    te: Option<u64>,
    segment_count: Option<usize>,
    containers: Vec<String>,
    backup_path: Vec<String>,
    standby: Option<String>,
    failed_over_from: Option<String>,
    state: Option<String>,
    reason: Option<String>,
    notes: Vec<String>,
    error: Option<String>,
    affected: Option<Vec<String>>,
}

impl Seen {
    fn answer(a: &AnswerJson) -> Seen {
        let p = &a.primary;
        Seen {
            datacenter: p.datacenter.clone(),
            pool: p.pool.clone(),
            endpoint: Some(p.endpoint.clone()),
            path: p.path.clone(),
            links: p.links.clone(),
            latency_us: Some(p.metrics.latency_us),
            igp: Some(p.metrics.igp),
            te: Some(p.metrics.te),
            segment_count: Some(p.segments.len()),
            containers: p.containers.clone().unwrap_or_default(),
            backup_path: a
                .backup
                .as_ref()
                .map(|b| b.path.clone())
                .unwrap_or_default(),
            standby: a
                .standby
                .as_ref()
                .and_then(|s| s.as_ref()?.datacenter.clone()),
            notes: a.notes.clone(),
            ..Default::default()
        }
    }

    fn policy(p: &PolicyJson) -> Seen {
        let up = p.state == "up";
        Seen {
            datacenter: p.datacenter.clone(),
            pool: p.pool.clone(),
            endpoint: p.endpoint.clone(),
            path: p.path.clone(),
            links: p.links.clone(),
            latency_us: p.metrics.as_ref().map(|m| m.latency_us),
            igp: p.metrics.as_ref().map(|m| m.igp),
            te: p.metrics.as_ref().map(|m| m.te),
            segment_count: up.then_some(p.segments.len()),
            containers: p.containers.clone().unwrap_or_default(),
            backup_path: p
                .backup
                .as_ref()
                .map(|b| b.path.clone())
                .unwrap_or_default(),
            standby: p.standby.as_ref().and_then(|s| s.datacenter.clone()),
            failed_over_from: p.failed_over_from.clone(),
            state: Some(p.state.clone()),
            reason: p.reason.clone(),
            notes: p.notes.clone(),
            ..Default::default()
        }
    }

    fn error(message: String) -> Seen {
        Seen {
            error: Some(message),
            ..Default::default()
        }
    }

    /// The outcome in words.
    fn describe(&self) -> String {
        if let Some(e) = &self.error {
            return format!("error: {e}");
        }
        if let Some(affected) = &self.affected {
            return if affected.is_empty() {
                "no policy changed".into()
            } else {
                format!("changed: {}", affected.join(", "))
            };
        }
        if self.state.as_deref() == Some("down") {
            return format!("down: {}", self.reason.clone().unwrap_or_default());
        }
        if self.path.is_empty() {
            return "done".into();
        }
        let dest = match (&self.datacenter, &self.pool) {
            (Some(dc), Some(pool)) => format!("{dc} ({pool})"),
            (Some(dc), None) => dc.clone(),
            _ => self.endpoint.clone().unwrap_or_default(),
        };
        let n = self.segment_count.unwrap_or(0);
        let mut s = format!(
            "{dest} via {}, {} us, {n} segment{}",
            self.path.join(" -> "),
            crate::document::thousands(self.latency_us.unwrap_or(0)),
            if n == 1 { "" } else { "s" }
        );
        if !self.containers.is_empty() {
            let c = self.containers.len();
            s.push_str(&format!(
                " in {c} container{}",
                if c == 1 { "" } else { "s" }
            ));
        }
        if !self.backup_path.is_empty() {
            s.push_str(&format!("; backup {}", self.backup_path.join(" -> ")));
        }
        if let Some(dc) = &self.standby {
            s.push_str(&format!("; standby {dc}"));
        }
        if let Some(dc) = &self.failed_over_from {
            s.push_str(&format!(" (failed over from {dc})"));
        }
        s
    }
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or("(none)".into(), |x| x.to_string())
}

/// The expectations that `seen` fails.
fn compare(expect: &Expect, seen: &Seen) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut check = |field: &str, ok: bool, expected: String, found: String| {
        if !ok {
            out.push(Mismatch {
                field: field.into(),
                expected,
                found,
            });
        }
    };
    match (&expect.error, &seen.error) {
        (Some(want), Some(got)) => check(
            "error",
            got.contains(want.as_str()),
            format!("an error containing \"{want}\""),
            got.clone(),
        ),
        (Some(want), None) => check(
            "error",
            false,
            format!("an error containing \"{want}\""),
            format!("success ({})", seen.describe()),
        ),
        (None, Some(got)) => check("error", false, "success".into(), got.clone()),
        (None, None) => {}
    }
    if seen.error.is_some() {
        return out;
    }
    for (field, want, got) in [
        ("datacenter", &expect.datacenter, &seen.datacenter),
        ("pool", &expect.pool, &seen.pool),
        ("endpoint", &expect.endpoint, &seen.endpoint),
        ("state", &expect.state, &seen.state),
    ] {
        if let Some(v) = want {
            check(field, got.as_ref() == Some(v), v.clone(), opt(got));
        }
    }
    if let Some(v) = &expect.path {
        check("path", &seen.path == v, list(v), list(&seen.path));
    }
    if let Some(v) = &expect.links {
        check("links", &seen.links == v, list(v), list(&seen.links));
    }
    for (field, want, got) in [
        ("latency_us", expect.latency_us, seen.latency_us),
        ("igp", expect.igp, seen.igp),
        ("te", expect.te, seen.te),
    ] {
        if let Some(v) = want {
            check(field, got == Some(v), v.to_string(), opt(&got));
        }
    }
    if let Some(v) = expect.segment_count {
        check(
            "segment_count",
            seen.segment_count == Some(v),
            v.to_string(),
            opt(&seen.segment_count),
        );
    }
    if let Some(v) = &expect.containers {
        check(
            "containers",
            &seen.containers == v,
            list(v),
            list(&seen.containers),
        );
    }
    if let Some(v) = &expect.backup_path {
        check(
            "backup_path",
            &seen.backup_path == v,
            list(v),
            list(&seen.backup_path),
        );
    }
    for (field, want, got) in [
        ("standby", &expect.standby, &seen.standby),
        (
            "failed_over_from",
            &expect.failed_over_from,
            &seen.failed_over_from,
        ),
    ] {
        if let Some(v) = want {
            let got = got.clone().unwrap_or_default();
            check(field, &got == v, format!("\"{v}\""), format!("\"{got}\""));
        }
    }
    if let Some(v) = &expect.reason {
        let got = seen.reason.clone().unwrap_or_default();
        check(
            "reason",
            got.contains(v.as_str()),
            format!("a reason containing \"{v}\""),
            opt(&seen.reason),
        );
    }
    if let Some(v) = &expect.note {
        let ok = seen.notes.iter().any(|n| n.contains(v.as_str()));
        check(
            "note",
            ok,
            format!("a note containing \"{v}\""),
            list(&seen.notes),
        );
    }
    if let Some(v) = &expect.affected {
        let got = seen.affected.clone().unwrap_or_default();
        check("affected", &got == v, list(v), list(&got));
    }
    out
}

fn describe_action(a: &Action) -> String {
    match a {
        Action::Query(r) => match &r.compute {
            Some(c) => format!(
                "query from {} for {} {} TFLOPS",
                r.from,
                c.kind,
                crate::engine::fmt_num(c.tflops)
            ),
            None => format!(
                "query from {} to {}",
                r.from,
                r.to.clone().unwrap_or_default()
            ),
        },
        Action::Install(i) => format!("install {}", i.name),
        Action::Event(e) => {
            let json = serde_json::to_value(e).unwrap_or_default();
            let (k, v) = json
                .as_object()
                .and_then(|m| m.iter().next().map(|(k, v)| (k.clone(), v.clone())))
                .unwrap_or_default();
            match v {
                serde_json::Value::String(s) => format!("event {k} {s}"),
                other => format!("event {k} {other}"),
            }
        }
        Action::CheckPolicy(n) => format!("check_policy {n}"),
        Action::Remove(n) => format!("remove {n}"),
        Action::Failback(n) => format!("failback {n}"),
    }
}

/// Runs one step against the controller.
fn run_step(c: &mut Controller, action: &Action) -> Seen {
    let t = |c: &Controller| c.topology().clone();
    match action {
        Action::Query(doc) => match c.query(doc) {
            Ok(a) => Seen::answer(&answer_json(&t(c), &a)),
            Err(e) => Seen::error(e.to_string()),
        },
        Action::Install(i) => match c.install(&i.name, i.request.clone()) {
            Ok(i) => Seen::policy(&i.policy),
            Err(e) => Seen::error(e.to_string()),
        },
        // The state the event leads to once the controller is idle: the
        // segment lists a failure left long are shortened too.
        Action::Event(e) => match c
            .apply_event(e)
            .and_then(|outcome| Ok((outcome, c.settle()?)))
        {
            Ok((outcome, tidied)) => {
                let mut changed = outcome.affected;
                changed.extend(tidied);
                changed.sort();
                changed.dedup();
                Seen {
                    affected: Some(changed),
                    ..Default::default()
                }
            }
            Err(e) => Seen::error(e.to_string()),
        },
        Action::CheckPolicy(name) => match c.policy_json(name) {
            Ok(p) => Seen::policy(&p),
            Err(e) => Seen::error(e.to_string()),
        },
        Action::Remove(name) => match c.remove(name) {
            Ok(_) => Seen::default(),
            Err(e) => Seen::error(e.to_string()),
        },
        Action::Failback(name) => match c.failback(name).and_then(|_| c.policy_json(name)) {
            Ok(p) => Seen::policy(&p),
            Err(e) => Seen::error(e.to_string()),
        },
    }
}

/// Parses a scenario text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ReplayError> {
    topology_file::guard::check_flow_depth(text)
        .map_err(|(line, m)| ReplayError::Invalid(format!("{origin}:{line}: {m}")))?;
    let s: Scenario =
        serde_yaml::from_str(text).map_err(|e| ReplayError::Invalid(format!("{origin}: {e}")))?;
    if s.version != 1 {
        return Err(ReplayError::Invalid(format!(
            "{origin}: version: unsupported version {}, expected 1",
            s.version
        )));
    }
    let spans = Spans::index(text);
    for (i, step) in s.steps.iter().enumerate() {
        if let Err(e) = step.action() {
            let line = spans
                .find(&format!("steps[{i}]"))
                .map_or(String::new(), |p| format!(":{}", p.line));
            return Err(ReplayError::Invalid(format!(
                "{origin}{line}: step {}: {e}",
                i + 1
            )));
        }
    }
    Ok(s)
}

/// Runs a scenario file.
pub fn run_file(path: &Path) -> Result<ReplayReport, ReplayError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ReplayError::Io(origin.clone(), e))?;
    let scenario = parse(&text, &origin)?;
    let topology_path: PathBuf = path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&scenario.topology);
    let topology = topology_file::load_file(&topology_path)?;
    let mut c = Controller::open(
        Box::new(MemoryStore::default()),
        Some(topology),
        Config::default(),
    )
    .map_err(|e: ControllerError| ReplayError::Invalid(e.to_string()))?;
    let spans = Spans::index(&text);
    let mut steps = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let action = step.action().expect("checked by parse");
        let seen = run_step(&mut c, &action);
        let failures = compare(&step.expect.clone().unwrap_or_default(), &seen);
        drop(c.drain_changes(false));
        steps.push(StepReport {
            step: i + 1,
            line: spans.find(&format!("steps[{i}]")).map(|p| p.line),
            action: describe_action(&action),
            found: seen.describe(),
            note: step.note.clone(),
            ok: failures.is_empty(),
            failures,
        });
    }
    Ok(ReplayReport {
        name: scenario.name,
        file: origin,
        topology: topology_path.display().to_string(),
        passed: steps.iter().all(|s| s.ok),
        steps,
    })
}

/// The human form of a replay: each step, what was found, and for a failed
/// expectation, expected against found.
pub fn render(r: &ReplayReport) -> String {
    let mut s = format!(
        "scenario {} ({})\n  topology {}\n\n",
        r.name, r.file, r.topology
    );
    for step in &r.steps {
        let mark = if step.ok { "ok" } else { "FAILED" };
        let line = step
            .line
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        s.push_str(&format!("{:>3}. {}{line}\n", step.step, step.action));
        if let Some(note) = &step.note {
            s.push_str(&format!("     ({note})\n"));
        }
        s.push_str(&format!("     -> {}  [{mark}]\n", step.found));
        for f in &step.failures {
            s.push_str(&format!(
                "     {}: expected {}, found {}\n",
                f.field, f.expected, f.found
            ));
        }
    }
    let failed = r.steps.iter().filter(|s| !s.ok).count();
    if failed == 0 {
        s.push_str(&format!("\nall {} steps passed\n", r.steps.len()));
    } else {
        s.push_str(&format!("\n{failed} of {} steps failed\n", r.steps.len()));
    }
    s
}
