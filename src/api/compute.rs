//! `cpn.v1.ComputeService`: data centers report their pools. Each report
//! is an event (logged, re-optimizing the policies on that pool),
//! acknowledged in order on the reply stream; a refused one is
//! acknowledged with its error and the stream goes on.

use std::pin::Pin;
use std::time::Instant;

use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use super::Api;
use super::access::Action;
use crate::document::EventDoc;
use crate::proto::convert;
use crate::proto::v1 as pb;
use crate::proto::v1::compute_service_server::ComputeService;

type AckStream = Pin<Box<dyn Stream<Item = Result<pb::ReportAck, Status>> + Send>>;

/// An acknowledgement that refuses a report.
fn refused(error: impl std::fmt::Display) -> pb::ReportAck {
    pb::ReportAck {
        error: error.to_string(),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl ComputeService for Api {
    type ReportStream = AckStream;

    async fn report(
        &self,
        request: Request<Streaming<pb::PoolReport>>,
    ) -> Result<Response<Self::ReportStream>, Status> {
        self.read(
            "Report",
            Action::ReportCompute,
            request,
            |caller, mut reports| async move {
                let (controller, last_heard) = (self.controller.clone(), self.last_heard.clone());
                let access = self.access.clone();
                let mut stopping = self.stopping.clone();
                let stream = async_stream::stream! {
                    loop {
                        let next = tokio::select! {
                            r = reports.next() => r,
                            true = super::stopping_begins(&mut stopping) => {
                                yield Err(Status::unavailable("the server is shutting down; report again"));
                                break;
                            }
                        };
                        let report = match next {
                            Some(Ok(r)) => r,
                            // The reporter went away: its silence is the
                            // watchdog's business.
                            Some(Err(_)) | None => break,
                        };
                        let target = format!("{}/{}", report.datacenter, report.kind);
                        if !caller.may_report_for(&report.datacenter) {
                            let status = Status::permission_denied(format!(
                                "role {} may not report for data center `{}`",
                                caller.role, report.datacenter
                            ));
                            access.audit(Some(&caller), "Report", &target, &Err::<(), _>(status.clone()));
                            yield Err(status);
                            break;
                        }
                        let doc = match convert::report_from_pb(&report, "report") {
                            Ok(d) => d,
                            Err(e) => {
                                yield Ok(refused(e));
                                continue;
                            }
                        };
                        let outcome = match controller.event(EventDoc::ReportPool(doc), None).await {
                            Ok(o) => o,
                            Err(gone) => {
                                yield Err(Status::from(gone));
                                break;
                            }
                        };
                        access.audit(
                            Some(&caller),
                            "Report",
                            &target,
                            &outcome.as_ref().map_err(|e| Status::invalid_argument(e.to_string())),
                        );
                        match outcome {
                            Ok(o) => {
                                last_heard.heard(&report.datacenter, Instant::now());
                                let (first_sequence, last_sequence) = o.sequences.unwrap_or_default();
                                yield Ok(pb::ReportAck {
                                    error: String::new(),
                                    affected_policies: o.affected,
                                    first_sequence,
                                    last_sequence,
                                });
                            }
                            // A standby: the reporter goes to the leader
                            // (the status names it).
                            Err(e @ crate::controller::ControllerError::NotLeader { .. }) => {
                                yield Err(Status::from(e));
                                break;
                            }
                            Err(e) => yield Ok(refused(e)),
                        }
                    }
                };
                Ok(Box::pin(stream) as AckStream)
            },
        )
        .await
    }
}
