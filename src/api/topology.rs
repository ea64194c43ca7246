//! `cpn.v1.TopologyService`: the live topology, its replacement, events.

use std::time::Instant;

use tonic::{Request, Response, Status};

use super::access::Action;
use super::status::{gone, status};
use super::{Api, convert};
use crate::controller::actor::Command;
use crate::proto::v1 as pb;
use crate::proto::v1::topology_service_server::TopologyService;
use crate::topology_file::{self, TopologyDocument};

#[tonic::async_trait]
impl TopologyService for Api {
    async fn get_topology(
        &self,
        request: Request<pb::GetTopologyRequest>,
    ) -> Result<Response<pb::GetTopologyResponse>, Status> {
        let started = Instant::now();
        let result = async {
            self.access
                .check(&request, Action::ReadTopology, "GetTopology")?;
            let t = self.controller.ask(Command::Topology).await.map_err(gone)?;
            Ok(Response::new(pb::GetTopologyResponse {
                topology: Some(convert::topology(&t)),
            }))
        }
        .await;
        self.observe("GetTopology", result, started)
    }

    async fn export_topology(
        &self,
        request: Request<pb::ExportTopologyRequest>,
    ) -> Result<Response<pb::ExportTopologyResponse>, Status> {
        let started = Instant::now();
        let result = async {
            self.access
                .check(&request, Action::ReadTopology, "ExportTopology")?;
            let t = self.controller.ask(Command::Topology).await.map_err(gone)?;
            let yaml = serde_yaml::to_string(&TopologyDocument::from_topology(&t))
                .map_err(|e| Status::internal(e.to_string()))?;
            let down_routers = t
                .routers()
                .filter(|(_, r)| !r.up)
                .map(|(_, r)| r.id.to_string())
                .collect();
            Ok(Response::new(pb::ExportTopologyResponse {
                yaml,
                down_routers,
            }))
        }
        .await;
        self.observe("ExportTopology", result, started)
    }

    async fn replace_topology(
        &self,
        request: Request<pb::ReplaceTopologyRequest>,
    ) -> Result<Response<pb::ReplaceTopologyResponse>, Status> {
        let started = Instant::now();
        let caller = self
            .access
            .check(&request, Action::ChangeNetwork, "ReplaceTopology");
        let result = async {
            caller.clone()?;
            let text = request.into_inner().document;
            // Parsing a large document is CPU work: keep it off the runtime.
            let topology =
                tokio::task::spawn_blocking(move || topology_file::parse_str(&text, "document"))
                    .await
                    .map_err(|e| Status::internal(e.to_string()))?
                    .map_err(|e| Status::invalid_argument(e.to_string()))?;
            check_elements(&topology)?;
            let affected = self
                .controller
                .ask(|r| Command::Replace(Box::new(topology), r))
                .await
                .map_err(gone)?
                .map_err(status)?;
            Ok(Response::new(pb::ReplaceTopologyResponse {
                affected_policies: affected,
            }))
        }
        .await;
        self.access
            .audit(caller.as_ref().ok(), "ReplaceTopology", "topology", &result);
        self.observe("ReplaceTopology", result, started)
    }

    async fn apply_event(
        &self,
        request: Request<pb::ApplyEventRequest>,
    ) -> Result<Response<pb::ApplyEventResponse>, Status> {
        let started = Instant::now();
        let caller = self
            .access
            .check(&request, Action::ChangeNetwork, "ApplyEvent");
        let mut target = String::new();
        let result = async {
            caller.clone()?;
            let event = request
                .into_inner()
                .event
                .ok_or_else(|| Status::invalid_argument("event is required"))?;
            let event = convert::event_from_pb(&event)?;
            target = format!("{event:?}");
            let affected = self
                .controller
                .ask(|r| Command::Event(event, r))
                .await
                .map_err(gone)?
                .map_err(status)?;
            Ok(Response::new(pb::ApplyEventResponse {
                affected_policies: affected,
            }))
        }
        .await;
        self.access
            .audit(caller.as_ref().ok(), "ApplyEvent", &target, &result);
        self.observe("ApplyEvent", result, started)
    }
}

/// (A document is at most `server::MAX_MESSAGE_BYTES`, as every message.)
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
