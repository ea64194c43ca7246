//! `cpn.v1.PolicyService`: install, get, list (paged, filtered), remove,
//! watch.

use std::pin::Pin;

use tokio::sync::broadcast::error::RecvError;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::Api;
use super::access::Action;
use super::status::InField;
use crate::controller::actor::Resume;
use crate::controller::{Filter, SouthboundState};
use crate::document::FieldError;
use crate::proto::convert::{self, change_to_pb};
use crate::proto::v1 as pb;
use crate::proto::v1::policy_service_server::PolicyService;

type ChangeStream = Pin<Box<dyn Stream<Item = Result<pb::PolicyChange, Status>> + Send>>;

/// Most bytes of policies one page carries: under the 4 MiB a stock gRPC
/// client accepts by default.
pub const PAGE_BYTES: usize = 3 * 1024 * 1024;

/// The request id of a call (empty: none).
fn request_id(id: String) -> Option<String> {
    (!id.is_empty()).then_some(id)
}

/// A page token: the last name of the previous page, hex-encoded (opaque to
/// clients, and any policy name fits).
fn page_token(after: &str) -> String {
    after.bytes().map(|b| format!("{b:02x}")).collect()
}

fn after_token(token: &str) -> Result<Option<String>, FieldError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || FieldError::new("page_token", "not a page token this server gave");
    if !token.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, _>>()?;
    String::from_utf8(bytes).map(Some).map_err(|_| bad())
}

/// The filter of a listing.
fn filter(r: &pb::ListPoliciesRequest) -> Result<Filter, FieldError> {
    let text = |s: &String| (!s.is_empty()).then(|| s.clone());
    let up = match pb::PolicyState::try_from(r.state) {
        Ok(pb::PolicyState::Unspecified) => None,
        Ok(pb::PolicyState::Up) => Some(true),
        Ok(pb::PolicyState::Down) => Some(false),
        Err(_) => {
            return Err(FieldError::new(
                "state",
                format!("unknown value {}", r.state),
            ));
        }
    };
    let southbound = match pb::SouthboundState::try_from(r.southbound) {
        Ok(pb::SouthboundState::Unspecified) => None,
        Ok(pb::SouthboundState::Applied) => Some(SouthboundState::Applied),
        Ok(pb::SouthboundState::Pending) => Some(SouthboundState::Pending),
        Ok(pb::SouthboundState::Failed) => Some(SouthboundState::Failed),
        Ok(pb::SouthboundState::Disabled) => Some(SouthboundState::Disabled),
        Err(_) => {
            let m = format!("unknown value {}", r.southbound);
            return Err(FieldError::new("southbound", m));
        }
    };
    Ok(Filter {
        headend: text(&r.headend),
        operator: text(&r.operator),
        datacenter: text(&r.datacenter),
        up,
        southbound,
    })
}

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
                    .ok_or_else(|| FieldError::new("request", "is required"))?;
                let doc = convert::request_from_pb(&req).map_err(|e| InField("request", e))?;
                let installed = self
                    .controller
                    .install(r.name, doc, caller.scope(), request_id(r.request_id))
                    .await?
                    .map_err(|e| InField("request", e))?;
                Ok(pb::InstallPolicyResponse {
                    policy: Some(convert::policy_to_pb(&installed.policy)),
                    created: installed.created,
                    sequence: installed.sequence,
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
            |caller, r| async move {
                let filter = filter(&r)?;
                let after = after_token(&r.page_token)?;
                let page = self
                    .controller
                    .list(caller.scope(), filter, after, r.page_size as usize)
                    .await?;
                // A page also stops short of PAGE_BYTES, so that it reaches
                // a stock client (4 MiB receive limit) whatever its size.
                let mut policies = Vec::with_capacity(page.policies.len());
                let mut bytes = 0;
                let mut next_after = page.next_after;
                for p in &page.policies {
                    let pb = convert::policy_to_pb(p);
                    bytes += prost::Message::encoded_len(&pb) + 4;
                    if bytes > PAGE_BYTES && !policies.is_empty() {
                        next_after = policies.last().map(|l: &pb::Policy| l.name.clone());
                        break;
                    }
                    policies.push(pb);
                }
                Ok(pb::ListPoliciesResponse {
                    policies,
                    next_page_token: next_after.as_deref().map(page_token).unwrap_or_default(),
                    sequence: page.sequence,
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
                let sequence = self
                    .controller
                    .remove(r.name, caller.scope(), request_id(r.request_id))
                    .await??;
                Ok(pb::RemovePolicyResponse { sequence })
            },
        )
        .await
    }

    async fn failback_policy(
        &self,
        request: Request<pb::FailbackPolicyRequest>,
    ) -> Result<Response<pb::FailbackPolicyResponse>, Status> {
        let target = |r: &pb::FailbackPolicyRequest| r.name.clone();
        self.change(
            "FailbackPolicy",
            Action::ChangePolicies,
            target,
            request,
            |caller, r| async move {
                let (policy, sequence) = self.controller.failback(r.name, caller.scope()).await??;
                Ok(pb::FailbackPolicyResponse {
                    policy: Some(convert::policy_to_pb(&policy)),
                    sequence,
                })
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
                let from = match (r.from_oldest, r.resume_after) {
                    (true, _) => Resume::Oldest,
                    (false, 0) => Resume::Now,
                    (false, n) => Resume::After(n),
                };
                let (backlog, mut rx, mut last) = self.controller.watch(from).await??;
                let mut stopping = self.stopping.clone();
                let stream = async_stream::stream! {
                    for c in &backlog {
                        if scope.covers_operator(c.operator.as_ref()) {
                            yield Ok(change_to_pb(c));
                        }
                    }
                    loop {
                        let received = tokio::select! {
                            r = rx.recv() => r,
                            true = super::stopping_begins(&mut stopping) => {
                                yield Err(Status::unavailable(format!(
                                    "the server is shutting down; resume after sequence {last}"
                                )));
                                break;
                            }
                        };
                        match received {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_garbage() {
        for name in ["a", "job-1.x_y", "z"] {
            assert_eq!(
                after_token(&page_token(name)).unwrap().as_deref(),
                Some(name)
            );
        }
        assert_eq!(after_token("").unwrap(), None);
        assert_eq!(after_token("abc").unwrap_err().field, "page_token");
        assert_eq!(after_token("zz").unwrap_err().field, "page_token");
    }
}
