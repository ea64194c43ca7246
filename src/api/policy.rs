//! `cpn.v1.PolicyService`: install, get, list, remove, watch.

use std::pin::Pin;

use tokio::sync::broadcast::error::RecvError;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::Api;
use super::access::Action;
use crate::proto::convert::{self, change_to_pb};
use crate::proto::v1 as pb;
use crate::proto::v1::policy_service_server::PolicyService;

type ChangeStream = Pin<Box<dyn Stream<Item = Result<pb::PolicyChange, Status>> + Send>>;

#[tonic::async_trait]
impl PolicyService for Api {
    async fn install_policy(
        &self,
        request: Request<pb::InstallPolicyRequest>,
    ) -> Result<Response<pb::InstallPolicyResponse>, Status> {
        let target = |r: &pb::InstallPolicyRequest| r.name.clone();
        self.change(
            "InstallPolicy",
            Action::ChangePolicies,
            target,
            request,
            |caller, r| async move {
                let req = r
                    .request
                    .ok_or_else(|| Status::invalid_argument("request is required"))?;
                let doc = convert::request_from_pb(&req)?;
                let policy = self
                    .controller
                    .install(r.name, doc, caller.scope())
                    .await??;
                Ok(pb::InstallPolicyResponse {
                    policy: Some(convert::policy_to_pb(&policy)),
                })
            },
        )
        .await
    }

    async fn get_policy(
        &self,
        request: Request<pb::GetPolicyRequest>,
    ) -> Result<Response<pb::GetPolicyResponse>, Status> {
        self.read(
            "GetPolicy",
            Action::ReadPolicies,
            request,
            |caller, r| async move {
                let policy = self.controller.get(r.name, caller.scope()).await??;
                Ok(pb::GetPolicyResponse {
                    policy: Some(convert::policy_to_pb(&policy)),
                })
            },
        )
        .await
    }

    async fn list_policies(
        &self,
        request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        self.read(
            "ListPolicies",
            Action::ReadPolicies,
            request,
            |caller, _| async move {
                let policies = self.controller.list(caller.scope()).await?;
                Ok(pb::ListPoliciesResponse {
                    policies: policies.iter().map(convert::policy_to_pb).collect(),
                })
            },
        )
        .await
    }

    async fn remove_policy(
        &self,
        request: Request<pb::RemovePolicyRequest>,
    ) -> Result<Response<pb::RemovePolicyResponse>, Status> {
        let target = |r: &pb::RemovePolicyRequest| r.name.clone();
        self.change(
            "RemovePolicy",
            Action::ChangePolicies,
            target,
            request,
            |caller, r| async move {
                self.controller.remove(r.name, caller.scope()).await??;
                Ok(pb::RemovePolicyResponse {})
            },
        )
        .await
    }

    type WatchPoliciesStream = ChangeStream;

    async fn watch_policies(
        &self,
        request: Request<pb::WatchPoliciesRequest>,
    ) -> Result<Response<Self::WatchPoliciesStream>, Status> {
        self.read(
            "WatchPolicies",
            Action::ReadPolicies,
            request,
            |caller, r| async move {
                // The operator of each change's headend is taken when it
                // happens, in the controller task.
                let scope = caller.scope();
                let (backlog, mut rx, mut last) = self.controller.watch(r.resume_after).await??;
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
                Ok(Box::pin(stream) as ChangeStream)
            },
        )
        .await
    }
}
