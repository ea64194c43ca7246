//! `cpn.v1.TopologyService`: the live topology, its replacement, events.

use tonic::{Request, Response, Status};

use super::Api;
use super::access::Action;
use super::status::InField;
use crate::document::FieldError;
use crate::proto::convert;
use crate::proto::v1 as pb;
use crate::proto::v1::topology_service_server::TopologyService;
use crate::topology_file::{self, TopologyDocument};

#[tonic::async_trait]
impl TopologyService for Api {
    async fn get_topology(
        &self,
        request: Request<pb::GetTopologyRequest>,
    ) -> Result<Response<pb::GetTopologyResponse>, Status> {
        self.read(
            "GetTopology",
            Action::ReadTopology,
            request,
            |_, _| async move {
                let t = self.controller.topology().await?;
                Ok(pb::GetTopologyResponse {
                    topology: Some(convert::topology(&t)),
                })
            },
        )
        .await
    }

    async fn export_topology(
        &self,
        request: Request<pb::ExportTopologyRequest>,
    ) -> Result<Response<pb::ExportTopologyResponse>, Status> {
        self.read(
            "ExportTopology",
            Action::ReadTopology,
            request,
            |_, _| async move {
                let t = self.controller.topology().await?;
                let yaml = serde_yaml::to_string(&TopologyDocument::from_topology(&t))
                    .map_err(|e| Status::internal(e.to_string()))?;
                let down_routers = t
                    .routers()
                    .filter(|(_, r)| !r.up)
                    .map(|(_, r)| r.id.to_string())
                    .collect();
                Ok(pb::ExportTopologyResponse { yaml, down_routers })
            },
        )
        .await
    }

    async fn replace_topology(
        &self,
        request: Request<pb::ReplaceTopologyRequest>,
    ) -> Result<Response<pb::ReplaceTopologyResponse>, Status> {
        let target = |_: &pb::ReplaceTopologyRequest| "topology".to_owned();
        self.change(
            "ReplaceTopology",
            Action::ChangeNetwork,
            target,
            request,
            |_, r| async move {
                let text = r.document;
                // Parsing a large document is CPU work: keep it off the runtime.
                let topology = tokio::task::spawn_blocking(move || {
                    topology_file::parse_str(&text, "document")
                })
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
                check_elements(&topology)?;
                let affected = self.controller.replace(topology).await??;
                Ok(pb::ReplaceTopologyResponse {
                    affected_policies: affected,
                })
            },
        )
        .await
    }

    async fn apply_event(
        &self,
        request: Request<pb::ApplyEventRequest>,
    ) -> Result<Response<pb::ApplyEventResponse>, Status> {
        let target = |r: &pb::ApplyEventRequest| match &r.event {
            Some(e) => {
                convert::event_from_pb(e).map_or_else(|e| e.to_string(), |d| format!("{d:?}"))
            }
            None => String::new(),
        };
        self.change(
            "ApplyEvent",
            Action::ChangeNetwork,
            target,
            request,
            |_, r| async move {
                let event = r
                    .event
                    .ok_or_else(|| FieldError::new("event", "is required"))?;
                let event = convert::event_from_pb(&event)?;
                let id = (!r.request_id.is_empty()).then_some(r.request_id);
                let outcome = self
                    .controller
                    .event(event, id)
                    .await?
                    .map_err(|e| InField("event", e))?;
                let (first_sequence, last_sequence) = outcome.sequences.unwrap_or_default();
                Ok(pb::ApplyEventResponse {
                    affected_policies: outcome.affected,
                    first_sequence,
                    last_sequence,
                })
            },
        )
        .await
    }
}

/// (A document is at most `grpc::MAX_MESSAGE_BYTES`, as every message.)
/// Most routers, links and data centers (together) a topology may have.
pub const MAX_ELEMENTS: usize = 1_000_000;

/// Refuses a topology with too many elements.
fn check_elements(t: &crate::model::Topology) -> Result<(), Status> {
    let n = t.router_count() + t.link_count() + t.datacenters().len();
    if n > MAX_ELEMENTS {
        return Err(Status::resource_exhausted(format!(
            "topology of {n} routers, links and data centers: at most {MAX_ELEMENTS}"
        )));
    }
    Ok(())
}
