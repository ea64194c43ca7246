//! The console's JSON endpoints, each the shape of a gRPC handler: admit
//! the caller for an action, ask the controller through its handle, answer
//! with the documents the CLI prints (`PolicyJson`, `AnswerJson` or
//! `ErrorJson`, the topology document). State changes are audited as the
//! gRPC API's are, under `console:<Method>`.

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use tonic::Status;

use super::Console;
use super::auth::{self, COOKIE};
use super::http::{Body, body_text, json};
use super::view::TopologyView;
use crate::api::access::{Action, Caller};
use crate::document::{MAX_REQUEST_BYTES, RequestDoc, parse_request};

/// A caller as the page sees it.
fn caller_json(c: &Caller) -> serde_json::Value {
    let may = |a| c.may(a);
    serde_json::json!({
        "name": c.name,
        "role": c.role.to_string(),
        "may_change_policies": may(Action::ChangePolicies),
    })
}

/// `GET /api/session`: whether tokens are needed, and who this is (`null`
/// before a login). Never an error, so that a fresh page logs none.
pub(super) fn whoami(c: &Console, req: &Request<Incoming>) -> Response<Body> {
    let caller = auth::authenticate(&c.access, &c.sessions, req)
        .ok()
        .map(|(caller, _)| caller_json(&caller));
    json(
        StatusCode::OK,
        &serde_json::json!({"open": c.access.is_open(), "caller": caller}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    token: String,
}

/// `POST /api/session` `{"token": "..."}`: a session cookie for the token's
/// caller.
pub(super) async fn login(c: &Console, req: Request<Incoming>) -> Result<Response<Body>, Status> {
    auth::same_origin(&req)?;
    let req_headers = req.headers().clone();
    let text = body_text(req, 64 * 1024).await?;
    let login: Login = serde_json::from_str(&text)
        .map_err(|e| Status::invalid_argument(format!("expected {{\"token\": \"...\"}}: {e}")))?;
    let caller = c.access.authenticate_token(login.token.trim())?;
    tracing::info!(who = %caller.name, role = %caller.role, "console login");
    let mut r = json(
        StatusCode::OK,
        &serde_json::json!({"open": c.access.is_open(), "caller": caller_json(&caller)}),
    );
    if !c.access.is_open() {
        let id = c.sessions.open(caller);
        let cookie = auth::set_cookie(&id, auth::behind_tls(&req_headers));
        r.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).expect("hex and ASCII"),
        );
    }
    Ok(r)
}

/// `DELETE /api/session`: ends the session.
pub(super) fn logout(c: &Console, req: &Request<Incoming>) -> Result<Response<Body>, Status> {
    auth::same_origin(req)?;
    if let Some(id) = auth::cookie(req, COOKIE) {
        c.sessions.close(id);
    }
    let mut r = json(StatusCode::OK, &serde_json::json!({}));
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::clear_cookie(auth::behind_tls(req.headers()))).expect("ASCII"),
    );
    Ok(r)
}

/// `GET /api/topology`.
pub(super) async fn topology(
    c: &Console,
    req: &Request<Incoming>,
) -> Result<Response<Body>, Status> {
    c.admit(req, Action::ReadTopology, "console:GetTopology")?;
    let t = c.controller.topology().await?;
    // Converting a large topology is CPU work: keep it off the runtime.
    let view = tokio::task::spawn_blocking(move || TopologyView::of(&t))
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
    Ok(json(StatusCode::OK, &view))
}

/// `GET /api/policies`: the caller's policies, by name.
pub(super) async fn list(c: &Console, req: &Request<Incoming>) -> Result<Response<Body>, Status> {
    let (caller, _) = c.admit(req, Action::ReadPolicies, "console:ListPolicies")?;
    let policies = c.controller.list_all(caller.scope()).await?;
    Ok(json(StatusCode::OK, &policies))
}

/// `GET /api/policies/NAME`.
pub(super) async fn get(
    c: &Console,
    req: &Request<Incoming>,
    name: &str,
) -> Result<Response<Body>, Status> {
    let (caller, _) = c.admit(req, Action::ReadPolicies, "console:GetPolicy")?;
    let policy = c.controller.get(name.to_owned(), caller.scope()).await??;
    Ok(json(StatusCode::OK, &policy))
}

/// A request document from a body (JSON, or YAML as the CLI reads).
async fn request_doc(req: Request<Incoming>) -> Result<RequestDoc, Status> {
    let text = body_text(req, MAX_REQUEST_BYTES).await?;
    parse_request(&text).map_err(Status::invalid_argument)
}

/// `POST /api/path` with a request document: the answer, or "nothing
/// feasible" with every data center's reason (both 200: a what-if that
/// fits nowhere is an answer, not a failure).
pub(super) async fn path(c: &Console, req: Request<Incoming>) -> Result<Response<Body>, Status> {
    let (caller, _) = c.admit(&req, Action::ReadPolicies, "console:QueryPath")?;
    let doc = request_doc(req).await?;
    match c.controller.query(doc, caller.scope()).await?? {
        Ok(answer) => Ok(json(StatusCode::OK, &answer)),
        Err(infeasible) => Ok(json(StatusCode::OK, &infeasible)),
    }
}

/// `POST /api/policies/NAME` with a request document: installs it (201),
/// or finds it installed with that request already (200; another request
/// under the name is 409).
pub(super) async fn install(
    c: &Console,
    req: Request<Incoming>,
    name: &str,
) -> Result<Response<Body>, Status> {
    let method = "console:InstallPolicy";
    let caller = c.authenticate_change(&req);
    let result = match &caller {
        Ok(caller) => match c.access.admit(caller, Action::ChangePolicies, method) {
            Ok(()) => match request_doc(req).await {
                Ok(doc) => flatten(
                    c.controller
                        .install(name.to_owned(), doc, caller.scope(), None)
                        .await,
                ),
                Err(e) => Err(e),
            },
            Err(d) => Err(d.into()),
        },
        Err(e) => Err(e.clone()),
    };
    c.access.audit(caller.as_ref().ok(), method, name, &result);
    let installed = result?;
    let status = if installed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &installed.policy))
}

/// `DELETE /api/policies/NAME`.
pub(super) async fn remove(
    c: &Console,
    req: &Request<Incoming>,
    name: &str,
) -> Result<Response<Body>, Status> {
    let method = "console:RemovePolicy";
    let caller = c.authenticate_change(req);
    let result = match &caller {
        Ok(caller) => match c.access.admit(caller, Action::ChangePolicies, method) {
            Ok(()) => flatten(
                c.controller
                    .remove(name.to_owned(), caller.scope(), None)
                    .await,
            ),
            Err(d) => Err(d.into()),
        },
        Err(e) => Err(e.clone()),
    };
    c.access.audit(caller.as_ref().ok(), method, name, &result);
    result?;
    Ok(json(StatusCode::OK, &serde_json::json!({"removed": name})))
}

/// The controller's answer to a change, as one status.
fn flatten<T, E: Into<Status>>(
    r: Result<Result<T, E>, crate::controller::actor::Gone>,
) -> Result<T, Status> {
    r.map_err(Status::from).and_then(|r| r.map_err(Into::into))
}
