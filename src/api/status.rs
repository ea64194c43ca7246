//! Controller errors mapped to gRPC status codes, once.

use tonic::{Code, Status};

use crate::controller::actor::Gone;
use crate::controller::{ControllerError, ResumeError};

/// The status of a controller error.
pub fn status(e: ControllerError) -> Status {
    match e {
        ControllerError::InvalidArgument(m) => Status::invalid_argument(m),
        ControllerError::NotFound(m) => Status::not_found(m),
        ControllerError::PermissionDenied(m) => Status::permission_denied(m),
        ControllerError::AlreadyExists(m) => Status::already_exists(m),
        ControllerError::NoPlacement(e) => Status::failed_precondition(e.message),
        ControllerError::Store(e) => Status::unavailable(e.to_string()),
    }
}

/// The status when the controller task is gone.
pub fn gone(_: Gone) -> Status {
    Status::unavailable("the controller is shutting down")
}

/// The status of a resume point that cannot be served.
pub fn resume(e: ResumeError) -> Status {
    Status::new(Code::OutOfRange, e.to_string())
}
