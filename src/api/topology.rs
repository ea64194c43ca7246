//! `cpn.v1.TopologyService`: the live topology.
//!
//! Readers get an immutable snapshot (`Arc<Topology>`) that the owner swaps
//! when the topology changes; no lock is held while answering.

use std::sync::Arc;

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use super::convert;
use crate::model::Topology;
use crate::proto::v1 as pb;
use crate::proto::v1::topology_service_server::TopologyService;

/// Serves the topology snapshots published on a watch channel.
#[derive(Clone)]
pub struct TopologyApi {
    snapshots: watch::Receiver<Arc<Topology>>,
}

impl TopologyApi {
    /// Answers from whatever the sender of `snapshots` last published.
    pub fn new(snapshots: watch::Receiver<Arc<Topology>>) -> Self {
        TopologyApi { snapshots }
    }
}

#[tonic::async_trait]
impl TopologyService for TopologyApi {
    async fn get_topology(
        &self,
        _request: Request<pb::GetTopologyRequest>,
    ) -> Result<Response<pb::GetTopologyResponse>, Status> {
        let snapshot = self.snapshots.borrow().clone();
        Ok(Response::new(pb::GetTopologyResponse {
            topology: Some(convert::topology(&snapshot)),
        }))
    }
}
