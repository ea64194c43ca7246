//! `cpn.v1.PathService`: path queries on the live network.

use tonic::{Request, Response, Status};

use super::Api;
use super::access::Action;
use super::status::InField;
use crate::document::FieldError;
use crate::proto::convert;
use crate::proto::v1 as pb;
use crate::proto::v1::path_service_server::PathService;

#[tonic::async_trait]
impl PathService for Api {
    async fn compute_path(
        &self,
        request: Request<pb::ComputePathRequest>,
    ) -> Result<Response<pb::ComputePathResponse>, Status> {
        self.read(
            "ComputePath",
            Action::ReadPolicies,
            request,
            |caller, r| async move {
                let req = r
                    .request
                    .ok_or_else(|| FieldError::new("request", "is required"))?;
                let doc = convert::request_from_pb(&req).map_err(|e| InField("request", e))?;
                let outcome = match self
                    .controller
                    .query(doc, caller.scope())
                    .await?
                    .map_err(|e| InField("request", e))?
                {
                    Ok(answer) => {
                        pb::compute_path_response::Outcome::Answer(convert::answer_to_pb(&answer))
                    }
                    Err(e) => pb::compute_path_response::Outcome::NoPlacement(
                        convert::no_placement_to_pb(
                            &e.error,
                            e.rejected.as_deref().unwrap_or_default(),
                        ),
                    ),
                };
                Ok(pb::ComputePathResponse {
                    outcome: Some(outcome),
                })
            },
        )
        .await
    }
}
