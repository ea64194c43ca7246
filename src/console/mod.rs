//! The web console: `cpnd --http-listen ADDR` serves a single-page console
//! (plain HTML, CSS, JavaScript and SVG, compiled into the binary: no CDN,
//! no build step) and the JSON it reads: the topology, the policies, path
//! queries, installs and removals, and a server-sent event stream of
//! changes fed by the same change log as `WatchPolicies`.
//!
//! An edge beside `api`: it talks to the controller only through its
//! [`ControllerHandle`], and admits callers by the same access rules
//! (`api::access`: tokens, roles, scopes, rate limits, the audit log). See
//! `docs/console.md` for the endpoints.

pub mod assets;
mod auth;
mod events;
mod handlers;
mod http;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tonic::Status;

pub use auth::{COOKIE, SESSION_TTL};
use http::Body;

use crate::api::access::{Access, Action, Caller};
use crate::controller::actor::ControllerHandle;

/// How long connections may take to finish once the server is stopping.
const DRAIN: Duration = Duration::from_secs(5);

/// What every request of the console shares.
pub struct Console {
    controller: ControllerHandle,
    access: Arc<Access>,
    sessions: auth::Sessions,
    /// Turns true when the server stops (event streams end).
    stop: watch::Receiver<bool>,
}

impl Console {
    /// Authenticates and admits a request for `action`.
    fn admit<B>(
        &self,
        req: &Request<B>,
        action: Action,
        method: &str,
    ) -> Result<(Caller, Option<Instant>), Status> {
        auth::admit(&self.access, &self.sessions, req, action, method)
    }

    /// The caller of a state-changing request sent from the console's own
    /// origin (admitted separately, so that a refusal is audited with who
    /// was refused).
    fn authenticate_change<B>(&self, req: &Request<B>) -> Result<Caller, Status> {
        auth::same_origin(req)?;
        let (caller, _) = auth::authenticate(&self.access, &self.sessions, req)?;
        Ok(caller)
    }
}

/// The URL of a console listening on `addr` (for logs).
pub fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

/// Serves the console on `listener` until `shutdown` resolves; then event
/// streams end and connections get [`DRAIN`] to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    controller: ControllerHandle,
    access: Arc<Access>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop) = watch::channel(false);
    let console = Arc::new(Console {
        controller,
        access,
        sessions: auth::Sessions::default(),
        stop: stop.clone(),
    });
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A connection that failed before it was accepted (reset,
                // out of descriptors) is not the server failing.
                Err(e) => {
                    tracing::warn!(error = %e, "console: cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let console = console.clone();
        let mut stop = stop.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let console = console.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&console, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = stopping(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    drop(console);
    // Connections finish what they are doing; event streams have ended.
    let drained = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
    Ok(())
}

/// Resolves when the server is stopping.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The path of a policy (`/api/policies/NAME`): its name.
fn policy_name(path: &str) -> Option<&str> {
    path.strip_prefix("/api/policies/")
        .filter(|n| !n.is_empty() && !n.contains('/'))
}

/// Answers one request.
async fn route(c: &Console, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let result = match (&method, path.as_str()) {
        (&Method::GET, "/" | "/index.html") => Ok(assets::page()),
        (&Method::GET, "/favicon.ico") => Ok(assets::icon()),
        (&Method::GET, p) if p.starts_with("/assets/") => Ok(assets::get(&p["/assets/".len()..])),
        (&Method::GET, "/api/session") => Ok(handlers::whoami(c, &req)),
        (&Method::POST, "/api/session") => handlers::login(c, req).await,
        (&Method::DELETE, "/api/session") => handlers::logout(c, &req),
        (&Method::GET, "/api/topology") => handlers::topology(c, &req).await,
        (&Method::GET, "/api/policies") => handlers::list(c, &req).await,
        (&Method::GET, "/api/events") => events::stream(c, &req).await,
        (&Method::POST, "/api/path") => handlers::path(c, req).await,
        (m, p) if policy_name(p).is_some() => {
            let name = policy_name(p).unwrap_or_default().to_owned();
            match *m {
                Method::GET => handlers::get(c, &req, &name).await,
                Method::POST => handlers::install(c, req, &name).await,
                Method::DELETE => handlers::remove(c, &req, &name).await,
                _ => Ok(http::plain_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "a policy takes GET, POST (install) or DELETE",
                )),
            }
        }
        (_, p) if p.starts_with("/api/") => Ok(http::plain_error(
            StatusCode::NOT_FOUND,
            &format!("no endpoint {method} {p} (see docs/console.md)"),
        )),
        _ => Ok(http::plain_error(StatusCode::NOT_FOUND, "not found")),
    };
    result.unwrap_or_else(|status| http::error(&status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths() {
        assert_eq!(policy_name("/api/policies/train-1"), Some("train-1"));
        assert_eq!(policy_name("/api/policies/"), None);
        assert_eq!(policy_name("/api/policies/a/b"), None);
        assert_eq!(policy_name("/api/policies"), None);
    }
}
