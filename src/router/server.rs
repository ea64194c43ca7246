//! The gRPC face of an agent: `RouterAgent` over any `Backend`, and
//! `MockControl` for the mock. Report streams end when the server shuts
//! down, so a graceful stop does not wait for cpnd to hang up.

use std::pin::Pin;

use tokio::sync::{broadcast, watch};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::Backend;
use super::mock::MockAgent;
use crate::grpc::ServeError;
use crate::proto::v1 as pb;
use crate::proto::v1::mock_control_server::{MockControl, MockControlServer};
use crate::proto::v1::router_agent_server::{RouterAgent, RouterAgentServer};
use crate::tls::ServerTls;

type Reports = Pin<Box<dyn Stream<Item = Result<pb::RouterReport, Status>> + Send>>;

/// `RouterAgent` over a back end.
pub struct AgentService<B> {
    backend: B,
    closing: watch::Receiver<bool>,
    /// The newest controller epoch seen on a push (replicas on etcd).
    newest_epoch: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl<B> AgentService<B> {
    /// Admits a push: one without an epoch (a controller on one machine),
    /// or one whose epoch is not older than the newest seen. A deposed
    /// leader (paused, then resumed) pushes under its old epoch once the
    /// new leader has pushed under a newer one: refused, so that it cannot
    /// overwrite the new leader's paths.
    fn admit<T>(&self, request: &Request<T>) -> Result<(), Status> {
        use std::sync::atomic::Ordering;
        let Some(epoch) = request
            .metadata()
            .get(crate::southbound::EPOCH_METADATA)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok())
        else {
            return Ok(());
        };
        let newest = self.newest_epoch.fetch_max(epoch, Ordering::SeqCst);
        if epoch < newest {
            return Err(Status::permission_denied(format!(
                "a push of controller epoch {epoch} is refused: epoch {newest} has pushed since (the sender was deposed)"
            )));
        }
        Ok(())
    }
}

/// Ends the report streams of an [`AgentService`] when dropped or closed.
pub struct Closer(watch::Sender<bool>);

impl Closer {
    /// Ends every report stream.
    pub fn close(&self) {
        let _ = self.0.send(true);
    }
}

impl Drop for Closer {
    fn drop(&mut self) {
        self.close();
    }
}

/// The gRPC service of `backend`, and what ends its report streams.
pub fn agent_service<B: Backend>(backend: B) -> (RouterAgentServer<AgentService<B>>, Closer) {
    let (tx, closing) = watch::channel(false);
    (
        RouterAgentServer::new(AgentService {
            backend,
            closing,
            newest_epoch: Default::default(),
        }),
        Closer(tx),
    )
}

#[tonic::async_trait]
impl<B: Backend> RouterAgent for AgentService<B> {
    async fn provision_sids(
        &self,
        request: Request<pb::ProvisionSidsRequest>,
    ) -> Result<Response<pb::ProvisionSidsResponse>, Status> {
        self.admit(&request)?;
        self.backend.provision_sids(request.into_inner()).await?;
        Ok(Response::new(pb::ProvisionSidsResponse {}))
    }

    async fn apply_policy(
        &self,
        request: Request<pb::ApplyPolicyRequest>,
    ) -> Result<Response<pb::ApplyPolicyResponse>, Status> {
        self.admit(&request)?;
        let version = self.backend.apply_policy(request.into_inner()).await?;
        Ok(Response::new(pb::ApplyPolicyResponse { version }))
    }

    async fn remove_policy(
        &self,
        request: Request<pb::RemoveRouterPolicyRequest>,
    ) -> Result<Response<pb::RemoveRouterPolicyResponse>, Status> {
        self.admit(&request)?;
        self.backend.remove_policy(request.into_inner()).await?;
        Ok(Response::new(pb::RemoveRouterPolicyResponse {}))
    }

    async fn list_state(
        &self,
        request: Request<pb::ListStateRequest>,
    ) -> Result<Response<pb::ListStateResponse>, Status> {
        let state = self
            .backend
            .list_state(&request.into_inner().router)
            .await?;
        Ok(Response::new(state))
    }

    type WatchReportsStream = Reports;

    async fn watch_reports(
        &self,
        request: Request<pb::WatchReportsRequest>,
    ) -> Result<Response<Self::WatchReportsStream>, Status> {
        let routers = request.into_inner().routers;
        let mut rx = self.backend.reports();
        let mut closing = self.closing.clone();
        let stream = async_stream::stream! {
            loop {
                let report = tokio::select! {
                    r = rx.recv() => r,
                    _ = closing.wait_for(|c| *c) => break,
                };
                match report {
                    Ok(report) if routers.is_empty() || routers.contains(&report.router) => {
                        yield Ok(report);
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        // Too slow a reader: say so and go on.
                        yield Err(Status::data_loss(format!("{n} reports were dropped")));
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
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

/// A server builder, with TLS when given.
fn builder(tls: Option<&ServerTls>) -> Result<tonic::transport::Server, ServeError> {
    let b = tonic::transport::Server::builder();
    Ok(match tls {
        Some(t) => b.tls_config(t.config()?)?,
        None => b,
    })
}

/// Serves `backend` on `listener` (over TLS when given) until `shutdown`
/// resolves.
pub async fn serve<B: Backend>(
    listener: tokio::net::TcpListener,
    backend: B,
    tls: Option<&ServerTls>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let incoming = crate::grpc::incoming(listener);
    let (service, closer) = agent_service(backend);
    builder(tls)?
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, async move {
            shutdown.await;
            closer.close();
        })
        .await?;
    Ok(())
}

/// Serves a mock agent (and its `MockControl`) on `listener` until
/// `shutdown` resolves.
pub async fn serve_mock(
    listener: tokio::net::TcpListener,
    agent: MockAgent,
    tls: Option<&ServerTls>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let incoming = crate::grpc::incoming(listener);
    let (service, closer) = agent_service(agent.clone());
    builder(tls)?
        .add_service(service)
        .add_service(MockControlServer::new(agent))
        .serve_with_incoming_shutdown(incoming, async move {
            shutdown.await;
            closer.close();
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(epoch: Option<i64>) -> Request<()> {
        let mut r = Request::new(());
        if let Some(e) = epoch {
            r.metadata_mut().insert(
                crate::southbound::EPOCH_METADATA,
                e.to_string().parse().unwrap(),
            );
        }
        r
    }

    #[test]
    fn a_push_older_than_the_newest_epoch_is_refused() {
        let (_tx, closing) = watch::channel(false);
        let agent = AgentService {
            backend: (),
            closing,
            newest_epoch: Default::default(),
        };
        assert!(agent.admit(&push(Some(7))).is_ok());
        assert!(agent.admit(&push(Some(7))).is_ok(), "the same epoch again");
        let refused = agent.admit(&push(Some(5))).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert!(
            refused.message().contains("epoch 7"),
            "{}",
            refused.message()
        );
        assert!(agent.admit(&push(Some(9))).is_ok(), "a newer leader");
        assert!(agent.admit(&push(Some(7))).is_err());
        assert!(agent.admit(&push(None)).is_ok(), "one machine: no epoch");
    }
}
