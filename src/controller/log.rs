//! The change log: every policy change gets the next sequence number; the
//! most recent changes are kept so that a watcher can resume after a
//! reconnect.

use std::collections::VecDeque;
use std::time::SystemTime;

use crate::document::PolicyJson;
use crate::model::OperatorId;
use crate::store::LogRecord;

/// What happened to a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Installed.
    Installed,
    /// Placement or segments changed.
    Updated,
    /// Went down.
    Down,
    /// Came back up.
    Restored,
    /// Removed.
    Removed,
    /// Southbound status changed.
    Southbound,
}

impl ChangeKind {
    /// The name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Installed => "installed",
            ChangeKind::Updated => "updated",
            ChangeKind::Down => "down",
            ChangeKind::Restored => "restored",
            ChangeKind::Removed => "removed",
            ChangeKind::Southbound => "southbound",
        }
    }

    /// The kind named `s` in JSON.
    pub fn parse(s: &str) -> Option<ChangeKind> {
        [
            ChangeKind::Installed,
            ChangeKind::Updated,
            ChangeKind::Down,
            ChangeKind::Restored,
            ChangeKind::Removed,
            ChangeKind::Southbound,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One change as delivered to watchers.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Sequence number, one more than the previous change's.
    pub sequence: u64,
    /// What happened.
    pub kind: ChangeKind,
    /// The policy.
    pub name: String,
    /// The policy as it stands when the change is delivered; `None` when
    /// it no longer exists.
    pub policy: Option<PolicyJson>,
    /// The operator of the policy's headend when the change happened (who
    /// may watch it).
    pub operator: Option<OperatorId>,
    /// The policy's version at the change.
    pub version: u64,
    /// When the change was made (its group is committed right after).
    pub time: SystemTime,
    /// The policy's headend router id.
    pub headend: String,
}

/// One change as logged: small, so that many can be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    /// Sequence number.
    pub sequence: u64,
    /// What happened.
    pub kind: ChangeKind,
    /// The policy.
    pub name: String,
    /// The operator of its headend.
    pub operator: Option<OperatorId>,
    /// The policy's version at the change.
    pub version: u64,
    /// When.
    pub time: SystemTime,
    /// The policy's headend router id.
    pub headend: String,
}

/// What a change is about, to be logged.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// What happened.
    pub kind: ChangeKind,
    /// The policy.
    pub name: &'a str,
    /// Its headend router id.
    pub headend: &'a str,
    /// The headend's operator.
    pub operator: Option<OperatorId>,
    /// The policy's version after the change.
    pub version: u64,
    /// When.
    pub time: SystemTime,
}

impl Logged {
    /// The form replicated through the store.
    pub fn record(&self) -> LogRecord {
        LogRecord {
            sequence: self.sequence,
            kind: self.kind.as_str().to_owned(),
            name: self.name.clone(),
            operator: self.operator.as_ref().map(|o| o.to_string()),
            version: self.version,
            time_unix_ms: self
                .time
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            headend: self.headend.clone(),
        }
    }

    /// A change replicated through the store (`None`: an unknown kind).
    pub fn of_record(r: &LogRecord) -> Option<Logged> {
        Some(Logged {
            sequence: r.sequence,
            kind: ChangeKind::parse(&r.kind)?,
            name: r.name.clone(),
            operator: r.operator.as_deref().map(OperatorId::from),
            version: r.version,
            time: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(r.time_unix_ms),
            headend: r.headend.clone(),
        })
    }
}

/// The most recent changes.
#[derive(Debug)]
pub struct ChangeLog {
    /// The sequence it continued after when created.
    start: u64,
    last: u64,
    kept: VecDeque<Logged>,
    capacity: usize,
}

/// Why a resume point cannot be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    /// Older than the oldest change kept.
    #[error(
        "resume point {asked} is older than the oldest change kept ({oldest}); list the policies and watch from {last}"
    )]
    TooOld {
        /// Asked for.
        asked: u64,
        /// Oldest kept.
        oldest: u64,
        /// The latest sequence.
        last: u64,
    },
    /// In the future.
    #[error("resume point {asked} is after the latest change ({last})")]
    Future {
        /// Asked for.
        asked: u64,
        /// The latest sequence.
        last: u64,
    },
}

impl ChangeLog {
    /// A log continuing after `last`, keeping `capacity` changes.
    pub fn new(last: u64, capacity: usize) -> Self {
        ChangeLog {
            start: last,
            last,
            kept: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// The latest sequence number handed out.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The oldest change kept, or the next one when none is.
    pub fn oldest(&self) -> u64 {
        self.kept.front().map_or(self.last + 1, |c| c.sequence)
    }

    /// Records a change; returns it.
    pub fn push(&mut self, e: Entry<'_>) -> Logged {
        self.last += 1;
        let change = Logged {
            sequence: self.last,
            kind: e.kind,
            name: e.name.to_owned(),
            operator: e.operator,
            version: e.version,
            time: e.time,
            headend: e.headend.to_owned(),
        };
        if self.kept.len() == self.capacity {
            self.kept.pop_front();
        }
        self.kept.push_back(change.clone());
        change
    }

    /// Appends a change the leader logged, with its sequence (a standby
    /// follows the leader's log so that watchers resume at the same
    /// numbers on any replica). A gap (a missed change) restarts the log
    /// after the change.
    pub fn push_logged(&mut self, change: Logged) {
        if change.sequence <= self.last {
            return;
        }
        if change.sequence != self.last + 1 {
            self.kept.clear();
            self.start = change.sequence - 1;
        }
        self.last = change.sequence;
        if self.kept.len() == self.capacity {
            self.kept.pop_front();
        }
        self.kept.push_back(change);
    }

    /// Keeps the changes of `older` (the log this one replaces) when this
    /// one continues exactly where it ends: watchers of a replica that
    /// reloaded its state or took over resume without a gap.
    pub fn carry(&mut self, older: ChangeLog) {
        if older.last != self.start || older.kept.is_empty() {
            return;
        }
        let mut kept = older.kept;
        kept.extend(std::mem::take(&mut self.kept));
        while kept.len() > self.capacity {
            kept.pop_front();
        }
        self.start = older.start;
        self.kept = kept;
    }

    /// Changes after `after`, oldest first.
    pub fn since(&self, after: u64) -> Result<Vec<Logged>, ResumeError> {
        if after > self.last {
            return Err(ResumeError::Future {
                asked: after,
                last: self.last,
            });
        }
        let oldest = self.oldest();
        if after + 1 < oldest {
            return Err(ResumeError::TooOld {
                asked: after,
                oldest,
                last: self.last,
            });
        }
        // Sequences are contiguous: the first change after `after` is at
        // this position.
        let skip = (after + 1 - oldest) as usize;
        Ok(self.kept.range(skip..).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_within_the_kept_window() {
        let mut log = ChangeLog::new(10, 3);
        for name in ["a", "b", "c", "d"] {
            log.push(Entry {
                kind: ChangeKind::Installed,
                name,
                headend: "r1",
                operator: None,
                version: 1,
                time: SystemTime::UNIX_EPOCH,
            });
        }
        assert_eq!(log.oldest(), 12);
        assert_eq!(log.last(), 14);
        let names: Vec<String> = log.since(12).unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["c", "d"]);
        assert_eq!(log.since(14).unwrap(), vec![]);
        assert!(matches!(
            log.since(10),
            Err(ResumeError::TooOld { oldest: 12, .. })
        ));
        assert_eq!(log.since(11).unwrap().len(), 3);
        assert!(matches!(log.since(15), Err(ResumeError::Future { .. })));
    }
}
