//! Errors mapped to gRPC status codes, once: every handler uses `?` on the
//! controller's, the conversions' and the watch's errors.

use tonic::{Code, Status};

use super::access::Denied;
use crate::controller::actor::Gone;
use crate::controller::{ControllerError, ResumeError};
use crate::document::FieldError;

impl From<ControllerError> for Status {
    fn from(e: ControllerError) -> Status {
        match e {
            ControllerError::InvalidArgument(e) => Status::invalid_argument(e.to_string()),
            ControllerError::NotFound(m) => Status::not_found(m),
            ControllerError::PermissionDenied(m) => Status::permission_denied(m),
            ControllerError::AlreadyExists(m) => Status::already_exists(m),
            ControllerError::NoPlacement(e) => Status::failed_precondition(e.message),
            ControllerError::Store(e) => Status::unavailable(e.to_string()),
        }
    }
}

impl From<Gone> for Status {
    fn from(_: Gone) -> Status {
        Status::unavailable("the controller is shutting down")
    }
}

impl From<FieldError> for Status {
    fn from(e: FieldError) -> Status {
        Status::invalid_argument(e.to_string())
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
