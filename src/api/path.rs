//! `cpn.v1.PathService`: path queries on the live network.

use std::time::Instant;

use tonic::{Request, Response, Status};

use super::access::Action;
use super::status::{gone, status};
use super::{Api, convert};
use crate::controller::actor::Command;
use crate::proto::v1 as pb;
use crate::proto::v1::path_service_server::PathService;

#[tonic::async_trait]
impl PathService for Api {
    async fn compute_path(
        &self,
        request: Request<pb::ComputePathRequest>,
    ) -> Result<Response<pb::ComputePathResponse>, Status> {
        let started = Instant::now();
        let result = async {
            let caller = self
                .access
                .check(&request, Action::ReadPolicies, "ComputePath")?;
            let req = request
                .into_inner()
                .request
                .ok_or_else(|| Status::invalid_argument("request is required"))?;
            let doc = convert::request_from_pb(&req)?;
            let outcome = match self
                .controller
                .ask(|r| Command::Query(doc, caller.scope(), r))
                .await
                .map_err(gone)?
                .map_err(status)?
            {
                Ok(answer) => {
                    pb::compute_path_response::Outcome::Answer(convert::answer_to_pb(&answer))
                }
                Err(e) => {
                    pb::compute_path_response::Outcome::NoPlacement(convert::no_placement_to_pb(
                        &e.error,
                        e.rejected.as_deref().unwrap_or_default(),
                    ))
                }
            };
            Ok(Response::new(pb::ComputePathResponse {
                outcome: Some(outcome),
            }))
        }
        .await;
        self.observe("ComputePath", result, started)
    }
}
