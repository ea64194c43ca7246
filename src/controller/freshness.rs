//! Reporters that go quiet: when each data center's reporter was last
//! heard, and the watchdog that turns silence into events (`stale` after
//! the reporter's own interval, `lost` after the grace period too). The
//! decision is a pure function of the topology, the clocks and now; the
//! watchdog task only runs it once a second and applies what it says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::actor::ControllerHandle;
use crate::document::{EventDoc, ReporterSilentDoc};
use crate::model::{ReporterState, Topology};

/// When each data center's reporter was last heard (shared by the
/// ComputeService, which notes every report it takes, and the watchdog).
#[derive(Clone, Debug, Default)]
pub struct LastHeard(Arc<Mutex<HashMap<String, Instant>>>);

impl LastHeard {
    /// Notes that `datacenter` reported at `at`.
    pub fn heard(&self, datacenter: &str, at: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(datacenter.to_owned(), at);
    }

    /// When `datacenter` was last heard, if it was.
    pub fn last(&self, datacenter: &str) -> Option<Instant> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(datacenter).copied()
    }
}

/// The notes silence calls for now: a live reporter silent for longer than
/// its interval is stale; one silent for longer than its interval plus
/// `grace` is lost. A reporter never heard since `since` (the controller
/// started) counts as heard then: a restart gives every reporter a full
/// interval to come back.
pub fn silences(
    t: &Topology,
    last_heard: &LastHeard,
    since: Instant,
    now: Instant,
    grace: Duration,
) -> Vec<EventDoc> {
    let mut notes = Vec::new();
    for d in t.datacenters() {
        let Some(reporter) = d.reporter else { continue };
        let heard = last_heard.last(d.id.as_str()).unwrap_or(since).max(since);
        let silent = now.saturating_duration_since(heard);
        let interval = Duration::from_secs(u64::from(reporter.interval_s));
        let due = if silent > interval + grace {
            ReporterState::Lost
        } else if silent > interval {
            ReporterState::Stale
        } else {
            continue;
        };
        let worse = matches!(
            (reporter.state, due),
            (ReporterState::Live, _) | (ReporterState::Stale, ReporterState::Lost)
        );
        if worse {
            notes.push(EventDoc::ReporterSilent(ReporterSilentDoc {
                datacenter: d.id.to_string(),
                state: due,
            }));
        }
    }
    notes
}

/// Checks once a second until `stop` turns true, applying each note as an
/// event (logged and re-optimizing like any other). On a standby replica
/// (etcd) the notes are refused, and the clocks start again: reporters
/// report to the leader, so a standby that takes over gives every reporter
/// at least the grace period before it is lost.
pub async fn watchdog(
    controller: ControllerHandle,
    last_heard: LastHeard,
    grace: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut since = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let Ok(t) = controller.topology().await else {
            return;
        };
        for note in silences(&t, &last_heard, since, Instant::now(), grace) {
            let what = format!("{note:?}");
            match controller.event(note, None).await {
                Ok(Ok(outcome)) => tracing::warn!(
                    note = what,
                    affected = outcome.affected.len(),
                    "a data center's reporter went quiet"
                ),
                Ok(Err(super::ControllerError::NotLeader { .. })) => {
                    since = Instant::now();
                    break;
                }
                // A report may have come in between: nothing to note.
                Ok(Err(e)) => tracing::debug!(note = what, error = %e, "silence not noted"),
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Reporter;

    fn topology(state: ReporterState) -> Topology {
        let mut t = crate::topology_file::parse_str(
            "version: 1
name: t
operators: [{id: op}]
routers: [{id: r, operator: op, locator: 'fc00:1::/32'}]
datacenters:
  - {id: dc, attach: [r], pools: [{kind: ai, tflops: 1, memory_gb: 1}]}
  - {id: quiet, attach: [r], pools: [{kind: ai, tflops: 1, memory_gb: 1}]}
",
            "t.yaml",
        )
        .unwrap();
        let dc = t.datacenter_ix("dc").unwrap();
        t.set_reporter(
            dc,
            Some(Reporter {
                interval_s: 10,
                state,
            }),
        );
        t
    }

    fn states(notes: Vec<EventDoc>) -> Vec<(String, ReporterState)> {
        notes
            .into_iter()
            .map(|n| match n {
                EventDoc::ReporterSilent(s) => (s.datacenter, s.state),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn silence_turns_stale_after_the_interval_and_lost_after_the_grace() {
        let start = Instant::now();
        let grace = Duration::from_secs(30);
        let heard = LastHeard::default();
        heard.heard("dc", start);
        let at = |s: u64| start + Duration::from_secs(s);
        let live = topology(ReporterState::Live);
        // Within its interval: nothing; a data center that never reported
        // (`quiet`) is never noted.
        assert!(silences(&live, &heard, start, at(10), grace).is_empty());
        assert_eq!(
            states(silences(&live, &heard, start, at(11), grace)),
            [("dc".to_owned(), ReporterState::Stale)]
        );
        // Already stale: only lost is news, past interval + grace.
        let stale = topology(ReporterState::Stale);
        assert!(silences(&stale, &heard, start, at(40), grace).is_empty());
        assert_eq!(
            states(silences(&stale, &heard, start, at(41), grace)),
            [("dc".to_owned(), ReporterState::Lost)]
        );
        // A live reporter silent past both goes straight to lost.
        assert_eq!(
            states(silences(&live, &heard, start, at(41), grace)),
            [("dc".to_owned(), ReporterState::Lost)]
        );
        // Lost stays lost without news.
        let lost = topology(ReporterState::Lost);
        assert!(silences(&lost, &heard, start, at(500), grace).is_empty());
        // A fresh report restarts the clock.
        heard.heard("dc", at(35));
        assert!(silences(&live, &heard, start, at(41), grace).is_empty());
    }

    #[test]
    fn a_restart_gives_every_reporter_a_full_interval() {
        let since = Instant::now();
        let heard = LastHeard::default();
        let live = topology(ReporterState::Live);
        let grace = Duration::from_secs(30);
        assert!(silences(&live, &heard, since, since + Duration::from_secs(10), grace).is_empty());
        assert_eq!(
            silences(&live, &heard, since, since + Duration::from_secs(11), grace).len(),
            1
        );
    }
}
