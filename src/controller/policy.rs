//! Policies: an installed path query, its current placement, and what it
//! reserves (bandwidth on its primary links, compute and memory in its pool).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::document::{FieldError, RequestDoc};
use crate::engine::{PathAnswer, PathRequest, Placement};
use crate::model::{DatacenterIx, LinkIx, PoolKind, Topology};
use crate::store::{PathRecord, PolicyRecord, StateRecord};

/// Longest policy name accepted.
pub const MAX_NAME_LEN: usize = 128;

/// Checks a policy name: 1-128 of letters, digits, `.`, `_`, `-`.
pub fn validate_name(name: &str) -> Result<(), FieldError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(FieldError::new(
            "name",
            format!(
                "policy name must be 1 to {MAX_NAME_LEN} characters, got {}",
                name.len()
            ),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(FieldError::new(
            "name",
            format!("policy name `{name}` has `{c}`; use letters, digits, '.', '_' and '-'"),
        ));
    }
    Ok(())
}

/// Compute and memory held in one pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolShare {
    /// The data center.
    pub datacenter: DatacenterIx,
    /// The pool.
    pub kind: PoolKind,
    /// TFLOPS held.
    pub tflops: f64,
    /// Memory held, GB.
    pub memory_gb: f64,
}

/// What a placed policy holds.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Reservation {
    /// Bandwidth held on each primary link, Mbit/s.
    pub mbps: u64,
    /// The primary links.
    pub links: Vec<LinkIx>,
    /// The compute held.
    pub pool: Option<PoolShare>,
    /// The compute held for the standby, shared with standbys covering
    /// other data centers ([`crate::model::Pool::standby`]).
    pub standby: Option<StandbyShare>,
}

/// Compute held in a standby's pool for a primary in another data center.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StandbyShare {
    /// The primary's data center: what this hold covers.
    pub covers: DatacenterIx,
    /// Where and how much.
    pub share: PoolShare,
}

impl Reservation {
    /// What a request placed as `answer` holds.
    pub fn of(req: &PathRequest, answer: &PathAnswer) -> Reservation {
        let p = &answer.primary;
        Reservation {
            mbps: req.constraints.min_bandwidth_mbps.unwrap_or(0),
            links: if req.constraints.min_bandwidth_mbps.unwrap_or(0) > 0 {
                p.links.clone()
            } else {
                Vec::new()
            },
            pool: share(req, p),
            standby: answer
                .standby
                .as_ref()
                .and_then(|s| s.placement.as_ref())
                .and_then(|s| {
                    Some(StandbyShare {
                        covers: p.datacenter?,
                        share: share(req, s)?,
                    })
                }),
        }
    }

    /// Takes the reservation from `t`.
    pub fn apply(&self, t: &mut Topology) {
        self.add(t, true);
    }

    /// Gives the reservation back to `t`.
    pub fn release(&self, t: &mut Topology) {
        self.add(t, false);
    }

    fn add(&self, t: &mut Topology, take: bool) {
        if self.mbps > 0 {
            for &l in &self.links {
                let now = t.link(l).reserved_mbps;
                let new = if take {
                    now + self.mbps
                } else {
                    now.saturating_sub(self.mbps)
                };
                t.set_link_reserved(l, new);
            }
        }
        let sign = if take { 1.0 } else { -1.0 };
        if let Some(s) = &self.pool
            && let Some(pool) = t.pool_mut(s.datacenter, s.kind)
        {
            pool.reserved_tflops = (pool.reserved_tflops + sign * s.tflops).max(0.0);
            pool.reserved_memory_gb = (pool.reserved_memory_gb + sign * s.memory_gb).max(0.0);
        }
        if let Some(StandbyShare { covers, share: s }) = &self.standby
            && let Some(pool) = t.pool_mut(s.datacenter, s.kind)
        {
            let held = pool.standby.entry(*covers).or_default();
            held.tflops = (held.tflops + sign * s.tflops).max(0.0);
            held.memory_gb = (held.memory_gb + sign * s.memory_gb).max(0.0);
            if held.tflops < 1e-9 && held.memory_gb < 1e-9 {
                pool.standby.remove(covers);
            }
        }
    }
}

/// The compute a placement holds for `req`.
fn share(req: &PathRequest, p: &Placement) -> Option<PoolShare> {
    match (req.compute, p.datacenter, p.pool) {
        (Some(c), Some(dc), Some(kind)) => Some(PoolShare {
            datacenter: dc,
            kind,
            tflops: c.tflops,
            memory_gb: c.memory_gb,
        }),
        _ => None,
    }
}

/// Where a policy stands with the routers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SouthboundState {
    /// The headend holds the current version.
    Applied,
    /// The controller pushes nothing (`cpnd --no-southbound`).
    Disabled,
    /// A push is under way or waits.
    Pending,
    /// The last push failed; retries continue.
    Failed,
}

impl SouthboundState {
    /// The name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SouthboundState::Applied => "applied",
            SouthboundState::Pending => "pending",
            SouthboundState::Failed => "failed",
            SouthboundState::Disabled => "disabled",
        }
    }
}

/// Southbound status and its detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Southbound {
    /// The state.
    pub state: SouthboundState,
    /// What is pending, or the last error.
    pub detail: Option<String>,
}

impl Southbound {
    /// The status of every policy of a controller that pushes nothing.
    pub fn disabled() -> Self {
        Southbound {
            state: SouthboundState::Disabled,
            detail: Some(
                "the controller runs without a southbound (--no-southbound): nothing is pushed"
                    .into(),
            ),
        }
    }

    /// The status of every policy on a standby replica (replicas on etcd).
    pub fn standby() -> Self {
        Southbound {
            state: SouthboundState::Disabled,
            detail: Some(
                "this replica is a standby: the leader pushes to routers (ask it for the push status)"
                    .into(),
            ),
        }
    }
}

impl Default for Southbound {
    fn default() -> Self {
        Southbound {
            state: SouthboundState::Pending,
            detail: Some("not pushed to its headend yet".into()),
        }
    }
}

/// Up with a placement, or down with the reason.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyState {
    /// Placed and holding its reservation.
    Up {
        /// The placement.
        answer: Box<PathAnswer>,
        /// What it holds.
        reservation: Reservation,
    },
    /// Nothing feasible now; it comes back by itself when the network allows.
    Down {
        /// Why.
        reason: String,
    },
}

/// An installed policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Unique name.
    pub name: String,
    /// The request, with ids (re-resolved when the topology is replaced).
    pub request: RequestDoc,
    /// Up or down.
    pub state: PolicyState,
    /// Bumped on every change of placement or segments.
    pub version: u64,
    /// Install order.
    pub order: u64,
    /// Southbound status.
    pub southbound: Southbound,
    /// When it was installed, last changed, last checked.
    pub times: Times,
    /// The data center it failed over from, while it runs on what was its
    /// standby's data center (until `failback`).
    pub failed_over_from: Option<String>,
}

/// When things happened to a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Times {
    /// Installed.
    pub created: SystemTime,
    /// State or placement last changed (install included).
    pub updated: SystemTime,
    /// Last checked against the network (install, an event that touched
    /// it, a restart or topology replacement).
    pub checked: SystemTime,
}

impl Times {
    /// All three at `now`.
    pub fn at(now: SystemTime) -> Times {
        Times {
            created: now,
            updated: now,
            checked: now,
        }
    }

    /// Times kept in a record (the check is `now`: a restart re-checks);
    /// a record older than the times field is taken as made `now`.
    pub fn of_record(r: &PolicyRecord, now: SystemTime) -> Times {
        let at = |ms: Option<u64>| ms.map_or(now, |ms| UNIX_EPOCH + Duration::from_millis(ms));
        Times {
            created: at(r.created_unix_ms),
            updated: at(r.updated_unix_ms),
            checked: now,
        }
    }
}

/// Now, to the millisecond: policies' times are kept (and stored) in
/// milliseconds, so that a restart gives back the same times.
pub fn now_ms() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(unix_ms(SystemTime::now()))
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl PolicyState {
    /// Up on `answer`, holding its reservation on `t` (taken now). The
    /// explanation is dropped: policies keep their placement, not why (that
    /// is 100,000 policies' worth of reasons otherwise).
    pub fn placed(t: &mut Topology, req: &PathRequest, mut answer: PathAnswer) -> PolicyState {
        answer.rejected = Vec::new();
        let reservation = Reservation::of(req, &answer);
        reservation.apply(t);
        PolicyState::Up {
            answer: Box::new(answer),
            reservation,
        }
    }
}

impl Policy {
    /// The placement, when up.
    pub fn answer(&self) -> Option<&PathAnswer> {
        match &self.state {
            PolicyState::Up { answer, .. } => Some(answer),
            PolicyState::Down { .. } => None,
        }
    }

    /// True when up.
    pub fn is_up(&self) -> bool {
        matches!(self.state, PolicyState::Up { .. })
    }

    /// The stored form.
    pub fn record(&self, t: &Topology) -> PolicyRecord {
        let path = |p: &Placement| PathRecord {
            datacenter: p.datacenter.map(|d| t.datacenter(d).id.to_string()),
            path: p.path.iter().map(|&r| t.router(r).id.to_string()).collect(),
            links: p.links.iter().map(|&l| t.link(l).id.to_string()).collect(),
        };
        PolicyRecord {
            name: self.name.clone(),
            request: self.request.clone(),
            state: match &self.state {
                PolicyState::Up { answer, .. } => StateRecord::Up {
                    primary: path(&answer.primary),
                    backup: answer.backup.as_ref().map(path),
                    standby: answer
                        .standby
                        .as_ref()
                        .and_then(|s| s.placement.as_ref())
                        .map(path),
                },
                PolicyState::Down { reason } => StateRecord::Down {
                    reason: reason.clone(),
                },
            },
            notes: self.answer().map(|a| a.notes.clone()).unwrap_or_default(),
            version: self.version,
            order: self.order,
            created_unix_ms: Some(unix_ms(self.times.created)),
            updated_unix_ms: Some(unix_ms(self.times.updated)),
            failed_over_from: self.failed_over_from.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("train-job_1.v2").is_ok());
        assert!(validate_name("").unwrap_err().message.contains("1 to 128"));
        assert!(validate_name(&"x".repeat(129)).is_err());
        assert!(
            validate_name("a b")
                .unwrap_err()
                .message
                .contains("has ` `")
        );
        assert!(validate_name("a/b").is_err());
    }
}
