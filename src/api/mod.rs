//! The northbound gRPC API (tonic handlers only). Every handler has one
//! shape, run by `Api::call`: authenticate and authorize the caller,
//! convert the request (`crate::proto::convert`), ask the controller task,
//! convert the reply; state-changing calls are audited, and every call's
//! outcome and latency recorded. Errors map to gRPC codes once (`status`).

pub mod access;
mod bgp_ls;
pub mod cluster;
mod compute;
mod path;
mod policy;
mod status;
mod topology;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};

use crate::controller::actor::ControllerHandle;
use crate::metrics::Metrics;
use access::{Action, Caller};
pub use status::LEADER_METADATA;

/// The state every handler shares: the controller handle, metrics, and the
/// access rules.
#[derive(Clone)]
pub struct Api {
    controller: ControllerHandle,
    metrics: Arc<Metrics>,
    access: Arc<access::Access>,
    /// The BGP-LS speaker's status, when cpnd runs one.
    bgp_ls: Option<BgpLsStatus>,
    /// Turns true when the server starts to shut down: open streams end
    /// (a graceful shutdown waits for every call, watches included).
    stopping: tokio::sync::watch::Receiver<bool>,
    /// When each data center's reporter was last heard.
    last_heard: crate::controller::freshness::LastHeard,
    /// The replication layer's status, when cpnd runs on etcd.
    cluster: cluster::Cluster,
}

/// The BGP-LS speaker's published status.
pub type BgpLsStatus = tokio::sync::watch::Receiver<Arc<crate::bgp_ls::status::Status>>;

/// Whether the server begins to shut down (false: it never will, nobody
/// can tell it to). Open streams end when it does: a graceful shutdown
/// waits for every call.
async fn stopping_begins(stopping: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    stopping.wait_for(|s| *s).await.is_ok()
}

/// Whether a call is written to the audit log, and under what target.
enum Audit<Req> {
    /// A read: not audited.
    No,
    /// A change: audited, the target named from the request.
    Target(fn(&Req) -> String),
}

/// The result of a handler's body: the reply, or the status it failed with.
type Reply<Resp> = Result<Response<Resp>, Status>;

impl Api {
    /// Handlers on `controller`, recording into `metrics`, admitting calls
    /// by `access`.
    pub fn new(
        controller: ControllerHandle,
        metrics: Arc<Metrics>,
        access: Arc<access::Access>,
    ) -> Self {
        Api {
            controller,
            metrics,
            access,
            bgp_ls: None,
            stopping: tokio::sync::watch::channel(false).1,
            last_heard: Default::default(),
            cluster: None,
        }
    }

    /// Notes reports in `last_heard` (which the reporters' watchdog reads).
    pub fn with_last_heard(mut self, last_heard: crate::controller::freshness::LastHeard) -> Self {
        self.last_heard = last_heard;
        self
    }

    /// Ends open streams when `stopping` turns true.
    pub fn with_stopping(mut self, stopping: tokio::sync::watch::Receiver<bool>) -> Self {
        self.stopping = stopping;
        self
    }

    /// The same handlers, reporting the replication layer's status.
    pub fn with_cluster(mut self, cluster: Arc<dyn cluster::ClusterInfo>) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// The same handlers, serving the status of a BGP-LS speaker too.
    pub fn with_bgp_ls(mut self, status: BgpLsStatus) -> Self {
        self.bgp_ls = Some(status);
        self
    }

    /// Runs a call that reads: see [`Api::call`].
    async fn read<Req, Resp, Fut>(
        &self,
        method: &'static str,
        action: Action,
        request: Request<Req>,
        body: impl FnOnce(Caller, Req) -> Fut,
    ) -> Reply<Resp>
    where
        Fut: Future<Output = Result<Resp, Status>>,
    {
        self.call(method, action, Audit::No, request, body).await
    }

    /// Runs a call that changes state, audited under `target` of the
    /// request: see [`Api::call`].
    async fn change<Req, Resp, Fut>(
        &self,
        method: &'static str,
        action: Action,
        target: fn(&Req) -> String,
        request: Request<Req>,
        body: impl FnOnce(Caller, Req) -> Fut,
    ) -> Reply<Resp>
    where
        Fut: Future<Output = Result<Resp, Status>>,
    {
        self.call(method, action, Audit::Target(target), request, body)
            .await
    }

    /// Runs one call of `method`: checks that the caller may do `action`,
    /// runs `body` with the caller and the request, audits the outcome when
    /// `audit` asks, and records it.
    async fn call<Req, Resp, Fut>(
        &self,
        method: &'static str,
        action: Action,
        audit: Audit<Req>,
        request: Request<Req>,
        body: impl FnOnce(Caller, Req) -> Fut,
    ) -> Reply<Resp>
    where
        Fut: Future<Output = Result<Resp, Status>>,
    {
        let started = Instant::now();
        let (caller, allowed) = self.access.check(&request, action, method);
        let target = match audit {
            Audit::No => None,
            Audit::Target(name) => Some(name(request.get_ref())),
        };
        let result = match (&caller, allowed) {
            (Some(c), Ok(())) => body(c.clone(), request.into_inner())
                .await
                .map(Response::new),
            (_, Err(s)) => Err(s),
            (None, Ok(())) => Err(Status::internal("an allowed call without a caller")),
        };
        if let Some(target) = target {
            // Refused callers are named too, when their token is known.
            self.access.audit(caller.as_ref(), method, &target, &result);
        }
        let code = match &result {
            Ok(_) => tonic::Code::Ok,
            Err(s) => s.code(),
        };
        self.metrics.record(method, code, started);
        result
    }
}
