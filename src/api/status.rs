//! Errors mapped to gRPC status codes, once, with `google.rpc` error
//! details where a generic client can use them: `BadRequest` (the field at
//! fault, as a path in the request message), `PreconditionFailure` (every
//! data center and why it could not take a job), `ResourceInfo` (what was
//! not found). Handlers use `?` on the controller's, the conversions' and
//! the watch's errors; `InField` says under which request field a
//! document's field lies.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::access::Denied;
use crate::controller::actor::Gone;
use crate::controller::{ControllerError, ResumeError};
use crate::document::FieldError;

/// An error about a document carried in request field `.0` (`request` for
/// a path request, `event` for an event): field paths in error details are
/// given from the request message, `request.compute.kind`, while the
/// message keeps the document's own terms, `compute.kind: ...`.
pub struct InField<E>(pub &'static str, pub E);

/// The status of bad input, with a `BadRequest` field violation.
fn bad_request(e: &FieldError, parent: Option<&str>) -> Status {
    // A policy's name is a field of the call itself, not of the document.
    let field = match (parent, e.field.as_str()) {
        (_, "name") | (None, _) => e.field.clone(),
        (Some(p), "") => p.to_owned(),
        (Some(p), f) => format!("{p}.{f}"),
    };
    let details = ErrorDetails::with_bad_request_violation(field, e.message.clone());
    Status::with_error_details(Code::InvalidArgument, e.to_string(), details)
}

fn status(e: ControllerError, parent: Option<&str>) -> Status {
    match e {
        ControllerError::InvalidArgument(e) => bad_request(&e, parent),
        ControllerError::NotFound { kind, name } => {
            let message = format!("no {kind} named `{name}`");
            let details = ErrorDetails::with_resource_info(
                format!("cpn.v1.{}", capital(kind)),
                name,
                "",
                &message,
            );
            Status::with_error_details(Code::NotFound, message, details)
        }
        ControllerError::PermissionDenied(m) => Status::permission_denied(m),
        ControllerError::AlreadyExists(m) => Status::already_exists(m),
        ControllerError::FailedPrecondition(m) => Status::failed_precondition(m),
        ControllerError::NoPlacement(e) => {
            let mut details = ErrorDetails::new();
            for r in e.rejected.iter().flatten() {
                let kind = if r.feasible {
                    "NOT_CHOSEN"
                } else {
                    "INFEASIBLE"
                };
                details.add_precondition_failure_violation(kind, &r.datacenter, &r.reason);
            }
            Status::with_error_details(Code::FailedPrecondition, e.error, details)
        }
        ControllerError::Store(e) => Status::unavailable(e.to_string()),
        ControllerError::NotLeader { leader } => {
            let message = ControllerError::NotLeader {
                leader: leader.clone(),
            }
            .to_string();
            let mut metadata = tonic::metadata::MetadataMap::new();
            if let Some(v) = leader.and_then(|l| l.parse().ok()) {
                metadata.insert(LEADER_METADATA, v);
            }
            Status::with_metadata(Code::Unavailable, message, metadata)
        }
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl From<ControllerError> for Status {
    fn from(e: ControllerError) -> Status {
        status(e, None)
    }
}

impl From<InField<ControllerError>> for Status {
    fn from(e: InField<ControllerError>) -> Status {
        status(e.1, Some(e.0))
    }
}

impl From<FieldError> for Status {
    fn from(e: FieldError) -> Status {
        bad_request(&e, None)
    }
}

impl From<InField<FieldError>> for Status {
    fn from(e: InField<FieldError>) -> Status {
        bad_request(&e.1, Some(e.0))
    }
}

/// The metadata key of a standby's UNAVAILABLE answer that names the
/// leader's API URL (clients retry there).
pub const LEADER_METADATA: &str = "cpn-leader";

impl From<Gone> for Status {
    fn from(_: Gone) -> Status {
        Status::unavailable(
            "not acknowledged: the controller is shutting down, or lost its store or its leadership; retry (on another replica)",
        )
    }
}

impl From<ResumeError> for Status {
    fn from(e: ResumeError) -> Status {
        Status::new(Code::OutOfRange, e.to_string())
    }
}

impl From<Denied> for Status {
    fn from(d: Denied) -> Status {
        match d {
            Denied::Unauthenticated(m) => Status::unauthenticated(m),
            Denied::PermissionDenied(m) => Status::permission_denied(m),
            Denied::RateLimited(m) => Status::resource_exhausted(m),
        }
    }
}
