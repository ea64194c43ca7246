//! What data centers say about themselves while they run: each pool's
//! health, and whether the data center's reporter is still talking. Both
//! decide whether a data center can take jobs now.

use std::fmt;
use std::str::FromStr;

/// A pool's health, as its data center reports it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PoolHealth {
    /// Working (the default, and what a file without reports means).
    #[default]
    Up,
    /// Working with reduced capacity or reliability; still takes jobs.
    Degraded,
    /// Not working: takes no job, and jobs placed on it move.
    Down,
}

impl PoolHealth {
    /// Every health, in order.
    pub const ALL: [PoolHealth; 3] = [PoolHealth::Up, PoolHealth::Degraded, PoolHealth::Down];

    /// The name used in files, events and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolHealth::Up => "up",
            PoolHealth::Degraded => "degraded",
            PoolHealth::Down => "down",
        }
    }

    /// Whether a pool in this health takes jobs.
    pub fn takes_jobs(self) -> bool {
        self != PoolHealth::Down
    }

    /// True for the default (files leave it out).
    pub fn is_up(&self) -> bool {
        *self == PoolHealth::Up
    }
}

impl fmt::Display for PoolHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PoolHealth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PoolHealth::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| format!("unknown health `{s}`, expected one of: up, degraded, down"))
    }
}

/// Where a data center's reporter stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReporterState {
    /// It reported within its interval.
    Live,
    /// Silent for longer than its interval: its figures may be old; the
    /// data center still takes jobs.
    Stale,
    /// Silent past the grace period too: the data center is treated as
    /// down (no job is placed there; jobs placed there move).
    Lost,
}

impl ReporterState {
    /// The name used in files, events and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            ReporterState::Live => "live",
            ReporterState::Stale => "stale",
            ReporterState::Lost => "lost",
        }
    }
}

impl fmt::Display for ReporterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data center that reports its pools: how often it promised to, and
/// whether it kept the promise. Data centers that never reported have none
/// (their figures come from the topology file and events, and never age).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    /// The interval the reporter declared, seconds (> 0).
    pub interval_s: u32,
    /// Where it stands.
    pub state: ReporterState,
}

impl Reporter {
    /// Whether the data center takes jobs, as far as its reporter goes.
    pub fn takes_jobs(reporter: Option<&Reporter>) -> bool {
        reporter.is_none_or(|r| r.state != ReporterState::Lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_names_round_trip_and_down_takes_no_job() {
        for h in PoolHealth::ALL {
            assert_eq!(h.as_str().parse::<PoolHealth>(), Ok(h));
        }
        assert!("sick".parse::<PoolHealth>().is_err());
        assert!(PoolHealth::Degraded.takes_jobs() && !PoolHealth::Down.takes_jobs());
    }

    #[test]
    fn only_a_lost_reporter_stops_jobs() {
        let r = |state| Reporter {
            interval_s: 10,
            state,
        };
        assert!(Reporter::takes_jobs(None));
        assert!(Reporter::takes_jobs(Some(&r(ReporterState::Stale))));
        assert!(!Reporter::takes_jobs(Some(&r(ReporterState::Lost))));
    }
}
