//! `cpn.v1.PolicyService`: install, get, list, remove, watch.

use std::pin::Pin;
use std::time::Instant;

use tokio::sync::broadcast::error::RecvError;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::access::Action;
use super::status::{gone, resume, status};
use super::{Api, convert};
use crate::controller::actor::Command;
use crate::controller::{Change, ChangeKind};
use crate::proto::v1 as pb;
use crate::proto::v1::policy_service_server::PolicyService;

fn change_to_pb(c: &Change) -> pb::PolicyChange {
    pb::PolicyChange {
        sequence: c.sequence,
        kind: match c.kind {
            ChangeKind::Installed => pb::ChangeKind::Installed,
            ChangeKind::Updated => pb::ChangeKind::Updated,
            ChangeKind::Down => pb::ChangeKind::Down,
            ChangeKind::Restored => pb::ChangeKind::Restored,
            ChangeKind::Removed => pb::ChangeKind::Removed,
            ChangeKind::Southbound => pb::ChangeKind::Southbound,
        }
        .into(),
        name: c.name.clone(),
        policy: c.policy.as_ref().map(convert::policy_to_pb),
    }
}

type ChangeStream = Pin<Box<dyn Stream<Item = Result<pb::PolicyChange, Status>> + Send>>;

#[tonic::async_trait]
impl PolicyService for Api {
    async fn install_policy(
        &self,
        request: Request<pb::InstallPolicyRequest>,
    ) -> Result<Response<pb::InstallPolicyResponse>, Status> {
        let started = Instant::now();
        let caller = self
            .access
            .check(&request, Action::ChangePolicies, "InstallPolicy");
        let name = request.get_ref().name.clone();
        let result = async {
            let scope = caller.clone()?.scope();
            let r = request.into_inner();
            let req = r
                .request
                .ok_or_else(|| Status::invalid_argument("request is required"))?;
            let doc = convert::request_from_pb(&req)?;
            let policy = self
                .controller
                .ask(|reply| Command::Install(r.name, doc, scope, reply))
                .await
                .map_err(gone)?
                .map_err(status)?;
            Ok(Response::new(pb::InstallPolicyResponse {
                policy: Some(convert::policy_to_pb(&policy)),
            }))
        }
        .await;
        self.access
            .audit(caller.as_ref().ok(), "InstallPolicy", &name, &result);
        self.observe("InstallPolicy", result, started)
    }

    async fn get_policy(
        &self,
        request: Request<pb::GetPolicyRequest>,
    ) -> Result<Response<pb::GetPolicyResponse>, Status> {
        let started = Instant::now();
        let result = async {
            let caller = self
                .access
                .check(&request, Action::ReadPolicies, "GetPolicy")?;
            let name = request.into_inner().name;
            let policy = self
                .controller
                .ask(|reply| Command::Get(name, caller.scope(), reply))
                .await
                .map_err(gone)?
                .map_err(status)?;
            Ok(Response::new(pb::GetPolicyResponse {
                policy: Some(convert::policy_to_pb(&policy)),
            }))
        }
        .await;
        self.observe("GetPolicy", result, started)
    }

    async fn list_policies(
        &self,
        request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        let started = Instant::now();
        let result = async {
            let caller = self
                .access
                .check(&request, Action::ReadPolicies, "ListPolicies")?;
            let policies = self
                .controller
                .ask(|reply| Command::List(caller.scope(), reply))
                .await
                .map_err(gone)?;
            Ok(Response::new(pb::ListPoliciesResponse {
                policies: policies.iter().map(convert::policy_to_pb).collect(),
            }))
        }
        .await;
        self.observe("ListPolicies", result, started)
    }

    async fn remove_policy(
        &self,
        request: Request<pb::RemovePolicyRequest>,
    ) -> Result<Response<pb::RemovePolicyResponse>, Status> {
        let started = Instant::now();
        let caller = self
            .access
            .check(&request, Action::ChangePolicies, "RemovePolicy");
        let name = request.into_inner().name;
        let result = async {
            let scope = caller.clone()?.scope();
            self.controller
                .ask(|reply| Command::Remove(name.clone(), scope, reply))
                .await
                .map_err(gone)?
                .map_err(status)?;
            Ok(Response::new(pb::RemovePolicyResponse {}))
        }
        .await;
        self.access
            .audit(caller.as_ref().ok(), "RemovePolicy", &name, &result);
        self.observe("RemovePolicy", result, started)
    }

    type WatchPoliciesStream = ChangeStream;

    async fn watch_policies(
        &self,
        request: Request<pb::WatchPoliciesRequest>,
    ) -> Result<Response<Self::WatchPoliciesStream>, Status> {
        let started = Instant::now();
        let result = async {
            let caller = self
                .access
                .check(&request, Action::ReadPolicies, "WatchPolicies")?;
            let after = request.into_inner().resume_after;
            // The operator of each change's headend is taken when it
            // happens, in the controller task.
            let scope = caller.scope();
            let (backlog, mut rx, mut last) = self
                .controller
                .ask(|reply| Command::Watch(after, reply))
                .await
                .map_err(gone)?
                .map_err(resume)?;
            let stream = async_stream::stream! {
                for c in &backlog {
                    if scope.covers_operator(c.operator.as_ref()) {
                        yield Ok(change_to_pb(c));
                    }
                }
                loop {
                    match rx.recv().await {
                        // Changes already sent from the backlog are skipped.
                        Ok(c) if c.sequence <= last => {}
                        Ok(c) => {
                            last = c.sequence;
                            if scope.covers_operator(c.operator.as_ref()) {
                                yield Ok(change_to_pb(&c));
                            }
                        }
                        Err(RecvError::Lagged(n)) => {
                            yield Err(Status::data_loss(format!(
                                "watcher fell {n} changes behind; resume from sequence {last}"
                            )));
                            break;
                        }
                        Err(RecvError::Closed) => break,
                    }
                }
            };
            Ok(Response::new(Box::pin(stream) as ChangeStream))
        }
        .await;
        self.observe("WatchPolicies", result, started)
    }
}
