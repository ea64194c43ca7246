//! How cpnd talks to a router: the `RouterDriver` trait, and the driver for
//! CPN's own agents (`cpn-router`) over gRPC at the router's `mgmt` address.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::time::Duration;

use tokio_stream::Stream;
use tonic::transport::{Channel, Endpoint};

use crate::proto::v1 as pb;
use crate::proto::v1::router_agent_client::RouterAgentClient;

/// A stream of router reports.
pub type Reports = Pin<Box<dyn Stream<Item = Result<pb::RouterReport, DriverError>> + Send>>;

/// What a failed call means for the worker (see router.proto).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Transient (unreachable, timed out): retry the same call.
    Transient,
    /// The router lost its state (restarted): provision it and push all again.
    LostState,
    /// This request is refused as it stands (e.g. more segments than the
    /// MSD): report it and go on with the others.
    Refused,
}

/// Why a driver call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DriverError {
    /// What went wrong, in one line.
    pub message: String,
    /// What it means.
    pub failure: Failure,
}

impl DriverError {
    /// A transient failure.
    pub fn transient(message: impl Into<String>) -> DriverError {
        DriverError {
            message: message.into(),
            failure: Failure::Transient,
        }
    }

    /// A refusal of one request.
    pub fn refused(message: impl Into<String>) -> DriverError {
        DriverError {
            message: message.into(),
            failure: Failure::Refused,
        }
    }
}

impl From<tonic::Status> for DriverError {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let failure = match s.code() {
            Code::FailedPrecondition => Failure::LostState,
            Code::InvalidArgument
            | Code::OutOfRange
            | Code::PermissionDenied
            | Code::Unimplemented => Failure::Refused,
            _ => Failure::Transient,
        };
        DriverError {
            message: format!("{:?}: {}", s.code(), s.message()),
            failure,
        }
    }
}

/// What a router holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RouterState {
    /// Its policies.
    pub policies: Vec<pb::SrPolicy>,
    /// Its local SIDs.
    pub sids: Vec<pb::LocalSid>,
    /// False when it has never been provisioned (or lost everything).
    pub known: bool,
}

/// How cpnd pushes to one router.
#[tonic::async_trait]
pub trait RouterDriver: Send + Sync {
    /// Replaces the router's local SIDs.
    async fn provision(&self, sids: &pb::ProvisionSidsRequest) -> Result<(), DriverError>;
    /// Installs or replaces a policy at the router (a headend); returns the
    /// version it holds.
    async fn apply(&self, router: &str, policy: &pb::SrPolicy) -> Result<u64, DriverError>;
    /// Removes a policy from the router.
    async fn remove(&self, router: &str, name: &str) -> Result<(), DriverError>;
    /// What the router holds. `wanted` is what the controller wants there:
    /// a driver whose router cannot keep CPN's policy names (a BGP speaker
    /// keeps NLRIs) names what it holds after the wanted policy of the same
    /// distinguisher.
    async fn list(
        &self,
        router: &str,
        wanted: &BTreeMap<String, pb::SrPolicy>,
    ) -> Result<RouterState, DriverError>;
    /// What the router reports (link state, metrics), when the driver can tell.
    async fn reports(&self, router: &str) -> Result<Option<Reports>, DriverError>;
}

/// A `cpn-router` agent at a gRPC address.
pub struct AgentDriver {
    client: RouterAgentClient<Channel>,
    /// The same agent without a call timeout, for the report stream.
    streams: RouterAgentClient<Channel>,
    /// The leader's epoch, sent with every push (replicas on etcd).
    epoch: Option<super::PushEpoch>,
}

impl AgentDriver {
    /// A driver for the agent at `mgmt` (`host:port`); connects lazily, so a
    /// router that is not up yet is retried, not refused.
    pub fn new(
        mgmt: &str,
        timeout: Duration,
        tls: Option<&crate::tls::ClientTls>,
        epoch: Option<super::PushEpoch>,
    ) -> Result<AgentDriver, DriverError> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{mgmt}"))
            .map_err(|e| DriverError::refused(format!("mgmt address {mgmt}: {e}")))?
            .connect_timeout(timeout)
            .tcp_nodelay(true);
        if let Some(tls) = tls {
            let config = tls
                .config(crate::tls::host_of(mgmt))
                .map_err(|e| DriverError::refused(e.0))?;
            endpoint = endpoint
                .tls_config(config)
                .map_err(|e| DriverError::refused(format!("TLS to {mgmt}: {e}")))?;
        }
        Ok(AgentDriver {
            client: RouterAgentClient::new(endpoint.clone().timeout(timeout).connect_lazy()),
            streams: RouterAgentClient::new(endpoint.connect_lazy()),
            epoch,
        })
    }

    /// A push, stamped with the leader's epoch when there is one.
    fn stamped<T>(&self, message: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(message);
        if let Some(e) = &self.epoch
            && let Ok(v) = e.get().to_string().parse()
        {
            r.metadata_mut().insert(super::EPOCH_METADATA, v);
        }
        r
    }
}

#[tonic::async_trait]
impl RouterDriver for AgentDriver {
    async fn provision(&self, sids: &pb::ProvisionSidsRequest) -> Result<(), DriverError> {
        self.client
            .clone()
            .provision_sids(self.stamped(sids.clone()))
            .await?;
        Ok(())
    }

    async fn apply(&self, router: &str, policy: &pb::SrPolicy) -> Result<u64, DriverError> {
        let r = pb::ApplyPolicyRequest {
            router: router.to_owned(),
            policy: Some(policy.clone()),
        };
        Ok(self
            .client
            .clone()
            .apply_policy(self.stamped(r))
            .await?
            .into_inner()
            .version)
    }

    async fn remove(&self, router: &str, name: &str) -> Result<(), DriverError> {
        let r = pb::RemoveRouterPolicyRequest {
            router: router.to_owned(),
            name: name.to_owned(),
        };
        self.client.clone().remove_policy(self.stamped(r)).await?;
        Ok(())
    }

    async fn list(
        &self,
        router: &str,
        _wanted: &BTreeMap<String, pb::SrPolicy>,
    ) -> Result<RouterState, DriverError> {
        let r = self
            .client
            .clone()
            .list_state(pb::ListStateRequest {
                router: router.to_owned(),
            })
            .await?
            .into_inner();
        Ok(RouterState {
            policies: r.policies,
            sids: r.sids,
            known: r.known,
        })
    }

    async fn reports(&self, router: &str) -> Result<Option<Reports>, DriverError> {
        use tokio_stream::StreamExt;
        // Reports last as long as the agent does: no call timeout on them.
        let mut client = self.streams.clone();
        let stream = client
            .watch_reports(pb::WatchReportsRequest {
                routers: vec![router.to_owned()],
            })
            .await?
            .into_inner()
            .map(|r| r.map_err(DriverError::from));
        Ok(Some(Box::pin(stream)))
    }
}
