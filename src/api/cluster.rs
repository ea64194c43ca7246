//! `cpn.v1.ClusterService`: which replica leads, at which epoch, and which
//! revision each reflects. The replication layer (`ha`) answers through
//! [`ClusterInfo`]; a controller on one machine answers as a cluster of
//! one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::Api;
use super::access::Action;
use crate::proto::v1 as pb;
use crate::proto::v1::cluster_service_server::ClusterService;

/// What a replica reports about itself and the cluster.
pub trait ClusterInfo: Send + Sync {
    /// This replica's status, and the replicas registered.
    fn report(&self) -> Pin<Box<dyn Future<Output = pb::GetClusterStatusResponse> + Send + '_>>;
}

/// The cluster status source the handlers use, if replicated.
pub type Cluster = Option<Arc<dyn ClusterInfo>>;

#[tonic::async_trait]
impl ClusterService for Api {
    async fn get_cluster_status(
        &self,
        request: Request<pb::GetClusterStatusRequest>,
    ) -> Result<Response<pb::GetClusterStatusResponse>, Status> {
        self.read(
            "GetClusterStatus",
            Action::ReadTopology,
            request,
            |_, _| async move {
                if let Some(c) = &self.cluster {
                    return Ok(c.report().await);
                }
                let sequence = match self
                    .controller
                    .watch(crate::controller::actor::Resume::Now)
                    .await?
                {
                    Ok((_, _, last)) => last as i64,
                    Err(_) => 0,
                };
                Ok(pb::GetClusterStatusResponse {
                    replica: Some(pb::ReplicaStatus {
                        role: "leader".into(),
                        revision: sequence,
                        ..Default::default()
                    }),
                    members: Vec::new(),
                    replicated: false,
                })
            },
        )
        .await
    }
}
