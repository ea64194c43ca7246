//! The gRPC face of an agent: `RouterAgent` for every back end, and
//! `MockControl` for the mock.

use std::pin::Pin;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::mock::MockAgent;
use crate::proto::v1 as pb;
use crate::proto::v1::mock_control_server::{MockControl, MockControlServer};
use crate::proto::v1::router_agent_server::{RouterAgent, RouterAgentServer};

type Reports = Pin<Box<dyn Stream<Item = Result<pb::RouterReport, Status>> + Send>>;

#[tonic::async_trait]
impl RouterAgent for MockAgent {
    async fn provision_sids(
        &self,
        request: Request<pb::ProvisionSidsRequest>,
    ) -> Result<Response<pb::ProvisionSidsResponse>, Status> {
        self.faults().await?;
        self.provision(request.into_inner())?;
        Ok(Response::new(pb::ProvisionSidsResponse {}))
    }

    async fn apply_policy(
        &self,
        request: Request<pb::ApplyPolicyRequest>,
    ) -> Result<Response<pb::ApplyPolicyResponse>, Status> {
        self.faults().await?;
        let version = self.apply(request.into_inner())?;
        Ok(Response::new(pb::ApplyPolicyResponse { version }))
    }

    async fn remove_policy(
        &self,
        request: Request<pb::RemoveRouterPolicyRequest>,
    ) -> Result<Response<pb::RemoveRouterPolicyResponse>, Status> {
        self.faults().await?;
        self.remove(request.into_inner())?;
        Ok(Response::new(pb::RemoveRouterPolicyResponse {}))
    }

    async fn list_state(
        &self,
        request: Request<pb::ListStateRequest>,
    ) -> Result<Response<pb::ListStateResponse>, Status> {
        self.faults().await?;
        Ok(Response::new(self.list(&request.into_inner().router)))
    }

    type WatchReportsStream = Reports;

    async fn watch_reports(
        &self,
        request: Request<pb::WatchReportsRequest>,
    ) -> Result<Response<Self::WatchReportsStream>, Status> {
        let routers = request.into_inner().routers;
        let mut rx = self.subscribe();
        let stream = async_stream::stream! {
            while let Ok(report) = rx.recv().await {
                if routers.is_empty() || routers.contains(&report.router) {
                    yield Ok(report);
                }
            }
        };
        Ok(Response::new(Box::pin(stream) as Reports))
    }
}

#[tonic::async_trait]
impl MockControl for MockAgent {
    async fn history(
        &self,
        _request: Request<pb::MockHistoryRequest>,
    ) -> Result<Response<pb::MockHistoryResponse>, Status> {
        Ok(Response::new(pb::MockHistoryResponse {
            operations: self.history(),
        }))
    }

    async fn inject(
        &self,
        request: Request<pb::MockInjectRequest>,
    ) -> Result<Response<pb::MockInjectResponse>, Status> {
        let report = request
            .into_inner()
            .report
            .ok_or_else(|| Status::invalid_argument("report is required"))?;
        self.inject(report);
        Ok(Response::new(pb::MockInjectResponse {}))
    }
}

/// Serves a mock agent on `listener` until `shutdown` resolves.
pub async fn serve_mock(
    listener: tokio::net::TcpListener,
    agent: MockAgent,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let incoming = crate::api::server::incoming(listener);
    tonic::transport::Server::builder()
        .add_service(RouterAgentServer::new(agent.clone()))
        .add_service(MockControlServer::new(agent))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}
