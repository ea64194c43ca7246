//! Waiting for a condition: `eventually` checks it until it holds or a time
//! limit passes, then fails naming what was awaited, how long it waited, and
//! what the check saw last, instead of each test writing its own poll loop.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

/// How often a condition is checked.
const EVERY: Duration = Duration::from_millis(20);

/// What one check says. `Some(value)` or `Ok(value)`: done. `None`: not
/// yet. `Err(seen)`: not yet, and `seen` (the last one) goes into the
/// failure message.
pub trait Outcome<T> {
    /// The value when done; otherwise what was seen, if the check says.
    fn done(self) -> Result<T, Option<String>>;
}

impl<T> Outcome<T> for Option<T> {
    fn done(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Display> Outcome<T> for Result<T, E> {
    fn done(self) -> Result<T, Option<String>> {
        self.map_err(|seen| Some(seen.to_string()))
    }
}

/// Awaits `check` every ~20 ms (on tokio's clock, so a paused clock works)
/// until it is done, and returns its value; once `within` has passed
/// without it, panics with "gave up after ... waiting for: {what}" (so
/// `what` states the awaited condition: "the policy is applied"). The check
/// runs at least once, and once more at the limit.
pub async fn eventually<T, O, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    O: Outcome<T>,
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
{
    let start = tokio::time::Instant::now();
    let mut tries = 0u32;
    loop {
        tries += 1;
        let seen = match check().await.done() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        let waited = start.elapsed();
        if waited >= within {
            panic!("{}", gave_up(what, within, waited, tries, seen));
        }
        tokio::time::sleep(EVERY.min(within - waited)).await;
    }
}

/// [`eventually`] for code that is not async: calls `check` every ~20 ms
/// (sleeping the thread in between) until it is done, and returns its
/// value; panics once `within` has passed without it.
pub fn eventually_blocking<T, O, F>(what: &str, within: Duration, check: F) -> T
where
    O: Outcome<T>,
    F: FnMut() -> O,
{
    try_eventually_blocking(what, within, check).unwrap_or_else(|e| panic!("{e}"))
}

/// [`eventually_blocking`] that returns the failure message instead of
/// panicking (for a caller that tries again, or adds to the message).
pub fn try_eventually_blocking<T, O, F>(
    what: &str,
    within: Duration,
    mut check: F,
) -> Result<T, String>
where
    O: Outcome<T>,
    F: FnMut() -> O,
{
    let start = std::time::Instant::now();
    let mut tries = 0u32;
    loop {
        tries += 1;
        let seen = match check().done() {
            Ok(value) => return Ok(value),
            Err(seen) => seen,
        };
        let waited = start.elapsed();
        if waited >= within {
            return Err(gave_up(what, within, waited, tries, seen));
        }
        std::thread::sleep(EVERY.min(within - waited));
    }
}

fn gave_up(
    what: &str,
    within: Duration,
    waited: Duration,
    tries: u32,
    seen: Option<String>,
) -> String {
    let seen = seen
        .map(|s| format!("; last seen: {s}"))
        .unwrap_or_default();
    format!(
        "gave up after {waited:.2?} (limit {within:?}, {tries} checks) waiting for: {what}{seen}"
    )
}
