//! Who is calling the console. The same tokens, roles and scopes as the
//! gRPC API (`api::access`): a request carries `Authorization: Bearer
//! <token>` (scripts), or the session cookie a login set (the browser).
//!
//! Why a cookie: `EventSource`, which carries the change stream, cannot set
//! headers, and a token in the URL would land in logs, history and
//! `Referer`s. A login (`POST /api/session` with the token) instead gets a
//! random session id in an `HttpOnly; SameSite=Strict` cookie: page scripts
//! cannot read it, other sites cannot send it, and it expires
//! ([`SESSION_TTL`]) or ends at logout. The server keeps only the session
//! id's SHA-256 and the caller it stands for (in memory: a restart logs
//! everyone out). State-changing requests must also come from the
//! console's own origin (an `Origin` header naming another host is
//! refused).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::Request;
use hyper::header;
use rand::Rng;
use tonic::Status;

use super::http::header_text;
use crate::api::access::{Access, Action, Caller, Denied, token_hash};

/// The session cookie's name.
pub const COOKIE: &str = "cpn_session";

/// How long a login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// Most sessions held at once (the oldest goes first beyond it).
const MAX_SESSIONS: usize = 10_000;

/// One login.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who logged in.
    pub caller: Caller,
    /// When it ends.
    pub expires: Instant,
}

/// Logged-in sessions, by the hash of their id.
#[derive(Debug, Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// A new session for `caller`; returns its id (the cookie's value).
    pub fn open(&self, caller: Caller) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            token_hash(&id),
            Session {
                caller,
                expires: now + SESSION_TTL,
            },
        );
        id
    }

    /// The session of id `id`, if it is open.
    pub fn get(&self, id: &str) -> Option<Session> {
        let hash = token_hash(id);
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&hash) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                map.remove(&hash);
                None
            }
            None => None,
        }
    }

    /// Ends session `id` (nothing if it is not open).
    pub fn close(&self, id: &str) {
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&token_hash(id));
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a, B>(req: &'a Request<B>, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the browser reached the console over TLS through a proxy
/// (`X-Forwarded-Proto: https`): then cookies are `Secure`. (Trusting the
/// header can only make the cookie stricter.)
pub fn behind_tls(headers: &hyper::HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value that holds session `id` (`secure`: only sent
/// over TLS).
pub fn set_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The caller of a request and when its right to call ends (a session's
/// expiry; `None` for a bearer token or an open API): the bearer token if
/// the request has one, else the session cookie.
pub fn authenticate<B>(
    access: &Access,
    sessions: &Sessions,
    req: &Request<B>,
) -> Result<(Caller, Option<Instant>), Denied> {
    if access.is_open() {
        return Ok((Caller::anonymous(), None));
    }
    if let Some(h) = req.headers().get(header::AUTHORIZATION) {
        // A header that is not text is no bearer token.
        return Ok((access.authenticate(Some(h.to_str().unwrap_or("")))?, None));
    }
    match cookie(req, COOKIE).and_then(|id| sessions.get(id)) {
        Some(s) => Ok((s.caller, Some(s.expires))),
        None => Err(Denied::Unauthenticated(
            "log in with a token (the session is missing or has expired)".into(),
        )),
    }
}

/// Authenticates a request and admits it for `action`; `method` names it
/// in refusals.
pub fn admit<B>(
    access: &Access,
    sessions: &Sessions,
    req: &Request<B>,
    action: Action,
    method: &str,
) -> Result<(Caller, Option<Instant>), Status> {
    let (caller, expires) = authenticate(access, sessions, req)?;
    access.admit(&caller, action, method)?;
    Ok((caller, expires))
}

/// Refuses a state-changing request sent from another origin: its `Origin`
/// header, when present, must name the host it was sent to.
pub fn same_origin<B>(req: &Request<B>) -> Result<(), Status> {
    let Some(origin) = header_text(req, header::ORIGIN) else {
        return Ok(());
    };
    let host = header_text(req, header::HOST).unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    if !host.is_empty() && origin_host == host {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "a request from origin {origin} to host {host}: only the console's own pages may change state"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::access::Role;

    fn req(headers: &[(&str, &str)]) -> Request<()> {
        let mut b = Request::builder();
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn sessions_open_find_and_close() {
        let s = Sessions::default();
        let caller = Caller {
            name: "noc".into(),
            role: Role::Viewer,
        };
        let id = s.open(caller.clone());
        assert_eq!(id.len(), 64);
        assert_eq!(s.get(&id).unwrap().caller, caller);
        assert!(s.get("nope").is_none());
        s.close(&id);
        assert!(s.get(&id).is_none());
        assert_ne!(s.open(caller.clone()), s.open(caller));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let r = req(&[("cookie", "a=1; cpn_session=abc; b=2")]);
        assert_eq!(cookie(&r, COOKIE), Some("abc"));
        assert_eq!(cookie(&req(&[("cookie", "a=1")]), COOKIE), None);
        assert!(set_cookie("x", false).contains("HttpOnly; SameSite=Strict"));
        assert!(set_cookie("x", true).ends_with("; Secure"));
    }

    #[test]
    fn other_origins_may_not_change_state() {
        assert!(same_origin(&req(&[("host", "127.0.0.1:8080")])).is_ok());
        assert!(
            same_origin(&req(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]))
            .is_ok()
        );
        let e = same_origin(&req(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
        ]))
        .unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
    }
}
