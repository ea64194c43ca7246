//! The router agent (`cpn-router`): serves the southbound protocol of
//! `proto/cpn/v1/router.proto` for one or more routers through a `Backend`.
//! Back ends: `mock` keeps everything in memory (tests, demos); real data
//! planes are further back ends.

pub mod checks;
pub mod linux;
pub mod mock;
pub mod server;

use tokio::sync::broadcast;
use tonic::Status;

use crate::proto::v1 as pb;

/// What a router agent does, whatever it programs. Errors follow the codes
/// of router.proto (FAILED_PRECONDITION: router unknown; INVALID_ARGUMENT,
/// OUT_OF_RANGE: refused; others: transient).
#[tonic::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Replaces a router's local SIDs.
    async fn provision_sids(&self, r: pb::ProvisionSidsRequest) -> Result<(), Status>;
    /// Installs or replaces a policy at a headend; returns the version held.
    async fn apply_policy(&self, r: pb::ApplyPolicyRequest) -> Result<u64, Status>;
    /// Removes a policy from a headend (no-op when absent).
    async fn remove_policy(&self, r: pb::RemoveRouterPolicyRequest) -> Result<(), Status>;
    /// What a router holds.
    async fn list_state(&self, router: &str) -> Result<pb::ListStateResponse, Status>;
    /// Reports of every router, as they happen.
    fn reports(&self) -> broadcast::Receiver<pb::RouterReport>;
}
