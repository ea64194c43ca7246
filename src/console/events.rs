//! `GET /api/events`: policy changes as server-sent events, fed by the
//! same change log as `WatchPolicies`, and a note whenever the topology
//! changes.
//!
//! - `snapshot` (`id:` the last sequence): `{"sequence", "policies"}`, every
//!   policy the caller may see; sent on a fresh connection, and instead of
//!   a backlog the log no longer holds.
//! - `change` (`id:` its sequence): `{"sequence", "kind", "name", "policy"}`,
//!   as `cpnctl policy watch --json` prints it.
//! - `topology` (no id): `{"version"}`; read `/api/topology` again.
//!
//! A browser that reconnects sends the last id it saw as `Last-Event-ID`
//! (scripts may pass `?after=N`): the stream resumes after it with the
//! changes missed. The stream ends when the server stops, when the session
//! expires, and when the client falls too far behind (it resumes).

use std::convert::Infallible;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame};
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::StreamExt;
use tonic::Status;

use super::Console;
use super::http::{Body, header_text, response};
use crate::api::access::Action;
use crate::controller::Change;
use crate::controller::actor::Resume;

/// How often an idle stream sends a comment, so that proxies keep it and
/// a client that has gone is noticed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long a browser waits before reconnecting, milliseconds.
const RETRY_MS: u64 = 1000;

/// The resume point of a request: `Last-Event-ID`, else `?after=`, else 0
/// (from now, with a snapshot).
fn resume_point<B>(req: &Request<B>) -> u64 {
    if let Some(id) = header_text(req, header::HeaderName::from_static("last-event-id")) {
        return id.trim().parse().unwrap_or(0);
    }
    req.uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("after="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// One event in the wire format.
fn event(kind: &str, id: Option<u64>, data: &serde_json::Value) -> Bytes {
    let mut s = String::new();
    if let Some(id) = id {
        s.push_str(&format!("id: {id}\n"));
    }
    // serde_json writes one line: a single `data:` field.
    s.push_str(&format!("event: {kind}\ndata: {data}\n\n"));
    Bytes::from(s)
}

/// The `change` event of a change.
fn change_event(c: &Change) -> Bytes {
    let data = serde_json::json!({
        "sequence": c.sequence,
        "kind": c.kind.as_str(),
        "name": c.name,
        "policy": c.policy,
    });
    event("change", Some(c.sequence), &data)
}

/// What the stream does next.
enum Next {
    Change(Box<Change>),
    Skip,
    Topology(u64),
    KeepAlive,
    End,
}

/// The event stream of a request.
pub(super) async fn stream(
    c: &Console,
    req: &Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Status> {
    let (caller, expires) = c.admit(req, Action::ReadPolicies, "console:Events")?;
    let scope = caller.scope();
    let after = resume_point(req);
    let mut topology = c.controller.topology_changes();
    topology.mark_unchanged();
    let from = match after {
        0 => Resume::Now,
        n => Resume::After(n),
    };
    let (backlog, mut rx, mut last, snapshot) = match c.controller.watch(from).await? {
        Ok((backlog, rx, last)) if after > 0 => (backlog, rx, last, None),
        // From now, or from a point the log no longer holds (or never
        // held: another run of cpnd): everything as it stands.
        _ => {
            let (_, rx, last) = c.controller.watch(Resume::Now).await??;
            // Listed after subscribing: a change in between comes again
            // after the snapshot, and a change carries the whole policy.
            let policies = c.controller.list_all(scope.clone()).await?;
            (Vec::new(), rx, last, Some(policies))
        }
    };
    let mut stop = c.stop.clone();
    let deadline = expires.map(tokio::time::Instant::from_std);
    let far = tokio::time::Instant::from_std(Instant::now() + Duration::from_secs(365 * 86_400));
    let events = async_stream::stream! {
        yield Bytes::from(format!("retry: {RETRY_MS}\n\n"));
        if let Some(policies) = snapshot {
            let data = serde_json::json!({"sequence": last, "policies": policies});
            yield event("snapshot", Some(last), &data);
        }
        for ch in &backlog {
            if scope.covers_operator(ch.operator.as_ref()) {
                yield change_event(ch);
            }
        }
        let mut keep_alive = tokio::time::interval_at(
            tokio::time::Instant::now() + KEEP_ALIVE,
            KEEP_ALIVE,
        );
        loop {
            let next = tokio::select! {
                r = rx.recv() => match r {
                    // Changes already sent from the backlog are skipped.
                    Ok(ch) if ch.sequence <= last => Next::Skip,
                    Ok(ch) => Next::Change(Box::new(ch)),
                    // Too far behind: end; the browser resumes from the
                    // last id it has, and the log fills the gap.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => Next::End,
                },
                r = topology.changed() => match r {
                    Ok(()) => Next::Topology(*topology.borrow_and_update()),
                    Err(_) => Next::End,
                },
                _ = keep_alive.tick() => Next::KeepAlive,
                () = super::stopping(&mut stop) => Next::End,
                () = tokio::time::sleep_until(deadline.unwrap_or(far)) => Next::End,
            };
            match next {
                Next::Change(ch) => {
                    last = ch.sequence;
                    if scope.covers_operator(ch.operator.as_ref()) {
                        yield change_event(&ch);
                    }
                }
                Next::Skip => {}
                Next::Topology(version) => {
                    yield event("topology", None, &serde_json::json!({"version": version}));
                }
                Next::KeepAlive => yield Bytes::from_static(b": keep-alive\n\n"),
                Next::End => break,
            }
        }
    };
    let body = StreamBody::new(events.map(|b| Ok::<_, Infallible>(Frame::data(b))));
    let mut r = response(StatusCode::OK, "text/event-stream", BodyExt::boxed(body));
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies (nginx) must not buffer the stream.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_from_the_header_or_the_query() {
        let r = |uri: &str, id: Option<&str>| {
            let mut b = Request::builder().uri(uri);
            if let Some(id) = id {
                b = b.header("last-event-id", id);
            }
            b.body(()).unwrap()
        };
        assert_eq!(resume_point(&r("/api/events", None)), 0);
        assert_eq!(resume_point(&r("/api/events?after=7", None)), 7);
        assert_eq!(resume_point(&r("/api/events?after=7", Some("9"))), 9);
        assert_eq!(resume_point(&r("/api/events", Some("junk"))), 0);
    }

    #[test]
    fn events_are_in_the_wire_format() {
        let e = event("topology", None, &serde_json::json!({"version": 3}));
        assert_eq!(&e[..], b"event: topology\ndata: {\"version\":3}\n\n");
        let e = event("snapshot", Some(5), &serde_json::json!({}));
        assert!(e.starts_with(b"id: 5\nevent: snapshot\n"));
    }
}
